"""Privacy: keyed hashing of identifiers and sanitizing of evaluation attributes.

One module per concept: :mod:`._hashing` (pseudonyms under a secret key),
:mod:`._patterns` (what counts as sensitive by default), :mod:`._sanitizer` (the
:class:`~openfeature_litestar.Sanitizer` policy). Masking of secrets in URLs and messages
is a lower-level concern in :mod:`openfeature_litestar._masking`.
"""

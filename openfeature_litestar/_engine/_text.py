r"""Context strings handed to byte-level libraries: lone surrogates read as U+FFFD.

A Python ``str`` may hold lone surrogates, which UTF-8 cannot encode: ``json.loads``
makes one from a valid JSON escape such as ``"\\ud800"``, and so do FastAPI and Flask
for such a request body. C extensions react badly: ``mmh3`` 5.3 crashes the process
hashing such a ``str`` and RE2's binding raises. The engine therefore never hands them
a ``str`` it has not encoded itself.

Each lone surrogate reads as U+FFFD, the replacement character, which is what flagd
sees for the same JSON: Go's ``encoding/json`` decodes an unpaired surrogate escape to
U+FFFD, and JavaScript's ``TextEncoder`` (flagd's web and Node.js providers) encodes a
lone surrogate as U+FFFD too. So a user with such a key lands in the same
``fractional`` bucket here as in flagd, and a ``matches`` pattern sees the same text.
"""

from __future__ import annotations

import codecs
from typing import Final

__all__ = ["utf8", "well_formed"]

_REPLACEMENT: Final = "\ufffd".encode()
_HANDLER: Final = "openfeature_litestar.surrogates_as_replacement"


def _surrogates_as_replacement(error: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    # The UTF-8 encoder calls a handler only for surrogates, one run at a time.
    return _REPLACEMENT * (error.end - error.start), error.end


codecs.register_error(_HANDLER, _surrogates_as_replacement)


def utf8(text: str) -> bytes:
    """The UTF-8 encoding of ``text``, each lone surrogate encoded as U+FFFD; never raises."""
    return text.encode("utf-8", _HANDLER)


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD; never raises."""
    return text if text.isascii() else utf8(text).decode("utf-8")

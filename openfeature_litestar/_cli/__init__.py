"""The ``openfeature-litestar`` command: check and evaluate flag documents, manage stores.

``validate`` and ``evaluate`` work on files (:mod:`._file_commands`; ``evaluate --store``
on a store). The store commands (``import``, ``export``, ``set-variant``, ``enable``,
``disable``, ``audit``; :mod:`._store_commands`; ``list`` and ``get``,
:mod:`._read_commands`) work on a live store named by a URL (``--store``, else the
environment variable ``OPENFEATURE_LITESTAR_STORE``, else the embedded SQLite database the
demo uses; see :func:`~openfeature_litestar._stores._url.resolve_store_url`), so a flag
flipped here reaches every running app that reads the same store. ``demo`` runs the example
app and ``serve`` the standalone server (:mod:`._server_commands`).

Exit status: 0 on success; 1 when a document is invalid, an evaluation ends in an error
code, something named does not exist (a flag, a variant, a namespace never written) or a
write is refused (an invalid flag, a revision conflict); 2 for a usage error (bad
arguments, unreadable file, bad ``--context``, a bad store URL, a SQLite database that a
read would have to create) or an unreachable store. Help texts live in :mod:`._help`.

No module of the library imports this package: the ``openfeature-litestar`` console script
and ``python -m openfeature_litestar`` reach it, so importing the library or its Litestar
plugin never loads argparse or the commands.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]

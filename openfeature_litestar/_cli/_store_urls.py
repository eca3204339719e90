"""The store URL a command uses, checked before anything is opened.

A command that only reads (``export``, ``list``, ``get``, ``audit``, ``evaluate
--store``) must create nothing: SQLite creates a database file when a connection opens
one that does not exist, and the default URL's folder would be made for it, so a
misspelt path would leave an empty database behind and print an empty document as if
that were the store's. Those commands check the path here and refuse instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores._url import DEFAULT_STORE_URL, STORE_URL_ENV, resolve_store_url

from ._hints import store_url_hint
from ._outcomes import UsageError

__all__ = ["store_url"]

_SQLITE_SCHEMES: Final = frozenset({"sqlite", "sqlite+aiosqlite"})
_IN_MEMORY: Final = frozenset({"", ":memory:"})


def store_url(given: str | None, *, reading: bool) -> str:
    """The URL to open: ``given``, else the environment's, else the default.

    Raises:
        UsageError: The URL has no scheme but looks like a file (the message names the
            URL meant), or (``reading``) it names a SQLite database that does not exist.
    """
    chosen = given or os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL
    hint = store_url_hint(chosen)
    if hint is not None:
        raise UsageError(f"{chosen!r} is not a store URL; did you mean {hint!r}?")
    if reading:
        database = _sqlite_database(chosen)
        if database is not None and not database.exists():
            raise UsageError(
                f"no SQLite database at {str(database)!r} (from {mask_url(chosen)!r}); "
                "nothing was created: check the path, or write to the store first "
                "(import)"
            )
        if chosen == DEFAULT_STORE_URL:
            return chosen  # it exists, so its folder does too: nothing to create
    return resolve_store_url(chosen)


def _sqlite_database(url: str) -> Path | None:
    """The file a SQLite URL names (``sqlite:///rel.db``, ``sqlite:////abs.db``), if any."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # store_from_url reports the malformed URL
    if parts.scheme.lower() not in _SQLITE_SCHEMES:
        return None
    # After the empty authority, one slash separates it from the path: sqlite:///rel.db
    # is rel.db, sqlite:////abs.db is /abs.db.
    path = unquote(parts.path.removeprefix("/"))
    if path in _IN_MEMORY or "mode=memory" in parts.query:
        return None
    return Path(path)

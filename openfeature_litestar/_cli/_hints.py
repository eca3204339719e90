"""'Did you mean ...?': the nearest known names to a misspelt one, and store URL hints.

The nearness is :func:`difflib.get_close_matches` (the standard library's ratio of
matching characters), so a hint costs no dependency.
"""

from __future__ import annotations

import difflib
from pathlib import PurePath
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["did_you_mean", "store_url_hint"]

_DOCUMENT_SUFFIXES: Final = frozenset({".yaml", ".yml", ".json"})
_SQLITE_SUFFIXES: Final = frozenset({".db", ".sqlite", ".sqlite3"})


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the names of ``known`` nearest ``word``, else ``""``.

    Up to three names are offered, nearest first; ``word`` itself never is.
    """
    choices = [name for name in dict.fromkeys(known) if name != word]
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(name) for name in close) + "?"


def store_url_hint(url: str) -> str | None:
    """The store URL a user most likely meant by ``url`` when it has no scheme, else ``None``.

    ``flags.yaml`` means the file store (``file:flags.yaml``) and ``flags.db`` the SQLite
    store (``sqlite+aiosqlite:///flags.db``); a Windows drive letter is no scheme.
    """
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    if len(scheme) > 1:
        return None
    suffix = PurePath(url).suffix.lower()
    if suffix in _DOCUMENT_SUFFIXES:
        return f"file:{url}"
    if suffix in _SQLITE_SUFFIXES:
        return f"sqlite+aiosqlite:///{url}"
    return None

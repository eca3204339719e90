"""The document a store object last read or wrote, kept to skip reading it again unchanged.

A provider reloads its store after every change; the admin API loads it for every
request; a write reads it to build on it. Each of those reads a whole document, decodes
and validates it and compiles its rules: for a megabyte document, most of a second of
CPU that competes with the event loop. Most of them find the very document the store
object just wrote or read. So each store object keeps that one document with the
version it was stored at, and a read first asks the store for the version alone (one
small row or two hash fields): if it is the kept one, the kept document is the answer.

The version must name one content and only one, ever: the SQL store's revision with the
time of its write (a restored backup reuses revisions, never the time they are written
at again), the Redis store's revision with its epoch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Hashable

    from ._base import StoredDocument

__all__ = ["RecentDocument"]


class RecentDocument:
    """One store object's last document and the version it was stored at.

    Safe to share between threads and event loops: a read or a replacement is one
    attribute access. Two that race leave one of them kept, which only makes a later
    read miss; a version never names a document it was not stored at.
    """

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        """Keep nothing yet."""
        self._kept: tuple[Hashable, StoredDocument] | None = None

    def at(self, version: Hashable) -> StoredDocument | None:
        """The kept document if it was stored at ``version``, else ``None``."""
        kept = self._kept
        if kept is None or kept[0] != version:
            return None
        return kept[1]

    def keep(self, version: Hashable, stored: StoredDocument) -> None:
        """Keep ``stored``, stored at ``version`` (its document compiled), in place of any other."""
        self._kept = (version, stored)

    def forget(self) -> None:
        """Keep nothing (a store that was closed, say)."""
        self._kept = None

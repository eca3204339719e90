"""A store that keeps one document in memory, replaceable at run time."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from openfeature_litestar.document import FlagDocument, document_from_data
from openfeature_litestar.errors import RevisionConflict

from ._base import StoredDocument

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

__all__ = ["MemoryStore"]


class MemoryStore:
    """A flag store in process memory: for tests, embedded defaults and generated flags.

    Replacing the document is thread-safe and wakes every provider watching the store.

    Args:
        document: The initial document, as a :class:`FlagDocument` or as parsed data
            (validated strictly). ``None`` starts with no flags.

    Raises:
        DocumentError: ``document`` is data that is not a valid flag document.
    """

    def __init__(self, document: FlagDocument | Mapping[str, Any] | None = None) -> None:
        """Create the store holding ``document``."""
        self._lock = threading.Lock()
        self._stored = StoredDocument(_as_document(document), 1)
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        # Closing is per event loop: one provider's shutdown must not end the watch of
        # another provider that shares this store.
        self._closed_loops: set[asyncio.AbstractEventLoop] = set()

    @property
    def revision(self) -> int:
        """The current revision; 1 for the initial document, +1 for each replacement."""
        return self._stored.revision

    @property
    def document(self) -> FlagDocument:
        """The current document."""
        return self._stored.document

    def replace(
        self,
        document: FlagDocument | Mapping[str, Any],
        *,
        expected_revision: int | None = None,
    ) -> int:
        """Replace the whole document and wake the providers watching this store.

        Args:
            document: The new document (data is validated strictly first; a bad one
                changes nothing).
            expected_revision: When given, replace only if the store is still at this
                revision.

        Returns:
            The new revision.

        Raises:
            DocumentError: ``document`` is not a valid flag document.
            RevisionConflict: ``expected_revision`` is not the current revision.
        """
        new_document = _as_document(document)
        with self._lock:
            current = self._stored.revision
            if expected_revision is not None and expected_revision != current:
                raise RevisionConflict(expected_revision, current)
            self._stored = StoredDocument(new_document, current + 1)
            watchers = list(self._watchers)
        for loop, event in watchers:
            _wake(loop, event)
        return current + 1

    async def load(self) -> StoredDocument:
        """Return the current document and its revision."""
        return self._stored

    async def changes(self) -> AsyncIterator[None]:
        """Yield once when watching starts, then after each :meth:`replace`, until closed.

        Watching again after :meth:`close` reopens the store.
        """
        self._closed_loops.discard(asyncio.get_running_loop())
        event = asyncio.Event()
        watcher = (asyncio.get_running_loop(), event)
        with self._lock:
            self._watchers.add(watcher)
        try:
            yield None
            while True:
                await event.wait()
                event.clear()
                if self._is_closed():
                    return
                yield None
        finally:
            with self._lock:
                self._watchers.discard(watcher)

    def _is_closed(self) -> bool:
        return asyncio.get_running_loop() in self._closed_loops

    async def close(self) -> None:
        """Stop the calling provider's watch (its event loop's); the document stays."""
        current = asyncio.get_running_loop()
        self._closed_loops.add(current)
        with self._lock:
            watchers = [watcher for watcher in self._watchers if watcher[0] is current]
        for loop, event in watchers:
            _wake(loop, event)

    def __repr__(self) -> str:
        """Show the revision and the number of flags."""
        flags = len(self._stored.document.flags)
        return f"MemoryStore(revision={self._stored.revision}, flags={flags})"


def _as_document(document: FlagDocument | Mapping[str, Any] | None) -> FlagDocument:
    if document is None:
        return document_from_data({"flags": {}})
    if isinstance(document, FlagDocument):
        return document
    return document_from_data(document)


def _wake(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    # A watcher's event belongs to the loop it waits on; set it from that loop.
    if not loop.is_closed():
        loop.call_soon_threadsafe(event.set)

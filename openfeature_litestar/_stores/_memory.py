"""A writable store that keeps its namespaces in process memory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._base import AuditEntry, StoredDocument
from ._names import check_namespace
from ._offload import off_loop
from ._usage import InProcessUsage
from ._writes import (
    DocumentWrites,
    Expected,
    as_document,
    changes_between,
    check_actor,
    check_audit_limit,
    empty_document,
    expect,
    utc_now,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping
    from datetime import datetime

    from openfeature_litestar._document import FlagDocument

    from ._usage import UsageBatch, UsageRecord

__all__ = ["MemoryStore"]


@dataclass(eq=False)
class _Namespace:
    """One namespace's document, revision and bounded audit trail."""

    stored: StoredDocument
    audit: deque[AuditEntry]
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    usage: InProcessUsage = field(default_factory=InProcessUsage)


@dataclass(frozen=True, eq=False)
class _Watcher:
    """One running :meth:`MemoryStore.changes`: who to wake, on which loop."""

    store: MemoryStore
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event


class _Memory:
    """What the views of one memory share: every namespace, and who watches them."""

    def __init__(self, audit_max_length: int) -> None:
        self.lock = threading.Lock()
        self.audit_max_length = audit_max_length
        self.namespaces: dict[str, _Namespace] = {}
        self.watchers: set[_Watcher] = set()

    def namespace(self, name: str) -> _Namespace:
        """The namespace ``name``, created empty at revision 0 (call with the lock held)."""
        space = self.namespaces.get(name)
        if space is None:
            space = _Namespace(
                StoredDocument(empty_document(), 0), deque(maxlen=self.audit_max_length)
            )
            self.namespaces[name] = space
        return space


class MemoryStore(DocumentWrites):
    """A writable flag store in process memory: for tests, embedded defaults, prototypes.

    Writes are validated, conditional on ``expected_revision`` when given, recorded in
    a bounded audit trail, thread-safe, and wake every provider watching the namespace,
    whichever event loop or thread it runs on. Nothing survives the process.

    One store holds one namespace; :meth:`with_namespace` gives a store for another
    namespace of the same memory (for promotion with
    :func:`~openfeature_litestar.copy_namespace`).

    Args:
        document: The namespace's initial document, as a :class:`FlagDocument` or as
            parsed data (read leniently, as flagd reads it: see
            :attr:`FlagDocument.warnings`); it is revision 1 and not audited. ``None``
            starts with no flags at revision 0, like a namespace never written.
        namespace: The namespace: 1-64 characters of ``A-Za-z0-9_.-``.
        audit_max_length: How many audit entries each namespace keeps; the oldest are
            dropped first.

    Raises:
        DocumentError: ``document`` is data that is not a valid flag document.
        ValueError: ``namespace`` or ``audit_max_length`` is invalid.
    """

    namespace: str

    def __init__(
        self,
        document: FlagDocument | Mapping[str, Any] | None = None,
        *,
        namespace: str = "default",
        audit_max_length: int = 10_000,
    ) -> None:
        """Create the store, holding ``document`` in ``namespace``."""
        if isinstance(audit_max_length, bool) or audit_max_length < 1:
            raise ValueError(f"audit_max_length must be at least 1, not {audit_max_length!r}")
        self._init_view(_Memory(audit_max_length), check_namespace(namespace))
        if document is not None:
            self._space().stored = StoredDocument(as_document(document, strict=False), 1)

    def _init_view(self, memory: _Memory, namespace: str) -> None:
        self.namespace = namespace
        self._memory = memory
        # Closing is per event loop and per store object: one provider's shutdown must
        # not end the watch of another provider that shares this store or its memory.
        self._closed_loops: set[asyncio.AbstractEventLoop] = set()

    def with_namespace(self, namespace: str) -> MemoryStore:
        """A store for ``namespace`` in the same memory as this one.

        Args:
            namespace: The other namespace (the same name gives a second store object
                on this namespace, as a second process would have).

        Returns:
            A new store object; it shares documents, revisions and audit trails with
            this one, but is watched and closed on its own.

        Raises:
            ValueError: ``namespace`` is not a valid namespace name.
        """
        view = MemoryStore.__new__(MemoryStore)
        view._init_view(self._memory, check_namespace(namespace))  # noqa: SLF001 - own class
        return view

    def _space(self) -> _Namespace:
        with self._memory.lock:
            return self._memory.namespace(self.namespace)

    @property
    def revision(self) -> int:
        """The namespace's current revision; it grows by one with each write."""
        return self._space().stored.revision

    @property
    def document(self) -> FlagDocument:
        """The namespace's current document."""
        return self._space().stored.document

    # -- usage counters -----------------------------------------------------------------------

    async def record_usage(self, batch: UsageBatch) -> None:
        """Add a provider's usage counts to the namespace's, in this process.

        See :class:`~openfeature_litestar.UsageStore`; every store object on this
        namespace of this memory shares them.

        .. versionadded:: 0.2.0
        """
        await self._space().usage.record_usage(batch)

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        """The namespace's usage counts per hour, as :class:`~openfeature_litestar.UsageStore`.

        .. versionadded:: 0.2.0
        """
        return await self._space().usage.read_usage(since=since, until=until)

    # -- writing ----------------------------------------------------------------------------

    def replace(
        self,
        document: FlagDocument | Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        actor: str = "local",
        note: str | None = None,
    ) -> int:
        """Replace the whole document, from any thread, without an event loop.

        The synchronous twin of :meth:`replace_document`, audited the same way.

        Args:
            document: The new document (data is validated strictly first; a bad one
                changes nothing).
            expected_revision: When given, replace only if the namespace is still at
                this revision.
            actor: Who writes, for the audit trail.
            note: Why, for the audit trail.

        Returns:
            The new revision.

        Raises:
            DocumentError: ``document`` is not a valid flag document.
            RevisionConflict: ``expected_revision`` is not the current revision.
            ValueError: ``actor`` is empty or not printable.
        """
        new_document = as_document(document)
        return self._commit(
            lambda _current: new_document,
            actor=actor,
            expected=expect(expected_revision, None),
            note=note,
        )

    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        return await off_loop(self._commit, build, actor=actor, expected=expected, note=note)

    def _commit(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        """Build the next document from the current one and commit it with its audit entries.

        The whole read-build-commit runs under the memory's lock, so a write without an
        expected revision always applies to the latest document.
        """
        check_actor(actor)
        with self._memory.lock:
            space = self._memory.namespace(self.namespace)
            current = space.stored
            if expected is not None:
                expected.check(current.revision)  # memory keeps no epoch
            document = build(current.document)
            revision = current.revision + 1
            at = utc_now()
            space.audit.extend(
                AuditEntry(
                    id=str(next(space.ids)),
                    namespace=self.namespace,
                    revision=revision,
                    flag_key=change.flag_key,
                    action=change.action,
                    actor=actor,
                    at=at,
                    before=change.before,
                    after=change.after,
                    note=note,
                )
                for change in changes_between(current.document, document)
            )
            space.stored = StoredDocument(document, revision)
            watchers = [w for w in self._memory.watchers if w.store.namespace == self.namespace]
        for watcher in watchers:
            _wake(watcher)
        return revision

    # -- reading ----------------------------------------------------------------------------

    async def load(self) -> StoredDocument:
        """Return the namespace's current document and its revision."""
        return self._space().stored

    async def audit_log(
        self, *, flag_key: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[AuditEntry]:
        """The namespace's audit trail, newest first (at most ``audit_max_length`` kept).

        Args:
            flag_key: Only the entries of this flag.
            limit: At most this many entries (1-1000).
            before: Only entries older than the entry with this id.

        Raises:
            ValueError: ``limit`` is out of range, or ``before`` is no entry's id (it may
                have been dropped from the bounded trail).
        """
        check_audit_limit(limit)
        with self._memory.lock:
            entries = list(self._memory.namespace(self.namespace).audit)
        entries.reverse()
        if before is not None:
            position = next((i for i, e in enumerate(entries) if e.id == before), None)
            if position is None:
                raise ValueError(f"no audit entry {before!r} in namespace {self.namespace!r}")
            entries = entries[position + 1 :]
        if flag_key is not None:
            entries = [entry for entry in entries if entry.flag_key == flag_key]
        return entries[:limit]

    async def changes(self) -> AsyncIterator[None]:
        """Yield once when watching starts, then after each write, until closed.

        Watching again after :meth:`close` reopens the store.
        """
        loop = asyncio.get_running_loop()
        self._closed_loops.discard(loop)
        watcher = _Watcher(self, loop, asyncio.Event())
        with self._memory.lock:
            self._memory.watchers.add(watcher)
        try:
            yield None
            while True:
                await watcher.event.wait()
                watcher.event.clear()
                if loop in self._closed_loops:
                    return
                yield None
        finally:
            with self._memory.lock:
                self._memory.watchers.discard(watcher)

    async def close(self) -> None:
        """End this store's watches on the calling event loop; the data stays."""
        current = asyncio.get_running_loop()
        self._closed_loops.add(current)
        with self._memory.lock:
            watchers = [w for w in self._memory.watchers if w.store is self and w.loop is current]
        for watcher in watchers:
            _wake(watcher)

    def __repr__(self) -> str:
        """Show the namespace (unless the default), the revision and the number of flags."""
        stored = self._space().stored
        namespace = "" if self.namespace == "default" else f"namespace={self.namespace!r}, "
        flags = len(stored.document.flags)
        return f"MemoryStore({namespace}revision={stored.revision}, flags={flags})"


def _wake(watcher: _Watcher) -> None:
    # A watcher's event belongs to the loop it waits on; set it from that loop. A loop
    # that closed meanwhile has no watch left to wake.
    with contextlib.suppress(RuntimeError):
        watcher.loop.call_soon_threadsafe(watcher.event.set)

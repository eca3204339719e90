"""The interface every flag store implements, and the record a load returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from datetime import datetime

    from openfeature_litestar._document import FlagDocument

__all__ = ["AuditAction", "AuditEntry", "FlagStore", "StoredDocument", "WritableFlagStore"]

AuditAction = Literal["create", "update", "delete"]
"""What an audited write did to a flag: created it, changed it, or removed it."""


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A validated document as a store holds it, at one revision of one history.

    Attributes:
        document: The validated, compiled document.
        revision: The store's revision; it grows with every change.
        epoch: The history the revision belongs to: a token the store chose when the
            namespace's first revision was written. A namespace that is emptied (a
            Redis restarted without persistence) and written again counts its
            revisions from 1 again, under a new epoch, so an epoch and a revision
            together never name two different documents. ``""`` where the store
            keeps no epoch (the memory, file and SQL stores, and a Redis namespace
            whose history began before epochs were kept).

            .. versionadded:: 0.2.0
    """

    document: FlagDocument
    revision: int
    epoch: str = ""


@runtime_checkable
class FlagStore(Protocol):
    """Where flag documents live: the source of truth that feeds a provider's snapshot.

    Every method is a coroutine run by the provider's background sync, never on the
    evaluation path. A store validates documents before it stores them, so what it
    loads is always a whole, valid document.
    """

    async def load(self) -> StoredDocument:
        """Return the current document and its revision.

        Raises:
            DocumentError: The stored document is invalid (for a file edited by hand).
            StoreError: The store cannot be reached or read.
        """
        ...

    def changes(self) -> AsyncIterator[None]:
        """Yield once as soon as the store is watched, then each time it may have changed.

        The provider loads the store after each yield. The first yield comes after the
        subscription is in place, so no change can fall between the first load and the
        watch. The iterator may yield for changes that turn out to be none (the provider
        compares content), and ends only when the store is closed.
        """
        ...

    async def close(self) -> None:
        """Release the store's resources. Never deletes data; safe to call twice."""
        ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change to one flag (or to the document's shared parts), as the trail records it.

    A write that changes several flags (a whole-document replace, a promotion) records
    one entry per changed flag, all with the write's revision.

    Attributes:
        id: The entry's identifier in its store; pass it as ``before`` to
            :meth:`WritableFlagStore.audit_log` to read the next (older) page.
        namespace: The namespace that was written.
        revision: The namespace's revision after the write.
        flag_key: The flag that changed, or ``None`` for the document's shared parts
            (``$evaluators`` and flag-set ``metadata``; ``before``/``after`` then hold
            just those keys).
        action: ``create``, ``update`` or ``delete``.
        actor: Who wrote it, as the writer said.
        at: When, as an aware UTC datetime.
        before: The flag's definition (flagd JSON) before the write; ``None`` if new.
        after: Its definition after the write; ``None`` if deleted.
        note: Why, when the store knows (``"promoted from 'staging'"``).
    """

    id: str
    namespace: str
    revision: int
    flag_key: str | None
    action: AuditAction
    actor: str
    at: datetime
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    note: str | None = None


@runtime_checkable
class WritableFlagStore(FlagStore, Protocol):
    """A store that can also be written, with optimistic concurrency and an audit trail.

    Every write validates the whole resulting document first (a bad one raises
    :class:`~openfeature_litestar.DocumentError` and writes nothing), is atomic, and
    appends to the audit trail in the same atomic step. ``expected_revision`` makes a
    write conditional: if the namespace is no longer at that revision the write raises
    :class:`~openfeature_litestar.RevisionConflict` and changes nothing. Without it a
    write still never loses a concurrent update: it applies to the latest document.

    ``expected_epoch``, given with ``expected_revision``, is the
    :attr:`~StoredDocument.epoch` that revision was read in: the write then also
    conflicts with the same revision number of another history (a namespace emptied and
    written again since). A store that keeps no epoch is always in the epoch ``""``.

    .. versionchanged:: 0.2.0
       The write methods take ``expected_epoch``; a store of your own must accept it.

    Attributes:
        namespace: The namespace (an environment such as ``production``) this store
            reads and writes.
    """

    namespace: str

    async def put_flag(
        self,
        key: str,
        definition: Mapping[str, Any],
        *,
        actor: str,
        expected_revision: int | None = None,
        expected_epoch: str | None = None,
    ) -> int:
        """Create or replace one flag; return the new revision.

        Raises:
            DocumentError: The flag (or the document with it) is invalid.
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``expected_epoch`` is given without ``expected_revision``.
        """
        ...

    async def delete_flag(
        self,
        key: str,
        *,
        actor: str,
        expected_revision: int | None = None,
        expected_epoch: str | None = None,
    ) -> int:
        """Delete one flag; return the new revision.

        Raises:
            FlagNotFound: The namespace holds no flag ``key``.
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``expected_epoch`` is given without ``expected_revision``.
        """
        ...

    async def replace_document(
        self,
        document: FlagDocument | Mapping[str, Any],
        *,
        actor: str,
        expected_revision: int | None = None,
        expected_epoch: str | None = None,
        note: str | None = None,
    ) -> int:
        """Replace the namespace's whole document; return the new revision.

        Only the flags that change are recorded in the audit trail (with ``note``). A
        replace that changes nothing still counts as a write and bumps the revision.

        Raises:
            DocumentError: The document is invalid (data is validated strictly).
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``expected_epoch`` is given without ``expected_revision``.
        """
        ...

    async def audit_log(
        self, *, flag_key: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[AuditEntry]:
        """The namespace's audit trail, newest first.

        Args:
            flag_key: Only the entries of this flag.
            limit: At most this many entries (1-1000).
            before: Only entries older than the entry with this id (the last ``id`` of
                the previous page).

        Raises:
            ValueError: ``limit`` is out of range.
            StoreError: The store cannot be reached or read.
        """
        ...

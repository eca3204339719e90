"""What every writable store shares: building the next document, and what the trail records.

A store's write is read-modify-write: read the namespace's document and revision, build
the next document here (validated whole, so nothing invalid is ever stored), then commit
it only if the revision is still the one read. These helpers are the middle step; they
are pure, so every store validates and audits the same way.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from openfeature_litestar._document import FlagDocument, document_from_data, is_valid_flag_key
from openfeature_litestar._errors import DocumentError, FlagNotFound, Problem, RevisionConflict
from openfeature_litestar._pacing import give_way

from ._offload import off_loop

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._base import AuditAction, FlagStore, WritableFlagStore

__all__ = [
    "MAX_ACTOR_LENGTH",
    "MAX_AUDIT_PAGE",
    "Change",
    "DocumentWrites",
    "Expected",
    "as_document",
    "changes_between",
    "check_actor",
    "check_audit_limit",
    "copy_namespace",
    "definition_data",
    "empty_document",
    "expect",
    "next_document",
    "pause_after_lost_race",
    "shared_parts",
    "utc_now",
    "with_flag",
    "without_flag",
]

MAX_ACTOR_LENGTH = 256
"""The longest ``actor`` a write accepts, in characters."""

MAX_AUDIT_PAGE = 1000
"""The most audit entries one :meth:`~WritableFlagStore.audit_log` call returns."""

_SHARED_KEYS = ("$evaluators", "metadata")


@dataclass(frozen=True, slots=True)
class Change:
    """One audited difference between two documents (see :class:`AuditEntry`)."""

    flag_key: str | None
    action: AuditAction
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Expected:
    """Where a conditional write expects the namespace to be.

    Attributes:
        revision: The revision.
        epoch: The history it counts in (``""`` for none); ``None`` leaves it unchecked.
    """

    revision: int
    epoch: str | None = None

    def check(self, revision: int, epoch: str = "") -> None:
        """Return if the namespace, at ``revision`` of ``epoch``, is where it is expected.

        Raises:
            RevisionConflict: It is not.
        """
        if revision != self.revision or (self.epoch is not None and epoch != self.epoch):
            raise RevisionConflict(self.revision, revision, epoch=epoch)


def expect(revision: int | None, epoch: str | None) -> Expected | None:
    """The condition of a write given its ``expected_revision`` and ``expected_epoch``.

    Raises:
        ValueError: An epoch is given without a revision.
    """
    if revision is None:
        if epoch is not None:
            raise ValueError("expected_epoch is checked only with an expected_revision")
        return None
    return Expected(revision, epoch)


def empty_document() -> FlagDocument:
    """A document with no flags: what a namespace holds before its first write."""
    return document_from_data({"flags": {}})


def as_document(document: FlagDocument | Mapping[str, Any], *, strict: bool = True) -> FlagDocument:
    """``document`` itself, or the data validated into a document: strictly for a write.

    A write replaces the whole document, so all of it is what it writes: a
    :class:`FlagDocument` read leniently is refused for its
    :attr:`~FlagDocument.warnings`, data is validated strictly. With ``strict=False``
    (a store's initial document, which is read, not written) both are taken as flagd
    takes them.

    Raises:
        DocumentError: The data is not a valid document, or (``strict``) the document
            has problems; each with its path.
    """
    if isinstance(document, FlagDocument):
        if strict and document.warnings:
            raise DocumentError(document.warnings)
        return document
    return document_from_data(document, strict=strict)


def definition_data(document: FlagDocument, key: str) -> dict[str, Any] | None:
    """Flag ``key``'s definition as flagd JSON, or ``None`` if the document lacks it."""
    flag = document.flags.get(key)
    if flag is None:
        return None
    return flag.dump()


def shared_parts(document: FlagDocument) -> dict[str, Any]:
    """The document's parts shared by all flags (``$evaluators``, ``metadata``), as JSON."""
    data = document.dump_shared()
    return {key: data[key] for key in _SHARED_KEYS if key in data}


def with_flag(document: FlagDocument, key: str, definition: Mapping[str, Any]) -> FlagDocument:
    """``document`` with flag ``key`` created or replaced by ``definition``, validated.

    Strict about flag ``key`` only (see :meth:`FlagDocument.with_flags`), even when
    ``definition`` is the one stored: another stored flag's tolerated problem never
    refuses this write.

    Raises:
        DocumentError: The key or the definition is invalid, or the document with it is
            (an unknown ``$ref``, say); problem paths start at ``flags.<key>``.
    """
    if not is_valid_flag_key(key):
        problem = Problem(
            f"flags.{key}",
            "a flag key is 1-256 printable characters without leading or trailing whitespace",
        )
        raise DocumentError([problem])
    flags: dict[str, Any] = dict(document.flags)
    flags[key] = dict(definition)
    after = document.with_flags(flags)
    # Written as it is stored already, the flag is still what this write writes.
    problems = after.flag_warnings(key)
    if problems:
        raise DocumentError(problems)
    return after


def without_flag(document: FlagDocument, key: str, namespace: str) -> FlagDocument:
    """``document`` without flag ``key``.

    Raises:
        FlagNotFound: The document has no flag ``key``.
    """
    if key not in document.flags:
        raise FlagNotFound(key, namespace)
    flags = {name: flag for name, flag in document.flags.items() if name != key}
    return document.with_flags(flags)


def changes_between(before: FlagDocument, after: FlagDocument) -> list[Change]:
    """What the audit trail records for a write from ``before`` to ``after``.

    One change per flag created, updated or deleted (in ``after``'s order, deletions
    last), then one for the shared parts if they changed.
    """
    changes: list[Change] = []
    for key, flag in after.flags.items():
        give_way()
        if before.flags.get(key) is flag:
            continue  # kept as it was by the write (FlagDocument.with_flags)
        old, new = definition_data(before, key), definition_data(after, key)
        if old != new:
            changes.append(Change(key, "create" if old is None else "update", old, new))
    changes.extend(
        Change(key, "delete", definition_data(before, key), None)
        for key in before.flags
        if key not in after.flags
    )
    old_shared, new_shared = shared_parts(before), shared_parts(after)
    if old_shared != new_shared:
        changes.append(Change(None, "update", old_shared, new_shared))
    return changes


def next_document(
    build: Callable[[FlagDocument], FlagDocument], current: FlagDocument
) -> tuple[FlagDocument, list[Change]]:
    """``build(current)`` and its audited changes: a write's whole CPU-bound part.

    Stores run it on the compile pool (see ``_offload``), so that neither the
    compiling nor the comparing of two large documents runs on the event loop.

    Raises:
        DocumentError: The next document is invalid, or (built by the caller as a
            :class:`FlagDocument` without loading) does not compile.
    """
    after = build(current)
    # Compiled here, off the loop: a store keeps what it wrote to serve its next loads.
    after.compiled_flags()
    return after, changes_between(current, after)


async def pause_after_lost_race(attempt: int) -> None:
    """Wait a random moment before write attempt ``attempt`` (from 1) starts over.

    Writers that collided would collide again if they retried in step.
    """
    await asyncio.sleep(random.uniform(0, 0.005 * min(attempt, 20)))  # noqa: S311 - jitter, not security


def check_actor(actor: str) -> str:
    """Return ``actor`` if it names someone.

    Raises:
        ValueError: ``actor`` is empty, too long or not printable text.
    """
    value: object = actor
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_ACTOR_LENGTH
        or not value.isprintable()
    ):
        raise ValueError(
            f"actor must be 1-{MAX_ACTOR_LENGTH} printable characters naming who writes"
        )
    return value


def check_audit_limit(limit: int) -> int:
    """Return ``limit`` if it is a page size :meth:`audit_log` accepts.

    Raises:
        ValueError: ``limit`` is not between 1 and :data:`MAX_AUDIT_PAGE`.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_PAGE:
        raise ValueError(f"limit must be an integer from 1 to {MAX_AUDIT_PAGE}, not {limit!r}")
    return limit


def utc_now() -> datetime:
    """The current time as an aware UTC datetime (what audit entries carry)."""
    return datetime.now(timezone.utc)


async def copy_namespace(
    source: FlagStore,
    target: WritableFlagStore,
    *,
    actor: str,
    expected_revision: int | None = None,
    expected_epoch: str | None = None,
) -> int:
    """Copy ``source``'s whole document into ``target``: promotion, audited at the target.

    ``source`` may be any store (a staging namespace of the same Redis, a reviewed file);
    the copy is one atomic, validated :meth:`~WritableFlagStore.replace_document` of the
    target, recorded with the note ``promoted from <source namespace or store>``.

    Returns:
        The target's new revision.

    Raises:
        RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
            target's current revision.
        StoreError: Either store cannot be reached.
        ValueError: ``expected_epoch`` is given without ``expected_revision``.
    """
    stored = await source.load()
    origin = getattr(source, "namespace", None) or repr(source)
    return await target.replace_document(
        stored.document,
        actor=actor,
        expected_revision=expected_revision,
        expected_epoch=expected_epoch,
        note=f"promoted from {origin!r} at revision {stored.revision}",
    )


class DocumentWrites(ABC):
    """The write operations of :class:`WritableFlagStore`, written once for every store.

    Each is "build the next document from the current one" handed to the store's own
    :meth:`_write`, which reads, commits atomically (with the audit entries of
    :func:`changes_between`) and checks the :class:`Expected` revision (and epoch); so
    the stores differ only in how they commit, not in what a write means.
    """

    namespace: str

    @abstractmethod
    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        """Commit ``build(current document)`` with its audit entries; return the revision."""

    async def put_flag(
        self,
        key: str,
        definition: Mapping[str, Any],
        *,
        actor: str,
        expected_revision: int | None = None,
        expected_epoch: str | None = None,
    ) -> int:
        """Create or replace flag ``key``; return the new revision.

        Raises:
            DocumentError: The flag (or the document with it) is invalid.
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``actor`` is empty, too long or not printable, or
                ``expected_epoch`` is given without ``expected_revision``.
        """
        return await self._write(
            lambda current: with_flag(current, key, definition),
            actor=actor,
            expected=expect(expected_revision, expected_epoch),
        )

    async def delete_flag(
        self,
        key: str,
        *,
        actor: str,
        expected_revision: int | None = None,
        expected_epoch: str | None = None,
    ) -> int:
        """Delete flag ``key``; return the new revision.

        Raises:
            FlagNotFound: The namespace holds no flag ``key``.
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``actor`` is empty, too long or not printable, or
                ``expected_epoch`` is given without ``expected_revision``.
        """
        return await self._write(
            lambda current: without_flag(current, key, self.namespace),
            actor=actor,
            expected=expect(expected_revision, expected_epoch),
        )

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

        Only the flags that change are audited (with ``note``); a replace that changes
        nothing still bumps the revision.

        Raises:
            DocumentError: The document is invalid (data is validated strictly).
            RevisionConflict: ``expected_revision`` (of ``expected_epoch``) is not the
                current revision.
            StoreError: The store cannot be reached or written.
            ValueError: ``actor`` is empty, too long or not printable, or
                ``expected_epoch`` is given without ``expected_revision``.
        """
        replacement = await off_loop(as_document, document)
        return await self._write(
            lambda _current: replacement,
            actor=actor,
            expected=expect(expected_revision, expected_epoch),
            note=note,
        )

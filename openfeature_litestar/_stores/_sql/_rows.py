"""Reading and writing one namespace's rows: the document, its flags and its audit trail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, delete, insert, select, update

from openfeature_litestar._document import document_from_data, stored_document
from openfeature_litestar._errors import DocumentError, Problem
from openfeature_litestar._pacing import give_way
from openfeature_litestar._stores._base import AuditEntry
from openfeature_litestar._stores._offload import off_loop
from openfeature_litestar._stores._writes import definition_data, empty_document

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from sqlalchemy import Result
    from sqlalchemy.ext.asyncio import AsyncConnection

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores._writes import Change

    from ._schema import Tables

__all__ = [
    "Commit",
    "Rows",
    "advance",
    "append_audit",
    "audit_page",
    "document_of",
    "parse_entry_id",
    "read_revision",
    "read_rows",
    "write_flags",
]

_MAX_ID = 2**63 - 1  # the audit table's key is a signed 64-bit integer
_MAX_ID_DIGITS = len(str(_MAX_ID))


@dataclass(frozen=True, slots=True)
class Rows:
    """A namespace's rows as stored, read in one transaction, their JSON not yet decoded.

    Two reads give equal rows only if the namespace holds the same text at the same
    revision, written at the same moment: a store keeps the document it compiled from
    rows (see ``_recent``) and uses it while the rows are equal.

    Attributes:
        revision: The namespace's revision; 0 if it has never been written.
        written_at: When that revision was written (``None`` before the first write).
        shared: The JSON text of the document's parts other than ``flags``.
        flags: ``(key, position, definition JSON text)`` of each flag, in document order.
    """

    revision: int
    written_at: datetime | None
    shared: str
    flags: tuple[tuple[str, int, str], ...]

    @property
    def exists(self) -> bool:
        """Whether the namespace has a row (it has been written)."""
        return self.written_at is not None

    @property
    def positions(self) -> dict[str, int]:
        """Each stored flag's position."""
        return {key: position for key, position, _ in self.flags}


@dataclass(frozen=True, slots=True)
class Commit:
    """What one write stamps on the rows it writes.

    Attributes:
        tables: The tables written.
        namespace: The namespace written.
        revision: The namespace's revision after the write.
        at: When (aware UTC).
        actor: Who.
    """

    tables: Tables
    namespace: str
    revision: int
    at: datetime
    actor: str

    @property
    def stamp(self) -> dict[str, Any]:
        """The columns a changed flag row records its change with."""
        return {"revision": self.revision, "updated_at": self.at, "updated_by": self.actor}


async def read_rows(connection: AsyncConnection, tables: Tables, namespace: str) -> Rows:
    """Read ``namespace``'s rows.

    The JSON columns are read as text (cast in SQL, so no driver decodes them): reading
    a document that did not change costs its transfer, not its decoding.
    """
    namespaces, flags = tables.namespaces, tables.flags
    query = select(
        namespaces.c.revision, namespaces.c.updated_at, cast(namespaces.c.shared, Text)
    ).where(namespaces.c.namespace == namespace)
    row = (await connection.execute(query)).first()
    if row is None:
        return Rows(0, None, "", ())
    flag_rows = await connection.execute(
        select(flags.c.key, flags.c.position, cast(flags.c.definition, Text))
        .where(flags.c.namespace == namespace)
        .order_by(flags.c.position, flags.c.key)
    )
    # Thousands of rows are a few milliseconds of Python: not on the loop.
    listed = await off_loop(_listed, flag_rows)
    return Rows(int(row[0]), row[1], row[2], listed)


def _listed(flag_rows: Result[Any, Any, Any]) -> tuple[tuple[str, int, str], ...]:
    listed = []
    for key, position, definition in flag_rows:
        give_way()
        listed.append((key, int(position), definition))
    return tuple(listed)


async def read_revision(connection: AsyncConnection, tables: Tables, namespace: str) -> int:
    """``namespace``'s revision (0 if it has never been written)."""
    namespaces = tables.namespaces
    revision = await connection.scalar(
        select(namespaces.c.revision).where(namespaces.c.namespace == namespace)
    )
    return 0 if revision is None else int(revision)


def document_of(rows: Rows, *, source: str, compiled: bool = True) -> FlagDocument:
    """The validated document the rows hold (an empty one for a new namespace).

    With ``compiled=False`` it is validated only, for a write to build on (see
    :func:`~openfeature_litestar._document.stored_document`).

    Raises:
        DocumentError: The rows do not make a valid document (edited by hand).
    """
    if not rows.exists:
        return empty_document()
    try:
        shared = json.loads(rows.shared)
        definitions = {key: _decoded(definition) for key, _, definition in rows.flags}
    except json.JSONDecodeError as exc:
        problem = Problem("", f"a stored value is not valid JSON ({exc.msg})")
        raise DocumentError([problem], source=source) from None
    if not isinstance(shared, dict):
        problem = Problem("", "the stored document parts are not a JSON object")
        raise DocumentError([problem], source=source)
    # The fields in FlagDocument's order, so that a loaded document dumps as written.
    data: dict[str, Any] = {k: v for k, v in shared.items() if k == "$schema"}
    data["flags"] = definitions
    data.update((k, v) for k, v in shared.items() if k not in {"$schema", "flags"})
    if not compiled:
        return stored_document(data, source=source)
    return document_from_data(data, source=source)


def _decoded(text: str) -> Any:
    give_way()
    return json.loads(text)


async def advance(
    connection: AsyncConnection, rows: Rows, after: FlagDocument, commit: Commit
) -> bool:
    """Move the namespace row to ``commit.revision``; ``False`` if another writer did first.

    A namespace's first write inserts its row; a concurrent first write then fails on
    the primary key (an ``IntegrityError`` the caller treats as a lost race).
    """
    namespaces, flags = commit.tables.namespaces, commit.tables.flags
    shared = after.dump_shared()
    values = {
        "revision": commit.revision,
        "shared": shared,
        "updated_at": commit.at,
        "updated_by": commit.actor,
    }
    if not rows.exists:
        # Flag rows without a namespace row can only be left over by hand; the new
        # document replaces them.
        await connection.execute(delete(flags).where(flags.c.namespace == commit.namespace))
        await connection.execute(insert(namespaces).values(namespace=commit.namespace, **values))
        return True
    result = await connection.execute(
        update(namespaces)
        .where(namespaces.c.namespace == commit.namespace, namespaces.c.revision == rows.revision)
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def write_flags(
    connection: AsyncConnection,
    stored: Mapping[str, int],
    after: FlagDocument,
    changed: set[str],
    commit: Commit,
) -> None:
    """Make the flag rows hold ``after``'s flags, touching only the rows that change.

    ``stored`` gives each stored flag's position; ``changed`` names the flags whose
    definitions changed (they get the commit's stamp); a flag whose position alone
    changed keeps its stamp.
    """
    flags, namespace = commit.tables.flags, commit.namespace
    positions = _positions(stored, after.flags)
    created = [
        {
            "namespace": namespace,
            "key": key,
            "position": positions[key],
            "definition": definition_data(after, key),
            **commit.stamp,
        }
        for key in after.flags
        if key not in stored
    ]
    if created:
        await connection.execute(insert(flags), created)
    for key in after.flags:
        values: dict[str, Any] = {}
        if key in stored and key in changed:
            values = {"definition": definition_data(after, key), **commit.stamp}
        if key in stored and positions[key] != stored[key]:
            values["position"] = positions[key]
        if values:
            await connection.execute(
                update(flags)
                .where(flags.c.namespace == namespace, flags.c.key == key)
                .values(**values)
            )
    deleted = [key for key in stored if key not in after.flags]
    if deleted:
        await connection.execute(
            delete(flags).where(flags.c.namespace == namespace, flags.c.key.in_(deleted))
        )


def _positions(stored: Mapping[str, int], order: Iterable[str]) -> dict[str, int]:
    """Positions that sort the flags in ``order``, keeping as many stored ones as possible.

    A flag keeps its stored position while that still comes after the previous flag's;
    otherwise it takes the next number. Deleting or appending a flag moves no other row.
    """
    positions: dict[str, int] = {}
    last = -1
    for key in order:
        kept = stored.get(key)
        last = kept if kept is not None and kept > last else last + 1
        positions[key] = last
    return positions


async def append_audit(
    connection: AsyncConnection, changes: list[Change], commit: Commit, note: str | None
) -> None:
    """Append one audit row per change, all with the commit's revision, time and actor."""
    if not changes:
        return
    entries = [
        {
            "namespace": commit.namespace,
            "revision": commit.revision,
            "flag_key": change.flag_key,
            "action": change.action,
            "actor": commit.actor,
            "at": commit.at,
            "before": change.before,
            "after": change.after,
            "note": note,
        }
        for change in changes
    ]
    await connection.execute(insert(commit.tables.audit), entries)


async def audit_page(
    connection: AsyncConnection,
    tables: Tables,
    namespace: str,
    *,
    flag_key: str | None,
    limit: int,
    before: int | None,
) -> list[AuditEntry]:
    """Up to ``limit`` of ``namespace``'s audit entries, newest first.

    Raises:
        ValueError: ``before`` is not the id of one of the namespace's entries.
    """
    audit = tables.audit
    query = select(audit).where(audit.c.namespace == namespace)
    if before is not None:
        known = await connection.scalar(
            select(audit.c.id).where(audit.c.id == before, audit.c.namespace == namespace)
        )
        if known is None:
            raise ValueError(f"before={str(before)!r} is not an audit entry of this namespace")
        query = query.where(audit.c.id < before)
    if flag_key is not None:
        query = query.where(audit.c.flag_key == flag_key)
    result = await connection.execute(query.order_by(audit.c.id.desc()).limit(limit))
    return [
        AuditEntry(
            id=str(row.id),
            namespace=row.namespace,
            revision=int(row.revision),
            flag_key=row.flag_key,
            action=row.action,
            actor=row.actor,
            at=row.at,
            before=row.before,
            after=row.after,
            note=row.note,
        )
        for row in result
    ]


def parse_entry_id(entry_id: str) -> int:
    """The number an audit entry id stands for.

    Ids are the audit table's positive 64-bit keys: anything else is refused here,
    before the database driver sees a number it cannot bind.

    Raises:
        ValueError: ``entry_id`` is not an id this store hands out.
    """
    value: object = entry_id
    if (
        not isinstance(value, str)
        or not value.isascii()
        or not value.isdigit()
        or len(value) > _MAX_ID_DIGITS
        or not 1 <= int(value) <= _MAX_ID
    ):
        raise ValueError(f"before={entry_id!r:.40} is not an audit entry id")
    return int(value)

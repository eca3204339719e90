"""The SQL store's four tables, and the versioned DDL that creates and upgrades them.

The schema is versioned in the database itself (the ``{prefix}schema`` table holds one
row with the version). Creating it is safe on every start: under a lock (PostgreSQL's
transaction-scoped advisory lock; SQLite's write lock) the store upgrades an older
schema with the steps in :data:`_UPGRADES`, creates whatever table is missing, and
records the version. A database at a newer version than this code is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from openfeature_litestar._errors import ConfigurationError, StoreError
from openfeature_litestar._stores._names import MAX_NAME_LENGTH

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection, Dialect

__all__ = [
    "KEY_LENGTH",
    "MAX_TABLE_PREFIX_LENGTH",
    "SCHEMA_VERSION",
    "Tables",
    "UtcDateTime",
    "check_schema",
    "create_schema",
    "lock_key",
]

SCHEMA_VERSION = 1
"""The schema version this code reads and writes."""

_IDENTIFIER_LIMIT = 63  # PostgreSQL truncates longer names, which could make two collide
_LONGEST_SUFFIX = "namespaces"  # also the length of the index names' suffixes below
MAX_TABLE_PREFIX_LENGTH = _IDENTIFIER_LIMIT - len(_LONGEST_SUFFIX)
"""The longest table prefix: every table and index name must fit PostgreSQL's 63 bytes."""

KEY_LENGTH = 256
"""Flag keys and actors are at most 256 characters (document.py, _writes.py)."""


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002 - SQLAlchemy's signature
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _json() -> JSON:
    # Plain JSON (PostgreSQL's ``json``, text on SQLite), not JSONB: JSONB reorders keys,
    # and a flag's variants should read back in the order they were written. The store
    # never queries inside the documents, so JSONB's indexing would buy nothing.
    return JSON(none_as_null=True)


@dataclass(frozen=True, slots=True)
class Tables:
    """The four tables of one table prefix.

    Attributes:
        metadata: The :class:`~sqlalchemy.MetaData` holding them.
        namespaces: One row per namespace: its revision and the document's shared parts.
        flags: One row per flag of a namespace, with its definition.
        audit: The audit trail, one row per changed flag per write.
        schema: One row: the schema version.
    """

    metadata: MetaData
    namespaces: Table
    flags: Table
    audit: Table
    schema: Table

    @classmethod
    def with_prefix(cls, prefix: str, in_schema: str | None = None) -> Tables:
        """Describe the tables named ``{prefix}namespaces`` and so on, in ``in_schema``.

        ``None`` means the connection's default (PostgreSQL's ``search_path``).

        Raises:
            ValueError: ``prefix`` would make a name longer than PostgreSQL allows.
        """
        if len(prefix) > MAX_TABLE_PREFIX_LENGTH:
            raise ValueError(
                f"a table prefix is at most {MAX_TABLE_PREFIX_LENGTH} characters (table "
                f"names must fit PostgreSQL's {_IDENTIFIER_LIMIT}), not {len(prefix)}"
            )
        metadata = MetaData(schema=in_schema)
        namespaces = Table(
            f"{prefix}namespaces",
            metadata,
            Column("namespace", String(MAX_NAME_LENGTH), primary_key=True),
            Column("revision", BigInteger, nullable=False),
            Column("shared", _json(), nullable=False),
            Column("updated_at", UtcDateTime, nullable=False),
            Column("updated_by", String(KEY_LENGTH), nullable=False),
        )
        flags = Table(
            f"{prefix}flags",
            metadata,
            Column("namespace", String(MAX_NAME_LENGTH), primary_key=True),
            Column("key", String(KEY_LENGTH), primary_key=True),
            Column("position", BigInteger, nullable=False),
            Column("definition", _json(), nullable=False),
            Column("revision", BigInteger, nullable=False),
            Column("updated_at", UtcDateTime, nullable=False),
            Column("updated_by", String(KEY_LENGTH), nullable=False),
        )
        audit = Table(
            f"{prefix}audit",
            metadata,
            # SQLite's rowid alias must be spelled INTEGER to autoincrement.
            Column(
                "id",
                BigInteger().with_variant(Integer, "sqlite"),
                primary_key=True,
                autoincrement=True,
            ),
            Column("namespace", String(MAX_NAME_LENGTH), nullable=False),
            Column("revision", BigInteger, nullable=False),
            Column("flag_key", String(KEY_LENGTH), nullable=True),
            Column("action", String(16), nullable=False),
            Column("actor", String(KEY_LENGTH), nullable=False),
            Column("at", UtcDateTime, nullable=False),
            Column("before", _json(), nullable=True),
            Column("after", _json(), nullable=True),
            Column("note", Text, nullable=True),
            Index(f"{prefix}audit_ns", "namespace", "id"),
            Index(f"{prefix}audit_fl", "namespace", "flag_key", "id"),
        )
        schema = Table(f"{prefix}schema", metadata, Column("version", Integer, nullable=False))
        return cls(metadata, namespaces, flags, audit, schema)

    @property
    def names(self) -> tuple[str, ...]:
        """The four table names."""
        return (self.namespaces.name, self.flags.name, self.audit.name, self.schema.name)


_UPGRADES: dict[int, Callable[[Connection, Tables], Any]] = {}
"""Upgrade steps: ``_UPGRADES[n]`` turns a version-``n`` schema into version ``n + 1``.

None exist yet (version 1 is the first). A later version that changes the schema adds
its step here (plain DDL through ``connection``, written for both PostgreSQL and SQLite)
and raises :data:`SCHEMA_VERSION`; stores upgrade the database when they start.
"""


def lock_key(tables: Tables) -> int:
    # A stable 64-bit key per table prefix, so stores of different prefixes never wait
    # for each other (hash() is salted per process; a digest is not). A table in the
    # default schema keeps the key it had before schemas could be chosen.
    digest = hashlib.blake2b(
        f"openfeature-litestar schema {tables.schema.fullname}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def create_schema(connection: Connection, tables: Tables) -> None:
    """Create or upgrade the tables; safe to run on every start, concurrently.

    Run it inside a transaction; on SQLite that transaction must hold the write lock
    (``BEGIN IMMEDIATE``).

    Raises:
        ConfigurationError: The database's schema is newer than this code.
    """
    if connection.dialect.name == "postgresql":
        # Serialises concurrent starts until commit; PostgreSQL's DDL is transactional.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(tables)})
    version = _stored_version(connection, tables)
    if version is not None:
        _refuse_newer(version, tables)
        for step in range(version, SCHEMA_VERSION):
            _UPGRADES[step](connection, tables)
    tables.metadata.create_all(connection, checkfirst=True)
    if version is None:
        connection.execute(insert(tables.schema).values(version=SCHEMA_VERSION))
    elif version < SCHEMA_VERSION:
        connection.execute(update(tables.schema).values(version=SCHEMA_VERSION))


def check_schema(connection: Connection, tables: Tables) -> None:
    """Check that the tables exist at this code's version, changing nothing.

    Raises:
        StoreError: A table is missing or the schema is older than this code (another
            instance, or a migration job, may still create or upgrade it).
        ConfigurationError: The database's schema is newer than this code.
    """
    present = set(inspect(connection).get_table_names(schema=tables.metadata.schema))
    missing = [name for name in tables.names if name not in present]
    if missing:
        raise StoreError(
            f"the flag tables {', '.join(missing)} do not exist; create them by starting a "
            "store once with create_schema=True (which needs the CREATE privilege)"
        )
    version = _stored_version(connection, tables)
    if version is None or version < SCHEMA_VERSION:
        raise StoreError(
            f"the flag tables are at schema version {version or 'unknown'}, this code "
            f"needs {SCHEMA_VERSION}; upgrade them by starting a store once with "
            "create_schema=True"
        )
    _refuse_newer(version, tables)


def _stored_version(connection: Connection, tables: Tables) -> int | None:
    if not inspect(connection).has_table(tables.schema.name, schema=tables.metadata.schema):
        return None
    version = connection.execute(select(func.max(tables.schema.c.version))).scalar()
    return None if version is None else int(version)


def _refuse_newer(version: int, tables: Tables) -> None:
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the flag tables {tables.schema.name!r} are at schema version {version}, "
            f"newer than this version of openfeature-litestar understands "
            f"({SCHEMA_VERSION}); upgrade openfeature-litestar"
        )

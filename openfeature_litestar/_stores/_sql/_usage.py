"""Usage counters in SQL: two tables beside the flag tables, created when first needed.

``{prefix}usage`` holds one row per namespace, hour and counter, every process's counts
added up by upserts; ``{prefix}usage_seq`` one row per provider run with the last batch
it added, so a batch sent again is not added twice. They are not part of the versioned
schema (:data:`~._schema.SCHEMA_VERSION` is unchanged): a store creates them if they
are missing, so a database at schema version 1 works with code that has them and code
that has not, and rolling back leaves two tables no older code reads. With
``create_schema=False`` they must be created beforehand (the DDL is in the SQL store's
documentation); without them a provider keeps its counts in process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    inspect,
    literal,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._stores._names import MAX_NAME_LENGTH
from openfeature_litestar._stores._usage import (
    UsageKey,
    UsageRecord,
    banded_records,
    usage_records,
)

from ._schema import KEY_LENGTH, Tables, UtcDateTime, lock_key

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection

    from openfeature_litestar._stores._usage import UsageBatch

__all__ = [
    "SEQUENCE_RETENTION",
    "UsageTables",
    "add_batch",
    "ensure_usage_tables",
    "prune",
    "read",
    "read_bands",
]

SEQUENCE_RETENTION = timedelta(days=7)
"""How long a provider run's last batch number is kept after its last flush."""

_OUTCOME_LENGTH = 64  # reasons and error codes: OpenFeature's names, a few words at most


@dataclass(frozen=True, slots=True)
class UsageTables:
    """The usage tables of one table prefix.

    Attributes:
        metadata: The :class:`~sqlalchemy.MetaData` holding them.
        usage: One row per namespace, hour and counter.
        sequences: One row per namespace and provider run: its last batch added.
    """

    metadata: MetaData
    usage: Table
    sequences: Table

    @classmethod
    def with_prefix(cls, prefix: str, schema: str | None = None) -> UsageTables:
        """Describe the tables ``{prefix}usage`` and ``{prefix}usage_seq``, in ``schema``."""
        metadata = MetaData(schema=schema)
        usage = Table(
            f"{prefix}usage",
            metadata,
            Column("namespace", String(MAX_NAME_LENGTH), primary_key=True),
            Column("hour", UtcDateTime, primary_key=True),
            Column("flag_key", String(KEY_LENGTH), primary_key=True),
            # "" for none: primary-key columns cannot be NULL.
            Column("variant", Text, primary_key=True),
            Column("reason", String(_OUTCOME_LENGTH), primary_key=True),
            Column("error_code", String(_OUTCOME_LENGTH), primary_key=True),
            Column("count", BigInteger, nullable=False),
        )
        sequences = Table(
            f"{prefix}usage_seq",
            metadata,
            Column("namespace", String(MAX_NAME_LENGTH), primary_key=True),
            Column("session", String(64), primary_key=True),
            Column("sequence", BigInteger, nullable=False),
            Column("at", UtcDateTime, nullable=False),
        )
        return cls(metadata, usage, sequences)

    @property
    def names(self) -> tuple[str, str]:
        """The two table names."""
        return (self.usage.name, self.sequences.name)


def ensure_usage_tables(
    connection: Connection, tables: Tables, usage: UsageTables, *, create: bool
) -> None:
    """Create the usage tables if missing (``create``), or check that they exist.

    Raises:
        ConfigurationError: They are missing and ``create`` is false.
    """
    if create:
        if connection.dialect.name == "postgresql":
            # The flag tables' lock: concurrent first starts create the tables once.
            connection.execute(
                sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(tables)}
            )
        usage.metadata.create_all(connection, checkfirst=True)
        return
    present = set(inspect(connection).get_table_names(schema=usage.metadata.schema))
    missing = [name for name in usage.names if name not in present]
    if missing:
        raise ConfigurationError(
            f"the usage tables {', '.join(missing)} do not exist and create_schema=False: "
            "create them (the SQL store's documentation has the DDL) to keep usage "
            "counters; until then they stay in each process"
        )


def _text_or_empty(value: str | None) -> str:
    return "" if value is None else value


def _none_if_empty(value: str) -> str | None:
    return value or None


def _rows(namespace: str, batch: UsageBatch) -> list[dict[str, Any]]:
    rows = [
        {
            "namespace": namespace,
            "hour": hour,
            "flag_key": key.flag_key,
            "variant": _text_or_empty(key.variant),
            "reason": _text_or_empty(key.reason),
            "error_code": _text_or_empty(key.error_code),
            "count": count,
        }
        for (hour, key), count in batch.counts.items()
    ]
    # One order for every writer: concurrent upserts lock rows in the same order, so
    # two flushes of the same hour wait for each other instead of deadlocking.
    rows.sort(
        key=lambda row: (
            row["hour"],
            row["flag_key"],
            row["variant"],
            row["reason"],
            row["error_code"],
        )
    )
    return rows


async def add_batch(
    connection: AsyncConnection, usage: UsageTables, namespace: str, batch: UsageBatch
) -> bool:
    """Add ``batch`` in the connection's transaction; ``False`` if it was added before."""
    sequences = usage.sequences
    where = (sequences.c.namespace == namespace) & (sequences.c.session == batch.session)
    last = (
        await connection.execute(select(sequences.c.sequence).where(where).with_for_update())
    ).scalar()
    if last is not None and int(last) >= batch.sequence:
        return False
    now = datetime.now(timezone.utc)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    marker = dialect.insert(sequences).values(
        namespace=namespace, session=batch.session, sequence=batch.sequence, at=now
    )
    await connection.execute(
        marker.on_conflict_do_update(
            index_elements=[sequences.c.namespace, sequences.c.session],
            set_={"sequence": marker.excluded.sequence, "at": marker.excluded.at},
        )
    )
    table = usage.usage
    upsert = dialect.insert(table)
    upsert = upsert.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={"count": table.c["count"] + upsert.excluded["count"]},
    )
    await connection.execute(upsert, _rows(namespace, batch))
    return True


async def prune(
    connection: AsyncConnection, usage: UsageTables, namespace: str, *, retention: timedelta
) -> None:
    """Delete the namespace's counts older than ``retention``, and old batch numbers."""
    now = datetime.now(timezone.utc)
    table, sequences = usage.usage, usage.sequences
    await connection.execute(
        delete(table).where((table.c.namespace == namespace) & (table.c.hour < now - retention))
    )
    await connection.execute(
        delete(sequences).where(
            (sequences.c.namespace == namespace) & (sequences.c.at < now - SEQUENCE_RETENTION)
        )
    )


async def read(
    connection: AsyncConnection,
    usage: UsageTables,
    namespace: str,
    *,
    first: datetime,
    last: datetime,
) -> list[UsageRecord]:
    """The namespace's counts of the hours ``first`` to ``last`` (both included)."""
    table = usage.usage
    result = await connection.execute(
        select(
            table.c.hour,
            table.c.flag_key,
            table.c.variant,
            table.c.reason,
            table.c.error_code,
            table.c["count"],
        ).where((table.c.namespace == namespace) & (table.c.hour >= first) & (table.c.hour <= last))
    )
    return usage_records(
        (
            (
                row.hour,
                UsageKey(
                    row.flag_key,
                    _none_if_empty(row.variant),
                    _none_if_empty(row.reason),
                    _none_if_empty(row.error_code),
                ),
            ),
            int(row[5]),
        )
        for row in result
    )


async def read_bands(
    connection: AsyncConnection,
    usage: UsageTables,
    namespace: str,
    *,
    first: datetime,
    last: datetime,
    bounds: Sequence[datetime],
) -> list[UsageRecord]:
    """The counts of the hours ``first`` to ``last`` summed per counter and band.

    See ``UsageBands.read_usage_bands`` (``_stores/_usage.py``): the
    database sums the hours (``GROUP BY``), so the rows read follow the counters and the
    bands, not the hours.
    """
    table = usage.usage
    band = sum(
        (case((table.c.hour > bound, 1), else_=0) for bound in bounds), start=literal(0)
    ).label("band")
    keys = (table.c.flag_key, table.c.variant, table.c.reason, table.c.error_code)
    result = await connection.execute(
        select(
            *keys,
            func.min(table.c.hour).label("first_hour"),
            func.max(table.c.hour).label("last_hour"),
            func.sum(table.c["count"]).label("total"),
        )
        .where((table.c.namespace == namespace) & (table.c.hour >= first) & (table.c.hour <= last))
        .group_by(*keys, band)
    )
    return banded_records(
        (
            UsageKey(
                row.flag_key,
                _none_if_empty(row.variant),
                _none_if_empty(row.reason),
                _none_if_empty(row.error_code),
            ),
            row.first_hour,
            row.last_hour,
            int(row.total),
        )
        for row in result
    )

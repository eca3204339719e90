"""Usage counters as stores keep them: hourly counts per flag, variant, reason and error.

A provider counts its evaluations in process and hands them to its store in batches
(:class:`UsageBatch`); a store that can keep them implements :class:`UsageStore`. The
shared stores (Redis, SQL) add every process's batches together; the memory and file
stores keep them in the process that counted them. :meth:`UsageStore.read_usage`
returns what was kept, as :class:`UsageRecord` rows, one per hour and counter.

No counter holds a targeting key or an attribute: a counter is named by what the
document and the evaluation define (flag key, variant, reason, error code) and by the
flag key the code asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "OTHER_FLAG_KEYS",
    "TRACKING_REASON",
    "HourlyCounts",
    "UsageBands",
    "UsageBatch",
    "UsageKey",
    "UsageRecord",
    "UsageStore",
    "banded_records",
    "hour_of",
    "hours_between",
    "usage_records",
]

OTHER_FLAG_KEYS: Final = ""
"""The flag key of the counter that stands for keys not counted one by one.

Unknown keys beyond a provider's ``max_unknown_keys`` (and keys no flag can have, see
:func:`~openfeature_litestar.is_valid_flag_key`) are counted under this key, as are
evaluations beyond ``max_keys`` distinct counters. No flag has it: a flag key is never
empty."""

TRACKING_REASON: Final = "TRACKING"
"""The ``reason`` of a counter of tracking events rather than of evaluations.

``client.track(name)`` events are stored beside the evaluation counters, as counters
whose ``flag_key`` is the event name (:data:`~openfeature_litestar.OTHER_EVENT_NAMES`
for names not counted one by one), with this reason and neither a variant nor an error
code. No evaluation has this reason: it is none of OpenFeature's.
"""

_HOUR: Final = timedelta(hours=1)


class UsageKey(NamedTuple):
    """What one counter counts: the evaluations of one flag with one outcome.

    A tuple of four fields: ``flag_key``, the flag asked for
    (:data:`OTHER_FLAG_KEYS` for the overflow bucket); ``variant``, the variant served,
    or ``None`` (an error, a disabled flag, no match); ``reason``, the OpenFeature
    reason (``STATIC``, ``TARGETING_MATCH``, ``ERROR``, ...), or :data:`TRACKING_REASON`
    for a counter of the tracking events named ``flag_key``; and ``error_code``, the
    OpenFeature error code, or ``None`` when there was no error.

    .. versionadded:: 0.2.0
    """

    flag_key: str
    variant: str | None
    reason: str | None
    error_code: str | None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """A stored count: how often one counter counted in one hour, across every process.

    Attributes:
        hour: The start of the hour (an aware UTC datetime).
        key: What was counted.
        count: How many evaluations.

    .. versionadded:: 0.2.0
    """

    hour: datetime
    key: UsageKey
    count: int


HourlyCounts = dict[tuple[datetime, UsageKey], int]
"""Counts by hour (an aware UTC datetime at the start of the hour) and counter."""


@dataclass(frozen=True, slots=True)
class UsageBatch:
    """Counts a provider hands its store in one write.

    A batch is sent until the store takes it, unchanged, with the same ``sequence``: a
    store that keeps counts between processes applies each ``(session, sequence)`` at
    most once, so a write that succeeded but whose answer was lost is not counted twice
    when it is sent again.

    Attributes:
        session: A random token naming the provider run that counted (never reused).
        sequence: The batch's number in its session, growing by one per batch.
        counts: Evaluations by hour and counter; every count is positive.

    .. versionadded:: 0.2.0
    """

    session: str
    sequence: int
    counts: Mapping[tuple[datetime, UsageKey], int]

    @property
    def evaluations(self) -> int:
        """The evaluations the batch counts, in all."""
        return sum(self.counts.values())


@runtime_checkable
class UsageStore(Protocol):
    """A store that keeps usage counters (optional: a provider keeps them in process).

    A provider whose store implements this flushes what it counted in the background
    (see :class:`~openfeature_litestar.UsageConfig`); with any other store the counts
    stay in the provider (:attr:`~openfeature_litestar.FlagProvider.usage`).

    .. versionadded:: 0.2.0
    """

    async def record_usage(self, batch: UsageBatch) -> None:
        """Add ``batch``'s counts to the stored ones, atomically and at most once.

        Raises:
            StoreError: The store cannot be reached or written; nothing was added, or
                the whole batch was (then sending it again adds nothing).
            ConfigurationError: The store can never keep counts as configured (a SQL
                store without its usage tables and ``create_schema=False``).
        """
        ...

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        """The stored counts of the hours from ``since`` to ``until``, oldest first.

        Args:
            since: The first hour to read (any time within it; an aware datetime).
            until: The last hour to read (any time within it); ``None`` for now.

        Returns:
            One record per hour and counter with a count, ordered by hour, then key.

        Raises:
            StoreError: The store cannot be reached or read.
            ValueError: ``since`` or ``until`` is a naive datetime.
        """
        ...


@runtime_checkable
class UsageBands(Protocol):
    """A store that can sum its counts per band of hours itself (SQL, with GROUP BY).

    A report over two weeks of hourly counts reads every hour of every counter (for
    10,000 flags, millions of rows) but needs only their sums over a few spans and each
    counter's first and last hour; a store that implements this returns those.
    """

    async def read_usage_bands(
        self, *, since: datetime, until: datetime | None, bounds: Sequence[datetime]
    ) -> list[UsageRecord]:
        """The counts from ``since`` to ``until`` summed per counter and band of hours.

        An hour's band is how many of ``bounds`` it is later than. For each counter and
        band with counts: one record at the band's last counted hour with the band's
        sum and, when the band has an earlier counted hour, one with a count of 0 at
        its first. Read together, these give every window that begins at a bound the
        same sums, and every counter the same first and last hour, as the hourly
        records do.

        Raises:
            StoreError: The store cannot be reached or read.
            ValueError: ``since`` or ``until`` is a naive datetime.
        """
        ...


def banded_records(
    summaries: Iterable[tuple[UsageKey, datetime, datetime, int]],
) -> list[UsageRecord]:
    """Records of ``(key, first hour, last hour, sum)`` band summaries (see UsageBands)."""
    records: list[UsageRecord] = []
    for key, first, last, total in summaries:
        if total <= 0:
            continue
        records.append(UsageRecord(last, key, total))
        if first != last:
            records.append(UsageRecord(first, key, 0))
    records.sort(key=_record_order)
    return records


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in.

    Raises:
        ValueError: ``moment`` is naive (without a time zone).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"usage times must be aware datetimes, not naive {moment!r}")
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def hours_between(since: datetime, until: datetime | None) -> tuple[datetime, datetime]:
    """The first and last hour of a :meth:`UsageStore.read_usage` range (both included).

    Raises:
        ValueError: ``since`` or ``until`` is naive.
    """
    first = hour_of(since)
    last = hour_of(until if until is not None else datetime.now(timezone.utc))
    return first, last


def usage_records(counts: Iterable[tuple[tuple[datetime, UsageKey], int]]) -> list[UsageRecord]:
    """Records of ``counts``, ordered by hour then key (``None`` before any text)."""
    rows = [UsageRecord(hour, key, count) for (hour, key), count in counts if count > 0]
    rows.sort(key=_record_order)
    return rows


def _record_order(record: UsageRecord) -> tuple[datetime, tuple[str, ...]]:
    key = record.key
    return record.hour, (
        key.flag_key,
        "" if key.variant is None else f"={key.variant}",
        "" if key.reason is None else f"={key.reason}",
        "" if key.error_code is None else f"={key.error_code}",
    )


class InProcessUsage:
    """Usage counts kept in this process: the memory and file stores' :class:`UsageStore`.

    Thread-safe. Nothing is shared between processes and nothing survives the process.
    Hours older than ``retention`` are forgotten as new batches arrive.
    """

    def __init__(self, retention: timedelta = timedelta(days=35)) -> None:
        """Keep counts for ``retention``."""
        self._lock = threading.Lock()
        self._counts: HourlyCounts = {}
        self._retention = retention

    async def record_usage(self, batch: UsageBatch) -> None:
        oldest = hour_of(datetime.now(timezone.utc)) - self._retention
        with self._lock:
            counts = self._counts
            for bucket, count in batch.counts.items():
                counts[bucket] = counts.get(bucket, 0) + count
            for bucket in [bucket for bucket in counts if bucket[0] < oldest]:
                del counts[bucket]

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        first, last = hours_between(since, until)
        with self._lock:
            selected = [
                (bucket, count)
                for bucket, count in self._counts.items()
                if first <= bucket[0] <= last
            ]
        return usage_records(selected)


def next_hour(moment: datetime) -> datetime:
    """The start of the UTC hour after the one ``moment`` falls in."""
    return hour_of(moment) + _HOUR

"""Usage counters in the provider: counted on the evaluation path, flushed in the background.

Counting
    One :class:`itertools.count` per counter key ``(flag key, variant, reason, error
    code)``, in a dict. An evaluation looks its counter up and calls ``next()`` on it:
    no lock, no allocation once the counter exists; ``next()`` on a ``count`` is one C
    call, atomic under the GIL, so no increment is lost between threads. A missing
    counter is made on the slow path with :meth:`dict.setdefault` (two threads making
    the same one share whichever was stored first).

Reading
    The collector (under its own lock, never taken by an evaluation) reads a counter by
    calling ``next()`` on it too, and subtracts its own reads: the value ``next()``
    returns is the number of calls before it, evaluations and reads together. A flush
    takes the difference since the last flush, stamped with the current hour.

Bounds
    At most ``max_keys`` counters, of which at most ``max_unknown_keys`` for keys that
    name no flag; beyond them (and for keys no flag can have) evaluations are counted
    under :data:`~openfeature_litestar.OTHER_FLAG_KEYS`. Counts waiting for the store
    are bounded by ``max_pending`` entries (hour and counter); beyond it the oldest are
    dropped, counted in :attr:`UsageSnapshot.dropped` and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from openfeature.exception import ErrorCode

from openfeature_litestar._document import is_valid_flag_key
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._stores._usage import (
    OTHER_FLAG_KEYS,
    HourlyCounts,
    UsageBatch,
    UsageKey,
    UsageStore,
    hour_of,
    next_hour,
)
from openfeature_litestar._validation import positive_int, positive_seconds

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from openfeature.flag_evaluation import FlagResolutionDetails

    from ._tracking import TrackedCounts

__all__ = ["UsageConfig", "UsageCounters", "UsageFlusher", "UsageSnapshot"]

logger = logging.getLogger("openfeature_litestar.provider.usage")

_FLAG_NOT_FOUND: Final = ErrorCode.FLAG_NOT_FOUND
_Key = tuple[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class UsageConfig:
    """How a :class:`~openfeature_litestar.FlagProvider` counts its evaluations.

    Counting is on by default (``FlagProvider(store)`` is ``usage=UsageConfig()``);
    ``usage=False`` switches it off.

    Attributes:
        flush_interval: Seconds between flushes to a store that keeps counts
            (:class:`~openfeature_litestar.UsageStore`); a flush also runs at the start
            of each hour, so counts land in the hour they were made in (within the
            time one flush takes), and at shutdown.
        max_keys: The most distinct counters a provider keeps (flag key, variant,
            reason, error code); evaluations beyond them count under
            :data:`~openfeature_litestar.OTHER_FLAG_KEYS`.
        max_unknown_keys: The most keys that name no flag counted one by one; others
            count under :data:`~openfeature_litestar.OTHER_FLAG_KEYS`, so callers
            asking for random keys (through OFREP, say) cannot grow memory without end.
        max_pending: The most counts (one per hour and counter) kept for a store that
            cannot be reached; beyond them the oldest are dropped, logged and counted
            in :attr:`UsageSnapshot.dropped`.
        max_batch: The most counts in one write to the store; a larger flush is
            written in several.
        max_tracked_names: The most tracking event names (``client.track(name)``)
            counted one by one; others count under
            :data:`~openfeature_litestar.OTHER_EVENT_NAMES`.

    Raises:
        ConfigurationError: A number is not positive.

    .. versionadded:: 0.2.0
    """

    flush_interval: float = 10.0
    max_keys: int = 100_000
    max_unknown_keys: int = 1_000
    max_pending: int = 200_000
    max_batch: int = 5_000
    max_tracked_names: int = 1_000

    def __post_init__(self) -> None:
        """Check every setting."""
        positive_seconds("flush_interval", self.flush_interval)
        for name in (
            "max_keys",
            "max_unknown_keys",
            "max_pending",
            "max_batch",
            "max_tracked_names",
        ):
            positive_int(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    """What a provider has counted since it was created, read at one moment.

    Attributes:
        enabled: Whether the provider counts (``False`` after ``usage=False``).
        counts: Evaluations per counter since the provider was created, counted in
            this process (flushed or not).
        unflushed: Of those, evaluations counted but not yet taken by the store.
        dropped: Evaluations that were counted but dropped before the store took them
            (the store was unreachable for longer than ``max_pending`` allows, or at
            shutdown).
        flushes: Batches the store has taken.
        tracked: Tracking events (``client.track(name)``) per event name, counted in
            this process (they are not flushed to the store).

    .. versionadded:: 0.2.0
    """

    enabled: bool
    counts: Mapping[UsageKey, int] = field(default_factory=lambda: MappingProxyType({}))
    unflushed: int = 0
    dropped: int = 0
    flushes: int = 0
    tracked: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def evaluations(self) -> int:
        """Every evaluation counted."""
        return sum(self.counts.values())


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _public_key(key: _Key) -> UsageKey:
    return UsageKey(key[0], _text(key[1]), _text(key[2]), _text(key[3]))


class UsageCounters:
    """The counters of one provider: :meth:`count` on the evaluation path, the rest off it.

    Args:
        config: The bounds.
        on_unknown: Called with a key no flag has when its first evaluation is counted
            (and for every evaluation of keys beyond the bounds); must not raise.
    """

    def __init__(
        self, config: UsageConfig, on_unknown: Callable[[str], None] = lambda _key: None
    ) -> None:
        """Start with no counters."""
        self._on_unknown = on_unknown
        self._max_keys = config.max_keys
        self._max_unknown = config.max_unknown_keys
        self._counters: dict[_Key, itertools.count[int]] = {}
        self._unknown = 0  # approximate under races; only bounds memory
        # Collector state, under _lock: per counter, its reads so far and the
        # evaluations already taken.
        self._lock = threading.Lock()
        self._reads: dict[_Key, int] = {}
        self._taken: dict[_Key, int] = {}

    def count(self, flag_key: str, details: FlagResolutionDetails[Any]) -> None:
        """Count one evaluation of ``flag_key`` with its outcome; never raises."""
        try:
            next(self._counters[(flag_key, details.variant, details.reason, details.error_code)])
        except Exception:
            self._count_new(flag_key, details)

    def _count_new(self, flag_key: object, details: FlagResolutionDetails[Any]) -> None:
        try:
            key: _Key = (flag_key, details.variant, details.reason, details.error_code)
            counters = self._counters
            if details.error_code == _FLAG_NOT_FOUND and isinstance(flag_key, str):
                self._on_unknown(flag_key)
            if not (isinstance(flag_key, str) and is_valid_flag_key(flag_key)):
                key = (OTHER_FLAG_KEYS, None, details.reason, details.error_code)
            elif key not in counters:
                unknown = details.error_code == _FLAG_NOT_FOUND
                if len(counters) >= self._max_keys or (
                    unknown and self._unknown >= self._max_unknown
                ):
                    key = (OTHER_FLAG_KEYS, None, details.reason, details.error_code)
                elif unknown:
                    self._unknown += 1
            next(counters.setdefault(key, itertools.count()))
        except Exception:  # the evaluation path never raises
            logger.exception("counting an evaluation failed")

    def _read(self) -> dict[_Key, int]:
        """Every counter's evaluations so far (with ``_lock`` held)."""
        reads, totals = self._reads, {}
        for key, counter in self._counters.copy().items():
            done = reads.get(key, 0)
            totals[key] = next(counter) - done
            reads[key] = done + 1
        return totals

    def totals(self) -> dict[UsageKey, int]:
        """Evaluations per counter since the provider was created."""
        with self._lock:
            totals = self._read()
        return {_public_key(key): count for key, count in totals.items() if count}

    def take(self, now: datetime) -> HourlyCounts:
        """The evaluations since the last take, all in ``now``'s hour."""
        hour = hour_of(now)
        with self._lock:
            totals = self._read()
            taken = self._taken
            deltas = {key: total - taken.get(key, 0) for key, total in totals.items()}
            taken.update(totals)
        return {(hour, _public_key(key)): delta for key, delta in deltas.items() if delta > 0}


class UsageFlusher:
    """Takes a provider's counts and writes them to its store, on the provider's loop.

    Counts the store has not taken wait in batches; each batch, once sent, is sent again
    unchanged until the store takes it (the store applies each batch at most once), and
    counts taken meanwhile gather in one set of pending counts, merged by hour and
    counter. Together they are bounded by ``max_pending``.

    Args:
        counters: The provider's counters.
        store: Where the counts go.
        config: The interval and bounds.
        tracked: The provider's tracking event counts, flushed with the evaluations.
        clock: The current time (tests move it).
    """

    def __init__(
        self,
        counters: UsageCounters,
        store: UsageStore,
        config: UsageConfig,
        *,
        tracked: TrackedCounts | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Prepare; nothing runs until :meth:`run`."""
        self._counters = counters
        self._tracked = tracked
        self._store = store
        self._config = config
        self._clock = clock or _utc_now
        self._session = secrets.token_hex(8)
        self._sequence = itertools.count(1)
        self._queue: deque[UsageBatch] = deque()
        self._pending: HourlyCounts = {}
        self._guard = threading.Lock()  # the waiting counts, read from other threads
        self._flushing: asyncio.Lock | None = None
        self._disabled = False
        self.dropped = 0
        self.flushes = 0

    @property
    def unflushed(self) -> int:
        """Evaluations taken from the counters that the store has not taken yet."""
        with self._guard:
            queued = sum(batch.evaluations for batch in self._queue)
            return queued + sum(self._pending.values())

    async def run(self) -> None:
        """Flush every ``flush_interval`` seconds and at each hour's start, until cancelled."""
        interval = self._config.flush_interval
        while True:
            now = self._clock()
            until_next_hour = (next_hour(now) - now).total_seconds()
            await asyncio.sleep(min(interval, max(until_next_hour, 0.0) + 0.001))
            try:
                await self.flush()
            except Exception:  # the loop must go on; flush() logs what it knows
                logger.exception("flushing usage counters failed")

    async def flush(self) -> bool:
        """Take the new counts and write everything waiting; ``True`` if nothing waits."""
        if self._flushing is None:
            self._flushing = asyncio.Lock()
        async with self._flushing:
            self._gather()
            if self._disabled:
                return False
            while True:
                with self._guard:
                    if not self._queue:
                        self._batch_pending()
                    if not self._queue:
                        return True
                    batch = self._queue[0]
                try:
                    await self._store.record_usage(batch)
                except ConfigurationError as exc:
                    self._disabled = True
                    logger.error(  # noqa: TRY400 - the reason is the message, not a trace
                        "%r cannot keep usage counters (%s); they stay in this process",
                        self._store,
                        exc,
                    )
                    return False
                except Exception as exc:
                    logger.warning(
                        "flushing usage counters to %r failed (%s); %d evaluations wait "
                        "for the next try",
                        self._store,
                        exc,
                        self.unflushed,
                    )
                    return False
                with self._guard:
                    self._queue.popleft()
                    self.flushes += 1

    def drop_unflushed(self, why: str) -> None:
        """Give up on every count waiting (at shutdown, when the last flush failed)."""
        with self._guard:
            lost = sum(batch.evaluations for batch in self._queue) + sum(self._pending.values())
            self._queue.clear()
            self._pending = {}
        if lost:
            self.dropped += lost
            logger.warning("dropped %d evaluations' usage counts: %s", lost, why)

    def _gather(self) -> None:
        now = self._clock()
        taken = self._counters.take(now)
        if self._tracked is not None:
            taken.update(self._tracked.take(now))  # keys of their own: reason TRACKING
        with self._guard:
            pending = self._pending
            for bucket, count in taken.items():
                pending[bucket] = pending.get(bucket, 0) + count
            self._bound()

    def _batch_pending(self) -> None:
        """Cut the pending counts into batches (with ``_guard`` held)."""
        if not self._pending:
            return
        items = sorted(self._pending.items(), key=lambda item: item[0][0])
        self._pending = {}
        size = self._config.max_batch
        for start in range(0, len(items), size):
            counts = dict(items[start : start + size])
            self._queue.append(UsageBatch(self._session, next(self._sequence), counts))

    def _bound(self) -> None:
        """Drop the oldest waiting counts beyond ``max_pending`` (with ``_guard`` held)."""
        limit = self._config.max_pending
        waiting = sum(len(batch.counts) for batch in self._queue) + len(self._pending)
        if waiting <= limit:
            return
        lost = 0
        while self._queue and waiting > limit:
            batch = self._queue.popleft()
            waiting -= len(batch.counts)
            lost += batch.evaluations
        if waiting > limit:
            oldest_first = sorted(self._pending, key=lambda bucket: bucket[0])
            for bucket in oldest_first[: waiting - limit]:
                lost += self._pending.pop(bucket)
        self.dropped += lost
        logger.warning(
            "%r unreachable for too long: dropped the oldest %d evaluations' usage counts "
            "(more than max_pending=%d counts waited)",
            self._store,
            lost,
            limit,
        )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


async def cancel_quietly(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` and wait for it to end."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

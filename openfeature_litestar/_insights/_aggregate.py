"""Insights from stored counts: one pass over the hourly records, then the stale report.

Pure: given the document, the records, the flags' last changes and the time, the report
is always the same, so the admin API, the CLI and the tests share it and it needs no
store to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from openfeature_litestar._stores._usage import OTHER_FLAG_KEYS, TRACKING_REASON, hour_of

from ._model import (
    FlagInsights,
    Insights,
    StaleFlag,
    StaleReport,
    StaleThresholds,
    TrackedEvent,
    UnknownKey,
    WindowCounts,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores import UsageRecord

__all__ = ["WEEK", "build_insights", "period_start", "window_bounds"]

_HOUR: Final = timedelta(hours=1)
_DAY: Final = timedelta(days=1)
WEEK: Final = timedelta(days=7)
_FLAG_NOT_FOUND: Final = "FLAG_NOT_FOUND"


def period_start(now: datetime, thresholds: StaleThresholds) -> datetime:
    """The first hour a report made at ``now`` reads: a week, or the longest threshold.

    One hour more than the longest span, so that "not evaluated for N days" can see
    the hour before the N days began.
    """
    longest = max(WEEK, thresholds.unused_after, thresholds.single_variant_after)
    return hour_of(now - longest - _HOUR)


def _spans(thresholds: StaleThresholds) -> tuple[timedelta, ...]:
    return (_HOUR, _DAY, WEEK, thresholds.single_variant_after)


def window_bounds(now: datetime, thresholds: StaleThresholds) -> tuple[datetime, ...]:
    """Where a report's windows begin: an hour is in a window when it is later.

    A store that sums its counts per band between these bounds
    (``UsageBands``) gives the same report as
    its hourly counts do.
    """
    return tuple(sorted({now - span - _HOUR for span in _spans(thresholds)}))


@dataclass(slots=True)
class _Tally:
    """Counts of one window while the records are read."""

    evaluations: int = 0
    errors: int = 0
    by_variant: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    by_error_code: dict[str, int] = field(default_factory=dict)

    def add(self, record: UsageRecord) -> None:
        key, count = record.key, record.count
        self.evaluations += count
        if key.variant is not None:
            self.by_variant[key.variant] = self.by_variant.get(key.variant, 0) + count
        if key.reason is not None:
            self.by_reason[key.reason] = self.by_reason.get(key.reason, 0) + count
        if key.error_code is not None:
            self.errors += count
            self.by_error_code[key.error_code] = self.by_error_code.get(key.error_code, 0) + count

    def frozen(self) -> WindowCounts:
        rate = self.errors / self.evaluations if self.evaluations else 0.0
        return WindowCounts(
            self.evaluations,
            self.errors,
            rate,
            dict(sorted(self.by_variant.items())),
            dict(sorted(self.by_reason.items())),
            dict(sorted(self.by_error_code.items())),
        )


@dataclass(slots=True)
class _FlagTally:
    """Everything read about one key: its windows and its first and last hour."""

    windows: dict[timedelta, _Tally]
    total: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, record: UsageRecord, now: datetime) -> None:
        hour = record.hour
        self.total += record.count
        if self.first is None or hour < self.first:
            self.first = hour
        if self.last is None or hour > self.last:
            self.last = hour
        for span, tally in self.windows.items():
            # An hour is in a window when any part of it is: it ends after the window
            # starts (window_bounds gives the same boundaries to stores).
            if hour > now - span - _HOUR:
                tally.add(record)


def build_insights(
    document: FlagDocument,
    records: Iterable[UsageRecord],
    *,
    now: datetime,
    revision: int = 0,
    epoch: str = "",
    namespace: str | None = None,
    last_changed: Mapping[str, datetime] | None = None,
    thresholds: StaleThresholds | None = None,
) -> Insights:
    """The insights of ``document``'s flags from ``records``, as of ``now``.

    Args:
        document: The document the report describes (its flags, now).
        records: The stored counts of the period :func:`period_start` gives (records
            outside it are ignored).
        now: The time of the report (an aware datetime).
        revision: The document's revision.
        epoch: The history ``revision`` counts in.
        namespace: The namespace's name, if any.
        last_changed: When each flag was last written (from the audit trail).
        thresholds: The stale report's thresholds (default :class:`StaleThresholds`).

    Raises:
        ValueError: ``now`` is naive.
    """
    thresholds = thresholds or StaleThresholds()
    changes = last_changed or {}
    since = period_start(now, thresholds)
    spans = _spans(thresholds)
    tallies: dict[str, _FlagTally] = {}
    unknown: dict[str, _FlagTally] = {}
    other = 0
    counted_since: datetime | None = None
    tracked: dict[str, _FlagTally] = {}
    for record in records:
        if record.hour < since:
            continue
        if record.key.reason == TRACKING_REASON:
            _add_tracked(tracked, record, now)
            continue
        if counted_since is None or record.hour < counted_since:
            counted_since = record.hour
        key = record.key.flag_key
        if key == OTHER_FLAG_KEYS:
            other += record.count
        elif key in document.flags:
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _FlagTally({span: _Tally() for span in spans})
            tally.add(record, now)
        elif record.key.error_code == _FLAG_NOT_FOUND:
            asked = unknown.get(key)
            if asked is None:
                asked = unknown[key] = _FlagTally({})
            asked.add(record, now)
    flags = {
        key: _flag_insights(document, key, tallies.get(key), changes.get(key))
        for key in document.flags
    }
    stale = _stale_report(flags, tallies, thresholds, now, counted_since)
    return Insights(
        namespace=namespace,
        revision=revision,
        epoch=epoch,
        generated_at=now,
        since=since,
        counted_since=counted_since,
        flags=flags,
        never_evaluated=tuple(key for key, flag in flags.items() if flag.last_evaluated is None),
        unknown_keys=_unknown_keys(unknown),
        other_evaluations=other,
        stale=stale,
        tracking_events=_tracking_events(tracked),
    )


def _add_tracked(tracked: dict[str, _FlagTally], record: UsageRecord, now: datetime) -> None:
    events = tracked.get(record.key.flag_key)
    if events is None:
        windows = {span: _Tally() for span in (_HOUR, _DAY, WEEK)}
        events = tracked[record.key.flag_key] = _FlagTally(windows)
    events.add(record, now)


def _tracking_events(tracked: Mapping[str, _FlagTally]) -> tuple[TrackedEvent, ...]:
    events = [
        TrackedEvent(
            name,
            tally.windows[_HOUR].evaluations,
            tally.windows[_DAY].evaluations,
            tally.windows[WEEK].evaluations,
            tally.first,
            tally.last,
        )
        for name, tally in tracked.items()
        if tally.first is not None and tally.last is not None
    ]
    events.sort(key=lambda event: (-event.last_tracked.timestamp(), -event.last_week, event.name))
    return tuple(events)


def _flag_insights(
    document: FlagDocument, key: str, tally: _FlagTally | None, changed: datetime | None
) -> FlagInsights:
    definition = document.flags[key]
    windows = tally.windows if tally is not None else {}
    empty = WindowCounts()

    def window(span: timedelta) -> WindowCounts:
        counted = windows.get(span)
        return empty if counted is None else counted.frozen()

    return FlagInsights(
        key=key,
        state=definition.state,
        default_variant=definition.default_variant,
        variants=tuple(definition.variants),
        last_hour=window(_HOUR),
        last_day=window(_DAY),
        last_week=window(WEEK),
        first_evaluated=None if tally is None else tally.first,
        last_evaluated=None if tally is None else tally.last,
        last_changed=changed,
    )


def _unknown_keys(unknown: Mapping[str, _FlagTally]) -> tuple[UnknownKey, ...]:
    keys = [
        UnknownKey(key, tally.total, tally.first, tally.last)
        for key, tally in unknown.items()
        if tally.first is not None and tally.last is not None
    ]
    keys.sort(key=lambda asked: (-asked.last_asked.timestamp(), -asked.evaluations, asked.key))
    return tuple(keys)


def _stale_report(
    flags: Mapping[str, FlagInsights],
    tallies: Mapping[str, _FlagTally],
    thresholds: StaleThresholds,
    now: datetime,
    counted_since: datetime | None,
) -> StaleReport:
    unused_from = now - thresholds.unused_after
    # Unused flags can be judged only if counting reached back to the threshold.
    covered = counted_since is not None and counted_since <= unused_from
    stale: list[StaleFlag] = []
    for key in sorted(flags):
        flag = flags[key]
        judged = (_unused(flag, unused_from, thresholds) if covered else None) or _single_variant(
            flag, tallies.get(key), now, thresholds
        )
        if judged is not None:
            stale.append(judged)
    note = None
    if not covered:
        start = (
            "no evaluation was counted"
            if counted_since is None
            else (f"the counts begin at {counted_since:%Y-%m-%d %H:00} UTC")
        )
        note = (
            f"unused flags are not judged: {start}, less than unused_after "
            f"({_days(thresholds.unused_after)}) ago"
        )
    return StaleReport(thresholds, tuple(stale), complete=covered, note=note)


def _unused(
    flag: FlagInsights, unused_from: datetime, thresholds: StaleThresholds
) -> StaleFlag | None:
    if flag.last_changed is not None and flag.last_changed > unused_from:
        return None  # too new (or changed too recently) to judge
    last = flag.last_evaluated
    if last is None:
        return StaleFlag(
            flag.key,
            "never-evaluated",
            None,
            None,
            f"no evaluation counted since the counts began "
            f"(at least {_days(thresholds.unused_after)})",
        )
    if last + _HOUR <= unused_from:
        return StaleFlag(
            flag.key,
            "unused",
            last,
            None,
            f"last evaluated in the hour of {last:%Y-%m-%d %H:00} UTC, more than "
            f"{_days(thresholds.unused_after)} ago",
        )
    return None


def _single_variant(
    flag: FlagInsights, tally: _FlagTally | None, now: datetime, thresholds: StaleThresholds
) -> StaleFlag | None:
    span = thresholds.single_variant_after
    window_start = now - span
    if tally is None or tally.first is None or tally.first > window_start:
        return None  # not evaluated for the whole span
    if flag.last_changed is not None and flag.last_changed > window_start:
        return None
    counted = tally.windows[span]
    if counted.evaluations < thresholds.min_evaluations or len(counted.by_variant) != 1:
        return None
    ((variant, served),) = counted.by_variant.items()
    if served != counted.evaluations:
        return None  # some evaluations got no variant (errors, disabled, no match)
    return StaleFlag(
        flag.key,
        "single-variant",
        flag.last_evaluated,
        variant,
        f"every one of {counted.evaluations} evaluations in the last {_days(span)} served "
        f"{variant!r}",
    )


def _days(span: timedelta) -> str:
    if span % _DAY == timedelta(0):
        days = span // _DAY
        return f"{days} day" if days == 1 else f"{days} days"
    hours = span / _HOUR
    return f"{hours:g} hour" if hours == 1 else f"{hours:g} hours"

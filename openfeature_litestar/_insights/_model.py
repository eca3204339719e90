"""What the insights say: per-flag counts over windows, unknown keys, the stale report.

Every class here is a frozen dataclass of plain values (text, numbers, aware UTC
datetimes, dicts and tuples of them), so a report can be returned by the admin API as
it is and printed by the CLI as JSON in the same shape (:meth:`Insights.to_data`).
Nothing here names a user: the counts they are built from hold no targeting key and
no attribute (see :class:`~openfeature_litestar.UsageKey`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from pydantic import TypeAdapter

from openfeature_litestar._errors import ConfigurationError

__all__ = [
    "FlagInsights",
    "Insights",
    "StaleFlag",
    "StaleReason",
    "StaleReport",
    "StaleThresholds",
    "UnknownKey",
    "WindowCounts",
]

StaleReason = Literal["never-evaluated", "unused", "single-variant"]
"""Why a flag is reported stale: never evaluated, not evaluated lately, or serving one
variant to every evaluation (see :class:`StaleThresholds`)."""

_MAX_THRESHOLD: Final = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """A flag's evaluations in one window of time (the last hour, day or week).

    Attributes:
        evaluations: Every evaluation counted in the window.
        errors: Those that ended in an error (an error code was set).
        error_rate: ``errors / evaluations``; ``0.0`` without evaluations.
        by_variant: Evaluations per variant served (an evaluation that served no
            variant, such as an error or a disabled flag, is in none).
        by_reason: Evaluations per OpenFeature reason (``STATIC``, ``TARGETING_MATCH``,
            ``DEFAULT``, ``DISABLED``, ``ERROR``, ...).
        by_error_code: Evaluations per OpenFeature error code.

    .. versionadded:: 0.2.0
    """

    evaluations: int = 0
    errors: int = 0
    error_rate: float = 0.0
    by_variant: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    by_error_code: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlagInsights:
    """What one flag of the document did, from the counts of every process.

    Counts are kept per UTC clock hour, so a window counts every hour that overlaps it:
    ``last_hour`` covers the current hour and the one before it, ``last_day`` 25 clock
    hours, ``last_week`` 7 days and an hour. ``first_evaluated`` and ``last_evaluated``
    are the starts of the first and last hours with an evaluation, within the period
    read (:attr:`Insights.since`).

    Attributes:
        key: The flag key.
        state: ``ENABLED`` or ``DISABLED``, as the document says now.
        default_variant: The document's default variant (``None``: the caller's default).
        variants: The flag's variant names, in document order.
        last_hour: Evaluations in the last hour.
        last_day: Evaluations in the last day.
        last_week: Evaluations in the last week.
        first_evaluated: The first hour with an evaluation, or ``None``.
        last_evaluated: The last hour with an evaluation, or ``None``.
        last_changed: When the flag was last written, from the store's audit trail
            (within the period read); ``None`` when the trail shows no change then, or
            the store keeps no trail.

    .. versionadded:: 0.2.0
    """

    key: str
    state: str
    default_variant: str | None
    variants: tuple[str, ...]
    last_hour: WindowCounts
    last_day: WindowCounts
    last_week: WindowCounts
    first_evaluated: datetime | None
    last_evaluated: datetime | None
    last_changed: datetime | None


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """A key the code asked for that names no flag of the document now.

    Attributes:
        key: The key asked for.
        evaluations: How often it was asked for in the period read.
        first_asked: The first hour it was asked for.
        last_asked: The last hour it was asked for.

    .. versionadded:: 0.2.0
    """

    key: str
    evaluations: int
    first_asked: datetime
    last_asked: datetime


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """A tracking event name (``client.track(name)``) and how often it was tracked.

    Attributes:
        name: The event name (:data:`~openfeature_litestar.OTHER_EVENT_NAMES`, ``""``,
            for the names a provider did not count one by one).
        last_hour: Events in the last hour.
        last_day: Events in the last day.
        last_week: Events in the last week.
        first_tracked: The first hour it was tracked in the period read.
        last_tracked: The last hour it was tracked.

    .. versionadded:: 0.2.0
    """

    name: str
    last_hour: int
    last_day: int
    last_week: int
    first_tracked: datetime
    last_tracked: datetime


@dataclass(frozen=True, slots=True)
class StaleThresholds:
    """When the stale report names a flag.

    Attributes:
        unused_after: A flag not evaluated for this long is ``unused`` (or
            ``never-evaluated``, if no evaluation was counted in the period read).
        single_variant_after: A flag whose every evaluation for this long served the
            same variant is ``single-variant``: everyone gets one value, so the flag
            can be removed and the value written into the code.
        min_evaluations: The fewest evaluations in ``single_variant_after`` for the
            single-variant judgement (fewer say too little).

    A flag written (created or changed, per the audit trail) more recently than a
    threshold is not judged by it. Neither are unused flags when the counts do not
    reach back ``unused_after`` (counting started later, or the store keeps counts for
    less time): the report says so in :attr:`StaleReport.complete`.

    Raises:
        ConfigurationError: A threshold is not positive or is longer than a year, or
            ``min_evaluations`` is below 1.

    .. versionadded:: 0.2.0
    """

    unused_after: timedelta = timedelta(days=7)
    single_variant_after: timedelta = timedelta(days=14)
    min_evaluations: int = 100

    def __post_init__(self) -> None:
        """Check every threshold."""
        for name in ("unused_after", "single_variant_after"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or not timedelta(0) < value <= _MAX_THRESHOLD:
                raise ConfigurationError(
                    f"StaleThresholds.{name} must be a timedelta above 0 and at most "
                    f"365 days, not {value!r}"
                )
        count = self.min_evaluations
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigurationError(
                f"StaleThresholds.min_evaluations must be an integer of at least 1, not {count!r}"
            )


@dataclass(frozen=True, slots=True)
class StaleFlag:
    """One flag the stale report names, and why.

    Attributes:
        key: The flag key.
        reason: ``never-evaluated``, ``unused`` or ``single-variant``.
        last_evaluated: The last hour with an evaluation (``None`` if never).
        variant: For ``single-variant``, the variant every evaluation got.
        detail: The reason in words, for people.

    .. versionadded:: 0.2.0
    """

    key: str
    reason: StaleReason
    last_evaluated: datetime | None
    variant: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class StaleReport:
    """The flags that look stale, with the thresholds they were judged by.

    Attributes:
        thresholds: The thresholds applied.
        flags: The stale flags, ordered by key.
        complete: ``False`` when the counts do not reach back ``unused_after``, so
            unused flags could not be judged (single-variant ones still are); ``note``
            says why.
        note: Why the report is incomplete, or ``None``.

    .. versionadded:: 0.2.0
    """

    thresholds: StaleThresholds
    flags: tuple[StaleFlag, ...]
    complete: bool
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Insights:
    """What a namespace's flags did in production, from the counts of every process.

    Attributes:
        namespace: The namespace read, or ``None`` for a store without one.
        revision: The revision of the document the report describes.
        epoch: The history ``revision`` counts in (see
            :attr:`StoredDocument.epoch <openfeature_litestar.StoredDocument.epoch>`).
        generated_at: When the report was made (an aware UTC datetime).
        since: The first hour read (the counts before it are not in the report).
        counted_since: The first hour with any count in the period read (``None`` if
            nothing was counted): counting in this store began then or earlier.
        flags: Every flag of the document, by key, in document order.
        never_evaluated: The flags with no evaluation in the period read.
        unknown_keys: Keys asked for that name no flag now, most recently asked first.
        other_evaluations: Evaluations counted without their key (beyond a provider's
            counter bounds, or of keys no flag can have) in the period read.
        stale: The stale report.
        tracking_events: The tracking events (``client.track(name)``) per name, most
            recently tracked first.

    .. versionadded:: 0.2.0
    """

    namespace: str | None
    revision: int
    epoch: str
    generated_at: datetime
    since: datetime
    counted_since: datetime | None
    flags: dict[str, FlagInsights]
    never_evaluated: tuple[str, ...]
    unknown_keys: tuple[UnknownKey, ...]
    other_evaluations: int
    stale: StaleReport
    tracking_events: tuple[TrackedEvent, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The report as JSON-ready data, in the shape the admin API returns.

        Datetimes are RFC 3339 text in UTC (``2026-12-04T11:00:00Z``) and thresholds
        ISO 8601 durations (``P7D``).
        """
        data: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return data


_ADAPTER: Final = TypeAdapter(Insights)

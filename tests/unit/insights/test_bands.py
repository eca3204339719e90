"""Counts summed per band of hours (as SQL stores read them) give the same report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from openfeature_litestar import StaleThresholds, UsageKey, UsageRecord, document_from_data
from openfeature_litestar._insights._aggregate import build_insights, period_start, window_bounds
from openfeature_litestar._stores._usage import banded_records

NOW = datetime(2026, 12, 4, 17, 0, tzinfo=timezone.utc)
KEYS = (
    UsageKey("a", "on", "STATIC", None),
    UsageKey("a", "off", "TARGETING_MATCH", None),
    UsageKey("b", None, "ERROR", "TYPE_MISMATCH"),
    UsageKey("ghost", None, "ERROR", "FLAG_NOT_FOUND"),
    UsageKey("", None, "ERROR", "GENERAL"),
)
DOCUMENT = document_from_data(
    {
        "flags": {
            "a": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on",
            },
            "b": {"state": "ENABLED", "variants": {"x": "x"}, "defaultVariant": "x"},
        }
    }
)


def in_bands(records: list[UsageRecord], bounds: tuple[datetime, ...]) -> list[UsageRecord]:
    """What a store implementing UsageBands returns, summed here in Python."""
    bands: dict[tuple[UsageKey, int], list[UsageRecord]] = {}
    for record in records:
        band = sum(record.hour > bound for bound in bounds)
        bands.setdefault((record.key, band), []).append(record)
    return banded_records(
        (
            key,
            min(record.hour for record in found),
            max(record.hour for record in found),
            sum(record.count for record in found),
        )
        for (key, _), found in bands.items()
    )


@settings(max_examples=200, deadline=None)
@given(
    counts=st.dictionaries(
        st.tuples(st.integers(0, 16 * 24), st.sampled_from(KEYS)), st.integers(1, 50), max_size=60
    ),
    minute=st.integers(0, 59),
    single_variant_hours=st.integers(1, 16 * 24),
    min_evaluations=st.integers(1, 200),
)
def test_the_report_from_bands_equals_the_report_from_hours(
    counts: dict[tuple[int, UsageKey], int],
    minute: int,
    single_variant_hours: int,
    min_evaluations: int,
) -> None:
    now = NOW + timedelta(minutes=minute)
    thresholds = StaleThresholds(
        single_variant_after=timedelta(hours=single_variant_hours),
        min_evaluations=min_evaluations,
    )
    records = sorted(
        (
            UsageRecord(NOW - timedelta(hours=ago), key, count)
            for (ago, key), count in counts.items()
        ),
        key=lambda record: record.hour,
    )
    # A store reads the report's period only (period_start to now), then sums it per band.
    read = [record for record in records if record.hour >= period_start(now, thresholds)]
    banded = in_bands(read, window_bounds(now, thresholds))
    assert build_insights(DOCUMENT, banded, now=now, thresholds=thresholds) == build_insights(
        DOCUMENT, records, now=now, thresholds=thresholds
    )


def test_a_band_of_one_hour_is_one_record_and_of_several_two() -> None:
    key = KEYS[0]
    early, late = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    assert banded_records([(key, late, late, 4)]) == [UsageRecord(late, key, 4)]
    assert banded_records([(key, early, late, 9)]) == [
        UsageRecord(early, key, 0),
        UsageRecord(late, key, 9),
    ]
    assert banded_records([(key, early, late, 0)]) == []

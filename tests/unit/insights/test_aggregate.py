"""build_insights: windows, first/last hours, unknown keys and the stale report, from records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from openfeature_litestar import (
    OTHER_FLAG_KEYS,
    StaleThresholds,
    UsageKey,
    UsageRecord,
    build_insights,
    document_from_data,
)

NOW = datetime(2026, 12, 4, 11, 20, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DOCUMENT = document_from_data(
    {
        "flags": {
            "checkout": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
            },
            "banner": {
                "state": "DISABLED",
                "variants": {"red": "red", "blue": "blue"},
                "defaultVariant": "red",
            },
            "idle": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
        }
    }
)


def hour(ago: timedelta) -> datetime:
    """The start of the hour ``ago`` before NOW."""
    return (NOW - ago).replace(minute=0, second=0, microsecond=0)


def served(flag: str, variant: str | None, ago: timedelta, count: int, **key: str) -> UsageRecord:
    reason = key.get("reason", "TARGETING_MATCH" if variant else "ERROR")
    return UsageRecord(hour(ago), UsageKey(flag, variant, reason, key.get("error")), count)


def test_windows_count_every_hour_that_overlaps_them() -> None:
    records = [
        served("checkout", "on", timedelta(0), 5),  # the current hour
        served("checkout", "off", HOUR, 3),  # the hour before: in the last hour's window
        served("checkout", "on", 2 * HOUR, 7),  # in the day only
        served("checkout", "on", 3 * DAY, 11),  # in the week only
        served("checkout", None, 3 * DAY, 2, error="TYPE_MISMATCH"),
    ]
    flag = build_insights(DOCUMENT, records, now=NOW).flags["checkout"]
    assert (flag.last_hour.evaluations, flag.last_day.evaluations) == (8, 15)
    assert flag.last_week.evaluations == 28
    assert flag.last_hour.by_variant == {"off": 3, "on": 5}
    assert flag.last_week.by_variant == {"off": 3, "on": 23}
    assert flag.last_week.by_reason == {"ERROR": 2, "TARGETING_MATCH": 26}
    assert flag.last_week.by_error_code == {"TYPE_MISMATCH": 2}
    assert flag.last_week.errors == 2
    assert flag.last_week.error_rate == pytest.approx(2 / 28)
    assert flag.last_day.error_rate == 0.0
    assert flag.first_evaluated == hour(3 * DAY)
    assert flag.last_evaluated == hour(timedelta(0))


def test_a_flag_shows_the_document_as_it_is_now() -> None:
    insights = build_insights(DOCUMENT, [], now=NOW, revision=7, namespace="prod")
    banner = insights.flags["banner"]
    assert (banner.state, banner.default_variant, banner.variants) == (
        "DISABLED",
        "red",
        ("red", "blue"),
    )
    assert list(insights.flags) == ["checkout", "banner", "idle"]
    assert (insights.revision, insights.namespace) == (7, "prod")
    assert insights.never_evaluated == ("checkout", "banner", "idle")
    assert banner.last_week.evaluations == 0
    assert banner.first_evaluated is None


def test_unknown_keys_are_listed_most_recent_first_and_overflow_is_summed() -> None:
    records = [
        served("old-key", None, 5 * DAY, 4, reason="ERROR", error="FLAG_NOT_FOUND"),
        served("old-key", None, 4 * DAY, 1, reason="ERROR", error="FLAG_NOT_FOUND"),
        served("typo", None, HOUR, 9, reason="ERROR", error="FLAG_NOT_FOUND"),
        served(OTHER_FLAG_KEYS, None, HOUR, 6, reason="ERROR", error="FLAG_NOT_FOUND"),
        # A flag deleted since: its old successful counts are no unknown key.
        served("deleted", "on", 2 * DAY, 3),
    ]
    insights = build_insights(DOCUMENT, records, now=NOW)
    assert [(key.key, key.evaluations) for key in insights.unknown_keys] == [
        ("typo", 9),
        ("old-key", 5),
    ]
    assert insights.unknown_keys[1].first_asked == hour(5 * DAY)
    assert insights.unknown_keys[1].last_asked == hour(4 * DAY)
    assert insights.other_evaluations == 6
    assert "deleted" not in insights.flags


def test_records_before_the_period_are_ignored() -> None:
    thresholds = StaleThresholds(unused_after=2 * DAY, single_variant_after=3 * DAY)
    records = [served("checkout", "on", 9 * DAY, 50), served("checkout", "on", DAY, 1)]
    insights = build_insights(DOCUMENT, records, now=NOW, thresholds=thresholds)
    assert insights.since == hour(7 * DAY + HOUR)
    assert insights.flags["checkout"].last_week.evaluations == 1
    assert insights.counted_since == hour(DAY)


def test_the_period_reaches_back_to_the_longest_threshold() -> None:
    thresholds = StaleThresholds(unused_after=30 * DAY)
    records = [served("checkout", "on", 20 * DAY, 50)]
    insights = build_insights(DOCUMENT, records, now=NOW, thresholds=thresholds)
    assert insights.since == hour(30 * DAY + HOUR)
    assert insights.flags["checkout"].first_evaluated == hour(20 * DAY)
    assert insights.flags["checkout"].last_week.evaluations == 0


class TestStaleReport:
    THRESHOLDS = StaleThresholds(unused_after=3 * DAY, single_variant_after=5 * DAY)

    def report(
        self, records: list[UsageRecord], **changed: datetime
    ) -> dict[str, tuple[str, str | None]]:
        insights = build_insights(
            DOCUMENT, records, now=NOW, thresholds=self.THRESHOLDS, last_changed=changed
        )
        assert insights.stale.complete
        return {flag.key: (flag.reason, flag.variant) for flag in insights.stale.flags}

    def test_never_evaluated_and_unused_flags(self) -> None:
        records = [
            served("checkout", "on", 6 * DAY, 10),  # counting began 6 days ago
            served("checkout", "off", 6 * DAY, 10),
            served("banner", None, 4 * DAY, 2, reason="DISABLED"),
        ]
        assert self.report(records) == {
            "checkout": ("unused", None),
            "banner": ("unused", None),
            "idle": ("never-evaluated", None),
        }

    def test_a_flag_evaluated_within_the_threshold_is_not_unused(self) -> None:
        records = [served("checkout", "on", 6 * DAY, 10), served("checkout", "off", 2 * DAY, 1)]
        assert "checkout" not in self.report(records)

    def test_a_flag_written_within_the_threshold_is_not_judged(self) -> None:
        records = [served("checkout", "on", 6 * DAY, 10), served("checkout", "off", 6 * DAY, 1)]
        assert self.report(records, checkout=NOW - DAY, idle=NOW - 2 * DAY) == {
            "banner": ("never-evaluated", None)
        }

    def test_every_evaluation_serving_one_variant_for_the_span(self) -> None:
        records = [
            served("checkout", "off", 6 * DAY, 1),  # before the span: it does not count
            *(served("checkout", "on", day * DAY, 30) for day in range(5)),
            served("banner", None, 6 * DAY, 1, reason="DISABLED"),
            served("idle", "on", 4 * DAY, 500),  # not evaluated for the whole span
            served("idle", "on", 0 * DAY, 500),
        ]
        report = self.report(records)
        assert report["checkout"] == ("single-variant", "on")
        assert "idle" not in report

    def test_an_error_or_too_few_evaluations_is_no_single_variant(self) -> None:
        few = [served("checkout", "on", day * DAY, 10) for day in range(6)]
        assert "checkout" not in self.report(few)
        failing = [
            *(served("checkout", "on", day * DAY, 30) for day in range(6)),
            served("checkout", None, DAY, 1, error="PARSE_ERROR"),
        ]
        assert "checkout" not in self.report(failing)

    def test_counts_too_recent_to_judge_unused_flags(self) -> None:
        records = [served("checkout", "on", DAY, 10)]
        insights = build_insights(DOCUMENT, records, now=NOW, thresholds=self.THRESHOLDS)
        assert not insights.stale.complete
        assert insights.stale.flags == ()
        assert insights.stale.note is not None
        assert "3 days" in insights.stale.note
        empty = build_insights(DOCUMENT, [], now=NOW, thresholds=self.THRESHOLDS)
        assert empty.stale.note is not None
        assert "no evaluation was counted" in empty.stale.note

    def test_the_detail_says_why(self) -> None:
        records = [served("checkout", "on", 6 * DAY, 10)]
        insights = build_insights(DOCUMENT, records, now=NOW, thresholds=self.THRESHOLDS)
        details = {flag.key: flag.detail for flag in insights.stale.flags}
        assert "more than 3 days ago" in details["checkout"]
        assert details["idle"].startswith("no evaluation counted")


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_insights(DOCUMENT, [], now=datetime(2026, 12, 4, 11))  # noqa: DTZ001 - the point

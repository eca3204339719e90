"""The report's classes: threshold checks and the JSON shape."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from openfeature_litestar import (
    ConfigurationError,
    StaleThresholds,
    UsageKey,
    UsageRecord,
    build_insights,
    document_from_data,
)

NOW = datetime(2026, 12, 4, 11, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "settings",
    [
        {"unused_after": timedelta(0)},
        {"unused_after": timedelta(days=-1)},
        {"single_variant_after": timedelta(days=366)},
        {"unused_after": 7},
        {"min_evaluations": 0},
        {"min_evaluations": True},
        {"min_evaluations": 2.5},
    ],
)
def test_bad_thresholds_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="StaleThresholds"):
        StaleThresholds(**settings)  # type: ignore[arg-type]


def test_to_data_is_json_with_rfc3339_times() -> None:
    document = document_from_data(
        {"flags": {"a": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x"}}}
    )
    hour = datetime(2026, 12, 4, 10, tzinfo=timezone.utc)
    records = [UsageRecord(hour, UsageKey("a", "x", "STATIC", None), 4)]
    data = build_insights(document, records, now=NOW, revision=3).to_data()
    assert json.loads(json.dumps(data)) == data
    flag = data["flags"]["a"]
    assert flag["last_hour"]["by_variant"] == {"x": 4}
    assert flag["last_evaluated"] == "2026-12-04T10:00:00Z"
    assert data["stale"]["thresholds"]["unused_after"] == "P7D"
    assert data["revision"] == 3
    assert data["generated_at"] == "2026-12-04T11:20:00Z"

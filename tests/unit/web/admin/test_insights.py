"""The admin API's insights routes: the report as the Python API builds it, guarded, checked."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from openfeature_litestar import UsageBatch, UsageKey, UsageStore, read_insights
from openfeature_litestar._stores._usage import hour_of

from .conftest import BASE, READ_AUTH

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import TestClient

    from openfeature_litestar._stores import WritableFlagStore


def record(store: WritableFlagStore) -> None:
    assert isinstance(store, UsageStore)
    now = hour_of(datetime.now(timezone.utc))
    counts = {
        (now, UsageKey("banner", "on", "TARGETING_MATCH", None)): 3,
        (now, UsageKey("banner", None, "ERROR", "TYPE_MISMATCH")): 1,
        (now, UsageKey("nope", None, "ERROR", "FLAG_NOT_FOUND")): 2,
    }
    asyncio.run(store.record_usage(UsageBatch("s", 1, counts)))


def test_the_report_is_the_python_apis(
    client: TestClient[Litestar], stores: dict[str, WritableFlagStore]
) -> None:
    record(stores["production"])
    response = client.get(f"{BASE}/production/insights", headers=READ_AUTH)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    body = response.json()
    banner = body["flags"]["banner"]["last_hour"]
    assert (banner["evaluations"], banner["errors"], banner["error_rate"]) == (4, 1, 0.25)
    assert banner["by_variant"] == {"on": 3}
    assert body["never_evaluated"] == ["greeting"]
    assert [key["key"] for key in body["unknown_keys"]] == ["nope"]
    expected = asyncio.run(read_insights(stores["production"])).to_data()
    for volatile in ("generated_at",):
        body.pop(volatile)
        expected.pop(volatile)
    assert body == expected


def test_the_stale_report_with_thresholds(client: TestClient[Litestar]) -> None:
    response = client.get(
        f"{BASE}/production/insights/stale",
        params={"unused_days": 2, "single_variant_days": 0.5, "min_evaluations": 5},
        headers=READ_AUTH,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["thresholds"] == {
        "unused_after": "P2D",
        "single_variant_after": "PT12H",
        "min_evaluations": 5,
    }
    assert body["complete"] is False


def test_bad_thresholds_are_400(client: TestClient[Litestar]) -> None:
    for params in ({"unused_days": 0}, {"single_variant_days": 400}, {"min_evaluations": 0}):
        response = client.get(f"{BASE}/production/insights", params=params, headers=READ_AUTH)
        assert response.status_code == 400, params


def test_guarded_and_namespaced(client: TestClient[Litestar]) -> None:
    assert client.get(f"{BASE}/production/insights").status_code == 401
    response = client.get(f"{BASE}/nowhere/insights", headers=READ_AUTH)
    assert response.status_code == 404

"""``insights`` and ``stale`` on real Redis, PostgreSQL and SQLite: counts flushed by a provider.

A provider (another "process" as far as the command knows: it shares only the store)
evaluates flags and flushes; the command then reads what every process counted.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from openfeature_litestar import (
    FlagProvider,
    UsageBatch,
    UsageConfig,
    UsageKey,
    UsageStore,
    store_from_url,
)
from openfeature_litestar._stores._usage import hour_of
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

DOCUMENT: dict[str, Any] = {
    "flags": {
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
        },
        "theme": {
            "state": "ENABLED",
            "variants": {"light": "l", "dark": "d"},
            "defaultVariant": "dark",
        },
    }
}


@pytest.fixture(params=["redis", "postgresql", "sqlite"])
def store(
    request: pytest.FixtureRequest, unique_name: str, tmp_path: Path, domain: str
) -> tuple[str, str]:
    """A real store's URL and a fresh namespace in it, where a provider counted evaluations.

    ``banner``: 4 times ``on`` (plan pro), 2 times ``off``; ``theme`` never; the key
    ``baner`` (a typo) 3 times; the tracking event ``signed-up`` twice.
    """
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    else:
        url = request.getfixturevalue("redis_url" if request.param == "redis" else "postgres_url")
    source = tmp_path / "flags.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    assert run_cli("import", "--store", url, "--namespace", unique_name, str(source))[0] == 0
    provider = FlagProvider(
        store_from_url(url, namespace=unique_name), usage=UsageConfig(flush_interval=3600)
    )
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    try:
        for plan in ["pro"] * 4 + ["free"] * 2:
            context = EvaluationContext("someone", {"plan": plan})
            client.get_boolean_value("banner", default_value=False, evaluation_context=context)
        for _ in range(3):
            client.get_boolean_value("baner", default_value=False)
        for _ in range(2):
            client.track("signed-up")
        assert provider.flush_usage()
    finally:
        provider.shutdown()
    return url, unique_name


def test_insights_as_json(store: tuple[str, str]) -> None:
    url, namespace = store
    status, out = run_cli("insights", "--store", url, "--namespace", namespace, "--json")
    assert status == 0
    report = json.loads(out)
    banner = report["flags"]["banner"]
    assert banner["last_hour"]["by_variant"] == {"off": 2, "on": 4}
    assert banner["last_week"]["evaluations"] == 6
    assert report["never_evaluated"] == ["theme"]
    assert [(key["key"], key["evaluations"]) for key in report["unknown_keys"]] == [("baner", 3)]
    assert [(event["name"], event["last_week"]) for event in report["tracking_events"]] == [
        ("signed-up", 2)
    ]
    assert (report["namespace"], report["revision"]) == (namespace, 1)
    assert "someone" not in out


def test_insights_as_a_table(store: tuple[str, str]) -> None:
    url, namespace = store
    status, out = run_cli("insights", "--store", url, "--namespace", namespace)
    assert status == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line}
    assert rows["banner"][1:5] == ["ENABLED", "6", "6", "6"]
    assert rows["banner"][5:8] == ["0.0%", "on", "67%"]
    assert rows["theme"][2:8] == ["0", "0", "0", "-", "-", "never"]
    assert rows["baner"][1] == "3"
    assert rows["signed-up"][1:4] == ["2", "2", "2"]
    assert f"2 flags of namespace {namespace!r} at revision 1" in out


def test_stale_counts_too_recent_to_judge_unused_flags(store: tuple[str, str]) -> None:
    url, namespace = store
    status, out = run_cli("stale", "--store", url, "--namespace", namespace, "--check")
    assert status == 0  # nothing stale: the counts begin this hour
    assert "no stale flags" in out
    assert "unused flags are not judged" in out
    status, out = run_cli("stale", "--store", url, "--namespace", namespace, "--json")
    report = json.loads(out)
    assert (report["complete"], report["flags"]) == (False, [])
    assert report["thresholds"]["unused_after"] == "P7D"


def test_stale_names_unused_flags_and_check_fails(
    postgres_url: str, unique_name: str, tmp_path: Path
) -> None:
    """Counts from ten days ago and an audit trail aged by 30 days, on PostgreSQL."""
    source = tmp_path / "flags.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    assert (
        run_cli("import", "--store", postgres_url, "--namespace", unique_name, str(source))[0] == 0
    )
    ten_days_ago = hour_of(datetime.now(timezone.utc) - timedelta(days=10))

    async def age() -> None:
        store = store_from_url(postgres_url, namespace=unique_name)
        assert isinstance(store, UsageStore)
        try:
            key = UsageKey("banner", "on", "TARGETING_MATCH", None)
            await store.record_usage(UsageBatch("aged", 1, {(ten_days_ago, key): 5}))
        finally:
            await store.close()
        engine = create_async_engine(postgres_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "UPDATE openfeature_audit SET at = at - interval '30 days' "
                        "WHERE namespace = :namespace"
                    ),
                    {"namespace": unique_name},
                )
        finally:
            await engine.dispose()

    asyncio.run(age())
    status, out = run_cli("stale", "--store", postgres_url, "--namespace", unique_name, "--check")
    assert status == 1
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if line[:1] != " "}
    assert rows["banner"] == "unused"
    assert rows["theme"] == "never-evaluated"
    assert "note:" not in out
    status, out = run_cli(
        "stale", "--store", postgres_url, "--namespace", unique_name, "--unused-days", "11"
    )
    assert status == 0  # the counts begin 10 days ago: unused flags cannot be judged
    assert "no stale flags" in out
    assert "less than unused_after (11 days) ago" in out

"""read_insights: a provider's flushed counts, the document and the audit trail, read back."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import (
    OTHER_EVENT_NAMES,
    ConfigurationError,
    FlagProvider,
    MemoryStore,
    StaleThresholds,
    StoredDocument,
    UsageConfig,
    read_insights,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

DOCUMENT: dict[str, Any] = {
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
        },
        "idle": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
    }
}


def test_tracking_events_are_flushed_and_read_per_name_apart_from_flags(domain: str) -> None:
    store = MemoryStore(DOCUMENT)
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    try:
        client.get_boolean_value("checkout", default_value=False)
        for name in ["purchase"] * 4 + ["checkout", "signup@example.com"]:
            client.track(name)  # "checkout" is also a flag key; an e-mail is lumped
        assert provider.flush_usage()
        client.track("purchase")
        assert provider.flush_usage()  # only what was tracked since the last flush
    finally:
        provider.shutdown()
    insights = asyncio.run(read_insights(store))
    events = {event.name: event for event in insights.tracking_events}
    assert {name: event.last_week for name, event in events.items()} == {
        "purchase": 5,
        "checkout": 1,
        OTHER_EVENT_NAMES: 1,
    }
    assert events["purchase"].last_hour == 5
    assert events["purchase"].first_tracked == events["purchase"].last_tracked
    # A tracking event named like a flag is no evaluation of that flag.
    assert insights.flags["checkout"].last_week.evaluations == 1
    assert insights.to_data()["tracking_events"][0]["name"] == "purchase"
    assert "signup" not in str(insights.to_data())


def test_counts_flushed_by_a_provider_are_read_per_flag(domain: str) -> None:
    store = MemoryStore(DOCUMENT)
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    try:
        for plan in ["pro"] * 3 + ["free"] * 2:
            context = EvaluationContext("u", {"plan": plan})
            client.get_boolean_value("checkout", default_value=False, evaluation_context=context)
        client.get_boolean_value("chekout", default_value=False)  # a typo: no such flag
        assert provider.flush_usage()
    finally:
        provider.shutdown()
    insights = asyncio.run(read_insights(store))
    checkout = insights.flags["checkout"]
    assert checkout.last_hour.by_variant == {"on": 3, "off": 2}
    assert checkout.last_week.evaluations == 5
    assert insights.never_evaluated == ("idle",)
    assert [(key.key, key.evaluations) for key in insights.unknown_keys] == [("chekout", 1)]
    assert insights.namespace == "default"
    assert insights.revision == 1


def test_the_audit_trail_says_when_each_flag_changed() -> None:
    store = MemoryStore(DOCUMENT)

    async def change() -> None:
        await store.put_flag(
            "idle",
            {"state": "DISABLED", "variants": {"on": True}, "defaultVariant": "on"},
            actor="alice",
        )

    before = datetime.now(timezone.utc)
    asyncio.run(change())
    insights = asyncio.run(read_insights(store))
    changed = insights.flags["idle"].last_changed
    assert changed is not None
    assert changed >= before - timedelta(seconds=1)
    assert insights.flags["idle"].state == "DISABLED"


def test_a_report_made_later_sees_no_change_in_its_period() -> None:
    store = MemoryStore(DOCUMENT)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    thresholds = StaleThresholds(unused_after=timedelta(days=2))
    insights = asyncio.run(read_insights(store, thresholds=thresholds, now=later))
    assert all(flag.last_changed is None for flag in insights.flags.values())


class _CountlessStore:
    """A store of one's own that keeps no counts (it is no UsageStore)."""

    async def load(self) -> StoredDocument:
        raise AssertionError("not read")

    async def changes(self) -> AsyncIterator[None]:
        yield

    async def close(self) -> None:
        return None


def test_a_store_without_counts_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="keeps no usage counts"):
        asyncio.run(read_insights(_CountlessStore()))

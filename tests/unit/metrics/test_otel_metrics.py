"""instrument_provider: OpenTelemetry metrics read from the provider's own counters."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.in_memory_provider import InMemoryProvider

from openfeature_litestar import (
    AuditHook,
    FileStore,
    FlagProvider,
    IdentifierHasher,
    MissingDependencyError,
    ProviderMetrics,
    instrument_provider,
)
from tests.support import flag, wait_until

from .conftest import Reader, serve

if TYPE_CHECKING:
    from pathlib import Path

EVALUATIONS = "openfeature_litestar.evaluations"
WAIT = 10.0


def test_counts_are_exact_with_the_semconv_attribute_names(domain: str, reader: Reader) -> None:
    provider, client = serve(domain, name="shop")
    with instrument_provider(provider, meter_provider=reader.meter_provider):
        for _ in range(7):
            client.get_boolean_value("static-flag", False)
        for _ in range(3):
            client.get_boolean_value("rule-flag", False, EvaluationContext("u", {"plan": "pro"}))
        client.get_boolean_value("rule-flag", False)
        client.get_boolean_value("disabled-flag", False)
        client.get_boolean_value("no-such-flag", False)
        client.get_string_value("static-flag", "x")

        points = reader.metrics()[EVALUATIONS]

    counted = {json.dumps(attributes, sort_keys=True): value for attributes, value in points}
    shop = {"feature_flag.provider.name": "shop"}

    def key(**attributes: str) -> str:
        return json.dumps({**shop, **attributes}, sort_keys=True)

    assert counted == {
        key(
            **{
                "feature_flag.key": "static-flag",
                "feature_flag.result.variant": "on",
                "feature_flag.result.reason": "static",
                "feature_flag.set.id": "checkout",
            }
        ): 7,
        key(
            **{
                "feature_flag.key": "rule-flag",
                "feature_flag.result.variant": "on",
                "feature_flag.result.reason": "targeting_match",
            }
        ): 3,
        key(
            **{
                "feature_flag.key": "rule-flag",
                "feature_flag.result.variant": "off",
                "feature_flag.result.reason": "default",
            }
        ): 1,
        key(**{"feature_flag.key": "disabled-flag", "feature_flag.result.reason": "disabled"}): 1,
        key(
            **{
                "feature_flag.key": "no-such-flag",
                "feature_flag.result.reason": "error",
                "error.type": "flag_not_found",
            }
        ): 1,
        key(
            **{
                "feature_flag.key": "static-flag",
                "feature_flag.result.reason": "error",
                "error.type": "type_mismatch",
                "feature_flag.set.id": "checkout",
            }
        ): 1,
    }


def test_a_later_collection_reports_the_running_totals(domain: str, reader: Reader) -> None:
    provider, client = serve(domain)
    instrument_provider(provider, meter_provider=reader.meter_provider)
    client.get_boolean_value("static-flag", False)
    assert [value for _, value in reader.metrics()[EVALUATIONS]] == [1]
    for _ in range(4):
        client.get_boolean_value("static-flag", False)
    assert [value for _, value in reader.metrics()[EVALUATIONS]] == [5]


def test_health_gauges_follow_the_store_going_down_and_up(
    domain: str, reader: Reader, tmp_path: Path
) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": {"switch": flag("on")}}))
    provider = FlagProvider(FileStore(path, poll_interval=0.02), name="files", stale_after=0.2)
    api.set_provider_and_wait(provider, domain)
    instrument_provider(provider, meter_provider=reader.meter_provider)

    def gauge(name: str) -> float | None:
        points = reader.metrics().get(f"openfeature_litestar.provider.{name}", [])
        assert all(attrs["feature_flag.provider.name"] == "files" for attrs, _ in points)
        return points[0][1] if points else None

    def state() -> str:
        points = reader.metrics()["openfeature_litestar.provider.status"]
        (current,) = [attrs["state"] for attrs, value in points if value == 1]
        assert {attrs["state"] for attrs, _ in points} == {
            "not_ready",
            "ready",
            "error",
            "stale",
            "fatal",
        }
        return str(current)

    assert state() == "ready"
    assert gauge("sync_age") == 0.0
    assert gauge("change_lag") is None  # no change since the first load
    revision = gauge("revision")

    path.unlink()
    wait_until(lambda: state() == "stale", timeout=WAIT, interval=0.02)
    assert (gauge("sync_age") or 0.0) > 0.0

    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"flags": {"switch": flag("off")}}))
    temporary.replace(path)
    wait_until(lambda: state() == "ready", timeout=WAIT, interval=0.02)
    wait_until(lambda: gauge("change_lag") is not None, timeout=WAIT, interval=0.02)
    assert gauge("sync_age") == 0.0
    assert (gauge("change_lag") or -1.0) >= 0.0
    assert gauge("revision") is not None
    assert revision is not None


def test_a_provider_shut_down_reports_not_ready(domain: str, reader: Reader) -> None:
    provider, _ = serve(domain)
    instrument_provider(provider, meter_provider=reader.meter_provider)
    provider.shutdown()
    points = reader.metrics()["openfeature_litestar.provider.status"]
    assert [attrs["state"] for attrs, value in points if value == 1] == ["not_ready"]


def test_no_targeting_key_or_attribute_value_reaches_any_metric(
    domain: str, reader: Reader
) -> None:
    planted = "planted-7c2e9d41-value"
    provider, client = serve(domain)
    instrument_provider(provider, meter_provider=reader.meter_provider)
    context = EvaluationContext(f"{planted}-key", {"plan": f"{planted}-plan", "email": planted})
    for key in ("static-flag", "rule-flag", "disabled-flag", "no-such-flag"):
        client.get_boolean_value(key, False, context)
        client.get_integer_value(key, 1, context)
    raw = reader.raw()
    assert "static-flag" in raw  # the search looks at the real data
    assert planted not in raw


def test_closing_ends_the_providers_series_and_leaves_the_others(
    domain: str, reader: Reader
) -> None:
    first, first_client = serve(domain, name="first")
    second, second_client = serve(f"{domain}-2", name="second")
    first_metrics = instrument_provider(first, meter_provider=reader.meter_provider)
    instrument_provider(second, meter_provider=reader.meter_provider)
    first_client.get_boolean_value("static-flag", False)
    second_client.get_boolean_value("static-flag", False)

    def names() -> set[str]:
        return {attrs["feature_flag.provider.name"] for attrs, _ in reader.metrics()[EVALUATIONS]}

    assert names() == {"first", "second"}
    first_metrics.close()
    first_metrics.close()  # idempotent
    assert first_metrics.closed
    assert names() == {"second"}
    assert repr(first_metrics) == "ProviderMetrics(provider='first', closed=True)"
    api.set_provider_and_wait(InMemoryProvider({}), f"{domain}-2")


def test_audit_hooks_dropped_and_failed_records_are_counted(domain: str, reader: Reader) -> None:
    provider, client = serve(domain)
    hook = AuditHook(hasher=IdentifierHasher(key="a-test-hashing-key-of-32-bytes!!"))
    hook.close()  # a closed hook drops what it is given, and counts it
    client.add_hooks([hook])
    instrument_provider(provider, meter_provider=reader.meter_provider, audit_hooks=[hook])
    for _ in range(3):
        client.get_boolean_value("static-flag", False)
    metrics = reader.metrics()
    assert [value for _, value in metrics["openfeature_litestar.audit.dropped"]] == [hook.dropped]
    assert hook.dropped == 3
    assert [value for _, value in metrics["openfeature_litestar.audit.failed"]] == [0]


def test_without_audit_hooks_no_audit_series_is_reported(domain: str, reader: Reader) -> None:
    provider, client = serve(domain)
    instrument_provider(provider, meter_provider=reader.meter_provider)
    client.get_boolean_value("static-flag", False)
    metrics = reader.metrics()
    assert metrics.get("openfeature_litestar.audit.dropped", []) == []


def test_usage_off_reports_health_but_no_evaluations(domain: str, reader: Reader) -> None:
    provider, client = serve(domain, usage=False)
    instrument_provider(provider, meter_provider=reader.meter_provider)
    client.get_boolean_value("static-flag", False)
    metrics = reader.metrics()
    assert metrics.get(EVALUATIONS, []) == []
    assert metrics["openfeature_litestar.provider.revision"]


def test_only_a_flag_provider_and_audit_hooks_are_accepted(domain: str, reader: Reader) -> None:
    with pytest.raises(TypeError, match="FlagProvider"):
        instrument_provider(InMemoryProvider({}), meter_provider=reader.meter_provider)  # type: ignore[arg-type]
    provider, _ = serve(domain)
    with pytest.raises(TypeError, match="AuditHook"):
        instrument_provider(provider, meter_provider=reader.meter_provider, audit_hooks=[object()])  # type: ignore[list-item]


def test_without_the_otel_extra_the_error_names_it(
    domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, _ = serve(domain)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import fails as if absent
    with pytest.raises(MissingDependencyError, match=r"openfeature-litestar\[otel\]"):
        instrument_provider(provider)


def test_the_handle_is_public() -> None:
    assert ProviderMetrics.__module__.startswith("openfeature_litestar")

"""PrometheusCollector: the provider's counters and health, read at each scrape."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.in_memory_provider import InMemoryProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.parser import text_string_to_metric_families

from openfeature_litestar import (
    OTHER_FLAG_KEYS,
    AuditHook,
    FileStore,
    FlagProvider,
    IdentifierHasher,
    MissingDependencyError,
    PrometheusCollector,
    UsageConfig,
)
from tests.support import flag, wait_until

from .conftest import FLAGS, serve

if TYPE_CHECKING:
    from pathlib import Path

EVALUATIONS = "openfeature_litestar_evaluations"
LABELS = (
    "feature_flag_key",
    "feature_flag_result_variant",
    "feature_flag_result_reason",
    "error_type",
    "feature_flag_provider_name",
    "feature_flag_set_id",
)
WAIT = 10.0

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(provider: FlagProvider, **options: list[AuditHook]) -> tuple[str, Samples]:
    """Register a collector in a fresh registry; the text a scrape gets, and its samples."""
    registry = CollectorRegistry()
    registry.register(PrometheusCollector(provider, **options))
    text = generate_latest(registry).decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return text, samples


def evaluation(**labels: str) -> tuple[tuple[str, str], ...]:
    """The full label set of an evaluation count: the ones given, the others empty."""
    return tuple(sorted({name: labels.get(name, "") for name in LABELS}.items()))


def only(samples: Samples, name: str) -> float:
    """The value of the one sample of ``name``."""
    (value,) = samples[name].values()
    return value


def test_counts_are_exact_by_flag_variant_reason_and_error(domain: str) -> None:
    provider, client = serve(domain, name="shop")
    for _ in range(7):
        client.get_boolean_value("static-flag", False)
    for _ in range(3):
        client.get_boolean_value("rule-flag", False, EvaluationContext("u", {"plan": "pro"}))
    client.get_boolean_value("rule-flag", False)
    client.get_boolean_value("disabled-flag", False)
    client.get_string_value("static-flag", "x")
    for _ in range(2):
        client.get_boolean_value("no-such-flag", False)

    _, samples = scrape(provider)

    shop = {"feature_flag_provider_name": "shop"}
    assert samples[f"{EVALUATIONS}_total"] == {
        evaluation(
            **shop,
            feature_flag_key="static-flag",
            feature_flag_result_variant="on",
            feature_flag_result_reason="static",
            feature_flag_set_id="checkout",
        ): 7.0,
        evaluation(
            **shop,
            feature_flag_key="rule-flag",
            feature_flag_result_variant="on",
            feature_flag_result_reason="targeting_match",
        ): 3.0,
        evaluation(
            **shop,
            feature_flag_key="rule-flag",
            feature_flag_result_variant="off",
            feature_flag_result_reason="default",
        ): 1.0,
        evaluation(
            **shop, feature_flag_key="disabled-flag", feature_flag_result_reason="disabled"
        ): 1.0,
        evaluation(
            **shop,
            feature_flag_key="static-flag",
            feature_flag_result_reason="error",
            error_type="type_mismatch",
            feature_flag_set_id="checkout",
        ): 1.0,
        evaluation(
            **shop,
            feature_flag_key="no-such-flag",
            feature_flag_result_reason="error",
            error_type="flag_not_found",
        ): 2.0,
    }


def test_unknown_keys_beyond_the_bound_are_counted_under_the_other_key(domain: str) -> None:
    provider, client = serve(domain, name="bounded", usage=UsageConfig(max_unknown_keys=2))
    for key in ("ghost-1", "ghost-2", "ghost-3", "ghost-4", "ghost-3"):
        client.get_boolean_value(key, False)

    _, samples = scrape(provider)

    def not_found(key: str) -> tuple[tuple[str, str], ...]:
        return evaluation(
            feature_flag_key=key,
            feature_flag_provider_name="bounded",
            feature_flag_result_reason="error",
            error_type="flag_not_found",
        )

    assert samples[f"{EVALUATIONS}_total"] == {
        not_found("ghost-1"): 1.0,
        not_found("ghost-2"): 1.0,
        not_found(OTHER_FLAG_KEYS): 3.0,
    }


def test_a_later_scrape_reports_the_running_totals(domain: str) -> None:
    provider, client = serve(domain)
    registry = CollectorRegistry()
    registry.register(PrometheusCollector(provider))

    def total() -> list[float]:
        text = generate_latest(registry).decode()
        (family,) = [f for f in text_string_to_metric_families(text) if f.name == EVALUATIONS]
        return [sample.value for sample in family.samples if sample.name.endswith("_total")]

    client.get_boolean_value("static-flag", False)
    assert total() == [1.0]
    for _ in range(4):
        client.get_boolean_value("static-flag", False)
    assert total() == [5.0]


def test_health_gauges_report_status_revision_sync_age_and_change_lag(domain: str) -> None:
    provider, _ = serve(domain, name="health")
    revision = provider.snapshot.revision

    _, samples = scrape(provider)

    status = samples["openfeature_litestar_provider_status"]
    assert {dict(labels)["state"]: value for labels, value in status.items()} == {
        "not_ready": 0.0,
        "ready": 1.0,
        "error": 0.0,
        "stale": 0.0,
        "fatal": 0.0,
    }
    assert all(dict(labels)["feature_flag_provider_name"] == "health" for labels in status)
    assert only(samples, "openfeature_litestar_provider_revision") == revision
    assert only(samples, "openfeature_litestar_provider_sync_age_seconds") == 0.0
    # No change since the first load: no lag to report, so no sample at all.
    assert "openfeature_litestar_provider_change_lag_seconds" not in samples

    store = provider.store
    new_revision = store.replace({"flags": {**FLAGS["flags"], "new-flag": flag("off")}})  # type: ignore[attr-defined]
    wait_until(
        lambda: provider.change_lag is not None and provider.snapshot.revision == new_revision,
        timeout=WAIT,
        interval=0.01,
    )

    _, samples = scrape(provider)

    assert only(samples, "openfeature_litestar_provider_revision") == new_revision
    assert only(samples, "openfeature_litestar_provider_change_lag_seconds") == pytest.approx(
        provider.change_lag
    )
    assert only(samples, "openfeature_litestar_provider_change_lag_seconds") >= 0.0


def test_health_follows_the_store_going_down_and_up(domain: str, tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": {"switch": flag("on")}}))
    provider = FlagProvider(FileStore(path, poll_interval=0.02), name="files", stale_after=0.2)
    api.set_provider_and_wait(provider, domain)

    def state(samples: Samples) -> str:
        status = samples["openfeature_litestar_provider_status"]
        (current,) = [dict(labels)["state"] for labels, value in status.items() if value == 1]
        return current

    sync_age = "openfeature_litestar_provider_sync_age_seconds"
    _, samples = scrape(provider)
    assert state(samples) == "ready"
    assert only(samples, sync_age) == 0.0

    path.unlink()
    wait_until(lambda: state(scrape(provider)[1]) == "stale", timeout=WAIT, interval=0.02)
    _, samples = scrape(provider)
    assert only(samples, sync_age) > 0.0

    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"flags": {"switch": flag("off")}}))
    temporary.replace(path)
    wait_until(lambda: state(scrape(provider)[1]) == "ready", timeout=WAIT, interval=0.02)
    wait_until(lambda: provider.change_lag is not None, timeout=WAIT, interval=0.02)
    _, samples = scrape(provider)
    assert only(samples, sync_age) == 0.0
    assert only(samples, "openfeature_litestar_provider_change_lag_seconds") >= 0.0
    assert only(samples, "openfeature_litestar_provider_revision") == provider.snapshot.revision


def test_a_provider_shut_down_reports_not_ready(domain: str) -> None:
    provider, _ = serve(domain)
    provider.shutdown()
    _, samples = scrape(provider)
    status = samples["openfeature_litestar_provider_status"]
    assert [dict(labels)["state"] for labels, value in status.items() if value == 1] == [
        "not_ready"
    ]


def test_audit_hooks_dropped_and_failed_records_are_counted(domain: str) -> None:
    provider, client = serve(domain, name="audited")
    hook = AuditHook(hasher=IdentifierHasher(key="a-test-hashing-key-of-32-bytes!!"))
    hook.close()  # a closed hook drops what it is given, and counts it
    client.add_hooks([hook])
    for _ in range(3):
        client.get_boolean_value("static-flag", False)

    _, samples = scrape(provider, audit_hooks=[hook])

    audited = (("feature_flag_provider_name", "audited"),)
    assert samples["openfeature_litestar_audit_dropped_total"] == {audited: 3.0}
    assert samples["openfeature_litestar_audit_failed_total"] == {audited: 0.0}


def test_without_audit_hooks_no_audit_family_is_written(domain: str) -> None:
    provider, client = serve(domain)
    client.get_boolean_value("static-flag", False)
    text, _ = scrape(provider)
    assert "openfeature_litestar_evaluations_total" in text
    assert "audit" not in text


def test_usage_off_reports_health_but_no_evaluations(domain: str) -> None:
    provider, client = serve(domain, usage=False)
    client.get_boolean_value("static-flag", False)
    _, samples = scrape(provider)
    assert f"{EVALUATIONS}_total" not in samples
    assert "openfeature_litestar_provider_revision" in samples


def test_no_targeting_key_or_attribute_value_appears_in_the_text(domain: str) -> None:
    planted = "planted-5b1f83ce-value"
    provider, client = serve(domain)
    context = EvaluationContext(f"{planted}-key", {"plan": f"{planted}-plan", "email": planted})
    for key in ("static-flag", "rule-flag", "disabled-flag", "no-such-flag"):
        client.get_boolean_value(key, False, context)
        client.get_integer_value(key, 1, context)
    hook = AuditHook(hasher=IdentifierHasher(key="a-test-hashing-key-of-32-bytes!!"))
    text, _ = scrape(provider, audit_hooks=[hook])
    assert 'feature_flag_key="rule-flag"' in text  # the search looks at the real text
    assert planted not in text
    assert "plan" not in text


def test_two_registries_each_hold_a_collector_of_their_own(domain: str) -> None:
    first, first_client = serve(domain, name="first")
    second, _ = serve(f"{domain}-2", name="second")
    first_client.get_boolean_value("static-flag", False)
    first_text, _ = scrape(first)
    second_text, _ = scrape(second)
    assert 'feature_flag_provider_name="first"' in first_text
    assert "first" not in second_text
    assert 'feature_flag_provider_name="second"' in second_text


def test_exposition_answers_in_the_format_the_scraper_asks_for(domain: str) -> None:
    provider, client = serve(domain)
    client.get_boolean_value("static-flag", False)
    collector = PrometheusCollector(provider)

    body, content_type = collector.exposition()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"openfeature_litestar_evaluations_total{" in body

    body, content_type = collector.exposition("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith(OPENMETRICS)
    assert body.endswith(b"# EOF\n")


def test_describe_lists_the_families_without_reading_the_provider(domain: str) -> None:
    provider, client = serve(domain)
    client.get_boolean_value("static-flag", False)
    families = PrometheusCollector(provider).describe()
    assert {family.name for family in families} >= {
        EVALUATIONS,
        "openfeature_litestar_provider_status",
        "openfeature_litestar_provider_revision",
    }
    assert all(family.samples == [] for family in families)


def test_only_a_flag_provider_and_audit_hooks_are_accepted(domain: str) -> None:
    with pytest.raises(TypeError, match="FlagProvider"):
        PrometheusCollector(InMemoryProvider({}))  # type: ignore[arg-type]
    provider, _ = serve(domain)
    with pytest.raises(TypeError, match="AuditHook"):
        PrometheusCollector(provider, audit_hooks=[object()])  # type: ignore[list-item]


def test_without_the_prometheus_extra_the_error_names_it(
    domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, _ = serve(domain)
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import fails as if absent
    with pytest.raises(MissingDependencyError, match=r"openfeature-litestar\[prometheus\]"):
        PrometheusCollector(provider)

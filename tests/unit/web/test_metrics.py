"""/metrics: Prometheus text for bearer tokens, in the standalone server and the plugin."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.in_memory_provider import InMemoryProvider
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.parser import text_string_to_metric_families

from openfeature_litestar import (
    AuditHook,
    ConfigurationError,
    FlagProvider,
    IdentifierHasher,
    MemoryStore,
    document_from_data,
)
from openfeature_litestar.web import (
    METRICS_TOKENS_ENV,
    MetricsConfig,
    OpenFeatureConfig,
    OpenFeaturePlugin,
    create_server,
)
from openfeature_litestar.web._server import ADMIN_TOKENS_ENV, TOKENS_ENV
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

SCRAPER = {"Authorization": "Bearer scraper-token"}
EVALUATIONS = "openfeature_litestar_evaluations_total"
FLAGS = {
    "flags": {
        "banner": flag("off"),
        "plan": flag("off", targeting={"if": [{"==": [{"var": "plan"}, "pro"]}, "on", None]}),
    }
}


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TOKENS_ENV, ADMIN_TOKENS_ENV, METRICS_TOKENS_ENV):
        monkeypatch.delenv(name, raising=False)


def store() -> MemoryStore:
    return MemoryStore(document_from_data(FLAGS))


def server(domain: str, **options: Any) -> Litestar:
    return create_server(store(), tokens=["read-token"], domain=domain, **options)


@pytest.fixture
def client(domain: str) -> Iterator[TestClient[Litestar]]:
    app = server(domain, admin_tokens=["admin-token"], metrics_tokens=["scraper-token"])
    with TestClient(app) as test_client:
        yield test_client


def evaluations(text: str) -> dict[tuple[str, str, str, str], float]:
    """The evaluation counts of a scrape by (flag, variant, reason, error)."""
    counted = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == EVALUATIONS:
                labels = sample.labels
                key = (
                    labels["feature_flag_key"],
                    labels["feature_flag_result_variant"],
                    labels["feature_flag_result_reason"],
                    labels["error_type"],
                )
                counted[key] = sample.value
    return counted


def evaluate_through_the_sdk(domain: str) -> None:
    flags = api.get_client(domain)
    for _ in range(3):
        flags.get_boolean_value("banner", True)
    flags.get_boolean_value("plan", False, EvaluationContext("u-1", {"plan": "pro"}))
    flags.get_boolean_value("plan", False)
    flags.get_string_value("banner", "x")
    flags.get_boolean_value("missing", False)


EXPECTED = {
    ("banner", "off", "static", ""): 3.0,
    ("plan", "on", "targeting_match", ""): 1.0,
    ("plan", "off", "default", ""): 1.0,
    ("banner", "", "error", "type_mismatch"): 1.0,
    ("missing", "", "error", "flag_not_found"): 1.0,
}


# -- the standalone server ------------------------------------------------------------


def test_the_server_reports_exact_counts_to_a_scraper_with_a_token(
    client: TestClient[Litestar], domain: str
) -> None:
    evaluate_through_the_sdk(domain)
    response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    assert response.headers["cache-control"] == "no-store"
    assert evaluations(response.text) == EXPECTED
    assert "openfeature_litestar_provider_status" in response.text


def test_ofrep_answers_are_counted_with_the_sdk_s_evaluations(
    client: TestClient[Litestar], domain: str
) -> None:
    ofrep = client.post(
        "/ofrep/v1/evaluate/flags/banner",
        json={"context": {"targetingKey": "u"}},
        headers={"Authorization": "Bearer read-token"},
    )
    assert ofrep.status_code == 200
    api.get_client(domain).get_boolean_value("banner", True)
    text = client.get("/metrics", headers=SCRAPER).text
    assert evaluations(text) == {("banner", "off", "static", ""): 2.0}


def test_the_scraper_gets_the_format_it_asks_for(client: TestClient[Litestar]) -> None:
    latest = client.get("/metrics", headers={**SCRAPER, "Accept": CONTENT_TYPE_LATEST})
    assert latest.status_code == 200
    assert latest.headers["content-type"].startswith(CONTENT_TYPE_LATEST)
    openmetrics = client.get(
        "/metrics", headers={**SCRAPER, "Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert openmetrics.headers["content-type"].startswith(OPENMETRICS.split(";")[0])
    assert openmetrics.text.endswith("# EOF\n")


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, None),
        ({"Authorization": "Bearer wrong"}, "invalid_token"),
        ({"Authorization": "Bearer read-token"}, "invalid_token"),
        ({"Authorization": "Bearer admin-token"}, "invalid_token"),
        ({"Authorization": "Basic c2NyYXBlcjp0b2tlbg=="}, None),
    ],
    ids=["none", "wrong", "the-ofrep-token", "the-admin-token", "basic"],
)
def test_without_a_metrics_token_the_answer_is_the_admin_api_s_401(
    client: TestClient[Litestar], headers: dict[str, str], error: str | None
) -> None:
    response = client.get("/metrics", headers=headers)
    # The admin API admits its own token: compare with its answer to another wrong one.
    refused = {"Authorization": "Bearer wrong"} if "admin-token" in str(headers) else headers
    admin = client.get("/admin/v1/namespaces", headers=refused)
    assert response.status_code == admin.status_code == 401
    assert response.json() == admin.json()
    challenge = 'Bearer realm="openfeature-litestar-metrics"'
    assert response.headers["www-authenticate"] == (
        challenge if error is None else f'{challenge}, error="{error}"'
    )
    assert "openfeature_litestar" not in response.text


def test_without_metrics_tokens_there_is_no_metrics_endpoint(domain: str) -> None:
    with TestClient(server(domain, admin_tokens=["admin-token"])) as client:
        assert client.get("/metrics", headers=SCRAPER).status_code == 404
        assert client.get("/metrics").status_code == 404


def test_metrics_tokens_come_from_the_environment(
    domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(METRICS_TOKENS_ENV, " first-token , scraper-token ,")
    with TestClient(server(domain)) as client:
        assert client.get("/metrics", headers=SCRAPER).status_code == 200
        first = client.get("/metrics", headers={"Authorization": "Bearer first-token"})
        assert first.status_code == 200
        assert client.get("/metrics").status_code == 401


def test_two_servers_in_one_process_report_their_own_provider(domain: str) -> None:
    first = server(domain, metrics_tokens=["scraper-token"])
    second = server(f"{domain}-2", metrics_tokens=["scraper-token"])
    with TestClient(first) as first_client, TestClient(second) as second_client:
        api.get_client(domain).get_boolean_value("banner", True)
        for _ in range(2):
            api.get_client(f"{domain}-2").get_boolean_value("banner", True)
        first_text = first_client.get("/metrics", headers=SCRAPER).text
        second_text = second_client.get("/metrics", headers=SCRAPER).text
    assert evaluations(first_text) == {("banner", "off", "static", ""): 1.0}
    assert evaluations(second_text) == {("banner", "off", "static", ""): 2.0}
    # Nothing was registered in prometheus_client's process-wide registry.
    assert "openfeature_litestar" not in generate_latest(REGISTRY).decode()


def test_no_targeting_key_or_attribute_value_is_served(
    client: TestClient[Litestar], domain: str
) -> None:
    planted = "planted-90d2e4a1"
    context = EvaluationContext(f"{planted}-key", {"plan": f"{planted}-plan", "email": planted})
    flags = api.get_client(domain)
    for key in ("banner", "plan", "missing"):
        flags.get_boolean_value(key, False, context)
    text = client.get("/metrics", headers=SCRAPER).text
    assert 'feature_flag_key="plan"' in text  # the search looks at the real text
    assert planted not in text


# -- the plugin -----------------------------------------------------------------------


def plugin_app(domain: str, metrics: MetricsConfig, **options: Any) -> Litestar:
    config = OpenFeatureConfig(store=store(), domain=domain, metrics=metrics, **options)
    return Litestar(plugins=[OpenFeaturePlugin(config)])


def test_the_plugin_mounts_the_endpoint_at_its_path(domain: str) -> None:
    app = plugin_app(domain, MetricsConfig(path="/internal/metrics/", tokens=["scraper-token"]))
    with TestClient(app) as client:
        evaluate_through_the_sdk(domain)
        response = client.get("/internal/metrics", headers=SCRAPER)
        assert response.status_code == 200
        assert evaluations(response.text) == EXPECTED
        assert client.get("/internal/metrics").status_code == 401
        assert client.get("/metrics", headers=SCRAPER).status_code == 404


def test_the_plugin_takes_guards_of_your_own_instead_of_tokens(domain: str) -> None:
    async def from_the_monitoring_network(
        connection: ASGIConnection[Any, Any, Any, Any],
        handler: BaseRouteHandler,  # noqa: ARG001 - Litestar's guard signature
    ) -> None:
        if connection.headers.get("x-monitoring") != "yes":
            from litestar.exceptions import PermissionDeniedException  # noqa: PLC0415

            raise PermissionDeniedException("scrapes come from the monitoring network")

    app = plugin_app(domain, MetricsConfig(guards=[from_the_monitoring_network]))
    with TestClient(app) as client:
        assert client.get("/metrics", headers={"X-Monitoring": "yes"}).status_code == 200
        assert client.get("/metrics", headers=SCRAPER).status_code == 403


def test_tokens_and_guards_both_apply(domain: str) -> None:
    async def never(
        connection: ASGIConnection[Any, Any, Any, Any],  # noqa: ARG001 - Litestar's guard signature
        handler: BaseRouteHandler,  # noqa: ARG001 - Litestar's guard signature
    ) -> None:
        from litestar.exceptions import PermissionDeniedException  # noqa: PLC0415

        raise PermissionDeniedException("closed")

    app = plugin_app(domain, MetricsConfig(tokens=["scraper-token"], guards=[never]))
    with TestClient(app) as client:
        assert client.get("/metrics", headers=SCRAPER).status_code == 403
        assert client.get("/metrics").status_code == 401


def test_the_plugin_reports_its_audit_hooks(domain: str) -> None:
    hook = AuditHook(hasher=IdentifierHasher(key="a-test-hashing-key-of-32-bytes!!"))
    hook.close()  # a closed hook drops what it is given, and counts it
    app = plugin_app(domain, MetricsConfig(tokens=["scraper-token"]), hooks=[hook])
    with TestClient(app) as client:
        for _ in range(2):
            api.get_client(domain).get_boolean_value("banner", True)
        text = client.get("/metrics", headers=SCRAPER).text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["openfeature_litestar_audit_dropped_total"] == 2.0
    assert samples["openfeature_litestar_audit_failed_total"] == 0.0


def test_the_metrics_endpoint_never_mounts_unguarded() -> None:
    with pytest.raises(ConfigurationError, match="never mounts unguarded"):
        MetricsConfig()
    with pytest.raises(ConfigurationError, match="never mounts unguarded"):
        MetricsConfig(tokens=[], guards=[])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tokens": [""]}, "non-empty"),
        ({"tokens": ["ok", "  "]}, "non-empty"),
        ({"tokens": ["ok"], "path": "metrics"}, "must start with '/'"),
    ],
)
def test_metrics_settings_that_can_never_work(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MetricsConfig(**settings)


def test_a_single_token_string_is_one_token(domain: str) -> None:
    app = plugin_app(domain, MetricsConfig(tokens="scraper-token"))
    with TestClient(app) as client:
        assert client.get("/metrics", headers=SCRAPER).status_code == 200


def test_metrics_need_a_flag_provider(domain: str) -> None:
    config = OpenFeatureConfig(
        provider=InMemoryProvider({}), domain=domain, metrics=MetricsConfig(tokens=["t"])
    )
    with pytest.raises(ConfigurationError, match="metrics reads a FlagProvider"):
        Litestar(plugins=[OpenFeaturePlugin(config)])


def test_a_flag_provider_you_pass_is_reported(domain: str) -> None:
    provider = FlagProvider(store(), name="passed")
    config = OpenFeatureConfig(
        provider=provider, domain=domain, metrics=MetricsConfig(tokens=["scraper-token"])
    )
    with TestClient(Litestar(plugins=[OpenFeaturePlugin(config)])) as client:
        api.get_client(domain).get_boolean_value("banner", True)
        text = client.get("/metrics", headers=SCRAPER).text
    assert 'feature_flag_provider_name="passed"' in text
    assert evaluations(text) == {("banner", "off", "static", ""): 1.0}

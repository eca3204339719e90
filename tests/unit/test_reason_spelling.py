"""Reasons are spelled one way in what a user reads: OpenFeature's upper case.

The SDK's details, OFREP, the admin API's dry run, ``openfeature-litestar evaluate``
(text and ``--json``), the demo (page and JSON) and the usage insights all show
``TARGETING_MATCH``; only the OpenTelemetry-shaped outputs (the audit record and the
tracing span event, whose keys are the semantic conventions' ``feature_flag.*``
attributes) use the conventions' lower case, ``targeting_match``. Each surface is
checked against one document with a flag for every reason, so a surface that spells
one of them differently fails here.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openfeature_litestar import FlagProvider, IdentifierHasher, MemoryStore, read_insights
from openfeature_litestar._demo._app import create_app as create_demo
from openfeature_litestar.hooks import REASON, TracingHook
from openfeature_litestar.testing import capture_audit
from openfeature_litestar.web import AdminConfig, OFREPConfig, admin_router, ofrep_router
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from openfeature.client import OpenFeatureClient

# The demo signs "u" in with plan "free" and country "US"; every other surface is given
# the same context, so each flag resolves alike everywhere.
CONTEXT: dict[str, Any] = {"targetingKey": "u", "plan": "free", "country": "US"}
ON_OFF = {"on": True, "off": False}
DOCUMENT: dict[str, Any] = {
    "flags": {
        "static-flag": {"state": "ENABLED", "variants": ON_OFF, "defaultVariant": "on"},
        "matched": {
            "state": "ENABLED",
            "variants": ON_OFF,
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "targetingKey"}, "u"]}, "on", "off"]},
        },
        "defaulted": {
            "state": "ENABLED",
            "variants": ON_OFF,
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", None]},
        },
        "disabled": {"state": "DISABLED", "variants": ON_OFF, "defaultVariant": "on"},
        # The rule names a variant the flag does not have ("free"): an error.
        "broken": {
            "state": "ENABLED",
            "variants": ON_OFF,
            "defaultVariant": "off",
            "targeting": {"var": "plan"},
        },
    }
}
UPPER = {
    "static-flag": "STATIC",
    "matched": "TARGETING_MATCH",
    "defaulted": "DEFAULT",
    "disabled": "DISABLED",
    "broken": "ERROR",
}
# OFREP answers an evaluation error with its error code and no reason (the protocol's
# error shape), so there the error flag is left out.
EVALUATED = [key for key, reason in UPPER.items() if reason != "ERROR"]


@pytest.fixture
def provider(domain: str) -> FlagProvider:
    flag_provider = FlagProvider(MemoryStore(DOCUMENT))
    api.set_provider_and_wait(flag_provider, domain=domain)  # the domain fixture unbinds it
    return flag_provider


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


def sdk_reasons(client: OpenFeatureClient) -> dict[str, str]:
    context = EvaluationContext(CONTEXT["targetingKey"], CONTEXT)
    return {
        key: str(
            client.get_boolean_details(key, default_value=False, evaluation_context=context).reason
        )
        for key in UPPER
    }


def test_the_sdk_details(provider: FlagProvider, domain: str) -> None:  # noqa: ARG001
    assert sdk_reasons(api.get_client(domain)) == UPPER


def test_the_usage_insights_counts_by_reason(domain: str) -> None:
    store = MemoryStore(DOCUMENT)
    counting = FlagProvider(store)
    api.set_provider_and_wait(counting, domain=domain)
    sdk_reasons(api.get_client(domain))
    assert counting.flush_usage(10)
    insights = asyncio.run(read_insights(store))
    counted = {key: list(flag.last_hour.by_reason) for key, flag in insights.flags.items()}
    assert counted == {key: [reason] for key, reason in UPPER.items()}


def test_ofrep_single_and_bulk(provider: FlagProvider) -> None:
    body = {"context": CONTEXT}
    with TestClient(Litestar([ofrep_router(OFREPConfig(public=True), provider)])) as client:
        single = {
            key: client.post(f"/ofrep/v1/evaluate/flags/{key}", json=body).json()["reason"]
            for key in EVALUATED
        }
        bulk = client.post("/ofrep/v1/evaluate/flags", json=body).json()["flags"]
    assert single == {key: UPPER[key] for key in EVALUATED}
    assert {item["key"]: item.get("reason") for item in bulk if "errorCode" not in item} == {
        key: UPPER[key] for key in EVALUATED
    }


def test_the_admin_dry_run() -> None:
    def anyone(_connection: Any, _handler: Any) -> None:
        """Admit every request: this test reads reasons, not who may."""

    stores = {"default": MemoryStore(DOCUMENT)}
    router = admin_router(AdminConfig(guards=[anyone]), stores=stores)
    with TestClient(Litestar([router])) as client:
        shown = {
            key: client.post(
                f"/admin/v1/namespaces/default/flags/{key}/evaluate", json={"context": CONTEXT}
            ).json()["reason"]
            for key in UPPER
        }
    assert shown == UPPER


def cli_evaluate(flags_file: Path, key: str, *options: str) -> str:
    status, out = run_cli(
        "evaluate", str(flags_file), key, "--context", json.dumps(CONTEXT), *options
    )
    # An evaluation error exits with 1 and still prints the result.
    assert status == (1 if key == "broken" else 0), out
    return out


def test_the_cli_evaluate_text_and_json(flags_file: Path) -> None:
    text = {}
    for key in UPPER:
        (line,) = [
            line
            for line in cli_evaluate(flags_file, key).splitlines()
            if line.startswith("reason:")
        ]
        text[key] = line.split()[1]
    as_json = {key: json.loads(cli_evaluate(flags_file, key, "--json"))["reason"] for key in UPPER}
    assert text == UPPER
    assert as_json == UPPER


_TABLE_ROW = re.compile(
    r"<tr><td><code>(?P<key>[^<]+)</code></td><td><code>[^<]*</code></td>"
    r"<td>[^<]*</td><td>(?P<reason>[A-Za-z_]+)"
)


def test_the_demo_page_and_its_json(flags_file: Path) -> None:
    query = "?user=u&plan=free&country=US"
    try:
        with TestClient(create_demo(f"file:{flags_file}")) as client:
            every_flag = client.get(f"/api/flags{query}").json()["every_flag"]
            page = client.get(f"/{query}").text
    finally:
        api.clear_providers()
    assert {key: shown["reason"] for key, shown in every_flag.items()} == UPPER
    rows = {match["key"]: match["reason"] for match in _TABLE_ROW.finditer(page)}
    assert rows == UPPER


# -- where the semantic conventions' lower case is used, and only there --------------------


def test_the_audit_record_uses_the_semantic_conventions_lower_case(
    provider: FlagProvider,  # noqa: ARG001
    domain: str,
) -> None:
    with capture_audit() as audit:
        sdk_reasons(api.get_client(domain))
    recorded = {record["feature_flag.key"]: record[REASON] for record in audit.records}
    assert recorded == {key: reason.lower() for key, reason in UPPER.items()}


def test_the_tracing_event_uses_the_semantic_conventions_lower_case(
    provider: FlagProvider,  # noqa: ARG001
    domain: str,
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = tracer_provider.get_tracer("tests")
    client = api.get_client(domain)
    client.add_hooks([TracingHook(hasher=IdentifierHasher(ephemeral=True))])
    with tracer.start_as_current_span("request"):
        sdk_reasons(client)
    (span,) = exporter.get_finished_spans()
    events = [dict(event.attributes or {}) for event in span.events]
    traced = {str(event["feature_flag.key"]): event[REASON] for event in events}
    assert traced == {key: reason.lower() for key, reason in UPPER.items()}

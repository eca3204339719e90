"""TracingHook: the feature_flag.evaluation span event, through the real OpenTelemetry SDK."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from openfeature_litestar import (
    ConfigurationError,
    FlagProvider,
    MissingDependencyError,
    document_from_data,
)
from openfeature_litestar.hooks import (
    CONTEXT_ID,
    ERROR_TYPE,
    EVALUATION_EVENT,
    FLAG_KEY,
    FLAG_SET_ID,
    FLAG_VERSION,
    PROVIDER_NAME,
    REASON,
    VALUE,
    VARIANT,
    AuditHook,
    TracingHook,
)

from .conftest import FLAG_SET_ID as SET_ID
from .conftest import FLAG_SET_VERSION, bind, flag_provider

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from openfeature.client import OpenFeatureClient

    from openfeature_litestar import IdentifierHasher

USER = "user-8b1f3c"


class Traced:
    """A real tracer whose finished spans land in memory."""

    def __init__(self, *, sampled: bool = True) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider() if sampled else TracerProvider(sampler=ALWAYS_OFF)
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = provider.get_tracer("tests")

    def events(self, evaluate: Callable[[], object]) -> list[Mapping[str, Any]]:
        """Run ``evaluate`` inside a span; the attributes of its evaluation events."""
        with self.tracer.start_as_current_span("request"):
            evaluate()
        (span,) = self.exporter.get_finished_spans()
        self.exporter.clear()
        assert all(event.name == EVALUATION_EVENT for event in span.events)
        return [dict(event.attributes or {}) for event in span.events]


@pytest.fixture
def traced() -> Traced:
    return Traced()


def test_a_successful_evaluation_adds_one_event_with_the_semconv_attributes(
    domain: str, hasher: IdentifierHasher, traced: Traced
) -> None:
    client = bind(flag_provider(), domain)
    client.add_hooks([TracingHook(hasher=hasher)])
    context = EvaluationContext(USER, {"email": "ada@example.com"})

    (event,) = traced.events(lambda: client.get_boolean_value("vip", False, context))

    assert event == {
        FLAG_KEY: "vip",
        PROVIDER_NAME: "openfeature-litestar",
        VARIANT: "on",
        REASON: "targeting_match",
        CONTEXT_ID: hasher(USER),
        FLAG_SET_ID: SET_ID,
        FLAG_VERSION: FLAG_SET_VERSION,
    }


def test_the_pseudonym_is_the_audit_hooks(
    domain: str, hasher: IdentifierHasher, traced: Traced
) -> None:
    records: list[Mapping[str, Any]] = []
    audit = AuditHook(hasher=hasher, sink=records.append)
    client = bind(flag_provider(), domain)
    client.add_hooks([audit, TracingHook(hasher=hasher)])
    try:
        (event,) = traced.events(
            lambda: client.get_string_value("greeting", "?", EvaluationContext(USER))
        )
        assert audit.flush(10.0)
    finally:
        audit.close()
    assert event[CONTEXT_ID] == records[0][CONTEXT_ID] != USER


def test_a_failed_evaluation_has_the_error_type_and_no_message(
    domain: str, hasher: IdentifierHasher, traced: Traced
) -> None:
    client = bind(flag_provider(), domain)
    client.add_hooks([TracingHook(hasher=hasher)])

    (event,) = traced.events(
        lambda: client.get_boolean_value("no-such-flag", False, EvaluationContext(USER))
    )

    assert event[ERROR_TYPE] == "flag_not_found"
    assert event[REASON] == "error"
    assert not any("message" in key for key in event)
    assert event[CONTEXT_ID] == hasher(USER)


def test_the_value_is_left_out_unless_asked_for(
    domain: str, hasher: IdentifierHasher, traced: Traced
) -> None:
    client = bind(flag_provider(), domain)
    client.add_hooks([TracingHook(hasher=hasher)])
    (plain,) = traced.events(lambda: client.get_integer_value("limit", 0))
    assert VALUE not in plain

    client.add_hooks([TracingHook(hasher=hasher, include_value=True)])
    events = traced.events(lambda: client.get_integer_value("limit", 0))
    assert sorted(str(event.get(VALUE)) for event in events) == ["3", "None"]


def test_an_object_value_becomes_text(domain: str, hasher: IdentifierHasher) -> None:
    client = bind(flag_provider(), domain)
    client.add_hooks([TracingHook(hasher=hasher, include_value=True)])
    # "limit" is an integer: asked for as an object, the caller's default is served.
    (event,) = Traced().events(lambda: client.get_object_value("limit", {"fallback": [1, 2]}))
    assert event[VALUE] == "{'fallback': [1, 2]}"
    assert event[ERROR_TYPE] == "type_mismatch"


def test_a_variant_equal_to_the_targeting_key_is_redacted(
    domain: str, hasher: IdentifierHasher, traced: Traced
) -> None:
    flags: dict[str, Any] = {
        "flags": {
            "named": {
                "state": "ENABLED",
                "variants": {USER: True, "other": False},
                "defaultVariant": "other",
                "targeting": {"var": "targetingKey"},
            }
        }
    }
    client = bind(FlagProvider(document_from_data(flags)), domain)
    client.add_hooks([TracingHook(hasher=hasher)])
    (event,) = traced.events(
        lambda: client.get_boolean_value("named", False, EvaluationContext(USER))
    )
    assert event[VARIANT] == "[REDACTED]"
    assert USER not in str(event)


def test_nothing_is_added_outside_a_recording_span(
    ours: OpenFeatureClient, hasher: IdentifierHasher
) -> None:
    hook = TracingHook(hasher=hasher)
    ours.add_hooks([hook])
    # No span at all, then a span that is not sampled: both are fine, and silent.
    assert ours.get_boolean_value("vip", False, EvaluationContext(USER)) is False
    unsampled = Traced(sampled=False)
    with unsampled.tracer.start_as_current_span("request") as span:
        assert not span.is_recording()
        ours.get_boolean_value("vip", False, EvaluationContext(USER))
    assert unsampled.exporter.get_finished_spans() == ()
    assert hook.failed == 0


def test_a_failure_inside_the_hook_is_counted_not_raised(
    ours: OpenFeatureClient, hasher: IdentifierHasher, traced: Traced
) -> None:
    def broken(_record: object) -> None:
        raise RuntimeError

    hook = TracingHook(hasher=hasher)
    hook._records.build_record = broken  # type: ignore[method-assign,assignment]
    ours.add_hooks([hook])
    events = traced.events(lambda: ours.get_boolean_value("vip", False, EvaluationContext(USER)))
    assert events == []
    assert hook.failed == 1


def test_without_opentelemetry_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, hasher: IdentifierHasher
) -> None:
    # None in sys.modules makes the import fail as it does when the package is absent.
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(MissingDependencyError, match=r"openfeature-litestar\[otel\]"):
        TracingHook(hasher=hasher)


def test_without_a_hashing_key_it_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENFEATURE_LITESTAR_HASH_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="OPENFEATURE_LITESTAR_HASH_KEY"):
        TracingHook()


def test_repr_shows_no_key(hasher: IdentifierHasher) -> None:
    assert repr(TracingHook(hasher=hasher)) == "TracingHook(include_value=False, failed=0)"

"""TrackingRecorder: tracking events reach the sink hashed and sanitised, never raising."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

from openfeature_litestar import REDACTED, ConfigurationError, FlagProvider, TrackingRecorder
from openfeature_litestar.hooks import (
    CONTEXT_ID,
    TRACKING_ATTRIBUTES,
    TRACKING_EVENT,
    TRACKING_VALUE,
    AuditHook,
)
from openfeature_litestar.hooks._tracking import _MESSAGE

from .conftest import bind, flag_provider

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature_litestar import IdentifierHasher

WAIT = 10.0
USER = "user-5d2e71"


class Sunk:
    def __init__(self, hasher: IdentifierHasher, **options: Any) -> None:
        self.records: list[dict[str, Any]] = []
        self.recorder = TrackingRecorder(hasher=hasher, sink=self._keep, **options)

    def _keep(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    def settle(self) -> list[dict[str, Any]]:
        assert self.recorder.flush(WAIT)
        return self.records


@pytest.fixture
def sunk(hasher: IdentifierHasher) -> Any:
    result = Sunk(hasher)
    yield result
    result.recorder.close()


def test_an_event_reaches_the_sink_through_the_client(
    domain: str, hasher: IdentifierHasher, sunk: Sunk
) -> None:
    api.set_provider_and_wait(
        FlagProvider(flag_provider().store, tracking=sunk.recorder), domain=domain
    )
    client = api.get_client(domain)
    details = TrackingEventDetails(value=19.99, attributes={"currency": "EUR", "items": 2})

    client.track("checkout", EvaluationContext(USER, {"plan": "pro"}), details)

    (record,) = sunk.settle()
    assert record == {
        TRACKING_EVENT: "checkout",
        CONTEXT_ID: hasher(USER),
        TRACKING_VALUE: 19.99,
        TRACKING_ATTRIBUTES: {"currency": "EUR", "items": 2},
    }


def test_the_pseudonym_is_the_audit_hooks(
    domain: str, hasher: IdentifierHasher, sunk: Sunk
) -> None:
    records: list[Mapping[str, Any]] = []
    audit = AuditHook(hasher=hasher, sink=records.append)
    client = bind(flag_provider(), domain)
    try:
        client.add_hooks([audit])
        client.get_boolean_value("vip", False, EvaluationContext(USER))  # noqa: FBT003
        assert audit.flush(WAIT)
    finally:
        audit.close()
    sunk.recorder("signup", EvaluationContext(USER))
    assert sunk.settle()[0][CONTEXT_ID] == records[0][CONTEXT_ID]


def test_attributes_are_sanitised_and_the_targeting_key_redacted(
    sunk: Sunk,
) -> None:
    details = TrackingEventDetails(
        attributes={"email": "ada@example.com", "buyer": USER, "note": "call ada@example.com"}
    )
    sunk.recorder("purchase", EvaluationContext(USER), details)
    (record,) = sunk.settle()
    attributes = record[TRACKING_ATTRIBUTES]
    assert attributes["buyer"] == REDACTED
    assert "ada@example.com" not in str(record)
    assert USER not in str(record)


@pytest.mark.parametrize(
    ("name", "recorded"),
    [
        (42, REDACTED),
        (None, REDACTED),
        ("ada@example.com", REDACTED),
        ("x" * 5000, "x" * 1024),
        ("ok", "ok"),
    ],
)
def test_bad_names_are_recorded_safely(name: object, recorded: str, sunk: Sunk) -> None:
    sunk.recorder(name, None, None)
    assert sunk.settle() == [{TRACKING_EVENT: recorded}]


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "12", None])
def test_a_value_that_is_no_number_is_left_out(value: object, sunk: Sunk) -> None:
    details = TrackingEventDetails()
    details.value = value  # type: ignore[assignment]  # what an untyped caller passes
    sunk.recorder("ping", None, details)
    assert TRACKING_VALUE not in sunk.settle()[0]


def test_huge_details_are_cut_to_the_sanitizers_limits(sunk: Sunk) -> None:
    attributes: dict[str, Any] = {f"k{index}": "v" * 10_000 for index in range(1_000)}
    nested: dict[str, Any] = {}
    for _ in range(100):
        nested = {"deeper": nested}
    attributes["nested"] = nested
    sunk.recorder("big", EvaluationContext(USER), TrackingEventDetails(attributes=attributes))
    (record,) = sunk.settle()
    kept = record[TRACKING_ATTRIBUTES]
    assert len(kept) <= sunk.recorder.sanitizer.max_attributes + 1  # plus the truncation marker
    assert all(len(str(value)) <= 1024 for value in kept.values() if isinstance(value, str))


def test_garbage_details_are_counted_not_raised(sunk: Sunk) -> None:
    class Hostile:
        @property
        def value(self) -> float:
            raise RuntimeError

    sunk.recorder("x", None, Hostile())  # type: ignore[arg-type]  # an untyped caller
    assert sunk.recorder.failed == 1
    assert sunk.settle() == []


def test_a_failing_sink_is_counted(hasher: IdentifierHasher) -> None:
    def failing(_record: Mapping[str, Any]) -> None:
        raise RuntimeError

    recorder = TrackingRecorder(hasher=hasher, sink=failing)
    try:
        recorder("x")
        assert recorder.flush(WAIT)
        assert recorder.failed == 1
        assert recorder.emitted == 0
    finally:
        recorder.close()


def test_without_a_sink_records_are_logged(
    hasher: IdentifierHasher, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = TrackingRecorder(hasher=hasher)
    try:
        with caplog.at_level(logging.INFO, logger="openfeature_litestar.tracking"):
            recorder("signup", EvaluationContext(USER))
            assert recorder.flush(WAIT)
    finally:
        recorder.close()
    (logged,) = [r for r in caplog.records if r.name == "openfeature_litestar.tracking"]
    assert logged.msg == _MESSAGE
    assert logged.audit == {TRACKING_EVENT: "signup", CONTEXT_ID: hasher(USER)}  # type: ignore[attr-defined]
    assert USER not in logged.getMessage()


def test_bad_settings_are_refused(hasher: IdentifierHasher) -> None:
    with pytest.raises(ConfigurationError, match="queue_size"):
        TrackingRecorder(hasher=hasher, queue_size=0)


def test_repr_shows_counters_only(hasher: IdentifierHasher) -> None:
    recorder = TrackingRecorder(hasher=hasher)
    assert repr(recorder) == "TrackingRecorder(emitted=0, dropped=0, failed=0)"

"""openfeature_litestar.testing: override_flags and capture_audit against real providers."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import queue
import re
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from openfeature_litestar import FlagProvider, MemoryStore
from openfeature_litestar.hooks import ERROR_TYPE, FLAG_KEY, VALUE
from openfeature_litestar.testing import (
    OVERRIDE_VARIANT,
    Variant,
    capture_audit,
    override_flags,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from openfeature.client import OpenFeatureClient

WAIT = 10.0

FLAGS: dict[str, Any] = {
    "metadata": {"flagSetId": "overrides"},
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"old": "old", "new": "new"},
            "defaultVariant": "old",
        },
        "limit": {"state": "ENABLED", "variants": {"low": 1, "high": 9}, "defaultVariant": "low"},
        "beta": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
        },
    },
}


def _next(events: queue.Queue[EventDetails]) -> EventDetails:
    try:
        return events.get(timeout=WAIT)
    except queue.Empty:
        pytest.fail(f"no event within {WAIT} s")


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(FLAGS)


@pytest.fixture
def provider(store: MemoryStore) -> FlagProvider:
    return FlagProvider(store)


@pytest.fixture
def default_client(provider: FlagProvider) -> Iterator[OpenFeatureClient]:
    api.set_provider_and_wait(provider)
    yield api.get_client()
    api.clear_providers()


@pytest.fixture
def domain_client(provider: FlagProvider, domain: str) -> OpenFeatureClient:
    api.set_provider_and_wait(provider, domain=domain)
    return api.get_client(domain)


def _state(client: OpenFeatureClient) -> tuple[str, int, bool]:
    return (
        client.get_string_value("checkout", ""),
        client.get_integer_value("limit", 0),
        client.get_boolean_value("beta", True),
    )


def test_override_through_the_default_domain(
    default_client: OpenFeatureClient, provider: FlagProvider
) -> None:
    with override_flags({"checkout": "new"}) as overridden:
        assert overridden is provider
        details = default_client.get_string_details("checkout", "")
        assert details.value == "new"
        assert details.variant == OVERRIDE_VARIANT == "override"
        assert details.reason == Reason.STATIC
        assert details.error_code is None
        assert default_client.get_integer_value("limit", 0) == 1  # untouched
    assert _state(default_client) == ("old", 1, False)


def test_override_an_explicit_provider(
    domain_client: OpenFeatureClient, provider: FlagProvider
) -> None:
    with override_flags({"limit": 42, "beta": True}, provider=provider):
        assert _state(domain_client) == ("old", 42, True)
    assert _state(domain_client) == ("old", 1, False)


def test_override_by_domain(domain_client: OpenFeatureClient, domain: str) -> None:
    with override_flags({"beta": True}, domain=domain):
        assert _state(domain_client) == ("old", 1, True)
    assert _state(domain_client) == ("old", 1, False)


def test_override_values_of_every_type(domain_client: OpenFeatureClient, domain: str) -> None:
    values = {"a-bool": False, "a-str": "s", "an-int": 7, "a-float": 2.5, "an-object": {"k": [1]}}
    with override_flags(values, domain=domain):
        assert domain_client.get_boolean_value("a-bool", True) is False
        assert domain_client.get_string_value("a-str", "") == "s"
        assert domain_client.get_integer_value("an-int", 0) == 7
        assert domain_client.get_float_value("a-float", 0.0) == 2.5
        assert domain_client.get_object_value("an-object", {}) == {"k": [1]}
        # An overridden value still has its type checked.
        mismatch = domain_client.get_integer_details("a-bool", 3)
        assert (mismatch.value, mismatch.error_code) == (3, ErrorCode.TYPE_MISMATCH)
    missing = domain_client.get_string_details("a-str", "gone")
    assert (missing.value, missing.error_code) == ("gone", ErrorCode.FLAG_NOT_FOUND)


def test_nested_overrides_restore_exactly(domain_client: OpenFeatureClient, domain: str) -> None:
    with override_flags({"checkout": "outer", "limit": 5}, domain=domain):
        assert _state(domain_client) == ("outer", 5, False)
        with override_flags({"checkout": "inner", "beta": True, "extra": "x"}, domain=domain):
            assert _state(domain_client) == ("inner", 5, True)
            assert domain_client.get_string_value("extra", "") == "x"
        assert _state(domain_client) == ("outer", 5, False)
        assert domain_client.get_string_details("extra", "").error_code == ErrorCode.FLAG_NOT_FOUND
    assert _state(domain_client) == ("old", 1, False)


def test_overrides_are_restored_when_the_block_raises(
    domain_client: OpenFeatureClient, domain: str
) -> None:
    def fail_inside() -> None:
        with override_flags({"limit": 3}, domain=domain):
            assert domain_client.get_integer_value("limit", 0) == 3
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert domain_client.get_integer_value("limit", 0) == 1


def test_overriding_announces_the_overridden_flags(
    domain_client: OpenFeatureClient, domain: str
) -> None:
    events: queue.Queue[EventDetails] = queue.Queue()
    domain_client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, events.put)
    with override_flags({"beta": True, "new-flag": 1}, domain=domain):
        assert _next(events).flags_changed == ["beta", "new-flag"]
    assert _next(events).flags_changed == ["beta", "new-flag"]


def test_a_store_update_during_an_override_keeps_the_override(
    domain_client: OpenFeatureClient, domain: str, store: MemoryStore
) -> None:
    events: queue.Queue[EventDetails] = queue.Queue()
    with override_flags({"checkout": "forced"}, domain=domain):
        domain_client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, events.put)
        flags = dict(FLAGS["flags"])
        flags["checkout"] = {**flags["checkout"], "defaultVariant": "new"}
        flags["limit"] = {**flags["limit"], "defaultVariant": "high"}
        store.replace({**FLAGS, "flags": flags})
        assert _next(events).flags_changed == ["limit"]
        assert _state(domain_client) == ("forced", 9, False)
    # Leaving the block reveals the store's new value.
    assert _next(events).flags_changed == ["checkout"]
    assert _state(domain_client) == ("new", 9, False)


def test_a_variant_override_serves_the_flags_own_value_under_that_name(
    domain_client: OpenFeatureClient, domain: str
) -> None:
    with override_flags({"checkout": Variant("new"), "limit": Variant("high")}, domain=domain):
        checkout = domain_client.get_string_details("checkout", "")
        assert (checkout.value, checkout.variant, checkout.reason) == ("new", "new", "STATIC")
        limit = domain_client.get_integer_details("limit", 0)
        assert (limit.value, limit.variant) == (9, "high")
    assert domain_client.get_string_details("checkout", "").variant == "old"


def test_a_variant_override_nests_inside_another_of_the_same_flag(
    domain_client: OpenFeatureClient, domain: str
) -> None:
    with override_flags({"checkout": Variant("new")}, domain=domain):
        with override_flags({"checkout": Variant("old")}, domain=domain):
            details = domain_client.get_string_details("checkout", "")
            assert (details.value, details.variant) == ("old", "old")
        assert domain_client.get_string_details("checkout", "").variant == "new"
    with override_flags({"limit": 5}, domain=domain):
        with override_flags({"limit": Variant("high")}, domain=domain):
            assert domain_client.get_integer_details("limit", 0).value == 9
        assert domain_client.get_integer_details("limit", 0).value == 5


def test_a_variant_override_with_a_value_needs_no_flag(
    domain_client: OpenFeatureClient, domain: str
) -> None:
    with override_flags({"ahead": Variant("v2", value="two")}, domain=domain):
        details = domain_client.get_string_details("ahead", "")
        assert (details.value, details.variant) == ("two", "v2")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"checkout": Variant("neww")}, "flag 'checkout' has no variant 'neww' (it has 'new', "),
        ({"checkout": Variant("neww")}, "did you mean 'new'?"),
        ({"absent": Variant("on")}, "flag 'absent' is not served, so variant 'on' has no value"),
        ({"checkout": Variant("")}, "a variant name is a non-empty string"),
    ],
)
def test_a_variant_override_that_cannot_be_served_overrides_nothing(
    domain_client: OpenFeatureClient, domain: str, values: dict[str, Any], message: str
) -> None:
    with (
        pytest.raises(ValueError, match=re.escape(message)),
        override_flags({"beta": True, **values}, domain=domain),
    ):
        pass
    assert domain_client.get_boolean_value("beta", True) is False  # nothing half-applied


def test_no_flag_provider_on_the_default_domain_is_a_type_error() -> None:
    api.clear_providers()  # the default domain serves the SDK's NoOpProvider
    with pytest.raises(TypeError, match="default domain"), override_flags({"beta": True}):
        pytest.fail("the block must not run")


def test_another_provider_on_a_domain_is_a_type_error(domain: str) -> None:
    other = InMemoryProvider({"beta": InMemoryFlag("on", {"on": True})})
    api.set_provider_and_wait(other, domain=domain)
    with (
        pytest.raises(TypeError, match="InMemoryProvider"),
        override_flags({"beta": False}, domain=domain),
    ):
        pytest.fail("the block must not run")
    assert api.get_client(domain).get_boolean_value("beta", False) is True


# -- capture_audit ----------------------------------------------------------------------


def test_capture_audit_sees_every_client_while_registered(domain: str) -> None:
    api.set_provider_and_wait(FlagProvider(MemoryStore(FLAGS)), domain)
    client = api.get_client(domain)
    others = list(api.get_hooks())
    with capture_audit() as audit:
        assert client.get_string_value("checkout", "?", EvaluationContext("user-7")) == "old"
        client.get_integer_value("limit", 0)
        client.get_boolean_value("missing", False)
    records = audit.records
    assert [record[FLAG_KEY] for record in records] == ["checkout", "limit", "missing"]
    assert records[2][ERROR_TYPE] == "flag_not_found"
    assert all("user-7" not in repr(record) for record in records)  # hashed, never raw
    assert audit.dropped == 0
    assert api.get_hooks() == others  # removed again, the others kept
    client.get_string_value("checkout", "?")
    assert len(audit.records) == 3  # nothing recorded after the block


def test_capture_audit_without_registering_records_only_where_added(domain: str) -> None:
    api.set_provider_and_wait(FlagProvider(MemoryStore(FLAGS)), domain)
    audited, plain = api.get_client(domain), api.get_client(domain)
    with capture_audit(register=False, include_value=True) as audit:
        audited.add_hooks([audit.hook])
        audited.get_integer_value("limit", 0)
        plain.get_integer_value("limit", 0)
    assert [record[VALUE] for record in audit.records] == [1]


def test_capture_audit_refuses_a_sink() -> None:
    with pytest.raises(TypeError, match="sink"), capture_audit(sink=print):
        pass

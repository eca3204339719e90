"""SanitizingHook: context validation (INVALID_CONTEXT) and overwriting through real clients."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, InvalidContextError
from openfeature.flag_evaluation import (
    FlagEvaluationOptions,
    FlagResolutionDetails,
    FlagType,
    Reason,
)
from openfeature.hook import HookContext
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from openfeature_litestar import REDACTED, IdentifierHasher, Sanitizer
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar.hooks import SanitizingHook

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagEvaluationDetails

EMAIL = "ada.lovelace@example.com"


def _vip(client: OpenFeatureClient, context: EvaluationContext) -> FlagEvaluationDetails[bool]:
    return client.get_boolean_details("vip", False, context)


def _rejected(details: FlagEvaluationDetails[bool]) -> str:
    assert details.value is False
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert details.reason == Reason.ERROR
    assert details.error_message is not None
    return details.error_message


# --- a valid context passes unchanged ---------------------------------------------------


def test_a_valid_context_evaluates_as_without_the_hook(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook()])
    attributes: dict[str, Any] = {
        "email": EMAIL,
        "age": 42,
        "ratio": 0.5,
        "beta": True,
        "nothing": None,
        "since": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        "tags": ["a", "b"],
        "address": {"city": "London", "lines": ("1 Road", "Flat 2")},
    }
    details = _vip(client, EvaluationContext("user-1", attributes))
    assert details.value is True
    assert details.error_code is None


def test_before_returns_nothing_when_nothing_is_overwritten() -> None:
    hook_context = HookContext("vip", FlagType.BOOLEAN, False, EvaluationContext("u", {"a": 1}))
    assert SanitizingHook().before(hook_context, {}) is None


# --- each limit, through a real client --------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"bio": "x" * 1025}, "attribute 'bio' is a string of 1025 characters (limit 1024)"),
        (
            {f"a{n}": n for n in range(65)},
            "the context has 65 entries (limit 64)",
        ),
        (
            {"list": list(range(65))},
            "attribute 'list' has 65 entries (limit 64)",
        ),
        (
            {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}},
            "attribute 'a.b.c.d.e.f.g.h' is nested deeper than 8 levels",
        ),
        ({"blob": b"bytes"}, "attribute 'blob' is of unsupported type bytes"),
        ({"who": object()}, "attribute 'who' is of unsupported type object"),
        ({"nested": {1: "x"}}, "attribute 'nested.<entry 0>' has a int name"),
        ({"items": [{"ok": 1}, {"bad": b"x"}]}, "attribute 'items[1].bad' is of unsupported"),
        ({"k" * 1025: 1}, "attribute '<entry 0>' has a name of 1025 characters"),
        # The path as it is, not repr()'s "'dir.CORP\\\\jsmith'", which hides the name
        # from the audit hook's scrubbing.
        ({"dir": {"CORP\\jsmith": "x" * 1025}}, "attribute 'dir.CORP\\jsmith' is a string"),
        ({"o'brien": "x" * 1025}, "attribute 'o'brien' is a string"),
    ],
)
def test_a_context_that_breaks_a_limit_gets_the_default_with_invalid_context(
    client: OpenFeatureClient, attributes: dict[Any, Any], expected: str
) -> None:
    client.add_hooks([SanitizingHook()])
    message = _rejected(_vip(client, EvaluationContext("user-1", attributes)))
    assert message.startswith("evaluation context rejected: ")
    assert expected in message


def test_the_total_number_of_values_is_bounded(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook(max_values=100)])
    attributes = {f"group{n}": list(range(30)) for n in range(5)}
    message = _rejected(_vip(client, EvaluationContext("user-1", attributes)))
    assert "the context has more than 100 values in all" in message


def test_an_overlong_targeting_key_is_rejected(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook(max_string_length=16)])
    message = _rejected(_vip(client, EvaluationContext("u" * 17, {})))
    assert "the targeting key has 17 characters (limit 16)" in message


def test_a_targeting_key_that_is_not_a_string_is_rejected(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook()])
    untyped: Any = 42  # what a caller without type checking may pass
    context = EvaluationContext(attributes={})
    context.targeting_key = untyped
    message = _rejected(_vip(client, context))
    assert "the targeting key is int, not a string" in message


def test_rejected_on_the_async_path_too(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook()])

    async def evaluate() -> FlagEvaluationDetails[bool]:
        context = EvaluationContext("user-1", {"bio": "x" * 2000})
        return await client.get_boolean_details_async("vip", False, context)

    details = asyncio.run(evaluate())
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert details.value is False


def test_the_message_never_quotes_a_value(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook(max_string_length=32)])
    secret = "s3cr3t-" * 10
    message = _rejected(_vip(client, EvaluationContext("user-1", {"note": secret})))
    assert secret[:20] not in message
    assert "'note'" in message


def test_a_name_that_looks_like_data_is_shown_as_its_position(client: OpenFeatureClient) -> None:
    client.add_hooks([SanitizingHook()])
    attributes = {"plan": "pro", EMAIL: "x" * 2000}
    message = _rejected(_vip(client, EvaluationContext("user-1", attributes)))
    assert EMAIL not in message
    assert "attribute '<entry 1>' is a string of 2000 characters" in message


def test_limits_default_to_the_sanitizers() -> None:
    policy = Sanitizer(max_attributes=3, max_string_length=40, max_depth=2, max_values=50)
    hook = SanitizingHook(sanitizer=policy)
    assert (hook.max_attributes, hook.max_string_length, hook.max_depth, hook.max_values) == (
        3,
        40,
        2,
        50,
    )
    assert SanitizingHook(sanitizer=policy, max_depth=5).max_depth == 5
    default = SanitizingHook()
    assert (default.max_attributes, default.max_string_length, default.max_depth) == (64, 1024, 8)


@pytest.mark.parametrize(
    "limit", ["max_attributes", "max_string_length", "max_depth", "max_values"]
)
@pytest.mark.parametrize("value", [0, -3, True])
def test_a_limit_that_is_not_a_positive_integer_is_refused(limit: str, value: int) -> None:
    settings: dict[str, Any] = {limit: value}
    with pytest.raises(ConfigurationError, match=limit):
        SanitizingHook(**settings)


def test_validate_raises_the_sdks_invalid_context_error() -> None:
    with pytest.raises(InvalidContextError, match="limit 1"):
        SanitizingHook(max_attributes=1).validate(EvaluationContext(attributes={"a": 1, "b": 2}))


# --- overwriting ------------------------------------------------------------------------


def test_protected_attributes_are_overwritten_before_the_provider(
    client: OpenFeatureClient,
) -> None:
    context = EvaluationContext("user-1", {"is_admin": True})
    assert client.get_boolean_value("admin-panel", False, context) is True
    client.add_hooks([SanitizingHook(protected={"is_admin": None})])
    details = client.get_boolean_details("admin-panel", False, context)
    assert details.value is False
    assert details.error_code is None


def test_a_protected_attribute_that_is_absent_stays_absent() -> None:
    hook = SanitizingHook(protected={"is_admin": False})
    assert hook.overrides({"plan": "pro"}) == {}
    assert hook.overrides({"is_admin": True}) == {"is_admin": False}


def test_with_a_sanitizer_what_the_policy_hides_never_reaches_the_provider(
    domain: str,
) -> None:
    seen: list[dict[str, Any]] = []

    def remember(
        flag: InMemoryFlag[bool], context: EvaluationContext
    ) -> FlagResolutionDetails[bool]:
        seen.append(dict(context.attributes))
        return FlagResolutionDetails(flag.variants["on"], variant="on", reason=Reason.STATIC)

    provider = InMemoryProvider({"f": InMemoryFlag("on", {"on": True}, context_evaluator=remember)})
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    hasher = IdentifierHasher("a-test-hashing-key-of-32-bytes!!")
    policy = Sanitizer(actions={"password": "drop", "phone": "hash"}, hasher=hasher)
    client.add_hooks([SanitizingHook(sanitizer=policy)])
    attributes: dict[str, Any] = {
        "email": EMAIL,
        "password": "hunter2",
        "phone": "+44 20 7946 0000",
        "profile": {"token": "abc", "theme": "dark"},
        "plan": "pro",
    }
    assert client.get_boolean_value("f", False, EvaluationContext("user-1", attributes)) is True
    (received,) = seen
    # A before hook's context is merged over the original: a dropped attribute can
    # only be overwritten (with None, which rules read as missing), not removed.
    assert received == {
        "email": REDACTED,
        "password": None,
        "phone": hasher("+44 20 7946 0000"),
        "profile": {"token": REDACTED, "theme": "dark"},
        "plan": "pro",
    }


def test_overwritten_email_no_longer_matches_a_rule(ours: OpenFeatureClient) -> None:
    context = EvaluationContext("user-1", {"email": EMAIL})
    assert ours.get_boolean_value("vip", False, context) is True
    options = FlagEvaluationOptions(hooks=[SanitizingHook(sanitizer=Sanitizer())])
    assert ours.get_boolean_value("vip", False, context, options) is False
    assert ours.get_string_value("seen-email", "?", context, options) == "present"


def test_registered_on_the_api_it_guards_every_client(ours: OpenFeatureClient) -> None:
    api.add_hooks([SanitizingHook(max_attributes=1)])
    try:
        details = ours.get_boolean_details("vip", False, EvaluationContext("u", {"a": 1, "b": 2}))
    finally:
        api.clear_hooks()
    assert details.error_code == ErrorCode.INVALID_CONTEXT


def test_the_transaction_and_client_contexts_are_validated_merged(
    ours: OpenFeatureClient,
) -> None:
    ours.context = EvaluationContext(attributes={f"c{n}": n for n in range(40)})
    ours.add_hooks([SanitizingHook()])
    invocation = EvaluationContext("u", {f"i{n}": n for n in range(30)})
    details = ours.get_boolean_details("vip", False, invocation)
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert "70 entries" in (details.error_message or "")


def test_repr_names_limits_and_protected_names() -> None:
    text = repr(SanitizingHook(protected={"is_admin": None}))
    assert "protected=['is_admin']" in text
    assert "max_attributes=64" in text

"""The pure evaluation function: no provider, no store, no thread; typed by FlagType."""

# ruff: noqa: FBT003 - resolve() takes the default value positionally, as the SDK does

from __future__ import annotations

import threading
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagType, Reason

from openfeature_litestar import FlagProvider, Snapshot, document_from_data
from openfeature_litestar.evaluation import resolve, resolve_all

DOCUMENT: dict[str, Any] = {
    "metadata": {"flagSetId": "evaluation"},
    "flags": {
        "bool": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
        "int": {"state": "ENABLED", "variants": {"one": 1, "two": 2}, "defaultVariant": "two"},
        "object": {
            "state": "ENABLED",
            "variants": {"cfg": {"limits": [1, 2]}},
            "defaultVariant": "cfg",
        },
        "targeted": {
            "state": "ENABLED",
            "variants": {"a": "alpha", "b": "beta"},
            "defaultVariant": "a",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "b", None]},
        },
        "off": {"state": "DISABLED", "variants": {"x": "x"}, "defaultVariant": "x"},
    },
}


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return Snapshot.from_document(document_from_data(DOCUMENT), revision=4)


def test_resolve_reads_a_snapshot_without_any_provider(snapshot: Snapshot) -> None:
    before = threading.active_count()
    details = resolve(
        snapshot, "targeted", EvaluationContext("u", {"plan": "pro"}), FlagType.STRING, "d"
    )
    assert (details.value, details.variant, details.reason) == ("beta", "b", Reason.TARGETING_MATCH)
    assert details.flag_metadata["flagSetId"] == "evaluation"
    assert threading.active_count() == before  # no loop, no thread


def test_resolve_accepts_the_flags_mapping_as_well(snapshot: Snapshot) -> None:
    details = resolve(snapshot.flags, "int", None, FlagType.INTEGER, 0)
    assert (details.value, details.reason) == (2, Reason.STATIC)


@pytest.mark.parametrize(
    ("flag_type", "default"),
    [(FlagType.STRING, "d"), (FlagType.BOOLEAN, False), (FlagType.OBJECT, {})],
)
def test_each_flag_type_checks_the_variant(
    snapshot: Snapshot, flag_type: FlagType, default: Any
) -> None:
    details = resolve(snapshot, "int", None, flag_type, default)
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert details.value == default


def test_float_takes_an_integer_variant_as_a_float(snapshot: Snapshot) -> None:
    details = resolve(snapshot, "int", None, FlagType.FLOAT, 0.5)
    assert details.value == 2.0
    assert type(details.value) is float


def test_integer_never_returns_a_bool(snapshot: Snapshot) -> None:
    assert resolve(snapshot, "bool", None, FlagType.INTEGER, 7).value == 7


def test_no_type_accepts_any_value(snapshot: Snapshot) -> None:
    assert resolve(snapshot, "bool", None, None, None).value is True
    assert resolve(snapshot, "int", None, None, None).value == 2


def test_object_values_are_copies(snapshot: Snapshot) -> None:
    for flag_type in (FlagType.OBJECT, None):
        default: dict[str, Any] = {}
        first = resolve(snapshot, "object", None, flag_type, default)
        first.value["limits"].append(3)
        again = resolve(snapshot, "object", None, flag_type, default)
        assert again.value == {"limits": [1, 2]}


def test_a_mismatch_for_one_type_does_not_spoil_another(snapshot: Snapshot) -> None:
    # Typed details are cached per FlagType on the shared outcome.
    assert (
        resolve(snapshot, "int", None, FlagType.STRING, "x").error_code == ErrorCode.TYPE_MISMATCH
    )
    assert resolve(snapshot, "int", None, FlagType.INTEGER, 0).value == 2
    assert resolve(snapshot, "int", None, FlagType.STRING, "x").value == "x"


def test_missing_and_disabled_flags_give_the_default(snapshot: Snapshot) -> None:
    missing = resolve(snapshot, "nope", None, FlagType.BOOLEAN, True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    disabled = resolve(snapshot, "off", None, FlagType.STRING, "code")
    assert (disabled.value, disabled.reason, disabled.error_code) == ("code", Reason.DISABLED, None)


@pytest.mark.parametrize("key", ["nope", "CORP\\jsmith", "o'brien", 'say "hi"', "José 例え 🚀"])
def test_messages_quote_the_key_asked_for_as_it_is(snapshot: Snapshot, key: str) -> None:
    # Not with repr(): the audit hook then finds a key that repeats a context value.
    missing = resolve(snapshot, key, EvaluationContext(key), FlagType.BOOLEAN, True)
    assert missing.error_message == f"flag '{key}' not found"


@pytest.mark.parametrize("key", ["line\nbreak", "nul\x00", "k" * 257, 42])
def test_a_key_no_flag_can_have_is_not_quoted(snapshot: Snapshot, key: Any) -> None:
    missing = resolve(snapshot, key, None, FlagType.BOOLEAN, True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    assert missing.error_message == "flag <invalid key> not found"


def test_a_type_mismatch_names_the_flag_and_variant_unescaped() -> None:
    definition = {"state": "ENABLED", "variants": {"it's": 1}, "defaultVariant": "it's"}
    snapshot = Snapshot.from_document(document_from_data({"flags": {"a\\b": definition}}))
    details = resolve(snapshot, "a\\b", None, FlagType.STRING, "x")
    assert details.error_code == ErrorCode.TYPE_MISMATCH
    assert details.error_message == "flag 'a\\b' is not a string flag: variant 'it's' is int"


def test_a_broken_source_is_an_error_result_not_an_exception() -> None:
    class Exploding(dict[str, Any]):
        def get(self, *_: object) -> Any:
            raise RuntimeError("boom")

    details = resolve(Exploding(), "bool", None, FlagType.BOOLEAN, False)
    assert (details.value, details.error_code) == (False, ErrorCode.GENERAL)
    assert details.error_message is not None
    assert "boom" not in details.error_message  # the type only, never the text
    assert details.error_message == "evaluating 'bool' failed: RuntimeError"


def test_resolve_all_answers_every_flag_in_document_order(snapshot: Snapshot) -> None:
    answers = resolve_all(snapshot, EvaluationContext("u", {"plan": "free"}))
    assert list(answers) == list(DOCUMENT["flags"])
    assert answers["targeted"].value == "alpha"
    assert answers["off"].reason == Reason.DISABLED


def test_the_provider_answers_exactly_as_the_function(snapshot: Snapshot) -> None:
    provider = FlagProvider(document_from_data(DOCUMENT))
    provider.initialize(EvaluationContext())
    try:
        context = EvaluationContext("u", {"plan": "pro"})
        for key in DOCUMENT["flags"]:
            ours = provider.resolve_string_details(key, "d", context)
            assert ours == resolve(provider.snapshot, key, context, FlagType.STRING, "d")
            assert ours == resolve(snapshot, key, context, FlagType.STRING, "d")
    finally:
        provider.shutdown()


def test_an_empty_targeting_key_is_no_targeting_key() -> None:
    # As the SDK's context merge and OFREP read it, so that "" cannot bucket a user
    # differently depending on whether the provider is called directly.
    rules = {
        "rollout": {"fractional": [["a", 50], ["b", 50]]},
        "who": {"if": [{"var": "targetingKey"}, "b", None]},
    }
    flags = {
        key: {"state": "ENABLED", "variants": {"a": "a", "b": "b"}, "defaultVariant": "a",
              "targeting": rule}
        for key, rule in rules.items()
    }  # fmt: skip
    snapshot = Snapshot.from_document(document_from_data({"flags": flags}))
    for key in rules:
        empty = resolve(snapshot, key, EvaluationContext(""), FlagType.STRING, "default")
        absent = resolve(snapshot, key, EvaluationContext(), FlagType.STRING, "default")
        assert (empty.value, empty.variant, empty.reason) == ("a", "a", Reason.DEFAULT)
        assert (absent.value, absent.variant, absent.reason) == ("a", "a", Reason.DEFAULT)

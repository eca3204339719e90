"""The injected values (targetingKey, $flagd) reach every rule that reads them.

The provider skips copying the caller's attributes for rules that read no injected
value; these tests pin that every way of reading one still sees it.
"""

import time
from collections.abc import Iterator

import pytest
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import FlagProvider, document_from_data
from tests.support import flag

YES_NO = {"yes": "yes", "no": "no"}


FLAGS = {
    "by-key": flag(
        "no",
        variants=YES_NO,
        targeting={"if": [{"==": [{"var": "targetingKey"}, "u1"]}, "yes", "no"]},
    ),
    "by-flag-key": flag(
        "no",
        variants=YES_NO,
        targeting={"if": [{"==": [{"var": "$flagd.flagKey"}, "by-flag-key"]}, "yes"]},
    ),
    "by-timestamp": flag(
        "no",
        variants=YES_NO,
        targeting={"if": [{">": [{"var": "$flagd.timestamp"}, 1_000_000_000]}, "yes"]},
    ),
    "computed-path": flag(
        "no",
        variants=YES_NO,
        targeting={
            "if": [{"==": [{"var": {"cat": ["$flagd.", "flagKey"]}}, "computed-path"]}, "yes"]
        },
    ),
    "via-ref": flag("no", variants=YES_NO, targeting={"if": [{"$ref": "isU1"}, "yes", "no"]}),
    "plain": flag(
        "no", variants=YES_NO, targeting={"if": [{"==": [{"var": "plan"}, "pro"]}, "yes", "no"]}
    ),
}


@pytest.fixture(scope="module")
def provider() -> Iterator[FlagProvider]:
    document = document_from_data(
        {"flags": FLAGS, "$evaluators": {"isU1": {"==": [{"var": "targetingKey"}, "u1"]}}},
        strict=False,
    )
    provider = FlagProvider(document)
    provider.initialize(EvaluationContext())
    yield provider
    provider.shutdown()


@pytest.mark.parametrize(
    "key", ["by-key", "by-flag-key", "by-timestamp", "computed-path", "via-ref"]
)
def test_rules_see_injected_values(provider: FlagProvider, key: str) -> None:
    context = EvaluationContext(targeting_key="u1", attributes={"plan": "free"})
    assert provider.resolve_string_details(key, "fallback", context).value == "yes"


def test_a_plain_rule_reads_the_callers_attributes(provider: FlagProvider) -> None:
    pro = EvaluationContext(attributes={"plan": "pro"})
    assert provider.resolve_string_details("plain", "x", pro).value == "yes"
    assert provider.resolve_string_details("plain", "x", None).value == "no"
    assert provider.snapshot.flags["plain"].plain_context


def test_attributes_named_like_injected_values_do_not_override_them(
    provider: FlagProvider,
) -> None:
    context = EvaluationContext(
        targeting_key="u1", attributes={"targetingKey": "u2", "$flagd": {"flagKey": "other"}}
    )
    assert provider.resolve_string_details("by-key", "x", context).value == "yes"
    assert provider.resolve_string_details("by-flag-key", "x", context).value == "yes"


def test_the_timestamp_is_current(provider: FlagProvider) -> None:
    flag = provider.snapshot.flags["by-timestamp"]
    assert "$flagd.timestamp" in flag.reads
    assert flag.rule is not None
    now = int(time.time())
    seen = flag.rule({"$flagd": {"flagKey": "by-timestamp", "timestamp": now}})
    assert seen == "yes"

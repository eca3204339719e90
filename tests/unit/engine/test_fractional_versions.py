"""fractional v1, v2 and v3: testbed vectors, and the edge cases flagd's evaluators agree on."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar import FRACTIONAL_VERSIONS, ConfigurationError, DocumentError
from openfeature_litestar._engine import RuleCompiler, compile_targeting

CARDS = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]
BY_NAME = {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}
HALVES = [["one", 50], ["two", 50]]


def _data(flag_key: str, targeting_key: Any = None, **attributes: Any) -> dict[str, Any]:
    data = {**attributes, "$flagd": {"flagKey": flag_key, "timestamp": 1_750_000_000}}
    if targeting_key is not None:
        data["targetingKey"] = targeting_key
    return data


def _rule(targeting: Any, version: str, *, strict: bool = True) -> Any:
    return compile_targeting(targeting, fractional=version, strict=strict)  # type: ignore[arg-type]


# flagd-testbed gherkin/targeting.feature, "Fractional operator" Examples v1, v2 and v3.
@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v1", ["spades", "clubs", "diamonds", "hearts", "diamonds"]),
        ("v2", ["hearts", "spades", "clubs", "diamonds", "clubs"]),
        ("v3", ["diamonds", "diamonds", "clubs", "clubs", "spades"]),
    ],
)
def test_each_version_buckets_as_the_testbed_says(version: str, expected: list[str]) -> None:
    rule = _rule({"fractional": [BY_NAME, *CARDS]}, version)
    names = ["jack", "queen", "ten", "nine", "3"]
    assert [rule(_data("fractional-flag", user={"name": n})) for n in names] == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [("v1", ["heads", "tails"]), ("v2", ["heads", "tails"]), ("v3", ["tails", "tails"])],
)
def test_the_shorthand_in_each_version(version: str, expected: list[str]) -> None:
    rule = _rule({"fractional": [["heads"], ["tails", 1]]}, version)
    keys = ["jon@company.com", "jane@company.com"]
    assert [rule(_data("fractional-flag-shorthand", key)) for key in keys] == expected


def test_v3_shorthand_hashes_the_pair_not_the_concatenation() -> None:
    # testbed: "Fractional operator using implicit targeting key", v3.
    rule = _rule({"fractional": [["heads"], ["tails", 1]]}, "v3")
    keys = ["user-1", "user-2", "user-3"]
    assert [rule(_data("fractional-flag-shorthand", key)) for key in keys] == [
        "heads",
        "tails",
        "heads",
    ]


# The testbed's hash edge keys: murmur3 of "ejOoVL" is 0, of "SI7p-" 2**31 - 1 and of
# "6LvT0" 2**31. v1's percentage of the last two is 100.0 and 100.00000005: past the
# last bucket's end (flagd's `bucket < end` fails), so no variant; v2 splits them evenly.
@pytest.mark.parametrize(
    ("key", "v1", "v2"),
    [("ejOoVL", "one", "one"), ("SI7p-", None, "one"), ("6LvT0", None, "two")],
)
def test_v1_past_the_last_bucket_names_no_variant(key: str, v1: Any, v2: Any) -> None:
    targeting = {"fractional": [{"var": "targetingKey"}, *HALVES]}
    assert _rule(targeting, "v1")(_data("f", key)) == v1
    assert _rule(targeting, "v2")(_data("f", key)) == v2


# -- edge cases, in every version -------------------------------------------------------------


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_a_missing_or_null_value_in_cat_contributes_nothing(version: str) -> None:
    cat = _rule({"fractional": [{"cat": ["seed-", {"var": "name"}]}, *CARDS]}, version)
    plain = _rule({"fractional": ["seed-", *CARDS]}, version, strict=False)
    for name in ["ann", "bob", "carla", "dev"]:
        assert cat(_data("f", name=None)) == plain(_data("f")) == cat(_data("f"))
        assert cat(_data("f", name=name)) is not None


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
@pytest.mark.parametrize("targeting_key", ["", None, 12345, True])
def test_the_shorthand_needs_a_non_empty_string_targeting_key(
    version: str, targeting_key: Any
) -> None:
    rule = _rule({"fractional": [["heads"], ["tails", 1]]}, version)
    assert rule(_data("f", targeting_key)) is None
    assert rule(_data("f", "someone")) in {"heads", "tails"}


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("value", [42, 4.5, True, None, ["x"], {"a": 1}])
def test_v1_and_v2_hash_only_a_string(version: str, value: Any) -> None:
    # A regression test: v2 used to hash a number or a boolean as its JavaScript string.
    rule = _rule({"fractional": [{"var": "id"}, *HALVES]}, version)
    assert rule(_data("f", "someone", id=value)) is None
    assert rule(_data("f", "someone", id="42")) is not None


@pytest.mark.parametrize(
    ("value", "hashed"),
    [
        (42, True),
        (4.5, True),
        (True, True),
        ({"a": [1]}, True),
        ("42", True),
        (None, False),
        ([1, 2], False),
    ],
)
def test_v3_hashes_any_json_value_but_null_and_arrays(value: Any, *, hashed: bool) -> None:
    rule = _rule({"fractional": [{"var": "id"}, *HALVES]}, "v3")
    assert (rule(_data("f", "someone", id=value)) is not None) is hashed


def test_v3_tells_a_number_from_its_string() -> None:
    rule = _rule({"fractional": [{"var": "id"}, *[[f"b{i}", 1] for i in range(64)]]}, "v3")
    # The testbed's "Fractional operator with basic types": 123 and "123" differ.
    buckets = {repr(v): rule(_data("f", id=v)) for v in [123, "123", 123.0, True, "true"]}
    assert buckets["123"] == buckets["123.0"]
    assert buckets["123"] != buckets["'123'"]
    assert buckets["True"] != buckets["'true'"]


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_a_negative_weight_counts_as_zero(version: str) -> None:
    static = _rule(
        {"fractional": [{"var": "targetingKey"}, ["one", -50], ["two", 100]]},
        version,
        strict=False,
    )
    dynamic = _rule(
        {"fractional": [{"var": "targetingKey"}, ["one", {"var": "w"}], ["two", 100]]}, version
    )
    for key in ["a", "b", "c", "d", "e"]:
        assert static(_data("f", key)) == "two"
        assert dynamic(_data("f", key, w=-50)) == "two"


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_all_zero_weights_name_no_variant(version: str) -> None:
    zero = {"fractional": [{"var": "targetingKey"}, ["one", 0], ["two", 0]]}
    assert _rule(zero, version, strict=False)(_data("f", "any-user")) is None
    with pytest.raises(DocumentError, match="add up to 0"):
        _rule(zero, version)
    dynamic = _rule(
        {"fractional": [{"var": "targetingKey"}, ["one", {"var": "w"}], ["two", 0]]}, version
    )
    assert dynamic(_data("f", "any-user", w=0)) is None
    assert dynamic(_data("f", "any-user", w=-1)) is None
    assert dynamic(_data("f", "any-user", w=1)) == "one"
    assert dynamic(_data("f", "any-user", w=1.5)) is None
    assert dynamic(_data("f", "any-user", w="1")) is None


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_computed_variants_and_weights(version: str) -> None:
    variant = {"if": [{"==": [{"var": "tier"}, "premium"]}, "premium", "standard"]}
    weight = {"if": [{"==": [{"var": "tier"}, "premium"]}, 100, 0]}
    rule = _rule({"fractional": [{"var": "targetingKey"}, [variant, weight], ["blue", 0]]}, version)
    assert rule(_data("f", "user1", tier="premium")) == "premium"
    assert rule(_data("f", "user1", tier="basic")) is None  # every weight is 0 now
    computed = _rule({"fractional": [[{"var": "color"}, 1]]}, version)
    assert computed(_data("f", "user1", color="red")) == "red"
    assert _rule({"fractional": [[False, 0], [True, 100]]}, version)(_data("f", "k")) is True


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_lone_surrogates_bucket_as_the_replacement_character(version: str) -> None:
    rule = _rule({"fractional": [{"var": "id"}, *[[f"b{i}", 1] for i in range(64)]]}, version)
    assert rule(_data("f", id="x" + chr(0xD800))) == rule(_data("f", id="x\ufffd"))
    shorthand = _rule({"fractional": [*[[f"b{i}", 1] for i in range(64)]]}, version)
    assert shorthand(_data("f", chr(0xDFFF))) == shorthand(_data("f", "\ufffd"))


# -- choosing the version ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v4", "V2", "", None, 2])
def test_an_unknown_version_is_a_configuration_error(version: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"fractional must be one of 'v1', 'v2', 'v3'"):
        compile_targeting({"fractional": [["a"]]}, fractional=version)
    with pytest.raises(ConfigurationError):
        RuleCompiler(fractional=version)


def test_the_default_is_v2() -> None:
    targeting = {"fractional": [BY_NAME, *CARDS]}
    default, v2 = compile_targeting(targeting), _rule(targeting, "v2")
    for name in ["jack", "queen", "ten", "nine", "3", "x", "y"]:
        data = _data("fractional-flag", user={"name": name})
        assert default(data) == v2(data)

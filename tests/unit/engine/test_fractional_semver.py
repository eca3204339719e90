"""fractional (flagd v2 bucketing) and sem_ver, against flagd-testbed's expected values."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting

CARDS = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]


def _data(flag_key: str, targeting_key: str | None = None, **attributes: Any) -> dict[str, Any]:
    return {
        **attributes,
        "targetingKey": targeting_key,
        "$flagd": {"flagKey": flag_key, "timestamp": 1_750_000_000},
    }


# flagd-testbed evaluator/gherkin/fractional.feature, @fractional-v2 examples.
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jack", "hearts"),
        ("queen", "spades"),
        ("ten", "clubs"),
        ("nine", "diamonds"),
        ("3", "clubs"),
    ],
)
def test_fractional_v2_with_flag_key_and_name(name: str, expected: str) -> None:
    bucketing = {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}
    rule = compile_targeting({"fractional": [bucketing, *CARDS]})
    assert rule(_data("fractional-flag", user={"name": name})) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("seven", "hearts"), ("eight", "diamonds"), ("nine", "clubs"), ("two", "spades")],
)
def test_fractional_v2_shared_seed(name: str, expected: str) -> None:
    rule = compile_targeting(
        {"fractional": [{"cat": ["shared-seed", {"var": "user.name"}]}, *CARDS]}
    )
    assert rule(_data("any-flag", user={"name": name})) == expected


@pytest.mark.parametrize(
    ("key", "expected"), [("jon@company.com", "heads"), ("jane@company.com", "tails")]
)
def test_fractional_v2_shorthand(key: str, expected: str) -> None:
    rule = compile_targeting({"fractional": [["heads"], ["tails", 1]]})
    assert rule(_data("fractional-flag-shorthand", key)) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ejOoVL", "lower"),
        ("bY9fO-", "lower"),
        ("SI7p-", "lower"),
        ("6LvT0", "upper"),
        ("ceQdGm", "upper"),
    ],
)
def test_fractional_v2_hash_edges(key: str, expected: str) -> None:
    rule = compile_targeting(
        {"fractional": [{"var": "targetingKey"}, ["lower", 50], ["upper", 50]]}
    )
    assert rule(_data("fractional-hash-edge-flag", key)) == expected


@pytest.mark.parametrize(
    ("key", "tier", "expected"),
    [
        ("jon@company.com", "premium", "premium"),
        ("jon@company.com", "basic", "standard"),
        ("user1", "premium", "standard"),
    ],
)
def test_fractional_nested_variant(key: str, tier: str, expected: str) -> None:
    variant = {"if": [{"==": [{"var": "tier"}, "premium"]}, "premium", "standard"]}
    rule = compile_targeting(
        {"fractional": [{"var": "targetingKey"}, [variant, 50], ["standard", 50]]}
    )
    assert rule(_data("f", key, tier=tier)) == expected


@pytest.mark.parametrize(("tier", "expected"), [("premium", "red"), ("basic", "blue")])
def test_fractional_dynamic_weight(tier: str, expected: str) -> None:
    weight = {"if": [{"==": [{"var": "tier"}, "premium"]}, 100, 0]}
    rule = compile_targeting(
        {"fractional": [{"var": "targetingKey"}, ["red", weight], ["blue", 10]]}
    )
    assert rule(_data("f", "user1", tier=tier)) == expected


def test_fractional_edge_cases() -> None:
    assert compile_targeting({"fractional": [["single", 1]]})(_data("f", "k")) == "single"
    assert compile_targeting({"fractional": [[False, 0], [True, 100]]})(_data("f", "k")) is True
    missing = compile_targeting({"fractional": [{"var": "missing_key"}, ["one", 50], ["two", 50]]})
    assert missing(_data("f")) is None
    assert compile_targeting({"fractional": [["a", 1]]})(_data("f")) is None  # no targeting key
    negative = compile_targeting(
        {"fractional": [{"var": "targetingKey"}, ["one", -50], ["two", 100]]}, strict=False
    )
    assert negative(_data("f", "any-user")) == "two"
    zero = compile_targeting({"fractional": [{"var": "targetingKey"}, ["one", {"var": "w"}]]})
    assert zero({**_data("f", "any-user"), "w": 0}) is None
    assert zero({**_data("f", "any-user"), "w": -3}) is None
    assert zero({**_data("f", "any-user"), "w": 3}) == "one"
    bad_weight = compile_targeting({"fractional": [["one", {"var": "w"}]]})
    assert bad_weight({**_data("f", "k"), "w": "heavy"}) is None
    assert bad_weight({**_data("f", "k"), "w": 2.5}) is None
    assert bad_weight({**_data("f", "k"), "w": 2.0}) == "one"


@pytest.mark.parametrize(
    ("version", "operator", "target", "expected"),
    [
        ("2.0.0", "=", "2.0.0", True),
        ("2.1.0", ">", "2.0.0", True),
        ("1.9.0", "<", "2.0.0", True),
        ("2.0.0-alpha", "<", "2.0.0", True),
        ("2.0.0-alpha.1", ">", "2.0.0-alpha", True),
        ("2.0.0-alpha.beta", ">", "2.0.0-alpha.1", True),
        ("2.0.0-rc.11", ">", "2.0.0-rc.2", True),
        ("2.0.0.0", "=", "2.0.0", None),
        ("not-a-version", "=", "1.0.0", None),
        ("3.0.1", "~", "3.0.0", True),
        ("3.1.0", "~", "3.0.0", False),
        ("3.1.0", "^", "3.0.0", True),
        ("4.0.0", "^", "3.0.0", False),
        ("v1.0.0", "=", "v1.0.0", True),
        ("V1.0.0", "=", "v1.0.0", True),
        ("1.0", "^", "1", True),
        (1, "^", "1", True),
        (1.0, "^", "1", True),
        (1.2, ">", "1.1", True),
        (1.1, ">", "1.1", False),
        (2, ">", "1.1", True),
        ("1.0.0+other", "=", "1.0.0+build", True),
        ("1.0.0", "!=", "1.0.1", True),
        ("1.0.0", ">=", "1.0.0", True),
        ("1.0.0", "<=", "0.9.9", False),
        ("01.0.0", "=", "1.0.0", None),
        (True, "=", "1.0.0", None),
        (None, "=", "1.0.0", None),
    ],
)
def test_sem_ver(version: Any, operator: str, target: str, expected: bool | None) -> None:
    rule = compile_targeting({"sem_ver": [{"var": "version"}, operator, target]}, strict=False)
    assert rule({"version": version}) is expected

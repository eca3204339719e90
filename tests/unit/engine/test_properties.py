"""Properties: compiled rules are total, and fractional rollouts are uniform and stable."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openfeature_litestar import FRACTIONAL_VERSIONS
from openfeature_litestar._engine import compile_targeting

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["", "0", "1", " 2 ", "1.5", "0x1f", "abc", "1.2.3", "v2.0.0"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)
PATHS = st.sampled_from(["a", "b", "a.b", "list", "list.0", "", "targetingKey", "$flagd.flagKey"])
OPERATORS = [
    "if", "==", "===", "!=", "!==", "!", "!!", "or", "and", ">", ">=", "<", "<=", "max", "min",
    "+", "-", "*", "/", "%", "in", "cat", "substr", "merge", "map", "filter", "reduce", "all",
    "none", "some", "missing", "missing_some", "starts_with", "ends_with", "sem_ver",
    "fractional",
]  # fmt: skip


def _rules(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    def extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        operands = st.lists(inner, max_size=4)
        return st.one_of(
            st.builds(lambda op, args: {op: args}, st.sampled_from(OPERATORS), operands),
            st.builds(lambda op, arg: {op: arg}, st.sampled_from(OPERATORS), inner),
            st.builds(lambda p, d: {"var": [p, d]}, PATHS, SCALARS),
            st.builds(lambda x: {"matches": [x, "a+b"]}, inner),
            operands,
        )

    return st.recursive(leaves, extend, max_leaves=12)


RULES = _rules(st.one_of(SCALARS, st.builds(lambda p: {"var": p}, PATHS)))
CONTEXTS = st.fixed_dictionaries(
    {"targetingKey": st.one_of(st.none(), st.text(max_size=6))},
    optional={"a": JSON, "b": JSON, "list": st.lists(JSON, max_size=3)},
).map(lambda ctx: {**ctx, "$flagd": {"flagKey": "f", "timestamp": 1_750_000_000}})


def _json_ish(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_json_ish(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_ish(v, depth + 1) for k, v in value.items())
    return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=RULES,
    contexts=st.lists(CONTEXTS, min_size=1, max_size=3),
    version=st.sampled_from(FRACTIONAL_VERSIONS),
)
def test_lenient_rules_compile_and_never_raise(
    rule: Any, contexts: list[dict[str, Any]], version: Any
) -> None:
    compiled = compile_targeting(rule, strict=False, fractional=version)
    for context in contexts:
        assert _json_ish(compiled(context))


# The 0.999 quantile of the chi-square distribution with 3 degrees of freedom (16.266),
# from standard tables: a fair 4-way split exceeds it one time in a thousand.
CHI_SQUARE_3_DOF_999 = 16.266


@pytest.mark.parametrize("version", FRACTIONAL_VERSIONS)
def test_four_way_split_is_uniform(version: Any) -> None:
    rule = compile_targeting(
        {"fractional": [["a", 25], ["b", 25], ["c", 25], ["d", 25]]}, fractional=version
    )
    counts = dict.fromkeys("abcd", 0)
    keys = 100_000
    for i in range(keys):
        counts[rule({"targetingKey": f"user-{i}", "$flagd": {"flagKey": "rollout"}})] += 1
    expected = keys / 4
    statistic = sum((count - expected) ** 2 / expected for count in counts.values())
    assert statistic < CHI_SQUARE_3_DOF_999, counts


def _split(weights: list[int]) -> Any:
    return compile_targeting(
        {"fractional": [[str(i), w] for i, w in enumerate(weights)]}, strict=False
    )


def _assignments(rule: Any, keys: list[str]) -> list[Any]:
    return [rule({"targetingKey": key, "$flagd": {"flagKey": "f"}}) for key in keys]


KEYS = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True)


# v2 bucketing scales the hash by the weight total, so growing one bucket of three or more
# changes the total and can shift users between the *other* buckets. What holds exactly:
# for a two-way rollout, growing a bucket only moves users into it; with a fixed total,
# moving weight between neighbouring buckets only moves users between those two.
@settings(max_examples=60, deadline=None)
@given(
    weights=st.tuples(st.integers(0, 1000), st.integers(0, 1000)).filter(lambda w: sum(w) > 0),
    grow=st.integers(min_value=1, max_value=5000),
    which=st.integers(min_value=0, max_value=1),
    keys=KEYS,
)
def test_growing_a_rollout_bucket_only_moves_users_into_it(
    weights: tuple[int, int], grow: int, which: int, keys: list[str]
) -> None:
    grown = list(weights)
    grown[which] += grow
    before = _assignments(_split(list(weights)), keys)
    after = _assignments(_split(grown), keys)
    for old, new in zip(before, after, strict=True):
        assert new in (old, str(which))


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=5),
    which=st.integers(min_value=0, max_value=3),
    shift=st.integers(min_value=1, max_value=1000),
    keys=KEYS,
)
def test_moving_weight_between_neighbours_moves_users_only_between_them(
    weights: list[int], which: int, shift: int, keys: list[str]
) -> None:
    which %= len(weights) - 1
    shift = min(shift, weights[which + 1])
    if sum(weights) == 0:
        weights[0] = 1
    moved = list(weights)
    moved[which] += shift
    moved[which + 1] -= shift
    before = _assignments(_split(weights), keys)
    after = _assignments(_split(moved), keys)
    for old, new in zip(before, after, strict=True):
        assert old == new or (old, new) == (str(which + 1), str(which))


def test_nan_is_json_ish_float() -> None:
    assert math.isnan(compile_targeting({"/": [0, 0]})({}))

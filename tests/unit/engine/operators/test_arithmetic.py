"""Semantics of the arithmetic operators, with expectations worked out from json-logic-js."""

from __future__ import annotations

import math
from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # arithmetic
    ({"+": [1, 2]}, 3),
    ({"+": ["1", "2.5"]}, 3.5),
    ({"+": ["3px", 1]}, 4),  # parseFloat reads a numeric prefix
    ({"+": []}, 0),
    ({"+": [{"var": "user.age"}]}, 42),
    ({"*": [2, "3"]}, 6),
    ({"*": ["x"]}, "x"),  # one operand comes back untouched
    ({"-": [5]}, -5),
    ({"-": [5, "2"]}, 3),
    ({"/": [1, 4]}, 0.25),
    ({"/": [1, 0]}, math.inf),
    ({"/": [-1, 0]}, -math.inf),
    ({"%": [7, 3]}, 1),
    ({"%": [-7, 3]}, -1),
    ({"*": [1e308, 10]}, math.inf),
    ({"max": [1, "7", 3]}, 7),
    ({"min": [1, -2.5]}, -2.5),
    ({"max": []}, -math.inf),
    ({"+": [0.1, 0.2]}, 0.30000000000000004),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )


def test_nan_results() -> None:
    for rule in ({"/": [0, 0]}, {"%": [1, 0]}, {"-": ["a", 1]}, {"max": [1, "x"]}):
        result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
        assert isinstance(result, float)
        assert math.isnan(result)


def test_integral_float_results_are_ints() -> None:
    assert type(compile_targeting({"+": [1.5, 1.5]})(OPERATOR_DATA)) is int
    assert type(compile_targeting({"*": [2**60, 2**60]})(OPERATOR_DATA)) is float


def test_huge_integers_do_not_blow_up() -> None:
    rule = compile_targeting({"*": [{"var": "x"}, {"var": "x"}]})
    assert rule({"x": 10**400}) == math.inf
    assert compile_targeting({"<": [{"var": "x"}, "1e500"]})({"x": 10**400}) is False

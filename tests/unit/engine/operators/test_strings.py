"""Semantics of ``in``, ``cat`` and ``substr``, with expectations from json-logic-js."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # in
    ({"in": ["b", "abc"]}, True),
    ({"in": [{"var": "s"}, ["x", "abc"]]}, True),
    ({"in": [1, ["1", 2]]}, False),
    ({"in": [1, [1.0, 2]]}, True),
    ({"in": [True, [1]]}, False),
    ({"in": [None, [None]]}, True),
    ({"in": [{"var": "nope"}, "nullable"]}, True),  # String(null) is "null"
    ({"in": ["a", {"var": "user.tags"}]}, True),
    ({"in": [5, "12345"]}, True),
    ({"in": ["a", None]}, False),
    ({"in": [{"var": "n"}, ["DE", "FR"]]}, False),
    # strings
    ({"cat": ["a", 1, None, True, [1, None, 2], 2.5]}, "a1true1,,22.5"),
    ({"cat": [{"var": "s"}, "-", {"var": "n"}]}, "abc-5"),
    (
        {"cat": [1e21, 1e-7, 0.000001, 123456789012345680000]},
        "1e+211e-70.000001123456789012345680000",
    ),
    ({"substr": ["jsonlogic", 4]}, "logic"),
    ({"substr": ["jsonlogic", -5]}, "logic"),
    ({"substr": ["jsonlogic", 1, 3]}, "son"),
    ({"substr": ["jsonlogic", 4, -2]}, "log"),
    ({"substr": ["jsonlogic", -5, -2]}, "log"),
    ({"substr": ["jsonlogic", 20]}, ""),
    ({"substr": [None, 0, 2]}, "nu"),
    ({"substr": [12345, 1, 2]}, "23"),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )

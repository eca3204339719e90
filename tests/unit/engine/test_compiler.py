"""The compiler core: literals, and arrays holding rules, compile as json-logic-js has them."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting

DATA: dict[str, Any] = {
    "s": "abc",
    "n": 5,
    "f": 2.5,
    "zero": 0,
    "empty": "",
    "t": True,
    "null": None,
    "list": [1, 2, 3],
    "user": {"name": "ann", "tags": ["a", "b"], "age": "42"},
    "targetingKey": "u1",
    "$flagd": {"flagKey": "flag", "timestamp": 1_750_000_000},
}


CASES: list[tuple[Any, Any]] = [
    # literals and arrays with rules inside
    ([1, {"var": "n"}], [1, 5]),
    ("literal", "literal"),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )

"""Semantics of the equality and comparison operators, as json-logic-js has them."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # loose equality
    ({"==": [1, "1"]}, True),
    ({"==": [0, ""]}, True),
    ({"==": [None, False]}, False),
    ({"==": [None, None]}, True),
    ({"==": [{"var": "nope"}, None]}, True),
    ({"==": [True, 1]}, True),
    ({"==": [True, "1"]}, True),
    ({"==": ["true", True]}, False),
    ({"==": [{"var": "list"}, "1,2,3"]}, True),
    ({"==": [{"var": "user.age"}, 42]}, True),
    ({"==": [{"var": "s"}, "abc"]}, True),
    ({"==": [{"var": "n"}, "5"]}, True),
    ({"==": [{"var": "n"}, " 5 "]}, True),
    ({"==": [{"var": "n"}, "0x5"]}, True),
    ({"==": [{"var": "list"}, {"var": "list"}]}, True),
    ({"==": [[1], [1]]}, False),
    ({"!=": [1, "1"]}, False),
    ({"!=": [{"var": "s"}, "abd"]}, True),
    # strict equality
    ({"===": [1, 1.0]}, True),
    ({"===": [1, "1"]}, False),
    ({"===": [1, True]}, False),
    ({"===": [{"var": "s"}, "abc"]}, True),
    ({"===": [{"var": "n"}, "5"]}, False),
    ({"!==": [{"var": "n"}, 5]}, False),
    # comparison
    ({">": [2, 1]}, True),
    ({">": ["10", "9"]}, False),  # strings compare as strings
    ({">": ["10", 9]}, True),  # a string against a number compares numbers
    ({"<": ["a", 1]}, False),  # NaN
    ({">=": [{"var": "user.age"}, 18]}, True),
    ({">=": [{"var": "n"}, 5]}, True),
    ({">=": [{"var": "nope"}, 0]}, True),  # null is 0
    ({"<": [{"var": "n"}, 5]}, False),
    ({"<=": [None, 0]}, True),
    ({"<": [1, {"var": "n"}, 10]}, True),
    ({"<": [1, {"var": "n"}, 5]}, False),
    ({"<=": [1, {"var": "n"}, 5]}, True),
    ({">": [{"var": "t"}, 0]}, True),
    ({"<": [[2], 3]}, True),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )

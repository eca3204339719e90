"""Semantics of the array operators, with expectations worked out from json-logic-js."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # arrays
    ({"merge": [[1, 2], 3, [[4]]]}, [1, 2, 3, [4]]),
    ({"merge": []}, []),
    ({"map": [{"var": "list"}, {"*": [{"var": ""}, 2]}]}, [2, 4, 6]),
    ({"map": [{"var": "nope"}, {"var": ""}]}, []),
    ({"filter": [{"var": "list"}, {">": [{"var": ""}, 1]}]}, [2, 3]),
    ({"reduce": [{"var": "list"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 10]}, 16),
    ({"reduce": [{"var": "nope"}, {"var": "current"}, 10]}, 10),
    ({"all": [{"var": "list"}, {">": [{"var": ""}, 0]}]}, True),
    ({"all": [[], True]}, False),
    ({"some": [{"var": "list"}, {">": [{"var": ""}, 2]}]}, True),
    ({"some": [[], True]}, False),
    ({"none": [{"var": "list"}, {">": [{"var": ""}, 5]}]}, True),
    ({"none": [[], True]}, True),
    ({"all": [{"var": "nope"}, True]}, None),  # JavaScript throws reading null.length
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )

"""Semantics of the logic operators (``if``, ``and``, ``or``, ``!``, ``!!``, ``log``)."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # if
    ({"if": []}, None),
    ({"if": [True, "a", "b"]}, "a"),
    ({"if": [[], "a", "b"]}, "b"),
    ({"if": ["0", "a", "b"]}, "a"),
    ({"if": [False, "a", False, "b", "c"]}, "c"),
    ({"if": [False, "a", {"var": "n"}, "b", "c"]}, "b"),
    ({"if": [{"var": "zero"}, "a"]}, None),
    ({"?:": [{"var": "t"}, 1, 2]}, 1),
    # negation and truthiness
    ({"!": [[]]}, True),
    ({"!": {"var": "empty"}}, True),
    ({"!!": ["0"]}, True),
    ({"!!": [{"var": "user"}]}, True),
    ({"!!": [{"var": "null"}]}, False),
    ({"!!": [{"/": [0, 0]}]}, False),  # NaN is falsy
    # and / or return the deciding operand
    ({"and": [1, "a", 0, "b"]}, 0),
    ({"and": [1, "a"]}, "a"),
    ({"and": [{"==": [1, 1]}, {"==": [1, 2]}, {"==": [1, 1]}]}, False),
    ({"or": [0, "", "x"]}, "x"),
    ({"or": [0, ""]}, ""),
    ({"or": [{"var": "nope"}, {"var": "s"}]}, "abc"),
    ({"or": [{"==": [1, 2]}, {"==": [1, 1]}]}, True),
    ({"and": []}, None),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )


def test_log_is_identity_when_lenient_and_unknown_when_strict() -> None:
    assert compile_targeting({"log": [{"var": "s"}]}, strict=False)(OPERATOR_DATA) == "abc"
    from openfeature_litestar._errors import DocumentError  # noqa: PLC0415

    with pytest.raises(DocumentError):
        compile_targeting({"log": [{"var": "s"}]})

"""Semantics of the data operators (``var``, ``missing``, ``missing_some``), as json-logic-js."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from tests.support import OPERATOR_DATA

CASES: list[tuple[Any, Any]] = [
    # var
    ({"var": "s"}, "abc"),
    ({"var": ["s"]}, "abc"),
    ({"var": "user.name"}, "ann"),
    ({"var": "user.tags.1"}, "b"),
    ({"var": "list.0"}, 1),
    ({"var": "list.01"}, None),
    ({"var": "list.9"}, None),
    ({"var": ["nope", "dflt"]}, "dflt"),
    ({"var": ["null", "dflt"]}, None),  # present null is not missing
    ({"var": ["user.nope.deeper", 7]}, 7),
    ({"var": "$flagd.flagKey"}, "flag"),
    ({"var": {"cat": ["user", ".", "name"]}}, "ann"),
    ({"var": ""}, OPERATOR_DATA),
    ({"var": [[1]]}, None),
    # missing
    ({"missing": ["s", "nope", "empty", "user.name"]}, ["nope", "empty"]),
    ({"missing": [["nope", "s"]]}, ["nope"]),
    ({"missing_some": [1, ["s", "nope"]]}, []),
    ({"missing_some": [2, ["s", "nope"]]}, ["nope"]),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(OPERATOR_DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )


def test_var_reads_mapping_and_list_data() -> None:
    from types import MappingProxyType  # noqa: PLC0415

    rule = compile_targeting({"var": "a.b"})
    assert rule(MappingProxyType({"a": MappingProxyType({"b": 1})})) == 1
    assert rule({"a": [1]}) is None
    assert compile_targeting({"var": "0"}, strict=False)(["x"]) == "x"  # type: ignore[arg-type]

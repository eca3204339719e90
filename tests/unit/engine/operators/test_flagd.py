"""flagd's ``starts_with`` and ``ends_with``, and mistakes in flagd's operators when lenient."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"starts_with": [{"var": "id"}, "abc"]}, {"id": "abcdef"}, True),
        ({"starts_with": [{"var": "id"}, "abc"]}, {"id": "xabc"}, False),
        ({"ends_with": [{"var": "id"}, "xyz"]}, {"id": "uvwxyz"}, True),
        ({"ends_with": [{"var": "id"}, "xyz"]}, {"id": 123}, None),
        ({"starts_with": [{"var": "id"}, "abc"]}, {}, None),
    ],
)
def test_string_operators(rule: Any, data: dict[str, Any], expected: Any) -> None:
    assert compile_targeting(rule)(data) is expected


def test_lenient_custom_operator_mistakes_give_null() -> None:
    rules: list[Any] = [
        {"starts_with": ["abc"]},
        {"ends_with": [{"var": "id"}, 0]},
        {"sem_ver": [{"var": "v"}, "="]},
        {"sem_ver": [{"var": "v"}, "===", "1.0.0"]},
        {"sem_ver": [{"var": "v"}, "=", "1.0.0.0"]},
        {"fractional": [["a", "25"], ["b", 25]]},
        {"fractional": [["a", 2.5], ["b", 25]]},
        {"fractional": [["a", 0], ["b", 0]]},
        {"fractional": []},
        {"var": "$flagd.nope"},
    ]
    for rule in rules:
        compiled = compile_targeting(rule, strict=False)
        assert compiled({"id": "abc", "v": "1.0.0", "targetingKey": "k"}) is None, rule

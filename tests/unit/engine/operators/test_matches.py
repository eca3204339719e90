"""Our ``matches`` operator: RE2 search semantics, linear time on catastrophic patterns."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"matches": [{"var": "email"}, "@example\\.com$"]}, {"email": "a@example.com"}, True),
        ({"matches": [{"var": "email"}, "^b"]}, {"email": "abc"}, False),
        ({"matches": [{"var": "email"}, "b"]}, {"email": "abc"}, True),  # search, not match
        ({"matches": [{"var": "email"}, "b"]}, {"email": 5}, False),
        ({"matches": [{"var": "email"}, "(?i)ABC"]}, {"email": "xabcx"}, True),
    ],
)
def test_string_operators(rule: Any, data: dict[str, Any], expected: Any) -> None:
    assert compile_targeting(rule)(data) is expected


def test_matches_is_linear_on_catastrophic_patterns() -> None:
    rule = compile_targeting({"matches": [{"var": "s"}, "(a+)+$"]})
    assert rule({"s": "a" * 100_000 + "!"}) is False
    assert rule({"s": "a" * 100_000}) is True

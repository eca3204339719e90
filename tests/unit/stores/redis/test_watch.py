"""How the Redis store's watch reads a change notice, checked without a server."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._stores._redis._watch import announced_revision


@pytest.mark.parametrize(("data", "revision"), [("7", 7), (b"12", 12), (7, 7)])
def test_a_notice_announces_the_revision_it_carries(data: Any, revision: int) -> None:
    message = {"type": "message", "channel": "p:production:changes", "data": data}
    assert announced_revision(message) == revision


@pytest.mark.parametrize(
    "message",
    [
        {"type": "subscribe", "channel": "p:production:changes", "data": 1},
        {"type": "message", "data": "seven"},
        {"type": "message", "data": None},
        {"type": "message"},
        {},
    ],
)
def test_anything_else_is_a_notice_of_an_unknown_revision(message: dict[str, Any]) -> None:
    assert announced_revision(message) == -1

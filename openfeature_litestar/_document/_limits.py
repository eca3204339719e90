"""The limits a flag document is held to: its size, its flags, its keys, its nesting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openfeature_litestar._errors import Problem
from openfeature_litestar._pacing import give_way

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_FLAGS",
    "MAX_FLAG_KEY_LENGTH",
    "MAX_NESTING_DEPTH",
    "is_valid_flag_key",
    "nesting_problems",
]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""The largest document text accepted, in bytes (10 MiB)."""

MAX_FLAGS = 10_000
"""The most flags one document may hold."""

MAX_FLAG_KEY_LENGTH = 256
"""The longest flag key accepted, in characters."""

MAX_NESTING_DEPTH = 256
"""The deepest nesting of objects and arrays a document may have (targeting has its own,
tighter limit, :data:`~openfeature_litestar._engine.MAX_TARGETING_DEPTH`)."""


def is_valid_flag_key(key: str) -> bool:
    """Whether ``key`` is an acceptable flag key.

    A flag key is 1 to :data:`MAX_FLAG_KEY_LENGTH` printable characters
    (:meth:`str.isprintable`: no control characters, no line breaks) with no leading or
    trailing whitespace. flagd itself accepts any non-empty string; this rule only
    rejects keys that could not be typed, logged or put in a URL without surprises.
    """
    return 0 < len(key) <= MAX_FLAG_KEY_LENGTH and key.isprintable() and key == key.strip()


_NODES_PER_TURN = 1024  # how often the walk asks whether to give way (a fraction of a ms)


def nesting_problems(data: Any) -> list[Problem]:
    """The problem of ``data`` nesting deeper than :data:`MAX_NESTING_DEPTH`, if it does.

    Returns:
        One problem at the document's root, or an empty list.
    """
    # Walk iteratively: a recursive walk (or Pydantic, or json.dumps) would hit Python's
    # recursion limit on hostile input before any limit of ours could say what is wrong.
    stack: list[tuple[Any, int]] = [(data, 1)]
    visited = 0
    while stack:
        visited += 1
        if not visited % _NODES_PER_TURN:
            give_way()
        node, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            message = f"the document is nested deeper than {MAX_NESTING_DEPTH} levels"
            return [Problem("", message)]
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return []

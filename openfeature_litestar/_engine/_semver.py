"""Semantic versions for flagd's ``sem_ver`` operator.

Versions follow semver.org 2.0.0 with flagd's leniency: an optional ``v``/``V`` prefix,
partial versions padded with zeros (``"1.2"`` is ``1.2.0``, ``"1"`` is ``1.0.0``) and
numbers accepted as their JavaScript string (``1.2`` is ``"1.2"``). Build metadata is
parsed and ignored for comparison, as semver.org requires.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ._js import js_string

__all__ = ["SEMVER_OPERATORS", "SemVerKey", "compare", "parse_version"]

# (major, minor, patch, is_release, prerelease identifiers): tuples order by precedence.
SemVerKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]

SEMVER_OPERATORS: Final = frozenset({"=", "!=", "<", "<=", ">", ">=", "^", "~"})

_NUMBER = r"0|[1-9]\d*"
_IDENTIFIER = r"0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*"
_VERSION = re.compile(
    rf"({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-((?:{_IDENTIFIER})(?:\.(?:{_IDENTIFIER}))*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?\Z",
    re.ASCII,
)
_MAX_LENGTH: Final = 256


def parse_version(value: Any) -> SemVerKey | None:
    """Parse ``value`` into a precedence key, or ``None`` when it is not a version."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = value if isinstance(value, str) else js_string(value)
    if len(text) > _MAX_LENGTH:
        return None
    if text[:1] in ("v", "V"):
        text = text[1:]
    end = len(text)
    for marker in ("-", "+"):
        found = text.find(marker)
        if found != -1:
            end = min(end, found)
    dots = text[:end].count(".")
    if dots < 2:  # noqa: PLR2004 - major.minor.patch
        text = text[:end] + ".0" * (2 - dots) + text[end:]
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch, prerelease = match.groups()
    if prerelease is None:
        return (int(major), int(minor), int(patch), 1, ())
    identifiers = tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in prerelease.split(".")
    )
    return (int(major), int(minor), int(patch), 0, identifiers)


def compare(left: SemVerKey, operator: str, right: SemVerKey) -> bool | None:  # noqa: PLR0911
    """Apply a ``sem_ver`` operator; ``None`` for an operator flagd does not know."""
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    if operator == ">=":
        return left >= right
    if operator == "^":
        return left[0] == right[0]
    if operator == "~":
        return left[0] == right[0] and left[1] == right[1]
    return None

"""The names stores accept for namespaces and key or table prefixes.

Every store checks names with the same rule, so a namespace written through one backend
can be copied to any other, and a name can never smuggle a separator, a wildcard or SQL
into a Redis key pattern, a file name or a table name.
"""

from __future__ import annotations

import re

__all__ = ["MAX_NAME_LENGTH", "check_namespace", "check_prefix"]

MAX_NAME_LENGTH = 64
"""The longest namespace or prefix, in characters."""

_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# A colon is allowed in prefixes only: Redis key prefixes conventionally end with one
# (``openfeature:``), while a namespace becomes part of keys and file names.
_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{0,64}")


def check_namespace(name: str) -> str:
    """Check a namespace name and return it unchanged.

    Args:
        name: The namespace: 1 to 64 characters of ASCII letters, digits, ``_``, ``.``
            and ``-``.

    Returns:
        ``name``, so that a constructor can check and assign in one step.

    Raises:
        ValueError: ``name`` is empty, too long or has another character.
    """
    if _NAMESPACE.fullmatch(name) is None:
        raise ValueError(
            f"invalid namespace {name!r}: use 1 to {MAX_NAME_LENGTH} characters of "
            "A-Z, a-z, 0-9, '_', '.' and '-'"
        )
    return name


def check_prefix(prefix: str) -> str:
    """Check a key or table prefix and return it unchanged.

    Args:
        prefix: The prefix: 0 to 64 characters of ASCII letters, digits, ``_``, ``.``,
            ``:`` and ``-``. Empty is allowed (no prefix).

    Returns:
        ``prefix``, so that a constructor can check and assign in one step.

    Raises:
        ValueError: ``prefix`` is too long or has another character.
    """
    if _PREFIX.fullmatch(prefix) is None:
        raise ValueError(
            f"invalid prefix {prefix!r}: use at most {MAX_NAME_LENGTH} characters of "
            "A-Z, a-z, 0-9, '_', '.', ':' and '-'"
        )
    return prefix

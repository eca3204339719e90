"""flagd's daemon format: ``flags`` written as an array of flags, each with its ``key``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openfeature_litestar._errors import Problem

__all__ = ["flags_array_to_map"]

_FLAGD_DAEMON_SCHEMA_SUFFIX = "flagd.json"


def flags_array_to_map(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Problem]]:
    """``data`` with an array of flags turned into the map keyed by flag key.

    Data whose ``flags`` is not an array is returned as it is.

    Returns:
        The data to validate, and the problems found (an array in a document that does
        not declare flagd's daemon schema, flags without a string key, duplicate keys).
    """
    # flagd's daemon format also allows "flags" as an array of flags with a "key"; the
    # provider format (flags.json) allows only the map. The document's $schema says which
    # one it is written against.
    flags = data.get("flags")
    if not isinstance(flags, list):
        return data, []
    schema = data.get("$schema")
    if not (isinstance(schema, str) and schema.endswith(_FLAGD_DAEMON_SCHEMA_SUFFIX)):
        message = (
            "must be an object keyed by flag key (an array of flags is flagd's daemon "
            'format: declare "$schema" ending in flagd.json to use it)'
        )
        return data, [Problem("flags", message)]
    result: dict[str, Any] = {}
    problems: list[Problem] = []
    for index, flag in enumerate(flags):
        key = flag.get("key") if isinstance(flag, Mapping) else None
        if not isinstance(key, str):
            problems.append(Problem(f"flags.{index}.key", "a flag in an array needs a string key"))
        elif key in result:
            problems.append(Problem(f"flags.{index}.key", f"duplicate flag key {key!r}"))
        else:
            result[key] = {name: value for name, value in flag.items() if name != "key"}
    return {**data, "flags": result}, problems

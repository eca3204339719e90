"""Reporting a document that fails validation: every problem, each with its path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine import RuleCompiler
from openfeature_litestar._errors import DocumentError, Problem

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["problems_from", "raw_targeting_problems"]

_UNION_MEMBER_TAGS = frozenset({"bool", "int", "float", "str", "dict[str,any]"})
_UNION_MESSAGES = {
    "metadata": "must be a boolean, string or number",
    "variants": "must be a boolean, string, number or object",
}


def raw_targeting_problems(data: Mapping[str, Any], *, max_nodes: int) -> list[Problem]:
    """The targeting problems of a document's flags, read from its unvalidated data.

    This lets a document that fails validation report its targeting problems too, so
    one round of fixes is enough.
    """
    flags, evaluators = data.get("flags"), data.get("$evaluators")
    if not isinstance(flags, Mapping):
        return []
    rules = RuleCompiler(
        evaluators if isinstance(evaluators, Mapping) else {}, max_document_nodes=max_nodes
    )
    problems: list[Problem] = []
    for key, flag in flags.items():
        targeting = flag.get("targeting") if isinstance(flag, Mapping) else None
        if not isinstance(targeting, Mapping) or not targeting:
            continue
        try:
            rules.compile(targeting, f"flags.{key}.targeting")
        except DocumentError as exc:
            if rules.exhausted is not None:
                return [*problems, rules.exhausted]
            problems.extend(exc.problems)
    return problems


def problems_from(exc: ValidationError) -> list[Problem]:
    """Pydantic's validation errors as problems, in our words, each reported once."""
    problems: dict[str, Problem] = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        # A value that fits no member of a union gets one error per member; say it once.
        if loc and loc[-1] in _UNION_MEMBER_TAGS:
            loc.pop()
            field = next((part for part in reversed(loc) if part in _UNION_MESSAGES), None)
            message = _UNION_MESSAGES.get(field or "", message)
        if error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        path = ".".join(loc)
        problems.setdefault(f"{path}\0{message}", Problem(path, message))
    return list(problems.values())

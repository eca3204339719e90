"""Our ``matches`` operator: a string tested against an RE2 pattern, linear in time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import re2

from openfeature_litestar._engine._nodes import NULL, Node
from openfeature_litestar._engine._registry import operator
from openfeature_litestar._engine._text import well_formed

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler


@operator("matches")
def _build_matches(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del depth
    if len(args) != 2:  # noqa: PLR2004
        c.problem(path, f"matches takes a string and a pattern, got {len(args)} operands")
        return NULL
    pattern = raw[1]
    if not isinstance(pattern, str):
        c.problem(f"{path}.1", "the matches pattern is a string literal")
        return NULL
    options = re2.Options()
    options.log_errors = False
    try:
        regex = re2.compile(pattern, options=options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        c.problem(f"{path}.1", f"RE2 rejects the pattern {pattern!r}: {detail}")
        return NULL
    if not isinstance(raw[0], (str, dict)):
        c.lint(f"{path}.0", f"matches tests a string, got {raw[0]!r}")
    subject = args[0].fn
    search = regex.search

    def matches(data: Any) -> bool:
        value = subject(data)
        if type(value) is not str:
            return False
        try:
            return search(value) is not None
        except UnicodeEncodeError:  # a lone surrogate: RE2's binding cannot encode it
            return search(well_formed(value)) is not None

    return Node(matches, boolish=True)

"""Compiled sub-trees: the :class:`Node` every operator builds, and constant folding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

Fn = Callable[[Any], Any]
"""A compiled sub-tree's closure: evaluation data in, JSON Logic value out."""


@dataclass(slots=True)
class Node:
    """A compiled sub-tree, with what the compiler knows of it to specialise its parents."""

    fn: Fn
    const: bool = False
    value: Any = None
    key: str | None = None  # set for {"var": "<key>"}: a one-key lookup, default null
    boolish: bool = False  # always returns True, False or None


def constant(value: Any) -> Node:
    """A node that always gives ``value``, known at compile time."""

    def fn(_: Any) -> Any:
        return value

    return Node(fn, const=True, value=value, boolish=value is None or isinstance(value, bool))


def nothing(_: Any) -> None:
    """The rule of an empty targeting: always ``None``."""
    return


NULL: Final = constant(None)
"""The node of ``null``, also what a rejected operator compiles to."""


def fold(node: Node) -> Node:
    """Evaluate a node whose operands are all constant once, now, instead of per call.

    A node that raises stays as it is, so that the rule's fence turns the error into
    ``None`` at run time exactly as it would without folding.
    """
    try:
        value = node.fn(None)
    except Exception:
        return node
    return constant(value)


def arg(args: list[Node], index: int) -> Node:
    """The operand at ``index``; an absent operand reads as ``null``, as in json-logic-js."""
    return args[index] if index < len(args) else NULL

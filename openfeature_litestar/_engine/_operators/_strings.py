"""The membership and string operators: ``in``, ``cat`` and ``substr``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine._js import join_item, js_lt, js_string, strict_eq, to_number
from openfeature_litestar._engine._nodes import Node, arg, constant
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler


def _contains(container: Any, item: Any) -> bool:
    if type(container) is str:
        return js_string(item) in container
    if isinstance(container, (list, tuple)):
        return any(strict_eq(item, element) for element in container)
    if isinstance(container, str):
        return js_string(item) in container
    return False


def _in_const_list(node: Node, items: list[Any]) -> Node:
    """Membership in a constant array, by strict equality, as set lookups."""
    strings = frozenset(item for item in items if type(item) is str)
    numbers = frozenset(
        item
        for item in items
        if type(item) in (int, float) and item == item  # noqa: PLR0124 - NaN never matches
    )
    singles = tuple(item for item in items if item is None or isinstance(item, bool))
    get = node.fn
    key = node.key

    def member(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is int or kind is float:
            return value in numbers
        if value is None or kind is bool:
            return any(value is single for single in singles)
        if isinstance(value, str):
            return str(value) in strings
        return False

    if key is not None and not numbers and not singles:

        def member_str_key(data: Any) -> bool:
            value: Any = data.get(key) if type(data) is dict else get(data)
            if type(value) is str:
                return value in strings
            return member(value)

        return Node(member_str_key, boolish=True)
    return Node(lambda data: member(get(data)), boolish=True)


@operator("in", arity=(2, 2))
def _build_in(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    item, container = arg(args, 0), arg(args, 1)
    if container.const and isinstance(container.value, list):
        return _in_const_list(item, container.value)
    if container.const and isinstance(container.value, str):
        text: str = container.value
        item_fn = item.fn
        return Node(lambda data: js_string(item_fn(data)) in text, boolish=True)
    item_fn, container_fn = item.fn, container.fn
    return Node(lambda data: _contains(container_fn(data), item_fn(data)), boolish=True)


@operator("cat", arity=(1, None))
def _build_cat(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    fns = tuple(node.fn for node in args)
    if len(fns) == 2:  # noqa: PLR2004 - the common prefix + value shape
        a, b = fns
        return Node(lambda data: join_item(a(data)) + join_item(b(data)))
    return Node(lambda data: "".join([join_item(fn(data)) for fn in fns]))


def _integer(value: Any) -> float:
    """JavaScript's ToIntegerOrInfinity."""
    number = to_number(value)
    if number != number:  # noqa: PLR0124 - NaN
        return 0
    if math.isinf(number):
        return number
    return math.trunc(number)


def _substr(source: Any, start: Any, length: Any, *, has_length: bool) -> str:
    text = js_string(source)
    size = len(text)
    if has_length and js_lt(length, 0):
        rest = _substr(text, start, None, has_length=False)
        return _substr(rest, 0, len(rest) + _integer(length), has_length=True)
    begin = _integer(start)
    if begin < 0:
        begin = max(size + begin, 0)
    begin = min(begin, size)
    count = size - begin if not has_length else min(max(_integer(length), 0), size - begin)
    first = int(begin)
    return text[first : first + int(count)]


@operator("substr", arity=(2, 3))
def _build_substr(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    has_length = len(args) >= 3  # noqa: PLR2004
    source, start, length = arg(args, 0).fn, arg(args, 1).fn, arg(args, 2).fn
    if len(args) == 0:
        return constant("undefined")  # String(undefined)
    return Node(
        lambda data: _substr(source(data), start(data), length(data), has_length=has_length)
    )

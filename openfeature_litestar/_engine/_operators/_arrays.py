"""The array operators: ``map``, ``filter``, ``reduce``, ``all``, ``none``, ``some``, ``merge``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine._js import truthy
from openfeature_litestar._engine._nodes import Node, arg
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler
    from openfeature_litestar._engine._registry import Builder


@operator("merge", arity=(1, None))
def _build_merge(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    fns = tuple(node.fn for node in args)

    def merge(data: Any) -> list[Any]:
        merged: list[Any] = []
        for fn in fns:
            value = fn(data)
            if isinstance(value, (list, tuple)):
                merged.extend(value)
            else:
                merged.append(value)
        return merged

    return Node(merge)


@operator("map", arity=(2, 2))
def _build_map(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    items, logic = arg(args, 0).fn, arg(args, 1).fn

    def map_(data: Any) -> list[Any]:
        values = items(data)
        if not isinstance(values, (list, tuple)):
            return []
        return [logic(value) for value in values]

    return Node(map_)


@operator("filter", arity=(2, 2))
def _build_filter(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    items, logic = arg(args, 0).fn, arg(args, 1).fn

    def filter_(data: Any) -> list[Any]:
        values = items(data)
        if not isinstance(values, (list, tuple)):
            return []
        return [value for value in values if truthy(logic(value))]

    return Node(filter_)


@operator("reduce", arity=(3, 3))
def _build_reduce(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    items, logic, initial = arg(args, 0).fn, arg(args, 1).fn, arg(args, 2).fn

    def reduce_(data: Any) -> Any:
        values = items(data)
        accumulator = initial(data)
        if not isinstance(values, (list, tuple)):
            return accumulator
        for value in values:
            accumulator = logic({"current": value, "accumulator": accumulator})
        return accumulator

    return Node(reduce_)


def _quantifier(kind: str) -> Builder:
    def build(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
        del c, raw, path, depth
        items, logic = arg(args, 0).fn, arg(args, 1).fn

        def quantify(data: Any) -> bool | None:
            values = items(data)
            if values is None:
                return None  # reading .length of null throws in JavaScript
            if not isinstance(values, (list, tuple, str)) or not values:
                return kind == "none"
            if kind == "all":
                return all(truthy(logic(value)) for value in values)
            found = any(truthy(logic(value)) for value in values)
            return found if kind == "some" else not found

        return Node(quantify, boolish=True)

    return build


operator("all", arity=(2, 2))(_quantifier("all"))
operator("some", arity=(2, 2))(_quantifier("some"))
operator("none", arity=(2, 2))(_quantifier("none"))

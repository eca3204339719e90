"""The arithmetic operators, in float64 as JavaScript does: ``+ - * / %``, ``max``, ``min``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine._js import NAN, number_out, parse_float, to_number
from openfeature_litestar._engine._nodes import NULL, Node, arg, constant
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler
    from openfeature_litestar._engine._registry import Builder


@operator("+", arity=(1, None))
def _build_add(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    fns = tuple(node.fn for node in args)

    def add(data: Any) -> Any:
        total = 0.0
        for fn in fns:
            total += parse_float(fn(data))
        return number_out(total)

    return Node(add)


@operator("*", arity=(2, None))
def _build_mul(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    if not args:
        return NULL  # reduce() of nothing throws in JavaScript: flagd gives null
    if len(args) == 1:
        return args[0]  # reduce() of one element returns it untouched
    first, *others = (node.fn for node in args)
    rest = tuple(others)

    def mul(data: Any) -> Any:
        product = parse_float(first(data))
        for fn in rest:
            product *= parse_float(fn(data))
        return number_out(product)

    return Node(mul)


@operator("-", arity=(1, None))
def _build_sub(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    if not args:
        return constant(NAN)
    left = args[0].fn
    if len(args) == 1:
        return Node(lambda data: number_out(-to_number(left(data))))
    right = args[1].fn
    return Node(lambda data: number_out(to_number(left(data)) - to_number(right(data))))


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or left != left:  # noqa: PLR0124 - NaN
            return NAN
        negative = (left < 0) != (math.copysign(1.0, right) < 0)
        return -math.inf if negative else math.inf
    return left / right


@operator("/", arity=(2, 2))
def _build_div(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    left, right = arg(args, 0).fn, arg(args, 1).fn
    return Node(lambda data: number_out(_divide(to_number(left(data)), to_number(right(data)))))


def _remainder(left: float, right: float) -> float:
    try:
        return math.fmod(left, right)
    except ValueError:  # x % 0 and Infinity % x are NaN in JavaScript
        return NAN


@operator("%", arity=(2, 2))
def _build_mod(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    left, right = arg(args, 0).fn, arg(args, 1).fn
    return Node(lambda data: number_out(_remainder(to_number(left(data)), to_number(right(data)))))


def _extreme(*, largest: bool) -> Builder:
    def build(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
        del c, raw, path, depth
        fns = tuple(node.fn for node in args)
        empty = -math.inf if largest else math.inf

        def pick(data: Any) -> Any:
            best = empty
            for fn in fns:
                number = to_number(fn(data))
                if number != number:  # noqa: PLR0124 - NaN wins in Math.max/min
                    return NAN
                if (number > best) if largest else (number < best):
                    best = number
            return number_out(best)

        return Node(pick)

    return build


operator("max", arity=(1, None))(_extreme(largest=True))
operator("min", arity=(1, None))(_extreme(largest=False))

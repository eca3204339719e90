"""The logic operators: ``if`` (and ``?:``), ``and``, ``or``, ``!``, ``!!`` and ``log``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine._js import truthy
from openfeature_litestar._engine._nodes import NULL, Fn, Node, arg
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler


@operator("if", "?:", arity=(1, None))
def _build_if(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    if not args:
        return NULL
    if len(args) % 2 == 0:
        args = [*args, NULL]
    boolish = all(node.boolish for node in args[1::2]) and args[-1].boolish
    if len(args) == 1:
        only = args[0]
        return Node(only.fn, boolish=only.boolish)
    if len(args) == 3:  # noqa: PLR2004 - if/then/else
        cond, then, other = args
        return Node(_if3(cond, then, other), boolish=boolish)
    pairs = tuple((args[i].fn, args[i + 1].fn) for i in range(0, len(args) - 1, 2))
    last = args[-1].fn

    def chain(data: Any) -> Any:
        for test, then_fn in pairs:
            if truthy(test(data)):
                return then_fn(data)
        return last(data)

    return Node(chain, boolish=boolish)


def _if3(cond: Node, then: Node, other: Node) -> Fn:
    test = cond.fn
    if then.const and other.const:
        yes, no = then.value, other.value
        if cond.boolish:
            return lambda data: yes if test(data) is True else no
        return lambda data: yes if truthy(test(data)) else no
    then_fn, other_fn = then.fn, other.fn
    if cond.boolish:
        return lambda data: then_fn(data) if test(data) is True else other_fn(data)
    return lambda data: then_fn(data) if truthy(test(data)) else other_fn(data)


@operator("and", arity=(1, None))
def _build_and(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    return _logic(args, want=False)


@operator("or", arity=(1, None))
def _build_or(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    return _logic(args, want=True)


def _logic(args: list[Node], *, want: bool) -> Node:  # noqa: C901 - one closure per shape
    """``and`` (stop at the first falsy operand) or ``or`` (stop at the first truthy one)."""
    if not args:
        return NULL
    boolish = all(node.boolish for node in args)
    if len(args) == 1:
        return Node(args[0].fn, boolish=boolish)
    fns = tuple(node.fn for node in args)
    first, *rest = fns
    others = tuple(rest)
    if boolish:
        # Operands are True, False or None: truthy means "is True".
        if want:

            def any_true(data: Any) -> Any:
                value = first(data)
                if value is True:
                    return value
                for fn in others:
                    value = fn(data)
                    if value is True:
                        return value
                return value

            return Node(any_true, boolish=True)

        if len(fns) == 3:  # noqa: PLR2004 - a common shape, unrolled
            a, b, last = fns

            def all3(data: Any) -> Any:
                value = a(data)
                if value is not True:
                    return value
                value = b(data)
                if value is not True:
                    return value
                return last(data)

            return Node(all3, boolish=True)

        def all_true(data: Any) -> Any:
            value = first(data)
            if value is not True:
                return value
            for fn in others:
                value = fn(data)
                if value is not True:
                    return value
            return value

        return Node(all_true, boolish=True)

    def general(data: Any) -> Any:
        value = first(data)
        if truthy(value) is want:
            return value
        for fn in others:
            value = fn(data)
            if truthy(value) is want:
                return value
        return value

    return Node(general)


@operator("!", arity=(1, 1))
def _build_not(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    operand = arg(args, 0)
    fn = operand.fn
    if operand.boolish:
        return Node(lambda data: fn(data) is not True, boolish=True)
    return Node(lambda data: not truthy(fn(data)), boolish=True)


@operator("!!", arity=(1, 1))
def _build_not_not(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    fn = arg(args, 0).fn
    return Node(lambda data: truthy(fn(data)), boolish=True)


@operator("log", arity=(1, 1), lenient_only=True)
def _build_log(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del c, raw, path, depth
    operand = arg(args, 0)
    return Node(operand.fn, boolish=operand.boolish)

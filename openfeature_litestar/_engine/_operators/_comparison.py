"""The equality and comparison operators: ``== === != !==`` and ``< <= > >=``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine._js import js_le, js_lt, loose_eq, strict_eq
from openfeature_litestar._engine._nodes import Node, arg
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature_litestar._engine._compiler import Compiler
    from openfeature_litestar._engine._registry import Builder


def _eq_const(node: Node, const: Any, *, strict: bool, negate: bool) -> Node:
    """``x == const`` (or ``===``, ``!=``, ``!==``) with the comparison chosen up front."""
    get = node.fn
    key = node.key
    if isinstance(const, str):
        # Only a string equals a string strictly; loosely, numbers, booleans and arrays
        # may too, which the general comparison handles.
        if strict:
            if key is not None:

                def str_strict_key(data: Any) -> bool:
                    value: Any = data.get(key) if type(data) is dict else get(data)
                    return (type(value) is str and value == const) is not negate

                return Node(str_strict_key, boolish=True)
            return Node(
                lambda data: (strict_eq(get(data), const)) is not negate,
                boolish=True,
            )
        if key is not None:

            def str_loose_key(data: Any) -> bool:
                value: Any = data.get(key) if type(data) is dict else get(data)
                if type(value) is str:
                    return (value == const) is not negate
                return loose_eq(value, const) is not negate

            return Node(str_loose_key, boolish=True)

        def str_loose(data: Any) -> bool:
            value = get(data)
            if type(value) is str:
                return (value == const) is not negate
            return loose_eq(value, const) is not negate

        return Node(str_loose, boolish=True)
    compare_fn = strict_eq if strict else loose_eq
    return Node(lambda data: compare_fn(get(data), const) is not negate, boolish=True)


def _equality(*, strict: bool, negate: bool) -> Builder:
    compare_fn = strict_eq if strict else loose_eq

    def build(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
        del c, raw, path, depth
        left, right = arg(args, 0), arg(args, 1)
        if right.const and not left.const and not isinstance(right.value, (list, dict)):
            return _eq_const(left, right.value, strict=strict, negate=negate)
        if left.const and not right.const and not isinstance(left.value, (list, dict)):
            return _eq_const(right, left.value, strict=strict, negate=negate)
        left_fn, right_fn = left.fn, right.fn
        return Node(
            lambda data: compare_fn(left_fn(data), right_fn(data)) is not negate,
            boolish=True,
        )

    return build


operator("==", arity=(2, 2))(_equality(strict=False, negate=False))
operator("!=", arity=(2, 2))(_equality(strict=False, negate=True))
operator("===", arity=(2, 2))(_equality(strict=True, negate=False))
operator("!==", arity=(2, 2))(_equality(strict=True, negate=True))


def _num_const(node: Node) -> float | int | None:
    value = node.value
    if node.const and type(value) in (int, float):
        return value  # type: ignore[no-any-return]
    return None


def _cmp_const(node: Node, bound: float, *, inclusive: bool, below: bool) -> Node:
    """``x < n``, ``x <= n``, ``x > n`` or ``x >= n`` for a constant number ``n``."""
    get = node.fn
    key = node.key
    base = js_le if inclusive else js_lt

    def general(value: Any) -> bool:
        return base(value, bound) if below else base(bound, value)

    if key is not None and not below and inclusive:

        def at_least_key(data: Any) -> bool:
            value: Any = data.get(key) if type(data) is dict else get(data)
            kind = type(value)
            if kind is int or kind is float:
                return bool(value >= bound)
            return general(value)

        return Node(at_least_key, boolish=True)
    test: Callable[[Any], Any]
    if below:
        test = (lambda v: v <= bound) if inclusive else (lambda v: v < bound)
    else:
        test = (lambda v: v >= bound) if inclusive else (lambda v: v > bound)

    def compare_number(data: Any) -> bool:
        value: Any = get(data)
        kind = type(value)
        if kind is int or kind is float:
            return bool(test(value))
        return general(value)

    return Node(compare_number, boolish=True)


def _comparison(*, inclusive: bool, greater: bool) -> Builder:
    base = js_le if inclusive else js_lt

    def build(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
        del c, raw, path, depth
        left, right = arg(args, 0), arg(args, 1)
        if len(args) >= 3 and not greater:  # noqa: PLR2004 - the "between" form
            low, mid, high = left.fn, right.fn, args[2].fn

            def between(data: Any) -> bool:
                middle = mid(data)
                return base(low(data), middle) and base(middle, high(data))

            return Node(between, boolish=True)
        number = _num_const(right)
        if number is not None and not left.const:
            return _cmp_const(left, number, inclusive=inclusive, below=not greater)
        number = _num_const(left)
        if number is not None and not right.const:
            return _cmp_const(right, number, inclusive=inclusive, below=greater)
        left_fn, right_fn = left.fn, right.fn
        if greater:
            return Node(lambda data: base(right_fn(data), left_fn(data)), boolish=True)
        return Node(lambda data: base(left_fn(data), right_fn(data)), boolish=True)

    return build


operator("<", arity=(2, 3))(_comparison(inclusive=False, greater=False))
operator("<=", arity=(2, 3))(_comparison(inclusive=True, greater=False))
operator(">", arity=(2, 2))(_comparison(inclusive=False, greater=True))
operator(">=", arity=(2, 2))(_comparison(inclusive=True, greater=True))

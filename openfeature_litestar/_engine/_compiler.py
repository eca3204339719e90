"""Compile flagd targeting (JSON Logic plus flagd's operators) into Python closures.

A targeting tree is validated and compiled once; the resulting :data:`Rule` is a closure
over closures that reads the evaluation data directly and never walks JSON at run time.
The semantics are json-logic-js's (flagd's reference) plus flagd's ``fractional``,
``sem_ver``, ``starts_with`` and ``ends_with`` and our ``matches`` (RE2).

Choices worth knowing:

* Arithmetic runs in float64, as in JavaScript; an integral result within 2**53 comes
  back as ``int`` (``{"+": [1, 2]}`` is ``3``), any other result as ``float``.
* ``log`` is accepted only when ``strict=False`` (flagd knows it; its schema does not) and
  returns its argument without printing anything.
* An operand that is absent (``{"==": [1]}``) reads as ``null``.
* ``var`` walks objects by key and arrays by index; a path that is neither a string nor
  a number gives ``null``.
* Constant sub-trees are folded at compile time; do not mutate what a rule returns.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import re2

from openfeature_litestar._errors import DocumentError, Problem

from . import _fractional as frac
from ._js import (
    NAN,
    join_item,
    js_le,
    js_lt,
    js_string,
    loose_eq,
    number_out,
    parse_float,
    strict_eq,
    to_number,
    truthy,
)
from ._semver import SEMVER_OPERATORS, compare, parse_version
from ._text import well_formed

__all__ = ["MAX_TARGETING_DEPTH", "MAX_TARGETING_NODES", "Rule", "compile_targeting"]

Rule = Callable[[Mapping[str, Any]], Any]
"""A compiled targeting rule: evaluation data in, JSON Logic result out; never raises."""

MAX_TARGETING_DEPTH: Final = 64
"""The deepest nesting of operators and arrays a rule may have, ``$ref`` expansion included."""

MAX_TARGETING_NODES: Final = 10_000
"""The most values (operators, arrays, literals) a rule may have after ``$ref`` expansion."""

_Fn = Callable[[Any], Any]
_MISSING: Final[Any] = object()
_FLAGD_PROPERTIES: Final = frozenset({"$flagd.timestamp", "$flagd.flagKey"})

# (minimum, maximum) operand counts from flagd's targeting schema; checked when strict.
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "if": (1, None),
    "?:": (1, None),
    "==": (2, 2),
    "===": (2, 2),
    "!=": (2, 2),
    "!==": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "<": (2, 3),
    "<=": (2, 3),
    "%": (2, 2),
    "/": (2, 2),
    "map": (2, 2),
    "filter": (2, 2),
    "all": (2, 2),
    "none": (2, 2),
    "some": (2, 2),
    "in": (2, 2),
    "substr": (2, 3),
    "reduce": (3, 3),
    "*": (2, None),
    "!": (1, 1),
    "!!": (1, 1),
    "or": (1, None),
    "and": (1, None),
    "+": (1, None),
    "-": (1, None),
    "max": (1, None),
    "min": (1, None),
    "merge": (1, None),
    "cat": (1, None),
    "missing_some": (2, 2),
    "starts_with": (2, 2),
    "ends_with": (2, 2),
    "sem_ver": (3, 3),
    "log": (1, 1),
}


class _Abort(Exception):  # noqa: N818 - internal control flow, never escapes
    """Stop compiling: a limit was exceeded and going on could take unbounded work."""


@dataclass(slots=True)
class _Node:
    """A compiled sub-tree."""

    fn: _Fn
    const: bool = False
    value: Any = None
    key: str | None = None  # set for {"var": "<key>"}: a one-key lookup, default null
    boolish: bool = False  # always returns True, False or None


def _constant(value: Any) -> _Node:
    def fn(_: Any) -> Any:
        return value

    return _Node(fn, const=True, value=value, boolish=value is None or isinstance(value, bool))


def _nothing(_: Any) -> None:
    return None


_NULL: Final = _constant(None)


# --- data access -----------------------------------------------------------------------


def _index_of(key: str) -> int:
    if key.isdigit() and key.isascii() and (key == "0" or key[0] != "0"):
        return int(key)
    return -1


def _walk(data: Any, steps: tuple[tuple[str, int], ...], default: Any) -> Any:
    for key, index in steps:
        if isinstance(data, Mapping):
            data = data.get(key, _MISSING)
            if data is _MISSING:
                return default
        elif isinstance(data, (list, tuple)):
            if 0 <= index < len(data):
                data = data[index]
            else:
                return default
        else:
            return default
    return data


def _steps(path: str) -> tuple[tuple[str, int], ...]:
    return tuple((key, _index_of(key)) for key in path.split("."))


def _var_fn(path: Any, default: Any) -> _Fn:
    """A lookup of a constant path with a constant default."""
    if path is None or path == "":
        return lambda data: data
    if isinstance(path, bool) or not isinstance(path, (str, int, float)):
        return lambda _: None
    steps = _steps(js_string(path))
    if len(steps) == 1:
        key = steps[0][0]

        def one(data: Any) -> Any:
            if type(data) is dict:
                return data.get(key, default)
            return _walk(data, steps, default)

        return one
    if len(steps) == 2:  # noqa: PLR2004 - the common "user.name" shape
        first, second = steps[0][0], steps[1][0]

        def two(data: Any) -> Any:
            if type(data) is dict:
                inner = data.get(first)
                if type(inner) is dict:
                    return inner.get(second, default)
            return _walk(data, steps, default)

        return two
    return lambda data: _walk(data, steps, default)


def _dynamic_var(data: Any, path: Any, default: Any) -> Any:
    if path is None or path == "":
        return data
    if isinstance(path, bool) or not isinstance(path, (str, int, float)):
        return None
    return _walk(data, _steps(js_string(path)), default)


# --- the compiler ----------------------------------------------------------------------


class _Compiler:
    def __init__(
        self,
        evaluators: Mapping[str, Any],
        *,
        strict: bool,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.evaluators = evaluators
        self.strict = strict
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.problems: list[Problem] = []
        self.refs: list[str] = []

    # -- bookkeeping

    def problem(self, path: str, message: str) -> None:
        if self.refs:
            message = f"in $evaluators.{self.refs[-1]}: {message}"
        self.problems.append(Problem(path, message))

    def quiet(self, path: str, message: str) -> _Node:
        """A problem flagd evaluates to null: an error when strict, else a null rule."""
        if self.strict:
            self.problem(path, message)
        return _NULL

    def count(self, path: str) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.problem(path, f"the rule has more than {self.max_nodes} nodes")
            raise _Abort

    # -- tree walk

    def compile(self, tree: Any, path: str, depth: int) -> _Node:
        self.count(path)
        if isinstance(tree, dict):
            return self.compile_object(tree, path, depth + 1)
        if isinstance(tree, list):
            return self.compile_array(tree, path, depth + 1)
        if tree is None or isinstance(tree, (str, bool, int, float)):
            return _constant(tree)
        self.problem(path, f"{type(tree).__name__} is not a JSON value")
        return _NULL

    def compile_array(self, items: list[Any], path: str, depth: int) -> _Node:
        if depth > self.max_depth:
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return _NULL
        nodes = [self.compile(item, f"{path}.{i}", depth) for i, item in enumerate(items)]
        if all(node.const for node in nodes):
            return _constant([node.value for node in nodes])
        fns = tuple(node.fn for node in nodes)
        return _Node(lambda data: [fn(data) for fn in fns])

    def compile_object(  # noqa: C901, PLR0911 - one early exit per kind of problem
        self, tree: dict[str, Any], path: str, depth: int
    ) -> _Node:
        if depth > self.max_depth:
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return _NULL
        if len(tree) != 1:
            if not tree:
                return self.quiet(path, "an empty object is not a rule")
            keys = ", ".join(repr(key) for key in tree)
            self.problem(path, f"a rule has exactly one operator, this object has {keys}")
            return _NULL
        ((op, raw),) = tree.items()
        if op == "$ref":
            return self.compile_ref(raw, path, depth)
        sub = f"{path}.{op}"
        if isinstance(raw, list):
            raw_args = raw
            paths = [f"{sub}.{i}" for i in range(len(raw))]
        else:
            raw_args = [raw]
            paths = [sub]
        builder = _BUILDERS.get(op)
        if builder is None or (op == "log" and self.strict):
            self.problem(path, f"unknown operator {op!r}")
            return _NULL
        arity = _ARITY.get(op)
        if self.strict and arity is not None:
            low, high = arity
            count = len(raw_args)
            if count < low or (high is not None and count > high):
                wanted = f"{low}" if low == high else f"{low} to {high or 'any'}"
                self.problem(sub, f"{op!r} takes {wanted} operands, got {count}")
                return _NULL
        if op in _RAW_BUILDERS:
            return builder(self, raw_args, paths, sub, depth)
        args = [self.compile(arg, p, depth) for arg, p in zip(raw_args, paths, strict=True)]
        node = builder(self, args, raw_args, sub, depth)
        if not node.const and op not in _IMPURE and all(arg.const for arg in args):
            node = _fold(node)
        return node

    def compile_ref(self, name: Any, path: str, depth: int) -> _Node:
        ref_path = f"{path}.$ref"
        if not isinstance(name, str):
            self.problem(ref_path, "$ref takes the name of an evaluator")
            return _NULL
        if name in self.refs:
            chain = " -> ".join([*self.refs[self.refs.index(name) :], name])
            self.problem(ref_path, f"$ref cycle: {chain}")
            return _NULL
        if name not in self.evaluators:
            self.problem(ref_path, f"$ref to missing evaluator {name!r}")
            return _NULL
        self.refs.append(name)
        try:
            # The reference is replaced by its target: it adds no level of its own.
            self.nodes -= 1
            return self.compile(self.evaluators[name], path, depth - 1)
        finally:
            self.refs.pop()


def _fold(node: _Node) -> _Node:
    try:
        value = node.fn(None)
    except Exception:
        return node
    return _constant(value)


_Builder = Callable[[_Compiler, Any, Any, str, int], _Node]
_BUILDERS: dict[str, _Builder] = {}
_RAW_BUILDERS: set[str] = set()
_IMPURE: Final = frozenset({"var", "missing", "missing_some", "fractional"})


def _op(*names: str, raw: bool = False) -> Callable[[_Builder], _Builder]:
    def register(builder: _Builder) -> _Builder:
        for name in names:
            _BUILDERS[name] = builder
            if raw:
                _RAW_BUILDERS.add(name)
        return builder

    return register


def _arg(args: list[_Node], index: int) -> _Node:
    return args[index] if index < len(args) else _NULL


# --- data operators --------------------------------------------------------------------


@_op("var")
def _build_var(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del depth
    path_node = _arg(args, 0)
    default_node = _arg(args, 1)
    if c.strict:
        first = raw[0] if raw else None
        if not isinstance(first, str) and not (first is None and not raw):
            c.problem(path, "var takes a path string")
        elif (
            isinstance(first, str)
            and first.startswith("$flagd.")
            and first not in _FLAGD_PROPERTIES
        ):
            c.problem(path, f"unknown flagd property {first!r} (flagd has timestamp, flagKey)")
        for i, extra in enumerate(raw[1:], start=1):
            if isinstance(extra, (dict, list)):
                c.problem(f"{path}.{i}", "a var default is a literal")
    if path_node.const and default_node.const:
        fn = _var_fn(path_node.value, default_node.value)
        key = path_node.value
        simple = (
            isinstance(key, str) and key != "" and "." not in key and default_node.value is None
        )
        return _Node(fn, key=key if simple else None)
    path_fn, default_fn = path_node.fn, default_node.fn
    return _Node(lambda data: _dynamic_var(data, path_fn(data), default_fn(data)))


def _missing_keys(data: Any, keys: Any) -> list[Any]:
    missing = []
    for key in keys:
        value = _dynamic_var(data, key, None)
        if value is None or value == "":
            missing.append(key)
    return missing


@_op("missing")
def _build_missing(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del depth
    if c.strict and not all(isinstance(key, str) for key in raw):
        c.problem(path, "missing takes a list of path strings")
    fns = tuple(node.fn for node in args)

    def fn(data: Any) -> Any:
        values = [f(data) for f in fns]
        keys = values[0] if values and isinstance(values[0], list) else values
        return _missing_keys(data, keys)

    return _Node(fn)


@_op("missing_some")
def _build_missing_some(
    c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int
) -> _Node:
    del depth
    if c.strict and not (
        len(raw) == 2  # noqa: PLR2004
        and isinstance(raw[0], (int, float))
        and not isinstance(raw[0], bool)
        and isinstance(raw[1], list)
        and all(isinstance(key, str) for key in raw[1])
    ):
        c.problem(path, "missing_some takes a count and a list of path strings")
    need_fn, options_fn = _arg(args, 0).fn, _arg(args, 1).fn

    def fn(data: Any) -> Any:
        options = options_fn(data)
        if not isinstance(options, list):
            return None
        missing = _missing_keys(data, options)
        if js_le(to_number(need_fn(data)), len(options) - len(missing)):
            return []
        return missing

    return _Node(fn)


# --- logic -----------------------------------------------------------------------------


@_op("if", "?:")
def _build_if(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    if not args:
        return _NULL
    if len(args) % 2 == 0:
        args = [*args, _NULL]
    boolish = all(node.boolish for node in args[1::2]) and args[-1].boolish
    if len(args) == 1:
        only = args[0]
        return _Node(only.fn, boolish=only.boolish)
    if len(args) == 3:  # noqa: PLR2004 - if/then/else
        cond, then, other = args
        return _Node(_if3(cond, then, other), boolish=boolish)
    pairs = tuple((args[i].fn, args[i + 1].fn) for i in range(0, len(args) - 1, 2))
    last = args[-1].fn

    def chain(data: Any) -> Any:
        for test, then_fn in pairs:
            if truthy(test(data)):
                return then_fn(data)
        return last(data)

    return _Node(chain, boolish=boolish)


def _if3(cond: _Node, then: _Node, other: _Node) -> _Fn:
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


@_op("and")
def _build_and(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    return _logic(args, want=False)


@_op("or")
def _build_or(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    return _logic(args, want=True)


def _logic(args: list[_Node], *, want: bool) -> _Node:  # noqa: C901 - one closure per shape
    """``and`` (stop at the first falsy operand) or ``or`` (stop at the first truthy one)."""
    if not args:
        return _NULL
    boolish = all(node.boolish for node in args)
    if len(args) == 1:
        return _Node(args[0].fn, boolish=boolish)
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

            return _Node(any_true, boolish=True)

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

            return _Node(all3, boolish=True)

        def all_true(data: Any) -> Any:
            value = first(data)
            if value is not True:
                return value
            for fn in others:
                value = fn(data)
                if value is not True:
                    return value
            return value

        return _Node(all_true, boolish=True)

    def general(data: Any) -> Any:
        value = first(data)
        if truthy(value) is want:
            return value
        for fn in others:
            value = fn(data)
            if truthy(value) is want:
                return value
        return value

    return _Node(general)


@_op("!")
def _build_not(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    operand = _arg(args, 0)
    fn = operand.fn
    if operand.boolish:
        return _Node(lambda data: fn(data) is not True, boolish=True)
    return _Node(lambda data: not truthy(fn(data)), boolish=True)


@_op("!!")
def _build_not_not(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    fn = _arg(args, 0).fn
    return _Node(lambda data: truthy(fn(data)), boolish=True)


@_op("log")
def _build_log(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    operand = _arg(args, 0)
    return _Node(operand.fn, boolish=operand.boolish)


# --- equality and comparison -----------------------------------------------------------


def _eq_const(node: _Node, const: Any, *, strict: bool, negate: bool) -> _Node:
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

                return _Node(str_strict_key, boolish=True)
            return _Node(
                lambda data: (strict_eq(get(data), const)) is not negate,
                boolish=True,
            )
        if key is not None:

            def str_loose_key(data: Any) -> bool:
                value: Any = data.get(key) if type(data) is dict else get(data)
                if type(value) is str:
                    return (value == const) is not negate
                return loose_eq(value, const) is not negate

            return _Node(str_loose_key, boolish=True)

        def str_loose(data: Any) -> bool:
            value = get(data)
            if type(value) is str:
                return (value == const) is not negate
            return loose_eq(value, const) is not negate

        return _Node(str_loose, boolish=True)
    compare_fn = strict_eq if strict else loose_eq
    return _Node(lambda data: compare_fn(get(data), const) is not negate, boolish=True)


def _equality(*, strict: bool, negate: bool) -> _Builder:
    compare_fn = strict_eq if strict else loose_eq

    def build(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
        del c, raw, path, depth
        left, right = _arg(args, 0), _arg(args, 1)
        if right.const and not left.const and not isinstance(right.value, (list, dict)):
            return _eq_const(left, right.value, strict=strict, negate=negate)
        if left.const and not right.const and not isinstance(left.value, (list, dict)):
            return _eq_const(right, left.value, strict=strict, negate=negate)
        left_fn, right_fn = left.fn, right.fn
        return _Node(
            lambda data: compare_fn(left_fn(data), right_fn(data)) is not negate,
            boolish=True,
        )

    return build


_op("==")(_equality(strict=False, negate=False))
_op("!=")(_equality(strict=False, negate=True))
_op("===")(_equality(strict=True, negate=False))
_op("!==")(_equality(strict=True, negate=True))


def _num_const(node: _Node) -> float | int | None:
    value = node.value
    if node.const and type(value) in (int, float):
        return value  # type: ignore[no-any-return]
    return None


def _cmp_const(node: _Node, bound: float, *, inclusive: bool, below: bool) -> _Node:
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

        return _Node(at_least_key, boolish=True)
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

    return _Node(compare_number, boolish=True)


def _comparison(*, inclusive: bool, greater: bool) -> _Builder:
    base = js_le if inclusive else js_lt

    def build(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
        del c, raw, path, depth
        left, right = _arg(args, 0), _arg(args, 1)
        if len(args) >= 3 and not greater:  # noqa: PLR2004 - the "between" form
            low, mid, high = left.fn, right.fn, args[2].fn

            def between(data: Any) -> bool:
                middle = mid(data)
                return base(low(data), middle) and base(middle, high(data))

            return _Node(between, boolish=True)
        number = _num_const(right)
        if number is not None and not left.const:
            return _cmp_const(left, number, inclusive=inclusive, below=not greater)
        number = _num_const(left)
        if number is not None and not right.const:
            return _cmp_const(right, number, inclusive=inclusive, below=greater)
        left_fn, right_fn = left.fn, right.fn
        if greater:
            return _Node(lambda data: base(right_fn(data), left_fn(data)), boolish=True)
        return _Node(lambda data: base(left_fn(data), right_fn(data)), boolish=True)

    return build


_op("<")(_comparison(inclusive=False, greater=False))
_op("<=")(_comparison(inclusive=True, greater=False))
_op(">")(_comparison(inclusive=False, greater=True))
_op(">=")(_comparison(inclusive=True, greater=True))


# --- membership and strings ------------------------------------------------------------


def _contains(container: Any, item: Any) -> bool:
    if type(container) is str:
        return js_string(item) in container
    if isinstance(container, (list, tuple)):
        return any(strict_eq(item, element) for element in container)
    if isinstance(container, str):
        return js_string(item) in container
    return False


def _in_const_list(node: _Node, items: list[Any]) -> _Node:
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

        return _Node(member_str_key, boolish=True)
    return _Node(lambda data: member(get(data)), boolish=True)


@_op("in")
def _build_in(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    item, container = _arg(args, 0), _arg(args, 1)
    if container.const and isinstance(container.value, list):
        return _in_const_list(item, container.value)
    if container.const and isinstance(container.value, str):
        text: str = container.value
        item_fn = item.fn
        return _Node(lambda data: js_string(item_fn(data)) in text, boolish=True)
    item_fn, container_fn = item.fn, container.fn
    return _Node(lambda data: _contains(container_fn(data), item_fn(data)), boolish=True)


@_op("cat")
def _build_cat(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    fns = tuple(node.fn for node in args)
    if len(fns) == 2:  # noqa: PLR2004 - the common prefix + value shape
        a, b = fns
        return _Node(lambda data: join_item(a(data)) + join_item(b(data)))
    return _Node(lambda data: "".join([join_item(fn(data)) for fn in fns]))


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


@_op("substr")
def _build_substr(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    has_length = len(args) >= 3  # noqa: PLR2004
    source, start, length = _arg(args, 0).fn, _arg(args, 1).fn, _arg(args, 2).fn
    if len(args) == 0:
        return _constant("undefined")  # String(undefined)
    return _Node(
        lambda data: _substr(source(data), start(data), length(data), has_length=has_length)
    )


@_op("merge")
def _build_merge(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
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

    return _Node(merge)


# --- arithmetic ------------------------------------------------------------------------


@_op("+")
def _build_add(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    fns = tuple(node.fn for node in args)

    def add(data: Any) -> Any:
        total = 0.0
        for fn in fns:
            total += parse_float(fn(data))
        return number_out(total)

    return _Node(add)


@_op("*")
def _build_mul(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    if not args:
        return _NULL  # reduce() of nothing throws in JavaScript: flagd gives null
    if len(args) == 1:
        return args[0]  # reduce() of one element returns it untouched
    first, *others = (node.fn for node in args)
    rest = tuple(others)

    def mul(data: Any) -> Any:
        product = parse_float(first(data))
        for fn in rest:
            product *= parse_float(fn(data))
        return number_out(product)

    return _Node(mul)


@_op("-")
def _build_sub(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    if not args:
        return _constant(NAN)
    left = args[0].fn
    if len(args) == 1:
        return _Node(lambda data: number_out(-to_number(left(data))))
    right = args[1].fn
    return _Node(lambda data: number_out(to_number(left(data)) - to_number(right(data))))


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or left != left:  # noqa: PLR0124 - NaN
            return NAN
        negative = (left < 0) != (math.copysign(1.0, right) < 0)
        return -math.inf if negative else math.inf
    return left / right


@_op("/")
def _build_div(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    left, right = _arg(args, 0).fn, _arg(args, 1).fn
    return _Node(lambda data: number_out(_divide(to_number(left(data)), to_number(right(data)))))


def _remainder(left: float, right: float) -> float:
    try:
        return math.fmod(left, right)
    except ValueError:  # x % 0 and Infinity % x are NaN in JavaScript
        return NAN


@_op("%")
def _build_mod(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    left, right = _arg(args, 0).fn, _arg(args, 1).fn
    return _Node(lambda data: number_out(_remainder(to_number(left(data)), to_number(right(data)))))


def _extreme(*, largest: bool) -> _Builder:
    def build(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
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

        return _Node(pick)

    return build


_op("max")(_extreme(largest=True))
_op("min")(_extreme(largest=False))


# --- array operators -------------------------------------------------------------------


@_op("map")
def _build_map(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    items, logic = _arg(args, 0).fn, _arg(args, 1).fn

    def map_(data: Any) -> list[Any]:
        values = items(data)
        if not isinstance(values, (list, tuple)):
            return []
        return [logic(value) for value in values]

    return _Node(map_)


@_op("filter")
def _build_filter(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    items, logic = _arg(args, 0).fn, _arg(args, 1).fn

    def filter_(data: Any) -> list[Any]:
        values = items(data)
        if not isinstance(values, (list, tuple)):
            return []
        return [value for value in values if truthy(logic(value))]

    return _Node(filter_)


@_op("reduce")
def _build_reduce(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del c, raw, path, depth
    items, logic, initial = _arg(args, 0).fn, _arg(args, 1).fn, _arg(args, 2).fn

    def reduce_(data: Any) -> Any:
        values = items(data)
        accumulator = initial(data)
        if not isinstance(values, (list, tuple)):
            return accumulator
        for value in values:
            accumulator = logic({"current": value, "accumulator": accumulator})
        return accumulator

    return _Node(reduce_)


def _quantifier(kind: str) -> _Builder:
    def build(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
        del c, raw, path, depth
        items, logic = _arg(args, 0).fn, _arg(args, 1).fn

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

        return _Node(quantify, boolish=True)

    return build


_op("all")(_quantifier("all"))
_op("some")(_quantifier("some"))
_op("none")(_quantifier("none"))


# --- flagd's operators -----------------------------------------------------------------


def _string_test(*, prefix: bool) -> _Builder:
    name = "starts_with" if prefix else "ends_with"

    def build(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
        del depth
        if len(args) != 2:  # noqa: PLR2004
            return c.quiet(path, f"{name} takes 2 operands, got {len(args)}")
        for i, operand in enumerate(raw):
            if not isinstance(operand, (str, dict)):
                return c.quiet(f"{path}.{i}", f"{name} compares strings, got {operand!r}")
        subject, affix = args[0].fn, args[1].fn

        def test(data: Any) -> bool | None:
            value = subject(data)
            other = affix(data)
            if type(value) is not str or type(other) is not str:
                return None
            return value.startswith(other) if prefix else value.endswith(other)

        return _Node(test, boolish=True)

    return build


_op("starts_with")(_string_test(prefix=True))
_op("ends_with")(_string_test(prefix=False))


@_op("sem_ver")
def _build_sem_ver(  # noqa: C901 - validation of three operands
    c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int
) -> _Node:
    del raw, depth
    if len(args) != 3:  # noqa: PLR2004
        return c.quiet(path, f"sem_ver takes 3 operands, got {len(args)}")
    left, operator, right = args
    if operator.const and not (
        isinstance(operator.value, str) and operator.value in SEMVER_OPERATORS
    ):
        return c.quiet(
            f"{path}.1",
            f"unknown sem_ver operator {operator.value!r} (use =, !=, <, <=, >, >=, ^ or ~)",
        )
    if c.strict and not operator.const:
        c.problem(f"{path}.1", "the sem_ver operator is a literal")
    versions: list[Any] = []
    for i, node in ((0, left), (2, right)):
        if not node.const:
            versions.append(node.fn)
            continue
        if c.strict and not isinstance(node.value, str):
            c.problem(f"{path}.{i}", f"a sem_ver version is a string, got {node.value!r}")
        parsed = parse_version(node.value)
        if parsed is None:
            return c.quiet(f"{path}.{i}", f"{node.value!r} is not a semantic version")
        versions.append(parsed)
    left_v, right_v = versions
    op_fn = operator.fn

    def sem_ver(data: Any) -> bool | None:
        one = parse_version(left_v(data)) if callable(left_v) else left_v
        two = parse_version(right_v(data)) if callable(right_v) else right_v
        if one is None or two is None:
            return None
        op = op_fn(data)
        if type(op) is not str:
            return None
        return compare(one, op, two)

    return _Node(sem_ver, boolish=True)


@_op("matches")
def _build_matches(c: _Compiler, args: list[_Node], raw: list[Any], path: str, depth: int) -> _Node:
    del depth
    if len(args) != 2:  # noqa: PLR2004
        c.problem(path, f"matches takes a string and a pattern, got {len(args)} operands")
        return _NULL
    pattern = raw[1]
    if not isinstance(pattern, str):
        c.problem(f"{path}.1", "the matches pattern is a string literal")
        return _NULL
    options = re2.Options()
    options.log_errors = False
    try:
        regex = re2.compile(pattern, options=options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        c.problem(f"{path}.1", f"RE2 rejects the pattern {pattern!r}: {detail}")
        return _NULL
    if c.strict and not isinstance(raw[0], (str, dict)):
        c.problem(f"{path}.0", f"matches tests a string, got {raw[0]!r}")
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

    return _Node(matches, boolish=True)


@dataclass(slots=True)
class _Bucket:
    variant: _Node
    weight: _Node


@_op("fractional", raw=True)
def _build_fractional(  # noqa: C901, PLR0911, PLR0912, PLR0915 - validation, then specialisation
    c: _Compiler, raw: list[Any], paths: list[str], path: str, depth: int
) -> _Node:
    if not raw:
        return c.quiet(path, "fractional needs at least one bucket")
    bucketing: _Node | None = None
    first = 0
    if not isinstance(raw[0], list):
        if not isinstance(raw[0], dict) and c.strict:
            c.problem(paths[0], "the fractional bucketing value is a rule, like a var")
        bucketing = c.compile(raw[0], paths[0], depth)
        first = 1
    buckets: list[_Bucket] = []
    broken = False
    for spec, spec_path in zip(raw[first:], paths[first:], strict=True):
        c.count(spec_path)
        if not isinstance(spec, list) or not 1 <= len(spec) <= 2:  # noqa: PLR2004
            c.quiet(spec_path, "a fractional bucket is [variant] or [variant, weight]")
            broken = True
            continue
        variant = c.compile(spec[0], f"{spec_path}.0", depth + 1)
        if len(spec) == 1:
            weight = _constant(1)
        else:
            raw_weight = spec[1]
            weight_path = f"{spec_path}.1"
            if isinstance(raw_weight, dict):
                weight = c.compile(raw_weight, weight_path, depth + 1)
            else:
                c.count(weight_path)
                value = frac.weight_of(raw_weight)
                if value is None:
                    c.quiet(weight_path, f"a weight is a whole number, got {raw_weight!r}")
                    broken = True
                elif value != raw_weight:
                    c.quiet(weight_path, f"a weight is not negative, got {raw_weight!r}")
                weight = _constant(value)
        buckets.append(_Bucket(variant, weight))
    if broken:
        return _NULL
    if not buckets:
        return c.quiet(path, "fractional needs at least one bucket")
    static = all(bucket.weight.const for bucket in buckets)
    if static:
        bounds, total = frac.cumulative([bucket.weight.value for bucket in buckets])
        if total <= 0:
            return c.quiet(path, "the fractional weights add up to 0")
        if total > frac.MAX_TOTAL_WEIGHT:
            return c.quiet(
                path, f"the fractional weights add up to more than {frac.MAX_TOTAL_WEIGHT}"
            )
    key_fn = _bucketing_fn(bucketing)
    variants = tuple(bucket.variant for bucket in buckets)
    if all(variant.const for variant in variants):
        values = tuple(variant.value for variant in variants)

        def pick(index: int, data: Any) -> Any:
            del data
            return values[index]
    else:
        fns = tuple(variant.fn for variant in variants)

        def pick(index: int, data: Any) -> Any:
            return fns[index](data)

    if static and all(variant.const for variant in variants):
        choices = tuple(variant.value for variant in variants)
        bucket_hash = frac.bucket_hash

        def fractional_constant(data: Any) -> Any:
            key = key_fn(data)
            if key is None:
                return None
            return choices[bisect_right(bounds, (bucket_hash(key) * total) >> 32)]

        return _Node(fractional_constant)
    if static:
        bucket_index = frac.bucket_index

        def fractional_static(data: Any) -> Any:
            key = key_fn(data)
            if key is None:
                return None
            return pick(bucket_index(key, bounds, total), data)

        return _Node(fractional_static)
    weight_fns = tuple(bucket.weight.fn for bucket in buckets)

    def fractional_dynamic(data: Any) -> Any:
        key = key_fn(data)
        if key is None:
            return None
        weights = []
        for fn in weight_fns:
            weight = frac.weight_of(fn(data))
            if weight is None:
                return None
            weights.append(weight)
        cut, total = frac.cumulative(weights)
        if total <= 0 or total > frac.MAX_TOTAL_WEIGHT:
            return None
        return pick(frac.bucket_index(key, cut, total), data)

    return _Node(fractional_dynamic)


def _bucketing_fn(bucketing: _Node | None) -> Callable[[Any], str | None]:
    if bucketing is not None:
        value_fn = bucketing.fn
        as_string = frac.bucketing_string
        return lambda data: as_string(value_fn(data))

    def shorthand(data: Any) -> str | None:
        # flagd's default: the flag key followed by the targeting key.
        if type(data) is not dict and not isinstance(data, Mapping):
            return None
        targeting_key = data.get("targetingKey")
        if type(targeting_key) is not str:
            return None
        flagd = data.get("$flagd")
        if type(flagd) is dict or isinstance(flagd, Mapping):
            flag_key = flagd.get("flagKey")
        else:
            flag_key = None
        if type(flag_key) is not str:
            flag_key = ""
        return flag_key + targeting_key

    return shorthand


# --- entry point -----------------------------------------------------------------------


def compile_targeting(
    targeting: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    path: str = "targeting",
    strict: bool = True,
    max_depth: int = MAX_TARGETING_DEPTH,
    max_nodes: int = MAX_TARGETING_NODES,
) -> Rule:
    """Validate a targeting tree and compile it into a rule.

    Args:
        targeting: The targeting, as parsed from JSON (a JSON Logic rule). ``None`` and
            ``{}`` compile to a rule that returns ``None``.
        evaluators: The document's ``$evaluators``, which ``{"$ref": name}`` refers to.
        path: Where the targeting sits in the document, to prefix problem paths.
        strict: Also reject what flagd would quietly evaluate to ``null``: wrong operand
            counts or literal types, malformed ``fractional`` buckets or weights,
            unknown ``sem_ver`` operators or versions, unknown ``$flagd`` properties. With
            ``False`` (flagd compatibility) those compile into rules that give ``None``.
        max_depth: The deepest nesting of operators and arrays allowed.
        max_nodes: The most values allowed after ``$ref`` expansion.

    Returns:
        A rule: called with the evaluation data (context attributes, ``targetingKey``
        and ``$flagd``), it returns the JSON Logic result and never raises.

    Raises:
        DocumentError: Listing every problem, each with its path. Unknown operators,
            objects with several keys, ``$ref`` to a missing evaluator, ``$ref`` cycles,
            patterns RE2 rejects and exceeded limits are errors even when not strict.
    """
    if targeting is None or targeting == {}:
        return _nothing
    compiler = _Compiler(evaluators or {}, strict=strict, max_depth=max_depth, max_nodes=max_nodes)
    if strict and not isinstance(targeting, dict):
        compiler.problem(path, "targeting is a JSON Logic rule: an object")
    try:
        node = compiler.compile(targeting, path, 0)
    except _Abort:
        node = _NULL
    except RecursionError:
        compiler.problem(path, "the rule is nested too deeply to compile")
        node = _NULL
    if compiler.problems:
        raise DocumentError(compiler.problems)
    if node.const:
        value = node.value
        return lambda _: value
    fn = node.fn

    def rule(data: Mapping[str, Any]) -> Any:
        try:
            return fn(data)
        except Exception:  # operators are total; this fence keeps the promise regardless
            return None

    return rule

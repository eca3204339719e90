"""flagd's own operators: ``fractional``, ``sem_ver``, ``starts_with`` and ``ends_with``."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._engine import _fractional as frac
from openfeature_litestar._engine._cbor import cbor, cbor_text
from openfeature_litestar._engine._nodes import NULL, Node, constant
from openfeature_litestar._engine._registry import operator
from openfeature_litestar._engine._semver import SEMVER_OPERATORS, compare, parse_version

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler
    from openfeature_litestar._engine._nodes import Fn
    from openfeature_litestar._engine._registry import Builder


def _string_test(*, prefix: bool) -> Builder:
    name = "starts_with" if prefix else "ends_with"

    def build(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
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

        return Node(test, boolish=True)

    return build


operator("starts_with", arity=(2, 2))(_string_test(prefix=True))
operator("ends_with", arity=(2, 2))(_string_test(prefix=False))


@operator("sem_ver", arity=(3, 3))
def _build_sem_ver(  # noqa: C901 - validation of three operands
    c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int
) -> Node:
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
    if not operator.const:
        c.lint(f"{path}.1", "the sem_ver operator is a literal")
    versions: list[Any] = []
    for i, node in ((0, left), (2, right)):
        if not node.const:
            versions.append(node.fn)
            continue
        if not isinstance(node.value, str):
            c.lint(f"{path}.{i}", f"a sem_ver version is a string, got {node.value!r}")
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

    return Node(sem_ver, boolish=True)


@dataclass(slots=True)
class _Bucket:
    variant: Node
    weight: Node


@operator("fractional", pure=False, raw=True)
def _build_fractional(  # noqa: C901, PLR0911, PLR0912 - validation, then specialisation
    c: Compiler, raw: list[Any], paths: list[str], path: str, depth: int
) -> Node:
    if not raw:
        return c.quiet(path, "fractional needs at least one bucket")
    bucketing: Node | None = None
    first = 0
    if not isinstance(raw[0], list):
        if not isinstance(raw[0], dict):
            c.lint(paths[0], "the fractional bucketing value is a rule, like a var")
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
            weight = constant(1)
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
                weight = constant(value)
        buckets.append(_Bucket(variant, weight))
    if broken:
        return NULL
    if not buckets:
        return c.quiet(path, "fractional needs at least one bucket")
    static: list[int] | None = None
    if all(bucket.weight.const for bucket in buckets):
        static = [bucket.weight.value for bucket in buckets]
        total = sum(static)
        if total <= 0:
            return c.quiet(path, "the fractional weights add up to 0")
        if total > frac.MAX_TOTAL_WEIGHT:
            return c.quiet(
                path, f"the fractional weights add up to more than {frac.MAX_TOTAL_WEIGHT}"
            )
    variants = tuple(bucket.variant for bucket in buckets)
    weight_fns = tuple(bucket.weight.fn for bucket in buckets)
    if c.fractional == "v1":
        return _v1(_string_key_fn(bucketing), variants, weight_fns, static)
    if c.fractional == "v3":
        return _sliced(_cbor_key_fn(bucketing), frac.bytes_hash, variants, weight_fns, static)
    return _sliced(_string_key_fn(bucketing), frac.bucket_hash, variants, weight_fns, static)


def _picker(variants: tuple[Node, ...]) -> Callable[[int, Any], Any]:
    if all(variant.const for variant in variants):
        values = tuple(variant.value for variant in variants)

        def pick(index: int, data: Any) -> Any:
            del data
            return values[index]

        return pick
    fns = tuple(variant.fn for variant in variants)

    def pick_computed(index: int, data: Any) -> Any:
        return fns[index](data)

    return pick_computed


def _weights(weight_fns: tuple[Fn, ...], data: Any) -> tuple[list[int], int] | None:
    """The computed weights' cumulative ends and total; ``None`` if they cannot bucket."""
    weights = []
    for fn in weight_fns:
        weight = frac.weight_of(fn(data))
        if weight is None:
            return None
        weights.append(weight)
    bounds, total = frac.cumulative(weights)
    if total <= 0 or total > frac.MAX_TOTAL_WEIGHT:
        return None
    return bounds, total


def _sliced(
    key_fn: Callable[[Any], Any],
    hash_fn: Callable[[Any], int],
    variants: tuple[Node, ...],
    weight_fns: tuple[Fn, ...],
    static: list[int] | None,
) -> Node:
    """v2 and v3: the slot ``(hash * total) >> 32`` over the cumulative integer weights.

    The versions differ only in ``key_fn`` (the hash input: a string, or CBOR bytes)
    and ``hash_fn``, both bound here, so the closures branch on nothing. ``static``
    holds the weights when they are constants (checked to bucket), else ``None``.
    """
    pick = _picker(variants)
    if static is not None:
        bounds, total = frac.cumulative(static)
        if all(variant.const for variant in variants):
            choices = tuple(variant.value for variant in variants)

            def fractional_constant(data: Any) -> Any:
                key = key_fn(data)
                if key is None:
                    return None
                return choices[bisect_right(bounds, (hash_fn(key) * total) >> 32)]

            return Node(fractional_constant)

        def fractional_static(data: Any) -> Any:
            key = key_fn(data)
            if key is None:
                return None
            return pick(bisect_right(bounds, (hash_fn(key) * total) >> 32), data)

        return Node(fractional_static)

    def fractional_dynamic(data: Any) -> Any:
        key = key_fn(data)
        if key is None:
            return None
        computed = _weights(weight_fns, data)
        if computed is None:
            return None
        cut, weight_sum = computed
        return pick(bisect_right(cut, (hash_fn(key) * weight_sum) >> 32), data)

    return Node(fractional_dynamic)


def _v1(
    key_fn: Callable[[Any], str | None],
    variants: tuple[Node, ...],
    weight_fns: tuple[Fn, ...],
    static: list[int] | None,
) -> Node:
    """v1: the hash's percentage against the buckets' cumulative percentages."""
    pick = _picker(variants)
    v1_index = frac.v1_index
    if static is not None:
        ends = frac.percentages(static, sum(static))

        def fractional_v1(data: Any) -> Any:
            key = key_fn(data)
            if key is None:
                return None
            index = v1_index(key, ends)
            return None if index is None else pick(index, data)

        return Node(fractional_v1)

    def fractional_v1_dynamic(data: Any) -> Any:
        key = key_fn(data)
        if key is None:
            return None
        weights = []
        for fn in weight_fns:
            weight = frac.weight_of(fn(data))
            if weight is None:
                return None
            weights.append(weight)
        total = sum(weights)
        if total <= 0 or total > frac.MAX_TOTAL_WEIGHT:
            return None
        index = v1_index(key, frac.percentages(weights, total))
        return None if index is None else pick(index, data)

    return Node(fractional_v1_dynamic)


def _flag_key(data: Mapping[str, Any]) -> str:
    flagd = data.get("$flagd")
    if type(flagd) is dict or isinstance(flagd, Mapping):
        flag_key = flagd.get("flagKey")
        if type(flag_key) is str:
            return flag_key
    return ""


def _targeting_key(data: Any) -> str | None:
    """The context's targeting key; ``None`` when absent, not a string, or ``""``.

    flagd's evaluators read an empty targeting key as none (JavaScript and Python for
    v2, Python for v3), and so does evaluation for a context's ``targeting_key``.
    """
    if type(data) is not dict and not isinstance(data, Mapping):
        return None
    targeting_key = data.get("targetingKey")
    if type(targeting_key) is not str or not targeting_key:
        return None
    return targeting_key


def _string_key_fn(bucketing: Node | None) -> Callable[[Any], str | None]:
    """v1 and v2: the bucketing string, or the flag key followed by the targeting key."""
    if bucketing is not None:
        value_fn = bucketing.fn
        as_string = frac.bucketing_string
        return lambda data: as_string(value_fn(data))

    def shorthand(data: Any) -> str | None:
        # flagd's default: the flag key followed by the targeting key.
        if type(data) is not dict and not isinstance(data, Mapping):
            return None
        targeting_key = data.get("targetingKey")
        if type(targeting_key) is not str or not targeting_key:
            return None  # no targeting key, "" included (as flagd's evaluators read it)
        flagd = data.get("$flagd")
        if type(flagd) is dict or isinstance(flagd, Mapping):
            flag_key = flagd.get("flagKey")
        else:
            flag_key = None
        if type(flag_key) is not str:
            flag_key = ""
        return flag_key + targeting_key

    return shorthand


def _cbor_key_fn(bucketing: Node | None) -> Callable[[Any], bytes | None]:
    """v3: the CBOR of the bucketing value, or of ``[flagKey, targetingKey]``.

    A bucketing value that is ``null`` or an array falls in no bucket (flagd's ADR: an
    array could not be told from a bucket, and ``null`` is what a missing ``var`` gives).
    """
    if bucketing is not None:
        value_fn = bucketing.fn

        def explicit(data: Any) -> bytes | None:
            value = value_fn(data)
            if value is None or type(value) is list or type(value) is tuple:
                return None
            return cbor(value)

        return explicit

    def shorthand(data: Any) -> bytes | None:
        targeting_key = _targeting_key(data)
        if targeting_key is None:
            return None
        return _PAIR + cbor_text(_flag_key(data)) + cbor_text(targeting_key)

    return shorthand


_PAIR: Final = b"\x82"  # a CBOR array of two items

"""flagd's own operators: ``fractional``, ``sem_ver``, ``starts_with`` and ``ends_with``."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine import _fractional as frac
from openfeature_litestar._engine._nodes import NULL, Node, constant
from openfeature_litestar._engine._registry import operator
from openfeature_litestar._engine._semver import SEMVER_OPERATORS, compare, parse_version

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler
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

    return Node(sem_ver, boolish=True)


@dataclass(slots=True)
class _Bucket:
    variant: Node
    weight: Node


@operator("fractional", pure=False, raw=True)
def _build_fractional(  # noqa: C901, PLR0911, PLR0912, PLR0915 - validation, then specialisation
    c: Compiler, raw: list[Any], paths: list[str], path: str, depth: int
) -> Node:
    if not raw:
        return c.quiet(path, "fractional needs at least one bucket")
    bucketing: Node | None = None
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

        return Node(fractional_constant)
    if static:
        bucket_index = frac.bucket_index

        def fractional_static(data: Any) -> Any:
            key = key_fn(data)
            if key is None:
                return None
            return pick(bucket_index(key, bounds, total), data)

        return Node(fractional_static)
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

    return Node(fractional_dynamic)


def _bucketing_fn(bucketing: Node | None) -> Callable[[Any], str | None]:
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

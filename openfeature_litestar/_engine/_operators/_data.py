"""The data operators: ``var``, ``missing`` and ``missing_some``, and the path walk they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._engine._js import js_le, js_string, to_number
from openfeature_litestar._engine._nodes import Fn, Node, arg
from openfeature_litestar._engine._registry import operator

if TYPE_CHECKING:
    from openfeature_litestar._engine._compiler import Compiler


_MISSING: Final[Any] = object()
_FLAGD_PROPERTIES: Final = frozenset({"$flagd.timestamp", "$flagd.flagKey"})


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


def _var_fn(path: Any, default: Any) -> Fn:
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


@operator("var", pure=False)
def _build_var(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del depth
    path_node = arg(args, 0)
    default_node = arg(args, 1)
    first = raw[0] if raw else None
    if not isinstance(first, str) and not (first is None and not raw):
        c.lint(path, "var takes a path string")
    elif isinstance(first, str) and first.startswith("$flagd.") and first not in _FLAGD_PROPERTIES:
        c.lint(path, f"unknown flagd property {first!r} (flagd has timestamp, flagKey)")
    for i, extra in enumerate(raw[1:], start=1):
        if isinstance(extra, (dict, list)):
            c.lint(f"{path}.{i}", "a var default is a literal")
    if path_node.const and default_node.const:
        fn = _var_fn(path_node.value, default_node.value)
        key = path_node.value
        simple = (
            isinstance(key, str) and key != "" and "." not in key and default_node.value is None
        )
        return Node(fn, key=key if simple else None)
    path_fn, default_fn = path_node.fn, default_node.fn
    return Node(lambda data: _dynamic_var(data, path_fn(data), default_fn(data)))


def _missing_keys(data: Any, keys: Any) -> list[Any]:
    missing = []
    for key in keys:
        value = _dynamic_var(data, key, None)
        if value is None or value == "":
            missing.append(key)
    return missing


@operator("missing", pure=False)
def _build_missing(c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int) -> Node:
    del depth
    if not all(isinstance(key, str) for key in raw):
        c.lint(path, "missing takes a list of path strings")
    fns = tuple(node.fn for node in args)

    def fn(data: Any) -> Any:
        values = [f(data) for f in fns]
        keys = values[0] if values and isinstance(values[0], list) else values
        return _missing_keys(data, keys)

    return Node(fn)


@operator("missing_some", arity=(2, 2), pure=False)
def _build_missing_some(
    c: Compiler, args: list[Node], raw: list[Any], path: str, depth: int
) -> Node:
    del depth
    if not (
        len(raw) == 2  # noqa: PLR2004
        and isinstance(raw[0], (int, float))
        and not isinstance(raw[0], bool)
        and isinstance(raw[1], list)
        and all(isinstance(key, str) for key in raw[1])
    ):
        c.lint(path, "missing_some takes a count and a list of path strings")
    need_fn, options_fn = arg(args, 0).fn, arg(args, 1).fn

    def fn(data: Any) -> Any:
        options = options_fn(data)
        if not isinstance(options, list):
            return None
        missing = _missing_keys(data, options)
        if js_le(to_number(need_fn(data)), len(options) - len(missing)):
            return []
        return missing

    return Node(fn)

"""JavaScript value semantics for JSON Logic: truthiness, coercions and comparisons.

flagd's JSON Logic follows json-logic-js, so operands are coerced the way JavaScript
coerces them: ``"1" == 1``, ``[] `` is falsy, ``"10" < "9"`` compares strings and
``"10" < 9`` compares numbers. Every function here is total: it returns a value for any
input (``NaN`` where JavaScript would produce ``NaN``) and never raises for JSON-like data.

Deliberate simplifications: strings compare and index by code point rather than by UTF-16
code unit (identical outside the astral planes), and values that are neither JSON types
nor tuples behave like JavaScript objects (``"[object Object]"``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "NAN",
    "join_item",
    "js_le",
    "js_lt",
    "js_string",
    "loose_eq",
    "number_out",
    "parse_float",
    "strict_eq",
    "to_number",
    "truthy",
]

NAN: Final = math.nan
_INF: Final = math.inf
_MAX_SAFE: Final = 2**53

_NUMERIC_LITERAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z", re.ASCII)
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.ASCII)
_RADIX_LITERAL = re.compile(r"0(?:[xX]([0-9a-fA-F]+)|[oO]([0-7]+)|[bB]([01]+))\Z", re.ASCII)
# JavaScript's white space and line terminators, which Number() and parseFloat() skip.
_JS_SPACE: Final = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"  # noqa: E501 - one literal


def truthy(value: Any) -> bool:
    """JSON Logic truthiness: JavaScript's, except that an empty array is falsy."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    kind = type(value)
    if kind is str or kind is list or kind is tuple:
        return bool(len(value) > 0)
    if kind is int:
        return bool(value != 0)
    if kind is float:
        return bool(value == value and value != 0.0)  # noqa: PLR0124 - NaN is falsy
    return True


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return _INF if value > 0 else -_INF


def _string_to_number(text: str) -> float:
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    if _NUMERIC_LITERAL.match(text):
        return float(text.replace("Infinity", "inf"))
    radix = _RADIX_LITERAL.match(text)
    if radix:
        hexa, octal, binary = radix.groups()
        if hexa is not None:
            return _int_to_float(int(hexa, 16))
        if octal is not None:
            return _int_to_float(int(octal, 8))
        return _int_to_float(int(binary, 2))
    return NAN


def to_number(value: Any) -> float:  # noqa: C901, PLR0911 - one case per type
    """JavaScript's ``Number(value)`` for JSON values."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return _int_to_float(value)
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if kind is str:
        return _string_to_number(value)
    if kind is list or kind is tuple:
        return _string_to_number(js_string(value))
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return _int_to_float(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return _string_to_number(str(value))
    return NAN


def parse_float(value: Any) -> float:
    """JavaScript's ``parseFloat(value)``: the longest numeric prefix of ``String(value)``."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return _int_to_float(value)
    text = js_string(value).lstrip(_JS_SPACE)
    match = _FLOAT_PREFIX.match(text)
    if match is None:
        return NAN
    return float(match.group().replace("Infinity", "inf"))


def _number_string(value: float) -> str:
    if value != value:  # noqa: PLR0124 - NaN
        return "NaN"
    if value in (_INF, -_INF):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:  # noqa: PLR2004 - JavaScript's threshold
        return str(int(value))
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, as JavaScript does; only the
    # placement of the decimal point and the exponent differ.
    _, digits_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    point = len(digits_tuple) + int(exponent)  # position of the decimal point
    count = len(digits)
    if count <= point <= 21:  # noqa: PLR2004 - JavaScript's threshold
        body = digits + "0" * (point - count)
    elif 0 < point <= 21:  # noqa: PLR2004
        body = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:  # noqa: PLR2004
        body = f"0.{'0' * -point}{digits}"
    else:
        mantissa = digits[0] + (f".{digits[1:]}" if count > 1 else "")
        shift = point - 1
        body = f"{mantissa}e{'+' if shift > 0 else '-'}{abs(shift)}"
    return sign + body


def join_item(value: Any) -> str:
    """How ``Array.prototype.join`` renders one element: ``null`` becomes ``""``."""
    if value is None:
        return ""
    return js_string(value)


def js_string(value: Any) -> str:  # noqa: PLR0911 - one case per type
    """JavaScript's ``String(value)`` for JSON values."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return str(value) if abs(value) < 10**21 else _number_string(_int_to_float(value))
    if kind is float:
        return _number_string(value)
    if kind is list or kind is tuple:
        return ",".join(join_item(item) for item in value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)):
        return js_string(float(value) if isinstance(value, float) else int(value))
    return "[object Object]"


def number_out(value: float) -> int | float:
    """An arithmetic result: integral values within 2**53 come back as ``int``.

    JavaScript has one number type; returning ``3`` rather than ``3.0`` keeps results
    readable and lets them serve as weights and indices without a float/int split.
    """
    if value.is_integer() and -_MAX_SAFE <= value <= _MAX_SAFE:
        return int(value)
    return value


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _to_primitive(value: Any) -> Any:
    kind = type(value)
    if kind is list or kind is tuple:
        return js_string(value)
    if kind is dict or isinstance(value, Mapping):
        return "[object Object]"
    return value


def _is_object(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return False
    return not isinstance(value, (str, int, float))


def loose_eq(left: Any, right: Any) -> bool:  # noqa: PLR0911 - one case per JavaScript rule
    """JavaScript's ``left == right`` (abstract equality) for JSON values."""
    if left is None or right is None:
        return left is None and right is None
    left_kind = type(left)
    right_kind = type(right)
    if left_kind is right_kind and left_kind is not list and left_kind is not dict:
        return bool(left == right)
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    left_object = _is_object(left)
    right_object = _is_object(right)
    if left_object and right_object:
        return left is right
    if left_kind is bool:
        return loose_eq(1 if left else 0, right)
    if right_kind is bool:
        return loose_eq(left, 1 if right else 0)
    if left_object:
        return loose_eq(_to_primitive(left), right)
    if right_object:
        return loose_eq(left, _to_primitive(right))
    # One side is a string and the other a number.
    return to_number(left) == to_number(right)


def strict_eq(left: Any, right: Any) -> bool:
    """JavaScript's ``left === right`` for JSON values (``1 === 1.0``, ``1 !== true``)."""
    left_kind = type(left)
    right_kind = type(right)
    if left_kind is bool or right_kind is bool or left is None or right is None:
        return left is right
    if left_kind is str:
        return right_kind is str and left == right
    if _is_number(left):
        return _is_number(right) and bool(left == right)
    return left is right


def js_lt(left: Any, right: Any) -> bool:
    """JavaScript's ``left < right`` for JSON values."""
    if _is_number(left) and _is_number(right):
        return bool(left < right)
    left = _to_primitive(left)
    right = _to_primitive(right)
    if type(left) is str and type(right) is str:
        return left < right
    return to_number(left) < to_number(right)


def js_le(left: Any, right: Any) -> bool:
    """JavaScript's ``left <= right`` for JSON values (false when either side is NaN)."""
    if _is_number(left) and _is_number(right):
        return bool(left <= right)
    left = _to_primitive(left)
    right = _to_primitive(right)
    if type(left) is str and type(right) is str:
        return left <= right
    return to_number(left) <= to_number(right)

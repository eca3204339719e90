"""Deterministic CBOR for ``fractional`` v3: JSON values to bytes, the same in every language.

flagd's ADR on non-string bucketing values has every provider hash the RFC 8949
§4.2.1 *core deterministic* encoding of the bucketing value, after a number
normalisation, so that ``1``, ``1.0`` and ``"1"`` mean one thing in Go, Java, JavaScript
and Python. This module is that encoding, for the values a JSON context can hold:

* ``null``, booleans, text strings (UTF-8), arrays and objects (string keys);
* integers in the head's shortest form (major types 0 and 1 down to ``-2**64``), and
  beyond 64 bits as bignums (tags 2 and 3) in the fewest bytes, as Python's flagd
  provider (through ``cbor2``) encodes them;
* a float with no fractional part in ``[-2**63, 2**64 - 1]`` as that integer (``-0.0``
  and ``0.0`` as ``0``); any other float in the shortest of half, single or double
  precision that holds it exactly (NaN as ``f97e00``, the infinities as halves);
* object members sorted bytewise by their encoded keys.

Strings are encoded here, never by a C extension, with each lone surrogate as U+FFFD
(see ``_text``): ``mmh3`` crashes on them, and ``cbor2`` raises.

Why not ``cbor2``: its canonical mode gives the same bytes for JSON values (its key
order, shortest-encoded-key first, is the bytewise order when every key is a text
string, and its float minimisation is exact; the tests check both against it), but it
raises on lone surrogates, it needs the normalisation walk done first anyway, and an
in-process engine should not take a C extension as a runtime dependency for ~100 lines.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Final

from ._text import utf8

__all__ = ["MAX_CBOR_DEPTH", "cbor", "cbor_text"]

MAX_CBOR_DEPTH: Final = 64
"""The deepest nesting of arrays and objects a bucketing value may have; deeper is no value."""

_U64: Final = 1 << 64
_I64_MIN: Final = -(1 << 63)
_FALSE: Final = b"\xf4"
_TRUE: Final = b"\xf5"
_NULL: Final = b"\xf6"
_NAN: Final = b"\xf9\x7e\x00"
_HALF: Final = struct.Struct(">e")
_SINGLE: Final = struct.Struct(">f")
_DOUBLE: Final = struct.Struct(">d")


class _Unencodable(Exception):  # noqa: N818 - internal control flow, never escapes
    """The value holds something that is not JSON (or is nested too deeply)."""


def _head(major: int, argument: int) -> bytes:
    """The initial bytes of a data item: major type and argument, in the shortest form."""
    top = major << 5
    if argument < 24:  # noqa: PLR2004 - CBOR's immediate arguments
        return bytes((top | argument,))
    # Then 1, 2, 4 or 8 bytes follow, flagged by the additional information 24 to 27.
    size = 1 if argument < 1 << 8 else 2 if argument < 1 << 16 else 4 if argument < 1 << 32 else 8
    return bytes((top | (23 + size.bit_length()),)) + argument.to_bytes(size, "big")


def cbor_text(text: str) -> bytes:
    """A text string (major type 3), lone surrogates encoded as U+FFFD."""
    data = text.encode() if text.isascii() else utf8(text)
    return _head(3, len(data)) + data


def _integer(value: int) -> bytes:
    if value >= 0:
        if value < _U64:
            return _head(0, value)
        tag, magnitude = b"\xc2", value
    else:
        if value >= -_U64:
            return _head(1, -1 - value)
        tag, magnitude = b"\xc3", -1 - value
    data = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
    return tag + _head(2, len(data)) + data


def _float(value: float) -> bytes:
    if value.is_integer() and _I64_MIN <= value < _U64:
        return _integer(int(value))  # -0.0 included: int(-0.0) == 0
    if value != value:  # noqa: PLR0124 - NaN
        return _NAN
    for initial, form in ((b"\xf9", _HALF), (b"\xfa", _SINGLE)):
        try:
            packed = form.pack(value)
        except OverflowError:
            continue
        if form.unpack(packed)[0] == value:
            return initial + packed
    return b"\xfb" + _DOUBLE.pack(value)


def _encode(value: Any, depth: int) -> bytes:  # noqa: C901, PLR0911, PLR0912 - one branch per JSON type
    kind = type(value)
    if kind is str:
        return cbor_text(value)
    if value is None:
        return _NULL
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if kind is int:
        return _integer(value)
    if kind is float:
        return _float(value)
    if depth >= MAX_CBOR_DEPTH:
        raise _Unencodable
    if kind is list or kind is tuple:
        return _head(4, len(value)) + b"".join(_encode(item, depth + 1) for item in value)
    if isinstance(value, Mapping):
        members = []
        for key, item in value.items():
            if type(key) is not str:
                raise _Unencodable
            members.append((cbor_text(key), _encode(item, depth + 1)))
        # Bytewise by encoded key (RFC 8949 §4.2.1); the value breaks the tie of two
        # keys that differ only in lone surrogates, which both encode as U+FFFD.
        members.sort()
        return _head(5, len(members)) + b"".join(key + item for key, item in members)
    if isinstance(value, str):
        return cbor_text(str(value))
    if isinstance(value, int):
        return _integer(int(value))
    if isinstance(value, float):
        return _float(float(value))
    raise _Unencodable


def cbor(value: Any) -> bytes | None:
    """The core deterministic CBOR of a JSON value after number normalisation; never raises.

    Returns:
        The encoding, or ``None`` for a value that is not JSON (a date, an object with
        non-string keys) or that nests deeper than :data:`MAX_CBOR_DEPTH`.
    """
    try:
        return _encode(value, 0)
    except _Unencodable:
        return None

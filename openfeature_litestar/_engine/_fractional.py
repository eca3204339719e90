"""flagd's ``fractional`` bucketing, version 2: MurmurHash3 x86_32 scaled by the weight sum.

A subject's bucketing string is hashed (UTF-8, lone surrogates as U+FFFD, seed 0) to an
unsigned 32-bit ``h``; with integer weights summing to ``total`` the chosen slot is
``(h * total) >> 32`` and the bucket is the first whose cumulative weight exceeds it.
Growing one bucket's weight only moves subjects into that bucket.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Final

import mmh3

from ._js import js_string
from ._text import utf8

__all__ = [
    "MAX_TOTAL_WEIGHT",
    "bucket_hash",
    "bucket_index",
    "bucketing_string",
    "cumulative",
    "weight_of",
]

MAX_TOTAL_WEIGHT: Final = 2_147_483_647
"""flagd's limit on the sum of a ``fractional``'s weights (the largest int32)."""


def bucketing_string(value: Any) -> str | None:
    """The string a bucketing value hashes as; ``None`` when there is nothing to hash.

    Strings hash as themselves; numbers and booleans as their JavaScript string;
    ``null``, arrays and objects give ``None``.
    """
    if type(value) is str:
        return value
    if isinstance(value, (str, int, float)):
        return js_string(value)
    return None


def weight_of(value: Any) -> int | None:
    """A bucket weight: an integral number, negatives clamped to 0; ``None`` if invalid."""
    if type(value) is int:
        return max(0, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None  # also NaN and the infinities
    return max(int(value), 0)


def cumulative(weights: list[int]) -> tuple[list[int], int]:
    """Cumulative weights and their total."""
    running = 0
    bounds = []
    for weight in weights:
        running += weight
        bounds.append(running)
    return bounds, running


def bucket_hash(key: str) -> int:
    """The unsigned MurmurHash3 x86_32 (seed 0) of ``key``'s UTF-8; never raises.

    ``mmh3`` is handed a ``str`` only when it is ASCII (its fastest path); any other key
    is encoded here first, because ``mmh3`` crashes the process on a lone surrogate.
    """
    return _murmur3(key if key.isascii() else utf8(key), 0, signed=False)


_murmur3: Final = mmh3.hash


def bucket_index(key: str, bounds: list[int], total: int) -> int:
    """The index of the bucket ``key`` falls into (``total`` must be positive)."""
    return bisect_right(bounds, (bucket_hash(key) * total) >> 32)

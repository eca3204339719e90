"""flagd's ``fractional`` bucketing, in its three versions; v2, flagd's current, by default.

Every version hashes with MurmurHash3 x86_32, seed 0:

* **v2**: a subject's bucketing string is hashed (UTF-8, lone surrogates as U+FFFD) to
  an unsigned 32-bit ``h``; with integer weights summing to ``total`` the chosen slot is
  ``(h * total) >> 32`` and the bucket is the first whose cumulative weight exceeds it.
  Growing one bucket's weight only moves subjects into that bucket.
* **v1** (flagd before v0.15.0): the same string, but the slot is the percentage
  ``abs(int32(h)) / MaxInt32 * 100`` in float64, compared with the buckets' cumulative
  percentages; a slot past the last one (``h`` is ``-2**31``) falls in no bucket.
* **v3** (Python's flagd provider, flagd's accepted ADR): the bucketing *value*, any
  JSON value but ``null`` and arrays, or the array ``[flagKey, targetingKey]`` for the
  shorthand, is hashed as deterministic CBOR (``_cbor``); the slot is v2's.

The version is chosen when rules are compiled, so a compiled rule branches on nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Final, Literal, TypeAlias, get_args

import mmh3

from openfeature_litestar._errors import ConfigurationError

from ._text import utf8

__all__ = [
    "DEFAULT_FRACTIONAL",
    "FRACTIONAL_VERSIONS",
    "MAX_TOTAL_WEIGHT",
    "FractionalVersion",
    "bucket_hash",
    "bucket_index",
    "bucketing_string",
    "bytes_hash",
    "cumulative",
    "fractional_version",
    "percentages",
    "v1_index",
    "weight_of",
]

FractionalVersion: TypeAlias = Literal["v1", "v2", "v3"]
"""A ``fractional`` bucketing version: ``"v1"``, ``"v2"`` (flagd's current) or ``"v3"``.

See the documentation's page on the bucketing versions for who uses which.

.. versionadded:: 0.2.0
"""

FRACTIONAL_VERSIONS: Final[tuple[FractionalVersion, ...]] = get_args(FractionalVersion)
"""Every bucketing version, oldest first.

.. versionadded:: 0.2.0
"""

DEFAULT_FRACTIONAL: Final[FractionalVersion] = "v2"
"""The bucketing version used unless one is chosen: flagd's (Go) since v0.15.0."""


def fractional_version(value: object, name: str = "fractional") -> FractionalVersion:
    """``value`` if it names a bucketing version.

    Raises:
        ConfigurationError: It does not; the message names ``name`` and the versions.
    """
    if isinstance(value, str) and value in FRACTIONAL_VERSIONS:
        return value
    versions = ", ".join(repr(version) for version in FRACTIONAL_VERSIONS)
    raise ConfigurationError(
        f"{name} must be one of {versions} (the fractional bucketing version), not {value!r}"
    )


MAX_TOTAL_WEIGHT: Final = 2_147_483_647
"""flagd's limit on the sum of a ``fractional``'s weights (the largest int32)."""


def bucketing_string(value: Any) -> str | None:
    """The string a v1 or v2 bucketing value hashes as; ``None`` when it is not a string.

    flagd's evaluators (Go, JavaScript, Python) hash only a string: a number, a
    boolean, ``null``, an array or an object falls in no bucket (the rule gives ``null``).
    """
    if type(value) is str or isinstance(value, str):
        return value
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


def bytes_hash(key: bytes) -> int:
    """The unsigned MurmurHash3 x86_32 (seed 0) of ``key`` (v3's CBOR bytes)."""
    return _murmur3(key, 0, signed=False)


def bucket_index(key: str, bounds: list[int], total: int) -> int:
    """The index of the bucket ``key`` falls into (``total`` must be positive)."""
    return bisect_right(bounds, (bucket_hash(key) * total) >> 32)


_MAX_INT32: Final = 2_147_483_647.0


def percentages(weights: list[int], total: int) -> list[float]:
    """v1's cumulative bucket ends, in percent, summed in float64 as flagd (Go) sums them.

    ``total`` must be positive.
    """
    running = 0.0
    ends = []
    for weight in weights:
        running += 100 * float(weight) / float(total)
        ends.append(running)
    return ends


def v1_index(key: str, ends: list[float]) -> int | None:
    """The bucket ``key`` falls into under v1, or ``None`` past the last bucket's end.

    Past the end means ``abs(int32(h))`` above ``MaxInt32`` (``h`` is ``-2**31``), or
    a percentage at or above a last end that float rounding left short of 100; flagd
    (Go) then names no variant, and neither does this.
    """
    signed = _murmur3(key if key.isascii() else utf8(key), 0, signed=True)
    index = bisect_right(ends, abs(float(signed)) / _MAX_INT32 * 100)
    return index if index < len(ends) else None

"""fractional v3's deterministic CBOR: RFC 8949 vectors, and properties checked with cbor2."""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfeature_litestar._engine._cbor import MAX_CBOR_DEPTH, cbor

U64 = 2**64


# RFC 8949 Appendix A, after the ADR's number normalisation (integral floats in
# [-2**63, 2**64 - 1] are integers there, so 0.0, 1.0 and 65504.0 encode as 0, 1 and 65504).
@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (23, "17"),
        (24, "1818"),
        (100, "1864"),
        (1000, "1903e8"),
        (1000000, "1a000f4240"),
        (1000000000000, "1b000000e8d4a51000"),
        (U64 - 1, "1bffffffffffffffff"),
        (U64, "c249010000000000000000"),
        (-U64, "3bffffffffffffffff"),
        (-U64 - 1, "c349010000000000000000"),
        (-1, "20"),
        (-10, "29"),
        (-100, "3863"),
        (-1000, "3903e7"),
        (0.0, "00"),
        (-0.0, "00"),
        (1.0, "01"),
        (65504.0, "19ffe0"),
        (1e12, "1b000000e8d4a51000"),
        (-(2.0**63), "3b7fffffffffffffff"),
        (2.0**64, "fa5f800000"),  # past 2**64 - 1: a float, and a single holds it
        (1.1, "fb3ff199999999999a"),
        (1.5, "f93e00"),
        (3.4028234663852886e38, "fa7f7fffff"),
        (1.0e300, "fb7e37e43c8800759c"),  # integral, but too large to be an integer
        (5.960464477539063e-8, "f90001"),
        (0.00006103515625, "f90400"),
        (-4.1, "fbc010666666666666"),
        (math.inf, "f97c00"),
        (-math.inf, "f9fc00"),
        (math.nan, "f97e00"),
        (False, "f4"),
        (True, "f5"),
        (None, "f6"),
        ("", "60"),
        ("a", "6161"),
        ("IETF", "6449455446"),
        ('"\\', "62225c"),
        ("\u00fc", "62c3bc"),
        ("\u6c34", "63e6b0b4"),
        ("\U00010151", "64f0908591"),
        ([], "80"),
        ([1, 2, 3], "83010203"),
        ((1, (2, 3)), "8201820203"),
        ([1, [2, 3], [4, 5]], "8301820203820405"),
        ({}, "a0"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        (["a", {"b": "c"}], "826161a161626163"),
        ({"b": 1, "aa": 2}, "a2616201626161" + "02"),  # shorter key first: bytewise order
        ("x" * 24, "7818" + "78" * 24),
    ],
)
def test_rfc_8949_vectors(value: Any, encoded: str) -> None:
    assert cbor(value) == bytes.fromhex(encoded)


def test_lone_surrogates_encode_as_the_replacement_character() -> None:
    assert cbor("a" + chr(0xD800)) == cbor("a\ufffd")
    assert cbor({chr(0xDC00): [chr(0xD83D)]}) == cbor({"\ufffd": ["\ufffd"]})
    # Two keys that differ only in lone surrogates still encode, in a fixed order.
    first = cbor({chr(0xD800): 1, chr(0xDC00): 2})
    assert first == cbor({chr(0xDC00): 2, chr(0xD800): 1})
    assert first == bytes.fromhex("a263efbfbd0163efbfbd02")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc),
        {1: "a"},
        b"bytes",
        {"a": [object()]},
    ],
)
def test_values_that_are_not_json_have_no_encoding(value: Any) -> None:
    assert cbor(value) is None


def test_nesting_is_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_CBOR_DEPTH):
        deep = [deep]
    assert cbor(deep) is not None
    assert cbor([deep]) is None
    assert cbor({"a": deep}) is None


def _normalised(value: Any) -> Any:
    """The ADR's number normalisation, written plainly, for the properties below."""
    if isinstance(value, float) and value.is_integer() and -(2**63) <= value <= U64 - 1:
        return int(value)
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    return value


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # no lone surrogates
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.floats(width=16, allow_nan=False),
    st.floats(width=32, allow_nan=False),
    st.sampled_from([2.0**63, -(2.0**63), 2.0**64, -(2.0**64), 1e300, 5e-324]),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)


@settings(max_examples=500, deadline=None)
@given(value=JSON)
def test_cbor2_decodes_the_normalised_value(value: Any) -> None:
    encoded = cbor(value)
    assert encoded is not None
    assert cbor2.loads(encoded) == _normalised(value)


@settings(max_examples=500, deadline=None)
@given(value=JSON)
def test_the_same_bytes_as_cbor2_canonical(value: Any) -> None:
    # cbor2's canonical mode sorts keys shortest-encoding first (RFC 7049), which is
    # RFC 8949's bytewise order when every key is a text string, as in JSON.
    assert cbor(value) == cbor2.dumps(_normalised(value), canonical=True)


@settings(max_examples=200, deadline=None)
@given(members=st.dictionaries(TEXT, JSON, max_size=6), seed=st.randoms())
def test_member_order_does_not_matter(members: dict[str, Any], seed: Any) -> None:
    items = list(members.items())
    seed.shuffle(items)
    assert cbor(OrderedDict(items)) == cbor(members)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_floats_take_the_shortest_exact_width(value: Any) -> None:
    encoded = cbor(value)
    assert encoded is not None
    decoded = cbor2.loads(encoded)
    assert decoded == _normalised(value)
    if isinstance(decoded, float):
        initial = encoded[0]
        # No narrower width holds the value exactly.
        narrower = {0xFB: (32, 16), 0xFA: (16,), 0xF9: ()}[initial]
        for width in narrower:
            assert cbor2.loads(_packed(value, width)) != value


def _packed(value: float, width: int) -> bytes:
    import struct  # noqa: PLC0415 - only this helper

    code, initial = {16: ("e", 0xF9), 32: ("f", 0xFA)}[width]
    try:
        return bytes([initial]) + struct.pack(f">{code}", value)
    except OverflowError:
        return cbor2.dumps(math.inf if value > 0 else -math.inf)


@settings(max_examples=300, deadline=None)
@given(value=st.recursive(st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)))
def test_any_text_encodes_without_raising(value: Any) -> None:
    encoded = cbor(value)  # lone surrogates included
    assert encoded is not None
    cbor2.loads(encoded)  # and it is well-formed CBOR

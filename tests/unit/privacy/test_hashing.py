"""_privacy._hashing: pseudonyms of identifiers under a secret key (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._privacy._hashing import (
    HASH_KEY_ENV,
    HASH_LENGTH,
    MIN_KEY_BYTES,
    IdentifierHasher,
    hash_identifier,
)

KEY = "0123456789abcdef"  # 16 bytes: the shortest key accepted
OTHER_KEY = b"another-secret-key-of-32-bytes!!"


def _hmac_prefix(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)


def test_documented_vector_pins_the_output_format() -> None:
    # HMAC-SHA256(key="0123456789abcdef", "user-42"), first 32 hex characters.
    assert hash_identifier("user-42", KEY) == "101b5ab6a741733cad42f34ec38bf81f"
    assert IdentifierHasher(KEY)("user-42") == "101b5ab6a741733cad42f34ec38bf81f"


@pytest.mark.parametrize("value", ["", "user-42", "alice@example.com", "ü-ñ-日本", "x" * 10_000])
def test_output_is_the_hmac_sha256_prefix(value: str) -> None:
    hasher = IdentifierHasher(OTHER_KEY)
    assert hasher(value) == _hmac_prefix(OTHER_KEY, value)
    assert hash_identifier(value, OTHER_KEY) == hasher(value)
    assert len(hasher(value)) == HASH_LENGTH == 32
    assert set(hasher(value)) <= set("0123456789abcdef")


def test_not_a_plain_sha256() -> None:
    assert hash_identifier("user-42", KEY) != hashlib.sha256(b"user-42").hexdigest()[:32]
    assert hash_identifier("user-42", KEY) != hash_identifier("user-42", OTHER_KEY)


def test_str_key_is_its_utf8_bytes() -> None:
    assert IdentifierHasher(KEY)("v") == IdentifierHasher(KEY.encode())("v")


def test_lone_surrogates_are_hashed_not_raised() -> None:
    value = "bad \ud800 text"
    expected = hmac.new(
        KEY.encode(), value.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:32]
    assert IdentifierHasher(KEY)(value) == expected


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HASH_KEY_ENV, KEY)
    hasher = IdentifierHasher()
    assert hasher("user-42") == "101b5ab6a741733cad42f34ec38bf81f"
    assert hash_identifier("user-42") == "101b5ab6a741733cad42f34ec38bf81f"
    assert not hasher.ephemeral
    assert hasher.source == "environment"


def test_argument_key_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HASH_KEY_ENV, KEY)
    assert IdentifierHasher(OTHER_KEY)("v") == _hmac_prefix(OTHER_KEY, "v")
    assert hash_identifier("v", OTHER_KEY) == _hmac_prefix(OTHER_KEY, "v")


@pytest.mark.parametrize("environment", [None, ""])
def test_no_key_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    if environment is not None:
        monkeypatch.setenv(HASH_KEY_ENV, environment)
    with pytest.raises(ConfigurationError) as caught:
        IdentifierHasher()
    assert HASH_KEY_ENV in str(caught.value)
    assert "ephemeral=True" in str(caught.value)
    with pytest.raises(ConfigurationError):
        hash_identifier("user-42")


def test_short_key_is_rejected_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    short = "s3cr3t-short"
    assert len(short) < MIN_KEY_BYTES
    with pytest.raises(ConfigurationError) as caught:
        IdentifierHasher(short)
    assert short not in str(caught.value)
    assert "12 bytes" in str(caught.value)
    monkeypatch.setenv(HASH_KEY_ENV, short)
    with pytest.raises(ConfigurationError) as from_env:
        IdentifierHasher()
    assert short not in str(from_env.value)
    assert HASH_KEY_ENV in str(from_env.value)


def test_key_length_counts_utf8_bytes() -> None:
    IdentifierHasher("ü" * 8)  # 8 characters, 16 bytes
    with pytest.raises(ConfigurationError):
        IdentifierHasher("ü" * 7 + "x")


def test_key_of_another_type_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        IdentifierHasher(12345678901234567890)  # type: ignore[arg-type]


def test_ephemeral_is_stable_in_process_and_differs_between_hashers() -> None:
    one, two = IdentifierHasher(ephemeral=True), IdentifierHasher(ephemeral=True)
    assert one.ephemeral
    assert two.source == "ephemeral"
    assert one("user-42") == one("user-42")
    assert one("user-42") != two("user-42")
    assert len(one("user-42")) == HASH_LENGTH


def test_hash_identifier_ephemeral_key_is_per_process() -> None:
    first = hash_identifier("user-42", ephemeral=True)
    assert hash_identifier("user-42", ephemeral=True) == first
    assert hash_identifier("user-43", ephemeral=True) != first


def test_ephemeral_only_permits_a_random_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A configured key is always used; ephemeral=True never replaces it.
    hasher = IdentifierHasher(KEY, ephemeral=True)
    assert not hasher.ephemeral
    assert hasher("user-42") == "101b5ab6a741733cad42f34ec38bf81f"
    monkeypatch.setenv(HASH_KEY_ENV, KEY)
    assert not IdentifierHasher(ephemeral=True).ephemeral
    assert hash_identifier("user-42", ephemeral=True) == "101b5ab6a741733cad42f34ec38bf81f"


def test_repr_hides_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert repr(IdentifierHasher(KEY)) == "IdentifierHasher(key=<argument>)"
    assert KEY not in repr(IdentifierHasher(KEY))
    monkeypatch.setenv(HASH_KEY_ENV, KEY)
    assert repr(IdentifierHasher()) == "IdentifierHasher(key=<environment>)"
    assert repr(IdentifierHasher(KEY.encode())) == "IdentifierHasher(key=<argument>)"

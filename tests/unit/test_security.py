"""security: keyed hashing, the Sanitizer policy and masking of secrets."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._security import (
    DEFAULT_SENSITIVE_FIELDS,
    DEFAULT_SENSITIVE_PATTERNS,
    HASH_KEY_ENV,
    HASH_LENGTH,
    MIN_KEY_BYTES,
    REDACTED,
    TOO_DEEP,
    TRUNCATED,
    IdentifierHasher,
    Sanitizer,
    hash_identifier,
    mask_secrets,
    mask_url,
)

KEY = "0123456789abcdef"  # 16 bytes: the shortest key accepted
OTHER_KEY = b"another-secret-key-of-32-bytes!!"


def _hmac_prefix(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)


# --- hashing ---------------------------------------------------------------------------


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


# --- Sanitizer -------------------------------------------------------------------------


def test_defaults_redact_sensitive_names_and_values() -> None:
    attributes = {
        "plan": "pro",
        "age": 42,
        "beta": True,
        "score": 1.5,
        "nothing": None,
        "email": "ann@example.com",
        "password": "hunter2",
        "note": "write to bob@example.com",
    }
    assert Sanitizer().sanitize(attributes) == {
        "plan": "pro",
        "age": 42,
        "beta": True,
        "score": 1.5,
        "nothing": None,
        "email": REDACTED,
        "password": REDACTED,
        "note": REDACTED,
    }


def test_each_action() -> None:
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(
        hasher=hasher,
        actions={"password": "drop", "email": "hash", "user_id": "hash", "phone": "redact"},
    )
    result = sanitizer.sanitize(
        {
            "password": "hunter2",
            "email": "ann@example.com",
            "user_id": 42,
            "phone": "+44 20 7946 0958",
            "plan": "pro",
        }
    )
    assert result == {
        "email": hasher("ann@example.com"),
        "user_id": hasher("42"),
        "phone": REDACTED,
        "plan": "pro",
    }


def test_hash_as_default_action_hashes_sensitive_values() -> None:
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(default_action="hash", hasher=hasher)
    result = sanitizer.sanitize({"note": "ann@example.com", "token": "abc", "nested": {"a": 1}})
    assert result == {"note": hasher("ann@example.com"), "token": hasher("abc"), "nested": {"a": 1}}


def test_hash_of_a_container_is_redacted() -> None:
    sanitizer = Sanitizer(hasher=IdentifierHasher(KEY), actions={"address": "hash"})
    assert sanitizer.sanitize({"address": {"street": "x"}}) == {"address": REDACTED}


def test_drop_as_default_action_removes_list_items() -> None:
    sanitizer = Sanitizer(default_action="drop")
    assert sanitizer.sanitize({"xs": ["a", "ann@example.com", "b"], "secret": 1}) == {
        "xs": ["a", "b"]
    }


def test_hash_needs_a_hasher() -> None:
    with pytest.raises(ConfigurationError, match="hasher"):
        Sanitizer(actions={"email": "hash"})
    with pytest.raises(ConfigurationError, match="hasher"):
        Sanitizer(default_action="hash")


def test_unknown_action_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="unknown action"):
        Sanitizer(actions={"email": "shred"})  # type: ignore[dict-item]


def test_nested_dicts_and_lists() -> None:
    attributes = {
        "user": {
            "id": "u1",
            "profile": {"email": "a@b.example", "tags": ["x", "10.1.2.3", {"apiKey": "k"}]},
        },
        "items": [{"token": "t", "sku": "A-1"}, ("y", "Bearer abcdefghijkl")],
    }
    assert Sanitizer().sanitize(attributes) == {
        "user": {
            "id": "u1",
            "profile": {"email": REDACTED, "tags": ["x", REDACTED, {"apiKey": REDACTED}]},
        },
        "items": [{"token": REDACTED, "sku": "A-1"}, ["y", REDACTED]],
    }


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "PASSWORD",
        "Password",
        "X-Api-Key",
        "x_api_key",
        "apiKey",
        "APIKEY",
        "api-key",
        "db_password",
        "user.email",
        "remoteIp",
        "client_ip",
        "Set-Cookie",
        "accessToken",
        "sessionId",
        "creditCard",
        "card-number",
    ],
)
def test_sensitive_names_match_case_and_separator_insensitively(name: str) -> None:
    sanitizer = Sanitizer()
    assert sanitizer.is_sensitive_field(name)
    assert sanitizer.sanitize({name: "value"}) == {name: REDACTED}


@pytest.mark.parametrize(
    "name",
    [
        "passwords",
        "tokens",
        "api_keys",
        "apiKeys",
        "cookies",
        "secrets",
        "user_emails",
        "home_addresses",
        "remoteIps",
        "session_ids",
    ],
)
def test_plural_names_are_read_as_their_singular(name: str) -> None:
    sanitizer = Sanitizer()
    assert sanitizer.is_sensitive_field(name)
    assert sanitizer.sanitize({name: ["value"]}) == {name: REDACTED}


@pytest.mark.parametrize("name", ["tokens_used", "cookies_enabled", "ips_blocked_count"])
def test_a_plural_that_is_not_the_last_word_is_not_read_as_a_sensitive_name(name: str) -> None:
    # The last word names what the field holds: these are counts and switches.
    assert not Sanitizer().is_sensitive_field(name)


def test_a_plural_matches_the_action_of_its_singular() -> None:
    sanitizer = Sanitizer(actions={"session_id": "drop"})
    assert sanitizer.sanitize({"sessionIds": ["a"], "plan": "pro"}) == {"plan": "pro"}


@pytest.mark.parametrize(
    "name",
    ["plan", "zip", "description", "country", "tokens_used", "passage", "ship_to", "key", "status"],
)
def test_ordinary_names_are_not_sensitive(name: str) -> None:
    sanitizer = Sanitizer()
    assert not sanitizer.is_sensitive_field(name)
    assert sanitizer.sanitize({name: "value"}) == {name: "value"}


def test_own_action_of_the_whole_name_wins_over_parts() -> None:
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(hasher=hasher, actions={"user_email": "hash"})
    assert sanitizer.sanitize({"User-Email": "x", "work_email": "y"}) == {
        "User-Email": hasher("x"),
        "work_email": REDACTED,
    }


def test_strictest_action_of_the_parts_wins() -> None:
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(hasher=hasher, actions={"email": "hash", "session": "drop"})
    assert sanitizer.sanitize({"session_email": "x", "email_x": "y"}) == {"email_x": hasher("y")}


def test_sensitive_value_patterns() -> None:
    sanitizer = Sanitizer()
    for value in [
        "ann@example.com",
        "Bearer abcdefghijklmnop",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "192.168.0.1",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1",
        "AKIAIOSFODNN7EXAMPLE",
        "redis://u:pw@host",
        "password=hunter2",
    ]:
        assert sanitizer.is_sensitive_value(value), value
    for value in ["pro", "GB", "2025-01-31", "12:30:45", "v1.2.3", "user-42", "a" * 40]:
        assert not sanitizer.is_sensitive_value(value), value


def test_sensitive_looking_key_drops_its_entry() -> None:
    assert Sanitizer().sanitize({"ann@example.com": True, "plan": "pro"}) == {"plan": "pro"}


def test_allow_list_mode() -> None:
    sanitizer = Sanitizer(allow=frozenset({"Plan", "profile", "email"}))
    attributes: dict[Any, Any] = {
        "plan": "pro",
        "country": "GB",
        "profile": {"country": "GB", "password": "x", "note": "a@b.example"},
        "email": "ann@example.com",
        1: "int key",
    }
    result = sanitizer.sanitize(attributes)
    # Allowed names match case-insensitively; sensitive data inside them is still handled.
    assert result == {
        "plan": "pro",
        "profile": {"country": "GB", "password": REDACTED, "note": REDACTED},
        "email": REDACTED,
    }


def test_attribute_count_limit_keeps_the_first_entries() -> None:
    sanitizer = Sanitizer(max_attributes=3)
    attributes = {f"k{i}": i for i in range(10)}
    assert sanitizer.sanitize(attributes) == {"k0": 0, "k1": 1, "k2": 2}
    assert sanitizer.sanitize({"xs": list(range(10))}) == {"xs": [0, 1, 2]}


def test_string_length_limit() -> None:
    sanitizer = Sanitizer(max_string_length=40)
    result = sanitizer.sanitize({"long": "x" * 100, "exact": "y" * 40})
    assert result == {"long": "x" * (40 - len(TRUNCATED)) + TRUNCATED, "exact": "y" * 40}
    assert len(result["long"]) == 40


def test_string_length_limit_fits_every_replacement() -> None:
    with pytest.raises(ConfigurationError, match="at least 32"):
        Sanitizer(max_string_length=31)
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(max_string_length=32, default_action="hash", hasher=hasher)
    assert sanitizer.sanitize({"e": "ann@example.com"}) == {"e": hasher("ann@example.com")}

    class AVeryLongClassNameThatDoesNotFitTheLimit:
        pass

    marker = sanitizer.sanitize({"o": AVeryLongClassNameThatDoesNotFitTheLimit()})["o"]
    assert marker == "[AVeryLongClassNameThatDoesNotF]"
    assert len(marker) == 32


def test_long_key_drops_its_entry() -> None:
    assert Sanitizer(max_string_length=32).sanitize({"k" * 33: 1, "k": 2}) == {"k": 2}


def test_sensitive_value_past_the_cut_is_still_found() -> None:
    value = "x" * 30 + " ann@example.com"
    assert Sanitizer(max_string_length=32).sanitize({"s": value}) == {"s": REDACTED}


def test_depth_limit() -> None:
    sanitizer = Sanitizer(max_depth=3)
    attributes = {"a": {"b": {"c": {"d": 1}}, "list": [[1]]}, "flat": [1]}
    assert sanitizer.sanitize(attributes) == {
        "a": {"b": {"c": TOO_DEEP}, "list": [TOO_DEEP]},
        "flat": [1],
    }
    assert Sanitizer(max_depth=1).sanitize({"x": {}, "y": 1}) == {"x": TOO_DEEP, "y": 1}


def test_cycles_are_cut_by_the_depth_limit() -> None:
    looping: dict[str, Any] = {"name": "loop"}
    looping["self"] = looping
    result = Sanitizer(max_depth=3).sanitize(looping)
    assert result == {
        "name": "loop",
        "self": {"name": "loop", "self": {"name": "loop", "self": TOO_DEEP}},
    }


def test_value_budget_bounds_shared_structures() -> None:
    shared: list[Any] = list(range(64))
    for _ in range(7):
        shared = [shared] * 64  # 64**8 leaves if walked naively
    result = Sanitizer(max_values=100).sanitize({"x": shared})
    leaves = str(result).count(",") + 1
    assert leaves < 200


def test_other_types() -> None:
    moment = dt.datetime(2025, 1, 31, 12, 0, tzinfo=dt.timezone.utc)

    class Secretive:
        def __str__(self) -> str:
            raise AssertionError("str() must not be called")

    result = Sanitizer().sanitize(
        {"at": moment, "day": moment.date(), "obj": Secretive(), "raw": b"bytes", "set": {1}}
    )
    assert result == {
        "at": moment,
        "day": moment.date(),
        "obj": "[Secretive]",
        "raw": "[bytes]",
        "set": [1],
    }


def test_input_is_not_mutated_and_output_is_new() -> None:
    attributes: dict[str, Any] = {
        "user": {"email": "a@b.example", "tags": ["x", "1.2.3.4"]},
        "plan": "pro",
    }
    before = copy.deepcopy(attributes)
    result = Sanitizer().sanitize(attributes)
    assert attributes == before
    assert result is not attributes
    assert result["user"] is not attributes["user"]
    assert result["user"]["tags"] is not attributes["user"]["tags"]


def test_fast_path_gives_the_same_result_as_the_first_call() -> None:
    sanitizer = Sanitizer()
    attributes = {"plan": "pro", "age": 3, "email": "a@b.example"}
    first = sanitizer.sanitize(attributes)
    assert sanitizer.sanitize(attributes) == first == {"plan": "pro", "age": 3, "email": REDACTED}
    flat = {"plan": "pro", "age": 3}
    assert sanitizer.sanitize(flat) == sanitizer.sanitize(flat) == flat


def test_never_raises_on_an_unreadable_mapping() -> None:
    class Broken(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("boom")

    assert Sanitizer().sanitize(Broken(a=1)) == {}


def test_extended_keeps_the_defaults() -> None:
    hasher = IdentifierHasher(KEY)
    base = Sanitizer()
    extended = base.extended(
        sensitive_fields={"tenant"},
        sensitive_patterns=[r"\bACME-[0-9]+\b"],
        actions={"user_id": "hash"},
        hasher=hasher,
        max_depth=4,
    )
    assert extended.sensitive_fields == DEFAULT_SENSITIVE_FIELDS | {"tenant"}
    assert extended.sensitive_patterns == (*DEFAULT_SENSITIVE_PATTERNS, r"\bACME-[0-9]+\b")
    assert extended.max_depth == 4
    assert extended.sanitize(
        {"tenant": "t", "user_id": "u1", "email": "e", "ref": "ACME-12", "plan": "pro"}
    ) == {
        "tenant": REDACTED,
        "user_id": hasher("u1"),
        "email": REDACTED,
        "ref": REDACTED,
        "plan": "pro",
    }
    assert base.sanitize({"tenant": "t"}) == {"tenant": "t"}  # the original is unchanged
    again = extended.extended(sensitive_patterns=[r"\bACME-[0-9]+\b"], actions={"x": "drop"})
    assert again.sensitive_patterns == extended.sensitive_patterns
    assert dict(again.actions) == {"user_id": "hash", "x": "drop"}


def test_extended_rejects_unknown_changes() -> None:
    with pytest.raises(TypeError):
        Sanitizer().extended(colour="blue")


def test_invalid_pattern_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="RE2 rejects"):
        Sanitizer(sensitive_patterns=(r"(a)\1",))
    with pytest.raises(ConfigurationError, match="RE2 rejects"):
        Sanitizer().extended(sensitive_patterns=["(?=x)"])


def test_no_patterns_means_no_sensitive_values() -> None:
    sanitizer = Sanitizer(sensitive_patterns=())
    assert sanitizer.sanitize({"note": "a@b.example"}) == {"note": "a@b.example"}


@pytest.mark.parametrize(
    "setting", ["max_attributes", "max_string_length", "max_depth", "max_values"]
)
@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_limits_are_positive_integers(setting: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        Sanitizer(**{setting: value})


def test_empty_names_are_rejected() -> None:
    with pytest.raises(ConfigurationError):
        Sanitizer(sensitive_fields=frozenset({"--"}))
    with pytest.raises(ConfigurationError):
        Sanitizer(allow=frozenset({""}))


def test_sanitizer_is_immutable_and_hashable() -> None:
    sanitizer = Sanitizer(actions={"email": "drop"})
    with pytest.raises(AttributeError):
        sanitizer.max_depth = 3  # type: ignore[misc]
    assert isinstance(hash(sanitizer), int)
    assert sanitizer == Sanitizer(actions={"email": "drop"})


# --- masking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://user:s3cret@host:6379/0", "redis://user:***@host:6379/0"),
        ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
        (
            "rediss://default:s3cret@cache.example:6380/1",
            "rediss://default:***@cache.example:6380/1",
        ),
        ("redis://:p@ss@host:6379", "redis://:***@host:6379"),
        ("redis://:pa/ss@host", "redis://:***@host"),
        (
            "postgresql+asyncpg://app:s3cret@db.example:5432/flags",
            "postgresql+asyncpg://app:***@db.example:5432/flags",
        ),
        (
            "postgresql://db.example/flags?sslpassword=s3cret&password=p2&sslmode=require",
            "postgresql://db.example/flags?sslpassword=***&password=***&sslmode=require",
        ),
        ("redis://host:6379/0?token=s3cret", "redis://host:6379/0?token=***"),
        # A value runs to '&' or whitespace: a '#' may be part of a password, so more goes.
        ("https://api.example/x?secret=s3c#ret#frag", "https://api.example/x?secret=***"),
        ("app:s3cret@db.example:5432", "app:***@db.example:5432"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "s3cret" not in mask_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        "sqlite+aiosqlite:///flags.db",
        "sqlite:///:memory:",
        "redis://host:6379/0?client_name=a@b",
        "http://[::1]:8080/path",
        "",
        "not a url at all",
        "\ud800://x:y",
    ],
)
def test_mask_url_leaves_urls_without_secrets_alone(url: str) -> None:
    assert mask_url(url) == url


def test_mask_secrets_in_a_driver_message() -> None:
    message = (
        "Error connecting to redis://admin:hunter2@10.0.0.1:6379/0. "
        "Retrying postgresql+asyncpg://app:pg-pass@db:5432/x?sslpassword=ssl-pass"
    )
    masked = mask_secrets(message)
    assert masked == (
        "Error connecting to redis://admin:***@10.0.0.1:6379/0. "
        "Retrying postgresql+asyncpg://app:***@db:5432/x?sslpassword=***"
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("password=hunter2 user=ann", "password=*** user=ann"),
        ("connect(password='hun ter', host='h')", "connect(password='***', host='h')"),
        ('{"api_key": "k-123", "plan": "pro"}', '{"api_key": "***", "plan": "pro"}'),
        ("{'client_secret': 'xyz'}", "{'client_secret': '***'}"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
        ("DB_PASSWORD: hunter2", "DB_PASSWORD: ***"),
        ("token:abc;next", "token:***;next"),
        ("max_tokens=5 tokens_used=3", "max_tokens=5 tokens_used=3"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_mask_secrets_key_values(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_mask_secrets_does_not_mask_twice() -> None:
    assert mask_secrets("redis://token:s3cret@host:6379") == "redis://token:***@host:6379"


@pytest.mark.parametrize(
    "text",
    ["", "@", ":", "://", "a://b:c", "x" * 100_000, "\ud800\udfff", "::::@@@///???", "é://ü:ö@ä"],
)
def test_mask_secrets_never_raises(text: str) -> None:
    assert isinstance(mask_secrets(text), str)
    assert isinstance(mask_url(text), str)


def test_mask_secrets_is_linear_on_hostile_text() -> None:
    # A long run that a backtracking engine would rescan from every position.
    text = "a" * 200_000 + ":" + "b" * 200_000
    assert mask_secrets(text) == text


# --- values of any script, numbers --------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["josé@correo.es", "müller@bücher.de", "user@例え.jp", "имя@почта.рф"]
)
def test_an_email_address_with_non_ascii_letters_is_sensitive(address: str) -> None:
    sanitizer = Sanitizer()
    assert sanitizer.is_sensitive_value(f"contact: {address}")
    assert sanitizer.sanitize({"note": address}) == {"note": REDACTED}


def test_an_integer_card_number_is_redacted() -> None:
    sanitizer = Sanitizer()
    attributes = {"ref": 4111111111111111, "items": [4111111111111111, 7], "n": 999_999_999_999}
    assert sanitizer.sanitize(attributes) == {
        "ref": REDACTED,
        "items": [REDACTED, 7],
        "n": 999_999_999_999,
    }


def test_an_integer_card_number_is_hashed_as_its_digits() -> None:
    hasher = IdentifierHasher(KEY)
    sanitizer = Sanitizer(default_action="hash", hasher=hasher)
    assert sanitizer.sanitize({"ref": 4111111111111111}) == {"ref": hasher("4111111111111111")}


def test_an_integer_card_number_as_a_mapping_key_removes_its_entry() -> None:
    sanitizer = Sanitizer()
    attributes = {"m": {4111111111111111: "x", 42: "y"}}
    assert sanitizer.sanitize(attributes) == {"m": {42: "y"}}


def test_booleans_and_long_integers_that_match_nothing_are_kept() -> None:
    sanitizer = Sanitizer()
    huge = 10**30  # 31 digits: longer than any card number
    assert sanitizer.sanitize({"a": True, "b": huge, "c": -5}) == {"a": True, "b": huge, "c": -5}

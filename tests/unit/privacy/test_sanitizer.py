"""_privacy._sanitizer: the Sanitizer policy, its defaults, limits and actions."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import pytest

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._privacy import _patterns as patterns_module
from openfeature_litestar._privacy._hashing import HASH_KEY_ENV, HASH_LENGTH, IdentifierHasher
from openfeature_litestar._privacy._patterns import (
    DEFAULT_SENSITIVE_FIELDS,
    DEFAULT_SENSITIVE_PATTERNS,
)
from openfeature_litestar._privacy._sanitizer import REDACTED, TOO_DEEP, TRUNCATED, Sanitizer

KEY = "0123456789abcdef"  # 16 bytes: the shortest key accepted
OTHER_KEY = b"another-secret-key-of-32-bytes!!"


def _hmac_prefix(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)


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


# --- phone numbers, IBANs, more e-mail forms, API tokens (the documented examples) ---------


@pytest.mark.parametrize(
    "value",
    [
        # phone numbers, international
        "+44 20 7946 0958",
        "+1-202-555-0143",
        "+1 (202) 555-0143",
        "+44 (0)20 7946 0958",
        "+14155552671",
        "0049 30 1234567",
        "tel:+33 1 23 45 67 89",
        # phone numbers, national
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1-800-555-0199",
        "call 555-123-4567.",
        "090-1234-5678",
        "020 7946 0958",
        "0161 496 0000",
        "030 12345678",
        "(020) 7946 0958",
        "01 23 45 67 89",
        # IBANs
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "IBAN: NO93 8601 1117 947",
        # e-mail addresses
        '"john doe"@example.com',
        "john\uff20example.com",  # FULLWIDTH COMMERCIAL AT
        "john\ufe6bexample.com",  # SMALL COMMERCIAL AT
        "\uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
        "user@\u4f8b\u3048\u3002jp",  # an ideographic full stop between labels
        # API keys and private keys
        "github_pat_11ABCDEFG0" + "a" * 12 + "_" + "B" * 59,
        "glpat-" + "x1Y2z3" * 4,
        "sk-proj-" + "Ab3" * 16,
        "sk-ant-api03-" + "k9Z" * 31 + "AA",
        "AIza" + "SyD" * 11 + "-_",
        "GOCSPX-" + "a1" * 14,
        "ya29.a0AfH6SMB" + "x" * 20,
        "npm_" + "a1B2" * 9,
        "pypi-AgEIcHlwaS5vcmc" + "CJ" * 40,
        "SG." + "a" * 22 + "." + "b" * 43,
        "SK" + "0123456789abcdef" * 2,
        "hf_" + "a" * 34,
        "shpat_" + "0f" * 16,
        "dop_v1_" + "0f" * 32,
        "whsec_" + "A1" * 16,
        "ASIAIOSFODNN7EXAMPLE",
        "xoxb-1234567890-abcdefghij",
        "xapp-1-A0123456789-abcdef",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        # payment cards as printed
        "3782 822463 10005",
        "4222 2222 2222 2",
        "6212 3456 7890 1234 567",
    ],
)
def test_new_kinds_of_sensitive_values(value: str) -> None:
    sanitizer = Sanitizer()
    assert sanitizer.is_sensitive_value(value)
    assert sanitizer.sanitize({"note": value}) == {"note": REDACTED}


@pytest.mark.parametrize(
    "value",
    [
        "1.2.3",
        "v10.4.12-rc.1",
        "1.0.0+20240115",
        "1.0.0-beta+20240115",
        "10.0.19041.1234",
        "2024-01-15",
        "15.01.2024",
        "01/15/2024",
        "05-03-2024 10:30",
        "2024-01-15T10:30:45+01:00",
        "2000-01-01T00:00:01.000001+00:00",
        "20240115T103045+0530",
        "123e4567-e89b-12d3-a456-426614174000",
        "00000000-0000-0000-0000-000000000000",
        "00000000-0123-4567-8901-234567890123",
        "1 023 456 789",
        "1.023.456.789",
        "555-1234",
        "12345-6789",
        "4155552671",
        "0012345678",
        "+05:30",
        "sk-internationalization-of-the-checkout-flow",
        "task-force-alpha",
        "DE89",
        "hotel",
    ],
)
def test_values_the_new_patterns_leave_alone(value: str) -> None:
    assert not Sanitizer().is_sensitive_value(value)


@pytest.mark.parametrize(
    "name",
    [
        "tel",
        "work_tel",
        "telNo",
        "telephone",
        "work_telephone",
        "msisdn",
        "MSISDN",
        "mobile_phone",
        "mobileNumber",
        "cell",
        "cellPhone",
        "cellphone",
        "CELLPHONE",
        "mail",
        "userMail",
        "email_address",
        "emailaddress",
        "mailaddress",
        "fax",
        "faxNumber",
        "phones",
        "telephones",
    ],
)
def test_phone_and_mail_field_names(name: str) -> None:
    assert Sanitizer().is_sensitive_field(name)


@pytest.mark.parametrize(
    "name",
    ["hotel", "cellular_plan", "mailbox_count", "telemetry", "intel", "cellar", "mailing_list"],
)
def test_names_that_only_contain_a_sensitive_word_are_not_sensitive(name: str) -> None:
    # A sensitive name is whole words: "hotel" is not "tel", "mailbox" is not "mail".
    assert not Sanitizer().is_sensitive_field(name)


def test_the_field_names_docstring_lists_every_default_name() -> None:
    source = Path(patterns_module.__file__).read_text(encoding="utf-8")
    body = ast.parse(source).body
    for index, statement in enumerate(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == "DEFAULT_SENSITIVE_FIELDS"
        ):
            docstring = body[index + 1]
            break
    else:
        pytest.fail("DEFAULT_SENSITIVE_FIELDS is not assigned")
    assert isinstance(docstring, ast.Expr)
    assert isinstance(docstring.value, ast.Constant)
    text = docstring.value.value
    assert isinstance(text, str)
    listed = text.split("\n\n")[1]  # the paragraph that lists them
    assert set(re.findall(r"``([a-z0-9_]+)``", listed)) == DEFAULT_SENSITIVE_FIELDS

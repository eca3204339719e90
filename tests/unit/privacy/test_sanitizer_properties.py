"""Property tests of the Sanitizer: planted secrets never survive, clean data passes as is."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openfeature_litestar._privacy._hashing import IdentifierHasher
from openfeature_litestar._privacy._sanitizer import REDACTED, Sanitizer

# Clean names and strings come from alphabets that cannot spell a sensitive name or
# match a sensitive pattern: no hex letters, digits, '@', '.', ':' or the letters of
# "bearer", "basic", "ip", "ssn", "dob", "cvv".
CLEAN_NAME = st.text("klmnptuvw", min_size=1, max_size=8)
CLEAN_TEXT = st.text("klmnoptuvw -", max_size=20)
# Integers of 13 digits or more are scanned (a card number as a number): clean ones are shorter.
CLEAN_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12) + 1, 10**12 - 1), CLEAN_TEXT
)

SENSITIVE_NAME = st.sampled_from(
    [
        "password",
        "Api-Key",
        "user_email",
        "X-Auth-Token",
        "ssn",
        "creditCard",
        "client_ip",
        # plurals, read as their singular
        "passwords",
        "api_keys",
        "sessionCookies",
        "userTokens",
        "secrets",
        "home_addresses",
    ]
)
# Secrets stored under sensitive names: uppercase 'QZ' marks them, and no clean string
# or marker ([REDACTED], [TOO DEEP]) or hash (lower-case hex) can contain it.
NAMED_SECRET = st.text("0123456789ABCDEFGHJK", min_size=4, max_size=12).map(lambda s: f"QZ{s}")
# Secrets recognised by value, wherever they sit; each contains '@', '.' or a space.
EMAIL = st.builds(
    "{}@{}.example".format,
    st.text("abcdefghijklmnop", min_size=1, max_size=8),
    st.text("abcdefghijklmnop", min_size=1, max_size=8),
)
IPV4 = st.builds("{}.{}.{}.{}".format, *(st.integers(0, 255) for _ in range(4)))
CARD = st.lists(st.integers(1000, 9999).map(str), min_size=4, max_size=4).map(" ".join)
BEARER = st.text("ABCDEFGHJKabcdefgh0123456789", min_size=10, max_size=20).map(
    lambda s: f"Bearer {s}"
)
# A card number stored as a number; _secrets_in finds it by its size.
CARD_NUMBER = st.integers(10**15, 10**16 - 1)
UNICODE_EMAIL = st.builds(
    "{}@{}.{}".format,
    st.text("äéøßçñ名前", min_size=1, max_size=6),
    st.text("üö例え", min_size=1, max_size=6),
    st.sampled_from(["de", "jp", "рф"]),
)
VALUE_SECRET = st.one_of(EMAIL, UNICODE_EMAIL, IPV4, CARD, BEARER, CARD_NUMBER)

MAX_DEPTH = 8
SANITIZERS = st.sampled_from(
    [
        Sanitizer(),
        Sanitizer(default_action="drop"),
        Sanitizer(default_action="hash", hasher=IdentifierHasher(ephemeral=True)),
    ]
)


def _tree(leaf: st.SearchStrategy[Any], depth: int) -> st.SearchStrategy[Any]:
    """Nested dicts and lists of ``leaf`` values, at most ``depth`` containers deep."""
    if depth == 0:
        return leaf
    inner = _tree(leaf, depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=4),
        st.dictionaries(CLEAN_NAME, inner, max_size=4),
    )


def _planted(depth: int) -> st.SearchStrategy[Any]:
    """A tree with secrets planted: under sensitive names and as values anywhere."""
    leaf = st.one_of(CLEAN_SCALAR, VALUE_SECRET)
    if depth == 0:
        return leaf
    inner = _planted(depth - 1)
    secret_subtree = st.one_of(NAMED_SECRET, _tree(NAMED_SECRET, depth - 1))
    entries = st.one_of(
        st.tuples(CLEAN_NAME, inner),
        st.tuples(SENSITIVE_NAME, secret_subtree),
    )
    return st.one_of(
        leaf,
        st.lists(inner, max_size=4),
        st.lists(entries, max_size=4).map(dict),
    )


ATTRIBUTES_WITH_SECRETS = st.lists(
    st.one_of(
        st.tuples(CLEAN_NAME, _planted(MAX_DEPTH - 1)),
        st.tuples(SENSITIVE_NAME, st.one_of(NAMED_SECRET, _tree(NAMED_SECRET, 2))),
    ),
    max_size=6,
).map(dict)

CLEAN_ATTRIBUTES = st.dictionaries(CLEAN_NAME, _tree(CLEAN_SCALAR, MAX_DEPTH - 1), max_size=6)


def _secrets_in(value: Any, *, named: bool = False) -> list[str]:
    """Every planted secret in ``value`` (strings under sensitive names, pattern values)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**12:
        return [str(value)]
    if isinstance(value, str):
        return [value] if named or value.startswith("QZ") or any(c in value for c in "@. ") else []
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            found += _secrets_in(item, named=named or not set(key) <= set("klmnptuvw"))
        return found
    if isinstance(value, list):
        return [secret for item in value for secret in _secrets_in(item, named=named)]
    return []


def _limits_respected(value: Any, sanitizer: Sanitizer, depth: int = 1) -> bool:
    if isinstance(value, str):
        return len(value) <= sanitizer.max_string_length
    if isinstance(value, (dict, list)):
        if depth > sanitizer.max_depth or len(value) > sanitizer.max_attributes:
            return False
        items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
        return all(
            (not isinstance(key, str) or len(key) <= sanitizer.max_string_length)
            and _limits_respected(item, sanitizer, depth + 1)
            for key, item in items
        )
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(attributes=ATTRIBUTES_WITH_SECRETS, sanitizer=SANITIZERS)
def test_no_planted_secret_survives(attributes: dict[str, Any], sanitizer: Sanitizer) -> None:
    planted = _secrets_in(attributes)
    output = json.dumps(sanitizer.sanitize(attributes), default=str)
    for secret in planted:
        if secret.strip(" -klmnoptuvw"):  # a clean-alphabet string is not a secret
            assert secret not in output


@settings(max_examples=300)
@given(attributes=CLEAN_ATTRIBUTES, sanitizer=SANITIZERS)
def test_clean_values_pass_unchanged(attributes: dict[str, Any], sanitizer: Sanitizer) -> None:
    assert sanitizer.sanitize(attributes) == attributes


def test_a_planted_secret_is_seen_by_the_checker() -> None:
    # The property above would pass vacuously if _secrets_in found nothing.
    attributes = {"kk": [{"password": "QZ12"}, "a@b.example"], "token": {"k": "QZ9"}}
    assert sorted(_secrets_in(attributes)) == ["QZ12", "QZ9", "a@b.example"]
    assert Sanitizer().sanitize(attributes) == {
        "kk": [{"password": REDACTED}, REDACTED],
        "token": REDACTED,
    }


ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=80)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=8), st.dictionaries(st.text(max_size=12), inner, max_size=8)
    ),
    max_leaves=60,
)

SMALL_LIMITS = st.builds(
    Sanitizer,
    max_attributes=st.integers(1, 5),
    max_string_length=st.integers(32, 60),
    max_depth=st.integers(1, 4),
    max_values=st.integers(1, 50),
    allow=st.one_of(st.none(), st.frozensets(st.text("abc", min_size=1, max_size=2), max_size=3)),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    attributes=st.dictionaries(st.text(max_size=40), ANY_JSON, max_size=10), sanitizer=SMALL_LIMITS
)
def test_output_never_exceeds_the_limits(attributes: dict[str, Any], sanitizer: Sanitizer) -> None:
    output = sanitizer.sanitize(attributes)
    assert isinstance(output, dict)
    assert _limits_respected(output, sanitizer)


class _Odd:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        return "_Odd()"


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    attributes=st.dictionaries(
        st.one_of(st.text(max_size=12), st.integers(), st.none(), st.just(("tuple", "key"))),
        st.recursive(
            st.one_of(
                ANY_JSON,
                st.binary(max_size=8),
                st.just(_Odd()),
                st.datetimes(),
                st.text(alphabet=st.characters(codec=None), max_size=20),
            ),
            lambda inner: st.one_of(
                st.lists(inner, max_size=4).map(tuple),
                st.frozensets(st.integers(), max_size=4),
                st.dictionaries(st.text(max_size=4), inner, max_size=4),
            ),
            max_leaves=30,
        ),
        max_size=8,
    ),
    sanitizer=SANITIZERS,
)
def test_sanitize_never_raises(attributes: dict[Any, Any], sanitizer: Sanitizer) -> None:
    output = sanitizer.sanitize(attributes)
    json.dumps(output, default=str)

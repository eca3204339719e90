"""Property tests of the Sanitizer: planted secrets never survive, clean data passes as is."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import operator
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openfeature_litestar._privacy._hashing import IdentifierHasher
from openfeature_litestar._privacy._sanitizer import REDACTED, Sanitizer

# Clean names and strings come from alphabets that cannot spell a sensitive name or
# match a sensitive pattern: no hex letters, digits, '@', '.', ':' or the letters of
# "bearer", "basic", "ip", "ssn", "dob", "cvv". Any other string is a planted secret.
CLEAN_NAME = st.text("klmnptuvw", min_size=1, max_size=8)
CLEAN_CHARACTERS = frozenset("klmnoptuvw -")
CLEAN_TEXT = st.text("".join(sorted(CLEAN_CHARACTERS)), max_size=20)
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
# Secrets recognised by value, wherever they sit; each has a character outside the clean
# alphabet.
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

# --- phone numbers, IBANs, e-mail forms and API tokens -------------------------------------
DIGITS = "0123456789"
ALNUM = string.ascii_letters + DIGITS
UPPER_ALNUM = string.ascii_uppercase + DIGITS
BASE64URL = ALNUM + "_-"
LOWER_HEX = "0123456789abcdef"


def _chars(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size if max_size is None else max_size)


def _digits(size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return _chars(DIGITS, size, max_size)


def _nonzero_first(size: int) -> st.SearchStrategy[str]:
    return st.builds(operator.add, _chars("123456789", 1), _digits(size - 1))


SEPARATOR = st.sampled_from([" ", "-", "."])


@st.composite
def _groups(draw: st.DrawFn, digits: str) -> list[str]:
    """``digits`` cut into groups of 1 to 4 digits."""
    groups: list[str] = []
    while digits:
        size = draw(st.integers(1, 4))
        groups.append(digits[:size])
        digits = digits[size:]
    return groups


@st.composite
def international_phones(draw: st.DrawFn) -> str:
    """E.164: +, a country code and 8 to 15 digits in all, grouped any common way."""
    country = draw(st.integers(1, 999).map(str))
    total = draw(st.integers(max(8, len(country) + 1), 15))
    groups = draw(_groups(draw(_digits(total - len(country)))))
    if total < 15 and draw(st.booleans()):
        groups.insert(0, "(0)")  # the national trunk prefix: +44 (0)20 7946 0958
    elif draw(st.booleans()):
        groups[0] = f"({groups[0]})"  # an area code in parentheses: +1 (202) 555-0143
    number = f"+{country}"
    for group in groups:
        number += draw(st.sampled_from([" ", "-", ".", ""])) + group
    return number


@st.composite
def double_zero_phones(draw: st.DrawFn) -> str:
    """The 00 international prefix: 0044 20 7946 0958."""
    country = draw(st.integers(1, 999).map(str))
    national = draw(_nonzero_first(draw(st.integers(7, 12))))
    groups = draw(_groups(national))
    separator = draw(SEPARATOR)
    return f"00{country}{separator}" + separator.join(groups)


@st.composite
def north_american_phones(draw: st.DrawFn) -> str:
    """(555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567, 1-800-555-0199."""
    area, exchange, line = draw(_digits(3)), draw(_digits(3)), draw(_digits(4))
    shape = draw(
        st.sampled_from(
            ["({}) {}-{}", "({}){}-{}", "{}-{}-{}", "{}.{}.{}", "{} {} {}", "1-{}-{}-{}"]
        )
    )
    return shape.format(area, exchange, line)


@st.composite
def three_four_four_phones(draw: st.DrawFn) -> str:
    """090-1234-5678, 138 0013 8000."""
    separator = draw(SEPARATOR)
    return separator.join([draw(_digits(3)), draw(_digits(4)), draw(_digits(4))])


@st.composite
def trunk_phones(draw: st.DrawFn) -> str:
    """A trunk 0, an area code of 2-5 digits, 6-8 digits: 020 7946 0958, 0161 496 0000."""
    area = "0" + draw(_nonzero_first(draw(st.integers(1, 4))))
    first, second = draw(SEPARATOR), draw(SEPARATOR)
    if len(area) <= 3:  # 3-3 after a short area code is how thousands are written
        sizes = draw(st.sampled_from([(6,), (7,), (8,), (3, 4), (4, 4), (4, 3)]))
    else:
        sizes = draw(st.sampled_from([(6,), (7,), (8,), (3, 3), (3, 4), (4, 3), (4, 4)]))
    subscriber = second.join(draw(_digits(size)) for size in sizes)
    if draw(st.booleans()):
        return f"({area}){draw(st.sampled_from(['', ' ']))}{subscriber}"
    return f"{area}{first}{subscriber}"


@st.composite
def french_phones(draw: st.DrawFn) -> str:
    """01 23 45 67 89."""
    separator = draw(SEPARATOR)
    pairs = [draw(_digits(2)) for _ in range(4)]
    return separator.join(["0" + draw(_chars("123456789", 1)), *pairs])


IBAN_COUNTRIES = ["DE", "GB", "FR", "NL", "BE", "ES", "IT", "CH", "AT", "NO", "SE", "PL"]
IBAN_COUNTRIES += ["PT", "IE", "DK", "FI", "LU", "SA", "BR", "TR", "UA", "XK", "MU", "LC"]


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A country code, check digits 02-98, 11-30 capitals and digits, in fours or not."""
    country = draw(st.sampled_from(IBAN_COUNTRIES))
    check = f"{draw(st.integers(2, 98)):02d}"
    account = draw(_chars(UPPER_ALNUM, 11, 30))
    compact = country + check + account
    if not draw(st.booleans()):
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


LOCAL_PART = st.text(string.ascii_lowercase + DIGITS + "._-", min_size=1, max_size=10).filter(
    lambda local: local[0] not in "._-"
)
DOMAIN = st.builds(
    "{}.{}".format,
    st.text(string.ascii_lowercase, min_size=1, max_size=8),
    st.sampled_from(["com", "org", "example", "co.uk"]),
)
QUOTED_EMAIL = st.builds(
    '"{}"@{}'.format,
    st.text(string.ascii_letters + DIGITS + " .,!#$%&'*+/=?^_`{|}~@-", min_size=1, max_size=12),
    DOMAIN,
)
FULL_WIDTH_AT = "\uff20"  # FULLWIDTH COMMERCIAL AT
SMALL_AT = "\ufe6b"  # SMALL COMMERCIAL AT
# Full-width forms of the ASCII letters and digits, and the dots IDNA reads as '.'.
FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in string.ascii_letters + DIGITS})
WIDE_DOT = st.sampled_from([".", "\uff0e", "\u3002", "\uff61"])


@st.composite
def wide_at_emails(draw: st.DrawFn) -> str:
    """A full-width (U+FF20) or small (U+FE6B) at sign, full-width letters or dots too."""
    local = draw(LOCAL_PART)
    label = draw(st.text(string.ascii_lowercase, min_size=1, max_size=8))
    tld = draw(st.sampled_from(["com", "org", "jp", "cn"]))
    at = draw(st.sampled_from([FULL_WIDTH_AT, SMALL_AT]))
    address = f"{local}{at}{label}{draw(WIDE_DOT)}{tld}"
    return address.translate(FULL_WIDTH) if draw(st.booleans()) else address


def _token(prefix: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda drawn: prefix + "".join(drawn))


@st.composite
def sk_dash_keys(draw: st.DrawFn) -> str:
    """OpenAI and Anthropic style: sk-, a kind, and a long random part."""
    kind = draw(st.sampled_from(["", "proj-", "svcacct-", "admin-", "ant-api03-"]))
    # A random key of 40+ characters has a run of 24 letters and digits somewhere.
    head, run = draw(_chars(BASE64URL, 0, 60)), draw(_chars(ALNUM, 24, 48))
    return f"sk-{kind}{head}{run}{draw(_chars(BASE64URL, 0, 60))}"


@st.composite
def private_keys(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "]))
    block = " BLOCK" if kind == "PGP " else ""
    body = draw(_chars(ALNUM + "+/", 40, 64))
    return f"-----BEGIN {kind}PRIVATE KEY{block}-----\n{body}\n-----END {kind}PRIVATE KEY-----"


TOKEN_SHAPES: dict[str, st.SearchStrategy[str]] = {
    "GitHub fine-grained": _token(
        "github_pat_", _chars(ALNUM, 22), st.just("_"), _chars(ALNUM, 59)
    ),
    "GitLab": st.sampled_from(["glpat-", "gldt-", "glrt-", "glptt-", "gloas-", "glft-"]).flatmap(
        lambda prefix: _token(prefix, _chars(BASE64URL, 20, 40))
    ),
    "OpenAI or Anthropic sk-": sk_dash_keys(),
    "Google API key": _token("AIza", _chars(BASE64URL, 35)),
    "Google OAuth client secret": _token("GOCSPX-", _chars(BASE64URL, 28)),
    "Google OAuth access token": _token("ya29.", _chars(BASE64URL, 20, 120)),
    "npm": _token("npm_", _chars(ALNUM, 36)),
    "PyPI": st.sampled_from(["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"]).flatmap(
        lambda prefix: _token(prefix, _chars(BASE64URL, 50, 200))
    ),
    "SendGrid": _token("SG.", _chars(BASE64URL, 22), st.just("."), _chars(BASE64URL, 43)),
    "Twilio": _token("SK", _chars(LOWER_HEX, 32)),
    "Hugging Face": _token("hf_", _chars(ALNUM, 34)),
    "Shopify": st.sampled_from(["shpat_", "shpca_", "shppa_", "shpss_"]).flatmap(
        lambda prefix: _token(prefix, _chars(LOWER_HEX, 32))
    ),
    "DigitalOcean": _token("dop_v1_", _chars(LOWER_HEX, 64)),
    "Stripe webhook secret": _token("whsec_", _chars(ALNUM, 24, 40)),
    "AWS": st.sampled_from(["AKIA", "ASIA"]).flatmap(lambda p: _token(p, _chars(UPPER_ALNUM, 16))),
    "Slack": st.sampled_from(["xoxb-", "xoxp-", "xoxe-", "xapp-1-"]).flatmap(
        lambda prefix: _token(prefix, _chars(ALNUM + "-", 10, 40))
    ),
    "private key": private_keys(),
}
PHONE_SHAPES: dict[str, st.SearchStrategy[str]] = {
    "international": international_phones(),
    "00 international": double_zero_phones(),
    "North American": north_american_phones(),
    "3-4-4": three_four_four_phones(),
    "trunk 0": trunk_phones(),
    "French pairs": french_phones(),
}
EMAIL_SHAPES: dict[str, st.SearchStrategy[str]] = {
    "quoted local part": QUOTED_EMAIL,
    "full-width or small at sign": wide_at_emails(),
}
PHONE = st.one_of(*PHONE_SHAPES.values())
API_TOKEN = st.one_of(*TOKEN_SHAPES.values())
NEW_EMAIL = st.one_of(*EMAIL_SHAPES.values())

# Text around a value: words and punctuation that keep it standing on its own.
WORDS = st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=8), max_size=3).map(" ".join)
LEAD = st.one_of(
    st.just(""),
    WORDS.map(lambda words: f"{words} " if words else ""),
    st.sampled_from(["call ", "tel: ", "Phone: ", "(", "IBAN ", "see ", "\n"]),
)
TRAIL = st.one_of(
    st.just(""),
    WORDS.map(lambda words: f" {words}" if words else ""),
    st.sampled_from([".", ",", ")", ". Thanks", " ext", "\n", "; "]),
)


def _in_text(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds("{}{}{}".format, LEAD, values, TRAIL)


VALUE_SECRET = st.one_of(
    EMAIL, UNICODE_EMAIL, IPV4, CARD, BEARER, CARD_NUMBER, PHONE, ibans(), NEW_EMAIL, API_TOKEN
)


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
        return [value] if named or not set(value) <= CLEAN_CHARACTERS else []
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
    # ensure_ascii=False: a non-ASCII secret must appear as itself, not as \u escapes.
    output = json.dumps(sanitizer.sanitize(attributes), default=str, ensure_ascii=False)
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


# --- every listed kind is found in any text; neutral values are left alone ----------------

DEFAULT = Sanitizer()
SENSITIVE_SHAPES: dict[str, st.SearchStrategy[str]] = {
    **{f"phone: {name}": shape for name, shape in PHONE_SHAPES.items()},
    "IBAN": ibans(),
    **{f"e-mail: {name}": shape for name, shape in EMAIL_SHAPES.items()},
    **{f"token: {name}": shape for name, shape in TOKEN_SHAPES.items()},
}


@pytest.mark.parametrize("kind", list(SENSITIVE_SHAPES))
@settings(max_examples=60)
@given(data=st.data())
def test_every_listed_kind_is_redacted_in_any_text(kind: str, data: st.DataObject) -> None:
    value = data.draw(_in_text(SENSITIVE_SHAPES[kind]), label=kind)
    assert DEFAULT.is_sensitive_value(value)
    assert DEFAULT.sanitize({"note": value, "plan": "pro"}) == {"note": REDACTED, "plan": "pro"}


def _strftime(*formats: str) -> st.SearchStrategy[str]:
    moments = st.datetimes(
        dt.datetime(1900, 1, 1),  # noqa: DTZ001 - a naive bound; the zone is drawn apart
        dt.datetime(2100, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from(
            [
                dt.timezone.utc,
                dt.timezone(dt.timedelta(hours=5, minutes=30)),
                dt.timezone(dt.timedelta(hours=-8)),
                dt.timezone(dt.timedelta(hours=14)),
            ]
        ),
    )
    return st.tuples(moments, st.sampled_from(formats)).map(lambda pair: pair[0].strftime(pair[1]))


def _grouped(number: int, separator: str) -> str:
    return f"{number:,}".replace(",", separator)


def _is_ipv4_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


SHORT = st.integers(-(10**12) + 1, 10**12 - 1)
NEUTRAL_SHAPES: dict[str, st.SearchStrategy[str]] = {
    "date": _strftime("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d")
    | _strftime("%Y%m%d", "%d %B %Y", "%b %d, %Y", "%Y-W%W-%w"),
    "date and time": _strftime(
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y%m%dT%H%M%S%z",
        "%d.%m.%Y %H:%M",
        "%d-%m-%Y %H:%M:%S",
        "%m/%d/%Y %I:%M %p",
        "%a, %d %b %Y %H:%M:%S GMT",
        "%Y-%m-%d %H:%M:%S.%f %z",
    ),
    "ISO timestamp": st.datetimes(
        timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-3))])
    ).flatmap(
        lambda moment: st.sampled_from(
            [
                moment.isoformat(),
                moment.isoformat(sep=" "),
                moment.isoformat(timespec="milliseconds"),
                moment.isoformat().replace("+00:00", "Z"),
                moment.date().isoformat(),
                moment.time().isoformat(),
            ]
        )
    ),
    "UUID": st.uuids().flatmap(
        lambda uuid: st.sampled_from(
            [str(uuid), str(uuid).upper(), f"{{{uuid}}}", f"urn:uuid:{uuid}", uuid.hex]
        )
    ),
    "version": st.builds(
        "{}{}.{}.{}{}{}".format,
        st.sampled_from(["", "v"]),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 999),
        st.sampled_from(["", "-alpha", "-beta.1", "-rc.2", "-dev", "-0.3.7"]),
        st.one_of(
            st.sampled_from(["", "+build.5", "+exp.sha.5114f85"]),
            _digits(1, 12).map("+{}".format),  # 13 digits or more read as a card or time
        ),
    )
    | st.builds("{}.{}".format, st.integers(0, 99), st.integers(0, 999))
    # four parts: an IPv4 address when every part is at most 255, so one is not
    | st.builds(
        "{}.{}.{}.{}".format,
        st.integers(0, 99),
        st.integers(0, 9),
        SHORT.map(abs),
        st.integers(256, 99999),
    ),
    "short number": SHORT.map(str)
    | _digits(1, 12)
    | st.decimals(-(10**9), 10**9, places=2).map(str),
    # 9.133.229.100 is written like a number grouped with dots, and is an IP address:
    # the sanitizer is right to redact it, so it is no neutral value.
    "number with thousands": SHORT.flatmap(
        lambda n: st.sampled_from([f"{n:,}", f"{n:_}", _grouped(n, "."), _grouped(n, " ")])
    ).filter(lambda text: not _is_ipv4_address(text)),
    "short grouped number": st.lists(_digits(1, 4), min_size=2, max_size=3)
    .filter(lambda groups: sum(map(len, groups)) <= 7)
    .flatmap(lambda groups: st.sampled_from([" ", "-", "/"]).map(lambda s: s.join(groups))),
    "words": st.lists(
        st.text(st.characters(categories=["L"], exclude_characters="bB"), min_size=1, max_size=12),
        min_size=1,
        max_size=6,
    ).map(" ".join),
}


@pytest.mark.parametrize("kind", list(NEUTRAL_SHAPES))
@settings(max_examples=150)
@given(data=st.data())
def test_neutral_values_are_left_alone(kind: str, data: st.DataObject) -> None:
    value = data.draw(NEUTRAL_SHAPES[kind], label=kind)
    # Words around the value too; numbers alone, as a run of them can spell a phone number.
    text = value if "number" in kind else data.draw(_in_words(value))
    assert not DEFAULT.is_sensitive_value(text)
    assert DEFAULT.sanitize({"note": text}) == {"note": text}


def _in_words(value: str) -> st.SearchStrategy[str]:
    words = st.text("acdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
    return st.builds("{} {} {}".format, words, st.just(value), words)


@given(digits=_digits(1, 12))
def test_no_pattern_matches_a_bare_run_of_fewer_than_13_digits(digits: str) -> None:
    # Why integers below 10**12 are not scanned: their text could not match anyway.
    assert not DEFAULT.is_sensitive_value(digits)
    assert not DEFAULT.is_sensitive_value(f"-{digits}")


# --- field names: each new name in any case, with neighbours and separators ---------------

NEW_FIELD_NAMES = [
    "telephone",
    "tel",
    "cell",
    "msisdn",
    "mobile",
    "mail",
    "fax",
    "email_address",
    "mail_address",
    "telephone_number",
    "mobile_phone",
    "mobile_number",
    "cell_phone",
    "cell_number",
    "fax_number",
]
NEIGHBOURS = st.lists(
    st.sampled_from(["work", "home", "user", "primary", "contact", "alt", "customer", "billing"]),
    max_size=2,
)


@st.composite
def field_names(draw: st.DrawFn, names: list[str], *, plural: bool = True) -> str:
    """A name's words with neighbours, in one case and separator style, maybe plural."""
    name = draw(st.sampled_from(names))
    words = name.split("_")
    if len(words) > 1 and draw(st.booleans()):
        words = ["".join(words)]  # glued: cellphone, emailaddress
    before, after = draw(NEIGHBOURS), draw(NEIGHBOURS)
    if plural and not after and draw(st.booleans()):
        last = words[-1]
        words[-1] = last + ("es" if last.endswith(("s", "x")) else "s")
    words = [*before, *words, *after]
    style = draw(st.sampled_from(["_", "-", ".", " ", "camel", "Camel"]))
    if style in {"camel", "Camel"}:
        head = words[0].title() if style == "Camel" else words[0]
        return head + "".join(word.title() for word in words[1:])
    case = draw(st.sampled_from([str.lower, str.upper, str.title]))
    return style.join(map(case, words))


@settings(max_examples=300)
@given(name=field_names(NEW_FIELD_NAMES))
def test_every_new_field_name_is_sensitive_in_any_form(name: str) -> None:
    assert DEFAULT.is_sensitive_field(name)
    assert DEFAULT.sanitize({name: "value", "plan": "pro"}) == {name: REDACTED, "plan": "pro"}


NEUTRAL_FIELD_WORDS = ["hotel", "cellular", "cellar", "mailbox", "mailing", "telemetry"]
NEUTRAL_FIELD_WORDS += ["telco", "intel", "mobility", "plan", "count", "model", "telex"]


@settings(max_examples=200)
@given(name=field_names(NEUTRAL_FIELD_WORDS))
def test_words_that_merely_contain_a_new_name_are_not_sensitive(name: str) -> None:
    assert not DEFAULT.is_sensitive_field(name)
    assert DEFAULT.sanitize({name: "value"}) == {name: "value"}


def test_a_number_grouped_with_dots_that_is_an_ip_address_is_redacted() -> None:
    # Why "number with thousands" leaves such numbers out of its neutral values.
    assert DEFAULT.is_sensitive_value(_grouped(9_133_229_100, "."))

"""What counts as sensitive: the default field names and value patterns, and how they are read.

A field name is read as its words (split at separators and camelCase boundaries,
casefolded); value patterns are RE2 expressions, checked one by one and then combined
into one expression. The :class:`~openfeature_litestar.Sanitizer` applies them.
"""

from __future__ import annotations

import re
from typing import Any, Final

import re2

from openfeature_litestar._errors import ConfigurationError

__all__ = ["DEFAULT_SENSITIVE_FIELDS", "DEFAULT_SENSITIVE_PATTERNS"]

DEFAULT_SENSITIVE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        # credentials and session material
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "private_key",
        "authorization",
        "cookie",
        "set_cookie",
        "session",
        "session_id",
        "csrf",
        "xsrf",
        "otp",
        # contact details and identity documents
        "email",
        "e_mail",
        "phone",
        "phone_number",
        "mobile",
        "address",
        "street",
        "postcode",
        "zipcode",
        "first_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "birthdate",
        "dob",
        "ssn",
        "social_security_number",
        "national_id",
        "tax_id",
        "passport",
        # payment data
        "credit_card",
        "card_number",
        "cvv",
        "cvc",
        "iban",
        "account_number",
        # network identity
        "ip",
        "ip_address",
        "ipv4",
        "ipv6",
    }
)
"""Field names treated as sensitive by default (see :class:`Sanitizer` for the matching).

Credentials and session material (``password``, ``passwd``, ``pwd``, ``passphrase``,
``secret``, ``client_secret``, ``token``, ``access_token``, ``refresh_token``,
``id_token``, ``api_key``, ``apikey``, ``private_key``, ``authorization``, ``cookie``,
``set_cookie``, ``session``, ``session_id``, ``csrf``, ``xsrf``, ``otp``); contact
details and identity documents (``email``, ``e_mail``, ``phone``, ``phone_number``,
``mobile``, ``address``, ``street``, ``postcode``, ``zipcode``, ``first_name``,
``last_name``, ``full_name``, ``date_of_birth``, ``birthdate``, ``dob``, ``ssn``,
``social_security_number``, ``national_id``, ``tax_id``, ``passport``); payment data
(``credit_card``, ``card_number``, ``cvv``, ``cvc``, ``iban``, ``account_number``);
network identity (``ip``, ``ip_address``, ``ipv4``, ``ipv6``).
"""

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_HEX4: Final = r"[0-9A-Fa-f]{1,4}"

DEFAULT_SENSITIVE_PATTERNS: Final[tuple[str, ...]] = (
    # An e-mail address.
    r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}",
    # An HTTP Bearer or Basic credential.
    r"(?i:\b(?:bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*)",
    # A JSON Web Token: base64url of '{"...' (header), a dot, the payload.
    r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+",
    # A payment-card-like run of 13 to 19 digits, optionally grouped by spaces or dashes.
    r"\b(?:[0-9][ \-]?){12,18}[0-9]\b",
    # An IPv4 address.
    rf"\b(?:{_OCTET}\.){{3}}{_OCTET}\b",
    # An IPv6 address: eight groups, or groups around a '::'.
    rf"\b(?:{_HEX4}:){{7}}{_HEX4}\b|\b(?:{_HEX4}:){{1,6}}(?::{_HEX4}){{1,6}}\b",
    # Well-known API key shapes: Stripe, GitHub, AWS access key id, Slack.
    (
        r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
        r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
        r"|\bAKIA[0-9A-Z]{16}\b"
        r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"
    ),
    # A URL with a password in it (scheme://user:password@host).
    r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:[^\s@/]+@",
    # A secret written as key=value or key: value inside a string.
    r"(?i:\b[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key)[\"']?\s*[=:]\s*\S)",
)
"""String-value patterns (RE2 syntax) that make a value sensitive wherever it appears.

In order: an e-mail address (letters and digits of any script, so ``josé@correo.es``
and ``user@例え.jp`` too); an HTTP ``Bearer``/``Basic`` credential; a JSON Web Token
(``eyJ...``); a run of 13-19 digits, optionally grouped by spaces or dashes (payment
cards, but also millisecond timestamps *written as strings*); an IPv4 address (also a
four-part version such as ``1.2.3.4``); an IPv6 address (eight groups, or groups around
``::``); API keys of well-known shapes (Stripe ``sk_live_``, GitHub ``ghp_``, AWS
``AKIA``, Slack ``xox?-``); a URL with a password; ``password=...``, ``token: ...``
and similar. A value *matches* when the pattern is found anywhere in it. Integers of
13 digits or more are scanned as their decimal text (a card number stored as a number).
"""

# Field names are split into words at separators and camelCase boundaries, so that
# "X-Api-Key" and "x_api_key" read as the words x, api, key and "APIKey" as api, key.
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS: Final = re.compile(r"[\W_]+")


def _name_words(name: str) -> list[str]:
    spaced = _CAMEL_BOUNDARY.sub(" ", name).casefold()
    return [word for word in _SEPARATORS.split(spaced) if word]


def _normalise_name(name: str) -> str:
    return "".join(_name_words(name))


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    return options


def _compile_patterns(patterns: tuple[str, ...]) -> Any:
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ConfigurationError(f"a sensitive pattern is a string, got {pattern!r}")
        try:
            re2.compile(pattern, options=_re2_options())
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise ConfigurationError(
                f"RE2 rejects the sensitive pattern {pattern!r}: {detail}"
            ) from None
    if not patterns:
        return None
    combined = "|".join(f"(?:{pattern})" for pattern in patterns)
    try:
        return re2.compile(combined, options=_re2_options())
    except re2.error as exc:  # each compiles alone, so only size limits are left
        raise ConfigurationError(f"the sensitive patterns are too large together: {exc}") from None

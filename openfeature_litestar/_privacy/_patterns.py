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
        "mail",
        "email_address",
        "mail_address",
        "phone",
        "phone_number",
        "telephone",
        "telephone_number",
        "tel",
        "mobile",
        "mobile_phone",
        "mobile_number",
        "cell",
        "cell_phone",
        "cell_number",
        "msisdn",
        "fax",
        "fax_number",
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
details and identity documents (``email``, ``e_mail``, ``mail``, ``email_address``,
``mail_address``, ``phone``, ``phone_number``, ``telephone``, ``telephone_number``,
``tel``, ``mobile``, ``mobile_phone``, ``mobile_number``, ``cell``, ``cell_phone``,
``cell_number``, ``msisdn``, ``fax``, ``fax_number``, ``address``, ``street``,
``postcode``, ``zipcode``, ``first_name``, ``last_name``, ``full_name``,
``date_of_birth``, ``birthdate``, ``dob``, ``ssn``, ``social_security_number``,
``national_id``, ``tax_id``, ``passport``); payment data (``credit_card``,
``card_number``, ``cvv``, ``cvc``, ``iban``, ``account_number``); network identity
(``ip``, ``ip_address``, ``ipv4``, ``ipv6``).

Names are matched as whole words, so ``mail``, ``tel`` and ``cell`` catch ``user_mail``,
``work-tel`` and ``cellPhone`` but not ``mailbox``, ``hotel`` or ``cellular``. The
compounds (``cell_phone``, ``email_address``, ...) are listed for the names written as one
word without separators or camelCase (``cellphone``, ``EMAILADDRESS``); with them,
``cell_phone`` or ``emailAddress`` already match through ``cell`` or ``email``. Each word
counts wherever it stands, so ``is_mobile``, ``mail_enabled`` and ``cell_count`` are
sensitive too: a false positive on purpose (remove a name from the set to keep them).
"""

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_HEX4: Final = r"[0-9A-Fa-f]{1,4}"

# An e-mail address: an unquoted local part (letters and digits of any script and
# ._%+-) or a quoted one ("john doe"), an at sign (also the full-width U+FF20 and the
# small U+FE6B), and a domain whose labels are separated by dots (also the full-width
# U+FF0E and the ideographic U+3002 and U+FF61, which IDNA reads as dots).
_AT: Final = r"[@\x{FF20}\x{FE6B}]"
_DOT: Final = r"[.\x{FF0E}\x{3002}\x{FF61}]"
_EMAIL: Final = (
    r'(?:[\p{L}\p{N}._%+\-]+|"(?:[^"\\\r\n]|\\.)+")'
    rf"{_AT}[\p{{L}}\p{{N}}\-]+(?:{_DOT}[\p{{L}}\p{{N}}\-]+)*{_DOT}\p{{L}}{{2,}}"
)

# A payment card number: 13 to 19 digits in one run, or grouped as cards are printed
# (in fours, the last group shorter: 4-4-4-4, 4-4-4-1, 4-4-4-4-3; or 4-6-5 and 4-6-4).
# Other groupings (a UUID's 4-12, thousands in threes) are not card numbers.
_CARD: Final = (
    r"\b[0-9]{13,19}\b"
    r"|\b[0-9]{4}(?:[ \-][0-9]{4}){2}[ \-][0-9]{1,4}(?:[ \-][0-9]{1,3})?\b"
    r"|\b[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5}\b"
)

# A phone number stands on its own: the characters around it are not letters, digits,
# underscores, or dots and dashes that continue the number, nor a colon before a
# national number (seconds: 10:30:01.123456), which keeps versions (1.2.3), UUIDs,
# serials, times and semver build metadata (1.0.0+20240115) out. RE2 has no
# look-arounds, so the neighbours (or the start or end of the text) are matched.
_PHONE_START: Final = r"(?:^|[^0-9A-Za-z_.:+\-])"
_PLUS_START: Final = r"(?:^|[^0-9A-Za-z_+])"
_PHONE_END: Final = r"(?:$|[^0-9A-Za-z_.\-]|[.\-](?:$|[^0-9A-Za-z]))"
# One more digit of an international number, after an optional separator or parenthesis.
_PHONE_DIGIT: Final = r"\)?[ .\-]?\(?[0-9]"
_SEP: Final = r"[ .\-]"
# International: '+' or '00', a country code, and 8 to 15 digits in all (E.164), grouped
# by spaces, dots, dashes or parentheses: +44 20 7946 0958, +1 (202) 555-0143,
# +44 (0)20 7946 0958, 0049 30 1234567. The '00' form needs a separator after the
# country code, so that zero-padded numbers (0012345678) are not read as phones.
_PHONE_INTERNATIONAL: Final = (
    rf"(?:{_PLUS_START}\+\(?[1-9](?:{_PHONE_DIGIT}){{7,14}}"
    rf"|{_PHONE_START}00[1-9][0-9]{{0,2}}{_SEP}\(?[0-9](?:{_PHONE_DIGIT}){{6,12}}){_PHONE_END}"
)
# National forms, always with separators (a bare run of digits is an id as often as a
# phone): North American (555) 123-4567, 555-123-4567, 1-800-555-0199; 3-4-4 groups
# (090-1234-5678, 138 0013 8000); a trunk '0' and an area code of 2 to 5 digits, then 6
# to 8 digits in one or two groups (020 7946 0958, 0161 496 0000, 030 12345678,
# (020) 7946 0958), except 3-digit groups after a 2- or 3-digit area code, which is how
# thousands are written (1 023 456 789); French pairs (01 23 45 67 89).
_SUBSCRIBER: Final = rf"(?:[0-9]{{6,8}}|[0-9]{{3,4}}{_SEP}[0-9]{{3,4}})"
_PHONE_NATIONAL: Final = (
    rf"{_PHONE_START}(?:"
    rf"(?:1{_SEP})?(?:\([0-9]{{3}}\){_SEP}?|[0-9]{{3}}{_SEP})[0-9]{{3}}{_SEP}[0-9]{{4}}"
    rf"|[0-9]{{3}}{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}"
    rf"|0[1-9][0-9]?{_SEP}(?:[0-9]{{6,8}}|[0-9]{{3,4}}{_SEP}[0-9]{{4}}|[0-9]{{4}}{_SEP}[0-9]{{3}})"
    rf"|0[1-9][0-9]{{2,3}}{_SEP}{_SUBSCRIBER}"
    rf"|\(0[1-9][0-9]{{0,3}}\){_SEP}?{_SUBSCRIBER}"
    rf"|0[1-9](?:{_SEP}[0-9]{{2}}){{4}}"
    rf"){_PHONE_END}"
)

# The countries whose bank accounts have IBANs: the SWIFT IBAN registry and the
# countries that use IBAN-form account numbers nationally.
_IBAN_COUNTRIES: Final = (
    "AD|AE|AL|AO|AT|AZ|BA|BE|BF|BG|BH|BI|BJ|BR|BY|CF|CG|CH|CI|CM|CR|CV|CY|CZ|DE|DJ|DK|DO|"
    "DZ|EE|EG|ES|FI|FK|FO|FR|GA|GB|GE|GI|GL|GQ|GR|GT|GW|HN|HR|HU|IE|IL|IQ|IR|IS|IT|JO|KM|"
    "KW|KZ|LB|LC|LI|LT|LU|LV|LY|MA|MC|MD|ME|MG|MK|ML|MN|MR|MT|MU|MZ|NE|NI|NL|NO|OM|PK|PL|"
    "PS|PT|QA|RO|RS|RU|SA|SC|SD|SE|SI|SK|SM|SN|SO|ST|SV|TD|TG|TL|TN|TR|UA|VA|VG|XK|YE"
)
# An IBAN: a country code, check digits 02 to 98, and 11 to 30 letters and digits, in one
# run or in groups of four separated by spaces (the last group shorter).
_IBAN: Final = (
    rf"\b(?:{_IBAN_COUNTRIES})(?:0[2-9]|[1-8][0-9]|9[0-8])"
    r"(?:[A-Z0-9]{11,30}"
    r"|(?: [A-Z0-9]{4}){3,7}(?: [A-Z0-9]{1,3})?"
    r"|(?: [A-Z0-9]{4}){2} [A-Z0-9]{3})\b"
)

# API keys and tokens with a documented, distinctive prefix, found under any field name.
_API_KEYS: Final = (
    # Stripe secret, publishable and restricted keys; webhook signing secrets
    r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|\bwhsec_[A-Za-z0-9]{24,}"
    # GitHub: classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained ones
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}"
    # GitLab: personal, deploy, runner, trigger, OAuth, CI job, feed, mail, agent, SCIM
    # and feature-flag client tokens
    r"|\bgl(?:pat|dt|rt|ptt|oas|cbt|ft|imt|agent|soat|ffct)-[A-Za-z0-9_\-]{20,}"
    # AWS access key ids, long-term and temporary
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    # Slack bot, user, app, refresh and other tokens
    r"|\bxox[abeprs]-[A-Za-z0-9\-]{10,}"
    r"|\bxapp-[0-9]-[A-Za-z0-9\-]{10,}"
    # OpenAI, Anthropic and similar: sk-, an optional kind (proj-, ant-api03-, ...), and
    # a long random part (a run of 24 letters and digits, which no slug has)
    r"|\bsk-[A-Za-z0-9_\-]*[A-Za-z0-9]{24}"
    # Google: API keys, OAuth client secrets, OAuth access tokens
    r"|\bAIza[0-9A-Za-z_\-]{35}"
    r"|\bGOCSPX-[0-9A-Za-z_\-]{28}"
    r"|\bya29\.[0-9A-Za-z_\-]{20,}"
    # npm, PyPI and TestPyPI
    r"|\bnpm_[A-Za-z0-9]{36}\b"
    r"|\bpypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,}"
    # SendGrid, Twilio API key SIDs, Hugging Face, Shopify, DigitalOcean
    r"|\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"
    r"|\bSK[0-9a-f]{32}\b"
    r"|\bhf_[A-Za-z0-9]{34}\b"
    r"|\bshp(?:at|ca|pa|ss)_[0-9A-Fa-f]{32}\b"
    r"|\bdop_v1_[0-9a-f]{64}\b"
    # A PEM, OpenSSH or PGP private key
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY"
)

DEFAULT_SENSITIVE_PATTERNS: Final[tuple[str, ...]] = (
    # An e-mail address.
    _EMAIL,
    # An HTTP Bearer or Basic credential.
    r"(?i:\b(?:bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*)",
    # A JSON Web Token: base64url of '{"...' (header), a dot, the payload.
    r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+",
    # A payment card number.
    _CARD,
    # An IPv4 address.
    rf"\b(?:{_OCTET}\.){{3}}{_OCTET}\b",
    # An IPv6 address: eight groups, or groups around a '::'.
    rf"\b(?:{_HEX4}:){{7}}{_HEX4}\b|\b(?:{_HEX4}:){{1,6}}(?::{_HEX4}){{1,6}}\b",
    # A phone number in international form.
    _PHONE_INTERNATIONAL,
    # A phone number in a national form.
    _PHONE_NATIONAL,
    # An IBAN.
    _IBAN,
    # Well-known API key and private key shapes.
    _API_KEYS,
    # A URL with a password in it (scheme://user:password@host).
    r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:[^\s@/]+@",
    # A secret written as key=value or key: value inside a string.
    r"(?i:\b[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key)[\"']?\s*[=:]\s*\S)",
)
"""String-value patterns (RE2 syntax) that make a value sensitive wherever it appears.

In order:

- an e-mail address: letters and digits of any script (``josé@correo.es``,
  ``user@例え.jp``), a quoted local part (``"john doe"@example.com``), the full-width
  (U+FF20) or small (U+FE6B) commercial at instead of ``@``, and full-width or
  ideographic full stops (U+FF0E, U+3002, U+FF61) between the domain's labels;
- an HTTP ``Bearer``/``Basic`` credential;
- a JSON Web Token (``eyJ...``);
- a payment card number: 13-19 digits in one run (also a millisecond timestamp *written
  as a string*), or grouped as cards are printed, by spaces or dashes (4-4-4-4, 4-4-4-1
  to 4-4-4-4-3, 4-6-5, 4-6-4);
- an IPv4 address (also a four-part version such as ``1.2.3.4``);
- an IPv6 address (eight groups, or groups around ``::``);
- a phone number in international form: ``+`` or ``00``, a country code and 8-15 digits
  in all, grouped by spaces, dots, dashes or parentheses (``+44 20 7946 0958``,
  ``+1-202-555-0143``, ``+44 (0)20 7946 0958``, ``+14155552671``, ``0049 30 1234567``);
- a phone number in a national form, always with separators: North American
  (``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``, ``1-800-555-0199``), 3-4-4
  groups (``090-1234-5678``), a trunk ``0``, an area code of 2-5 digits and 6-8 digits
  in one or two groups (``020 7946 0958``, ``0161 496 0000``, ``030 12345678``,
  ``(020) 7946 0958``), or French pairs (``01 23 45 67 89``). A phone number matches
  only standing on its own: not next to a letter, digit, dot, dash or underscore, and,
  without a ``+``, not right after a colon (``tel: 555-123-4567`` and ``tel:+1555...``,
  not ``tel:555-123-4567``, so that a time's ``:01.123456`` is no phone). Not caught: a
  bare run of digits (``4155552671``, an id as often as a phone), fewer than 8 digits
  (``555-1234``), other groupings. Dates (``2024-01-15``, ``15.01.2024``), times,
  versions (``1.2.3``, ``1.0.0+20240115``), UUIDs and thousands (``1 234 567``) are not
  phones;
- an IBAN: a country code that issues IBANs, check digits 02-98 and 11-30 upper-case
  letters and digits, in one run (``GB82WEST12345698765432``) or in groups of four
  (``DE89 3704 0044 0532 0130 00``). The mod-97 checksum is not verified (RE2 cannot),
  so an upper-case code of that shape (``DE12`` and 18 capitals or digits) matches too;
- API keys and private keys of well-known shapes: Stripe (``sk_live_``, ``pk_test_``,
  ``rk_live_``, ``whsec_``), GitHub (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``,
  ``github_pat_``), GitLab (``glpat-`` and the other ``gl...-`` tokens), AWS (``AKIA``,
  ``ASIA``), Slack (``xoxb-`` and the other ``xox?-``, ``xapp-``), OpenAI and Anthropic
  style (``sk-`` and a long random part: ``sk-proj-...``, ``sk-ant-api03-...``), Google
  (``AIza``, ``GOCSPX-``, ``ya29.``), npm (``npm_``), PyPI (``pypi-AgEIcHlwaS5vcmc``),
  SendGrid (``SG.xxx.yyy``), Twilio (``SK`` and 32 hex digits), Hugging Face (``hf_``),
  Shopify (``shpat_``, ``shpca_``, ``shppa_``, ``shpss_``), DigitalOcean (``dop_v1_``),
  and a ``-----BEGIN ... PRIVATE KEY`` block;
- a URL with a password;
- ``password=...``, ``token: ...`` and similar.

A value *matches* when a pattern is found anywhere in it. Integers of 13 digits or more
are scanned as their decimal text (a card number stored as a number); no pattern matches
a bare run of fewer digits, so smaller integers are not scanned.
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

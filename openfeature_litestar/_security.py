"""Keyed hashing of identifiers, sanitizing of evaluation attributes, masking of secrets.

Three tools keep personal data and secrets out of logs, audit records and telemetry:

* :class:`IdentifierHasher` (and :func:`hash_identifier`) turns an identifier such as a
  user id into a pseudonym that can still be joined on (the same id always gives the same
  pseudonym) but not read.
* :class:`Sanitizer` copies evaluation attributes with sensitive fields and values
  dropped, redacted or hashed, and with their size bounded.
* :func:`mask_url` and :func:`mask_secrets` hide passwords and tokens inside URLs and
  error messages before they are logged or raised.

**Why a keyed hash (HMAC-SHA256) and not plain SHA-256.**
Identifiers have little entropy: user ids are counters or short strings, e-mail addresses
come from a guessable population. Anyone holding a plain ``sha256(user_id)`` can hash
every candidate id and look the result up, so an unkeyed (or publicly salted) hash is
reversible by enumeration. An HMAC under a secret key cannot be computed without the
key, so the pseudonyms reveal nothing to someone who has the logs but not the key.

Consequences worth knowing:

* The key is a secret: keep it out of the code and the logs (set it in the
  ``OPENFEATURE_LITESTAR_HASH_KEY`` environment variable or pass it from your secret
  store); at least :data:`MIN_KEY_BYTES` bytes, ideally 32 random bytes.
* Rotating the key changes every pseudonym: records hashed before and after a rotation
  cannot be joined. Rotate when the key may have leaked, and plan the break in the series.
* Without a key the hasher refuses to start, unless told to use an *ephemeral* key: a
  random key made once per process. Its pseudonyms are stable within the process and
  meaningless across processes and restarts (fine for tests and development).
* The output is the first :data:`HASH_LENGTH` (32) lower-case hexadecimal characters of
  the HMAC-SHA256 digest, 128 bits: collisions are negligible for any realistic number of
  identifiers. This format is stable across releases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

import re2

from ._errors import ConfigurationError

_SHA256_BLOCK: Final = 64  # bytes; HMAC pads or hashes the key to this size

__all__ = [
    "DEFAULT_SENSITIVE_FIELDS",
    "DEFAULT_SENSITIVE_PATTERNS",
    "HASH_KEY_ENV",
    "HASH_LENGTH",
    "MIN_KEY_BYTES",
    "REDACTED",
    "TOO_DEEP",
    "TRUNCATED",
    "Action",
    "IdentifierHasher",
    "Sanitizer",
    "hash_identifier",
    "mask_secrets",
    "mask_url",
]

HASH_KEY_ENV: Final = "OPENFEATURE_LITESTAR_HASH_KEY"
"""The environment variable the hashing key is read from when none is passed."""

HASH_LENGTH: Final = 32
"""Hexadecimal characters in a pseudonym: the first 128 bits of the HMAC-SHA256 digest."""

MIN_KEY_BYTES: Final = 16
"""The shortest key accepted, in bytes (a ``str`` key counts its UTF-8 bytes)."""

_EPHEMERAL_KEY_BYTES: Final = 32


# --- keyed hashing ---------------------------------------------------------------------


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8", "surrogatepass")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"a hashing key is str or bytes, got {type(key).__name__}")


class IdentifierHasher:
    """HMAC-SHA256 of identifiers under a secret key; output = first HASH_LENGTH hex chars.

    The key comes from, in order: the ``key`` argument, the environment variable
    :data:`HASH_KEY_ENV` (an empty value counts as unset), and, only when
    ``ephemeral=True``, a random key made for this hasher. ``ephemeral=True`` therefore
    *permits* a random key when none is configured; it never overrides a configured one,
    so ``IdentifierHasher(settings.key, ephemeral=settings.debug)`` does what it says.
    :attr:`ephemeral` tells whether the random key is the one in use.

    A ``str`` key is used as its UTF-8 bytes (it is not decoded from hex or base64).
    Neither :func:`repr` nor any error message ever shows the key.

    Example:
        >>> hasher = IdentifierHasher("a-secret-of-16-bytes-or-more")
        >>> len(hasher("user-42"))
        32
    """

    __slots__ = ("_ephemeral", "_inner", "_outer", "_source")

    def __init__(self, key: str | bytes | None = None, *, ephemeral: bool = False) -> None:
        """Create a hasher.

        Args:
            key: The secret key; ``None`` reads :data:`HASH_KEY_ENV`.
            ephemeral: When no key is passed or set in the environment, use a random key
                made for this hasher instead of raising.

        Raises:
            ConfigurationError: No key is configured and ``ephemeral`` is false, or the
                key is shorter than :data:`MIN_KEY_BYTES` bytes.
            TypeError: ``key`` is neither ``str`` nor ``bytes``.
        """
        source = "argument"
        if key is None:
            key = os.environ.get(HASH_KEY_ENV) or None
            source = "environment"
        if key is None:
            if not ephemeral:
                raise ConfigurationError(
                    "no key for hashing identifiers: set the environment variable "
                    f"{HASH_KEY_ENV} to a secret of at least {MIN_KEY_BYTES} bytes "
                    '(for example the output of `python -c "import secrets; '
                    'print(secrets.token_urlsafe(32))"`), pass key=..., or pass '
                    "ephemeral=True to use a random per-process key whose hashes change "
                    "on every restart"
                )
            self._become_ephemeral()
            return
        raw = _key_bytes(key)
        if len(raw) < MIN_KEY_BYTES:
            where = f"the environment variable {HASH_KEY_ENV}" if source == "environment" else ""
            raise ConfigurationError(
                f"the hashing key{f' in {where}' if where else ''} is {len(raw)} bytes long; "
                f"it needs at least {MIN_KEY_BYTES} bytes (32 random bytes are best)"
            )
        self._use_key(raw)
        self._source = source
        self._ephemeral = False

    @classmethod
    def _random(cls) -> IdentifierHasher:
        hasher = cls.__new__(cls)
        hasher._become_ephemeral()  # noqa: SLF001 - own class
        return hasher

    def _use_key(self, key: bytes) -> None:
        # HMAC (RFC 2104) is H((K ^ opad) || H((K ^ ipad) || m)). The two keyed SHA-256
        # states are computed once here and copied per call, which is the same HMAC at
        # less than half the cost of hmac.digest() (it re-keys on every call): this runs
        # on every audited evaluation.
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))

    def _become_ephemeral(self) -> None:
        self._use_key(secrets.token_bytes(_EPHEMERAL_KEY_BYTES))
        self._source = "ephemeral"
        self._ephemeral = True

    @property
    def ephemeral(self) -> bool:
        """Whether the key is a random one made for this hasher (hashes change per process)."""
        return self._ephemeral

    @property
    def source(self) -> Literal["argument", "environment", "ephemeral"]:
        """Where the key came from: the ``key`` argument, the environment, or randomness."""
        return self._source  # type: ignore[return-value]  # set only to these three values

    def __call__(self, value: str) -> str:
        """The pseudonym of ``value``: :data:`HASH_LENGTH` lower-case hex characters.

        Never raises for a ``str``, lone surrogates included (they are hashed as their
        ``surrogatepass`` UTF-8 bytes).
        """
        inner = self._inner.copy()
        inner.update(value.encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[: HASH_LENGTH // 2].hex()

    def __repr__(self) -> str:
        """Say where the key came from, never what it is."""
        return f"IdentifierHasher(key=<{self._source}>)"


_process_hasher: IdentifierHasher | None = None
_process_hasher_lock = threading.Lock()


def _ephemeral_process_hasher() -> IdentifierHasher:
    # One random key per process, made on first use, so that hash_identifier(...,
    # ephemeral=True) gives the same pseudonym for the same value throughout the process.
    global _process_hasher  # noqa: PLW0603 - the per-process key is process state by definition
    with _process_hasher_lock:
        if _process_hasher is None:
            _process_hasher = IdentifierHasher._random()  # noqa: SLF001 - same module
        return _process_hasher


@functools.lru_cache(maxsize=8)
def _hasher_for(key: bytes) -> IdentifierHasher:
    return IdentifierHasher(key)


def hash_identifier(value: str, key: str | bytes | None = None, *, ephemeral: bool = False) -> str:
    """The pseudonym of ``value``: HMAC-SHA256 under a secret key, :data:`HASH_LENGTH` hex chars.

    The same as ``IdentifierHasher(key, ephemeral=ephemeral)(value)``, except that the
    ephemeral key is made once per process (and shared by every call), so that a value
    keeps its pseudonym for the life of the process. Build an :class:`IdentifierHasher`
    once where you hash many values.

    Args:
        value: The identifier to hash.
        key: The secret key; ``None`` reads :data:`HASH_KEY_ENV`.
        ephemeral: Without a configured key, use the per-process random key instead of
            raising.

    Returns:
        :data:`HASH_LENGTH` lower-case hexadecimal characters.

    Raises:
        ConfigurationError: No key is configured and ``ephemeral`` is false, or the key
            is too short.
        TypeError: ``key`` is neither ``str`` nor ``bytes``.
    """
    if key is None:
        key = os.environ.get(HASH_KEY_ENV) or None
    if key is None:
        if not ephemeral:
            IdentifierHasher(None)  # raises the ConfigurationError that says what to do
        return _ephemeral_process_hasher()(value)
    return _hasher_for(_key_bytes(key))(value)


# --- sanitizing ------------------------------------------------------------------------

Action = Literal["drop", "redact", "hash"]
"""What happens to a sensitive value: removed, replaced by :data:`REDACTED`, or hashed."""

_ACTIONS: Final = frozenset(get_args(Action))
# When one name matches several sensitive names with different actions, the strictest wins.
_STRICTNESS: Final[dict[str, int]] = {"hash": 0, "redact": 1, "drop": 2}

REDACTED: Final = "[REDACTED]"
"""What a redacted value is replaced with."""

TRUNCATED: Final = "...[TRUNCATED]"
"""The suffix of a string cut to :attr:`Sanitizer.max_string_length` characters."""

TOO_DEEP: Final = "[TOO DEEP]"
"""What a container nested deeper than :attr:`Sanitizer.max_depth` is replaced with."""

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

_SCAN_MARGIN: Final = 1024
_CACHE_LIMIT: Final = 4096
_CACHED_VALUE_LENGTH: Final = 256
_SCALARS: Final = (type(None), bool, int, float)
_TEMPORAL: Final = (dt.date, dt.time, dt.timedelta)
_FLAT_SCALARS: Final = frozenset({float, bool, type(None)})
# Integers this large (13 digits or more, the shortest payment card) are scanned as text;
# smaller ones cannot match a default pattern and pass as they are.
_SCANNED_INT: Final = 10**12
# A plural field name ("passwords", "api_keys", "addresses") is read as its singular too.
_PLURAL_ENDINGS: Final = ("s", "es")
_LONGEST_ENDING: Final = max(map(len, _PLURAL_ENDINGS))
_DROP: Final[Any] = object()

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


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} is a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class Sanitizer:
    """A policy that copies attributes with sensitive data removed and size bounded.

    :meth:`sanitize` walks mappings, lists, tuples and sets recursively and returns new
    plain ``dict``/``list`` structures; the input is never mutated.

    **Sensitive field names.** A name is split into words at ``-``, ``_``, ``.``, spaces
    and other punctuation and at camelCase boundaries, and compared case-insensitively
    (``str.casefold``). It is sensitive when one word, or a run of adjacent words joined
    together, equals a sensitive name with its separators removed. So with ``api_key`` in
    the set, ``X-Api-Key``, ``x_api_key``, ``apiKey`` and ``APIKEY`` are sensitive, and
    ``db_password``, ``user.email`` and ``remoteIp`` are too (through ``password``,
    ``email``, ``ip``), while ``zip`` or ``description`` are not. A word run ending in
    ``s`` or ``es`` at the *end* of the name also matches the sensitive name it is the
    plural of: ``passwords``, ``api_keys``, ``cookies``, ``addresses`` and ``userIps``
    are sensitive (and so is ``max_tokens``, as ``max_token`` is), while ``tokens_used``
    and ``cookies_enabled`` are not, as the last word names what a field holds. A name
    listed in
    :attr:`actions` is sensitive as well. A sensitive field's whole value (a nested
    structure included) gets the field's action.

    **Sensitive values.** A string value in which one of :attr:`sensitive_patterns` is
    found gets :attr:`default_action`, wherever it sits. Strings are scanned, and so are
    integers of 13 digits or more, as their decimal text (a card number stored as a
    number); of a long string, the first ``max_string_length + 1024`` characters are,
    which covers everything that is kept. A mapping key that matches a pattern (an e-mail
    address or a card number used as a key) removes its entry. Floats are not scanned.

    **Actions.** ``"drop"`` removes the entry (or list item), ``"redact"`` replaces the
    value with :data:`REDACTED`, ``"hash"`` replaces a scalar (string, number, boolean,
    ``None``, date) with ``hasher(str(value))`` and a container with :data:`REDACTED`. A
    field uses its own entry in :attr:`actions` when its whole (normalised) name has one;
    otherwise the strictest (drop, then redact, then hash) of the sensitive names it
    matches, each with its action or :attr:`default_action`.

    **Allow-list mode.** With :attr:`allow` set, only top-level attributes with those
    names (compared casefolded, separators removed) are kept; sensitive names and values
    inside them are still handled.

    **Limits.** Of each mapping and list, the first :attr:`max_attributes` entries in
    iteration order are looked at and the rest dropped; a string longer than
    :attr:`max_string_length` is cut so that, with the :data:`TRUNCATED` suffix, it is
    exactly that long; a container that would make the output nested deeper than
    :attr:`max_depth` (the attributes mapping is level 1) becomes :data:`TOO_DEEP`; at
    most :attr:`max_values` values are visited in all, the rest dropped. A key longer
    than :attr:`max_string_length` drops its entry.

    **Other values.** ``None``, booleans, numbers, strings and :mod:`datetime` values are
    kept as they are (strings subject to the rules above). Tuples and sets become lists.
    Any other object becomes ``"[TypeName]"``: calling its ``str`` could run arbitrary
    code or print a secret. A non-string key is kept when it is ``None``, a boolean or a
    number and drops its entry otherwise.

    Extend the defaults with :meth:`extended` rather than copying them.

    Attributes:
        sensitive_fields: Sensitive field names (matched as described above).
        sensitive_patterns: Sensitive value patterns, RE2 syntax.
        allow: Allow-list mode: the only top-level names kept; ``None`` keeps all.
        actions: Per-field actions by name (normalised like field names).
        default_action: The action for sensitive fields without an own action and for
            sensitive values.
        hasher: Hashes values for ``"hash"`` actions; required when any action is
            ``"hash"``.
        max_attributes: Entries looked at per mapping or list.
        max_string_length: The longest string (and key) kept; at least
            :data:`HASH_LENGTH`, so that every replacement fits.
        max_depth: The deepest nesting of the output, the attributes mapping included.
        max_values: The most values visited in one :meth:`sanitize` call.
    """

    sensitive_fields: frozenset[str] = DEFAULT_SENSITIVE_FIELDS
    sensitive_patterns: tuple[str, ...] = DEFAULT_SENSITIVE_PATTERNS
    allow: frozenset[str] | None = None
    actions: Mapping[str, Action] = field(default_factory=dict, hash=False)
    default_action: Action = "redact"
    hasher: IdentifierHasher | None = None
    max_attributes: int = 64
    max_string_length: int = 1024
    max_depth: int = 8
    max_values: int = 4096
    _table: Mapping[str, Action] = field(init=False, repr=False, compare=False, hash=False)
    _longest: int = field(init=False, repr=False, compare=False, hash=False)
    _allowed: frozenset[str] | None = field(init=False, repr=False, compare=False, hash=False)
    _regex: Any = field(init=False, repr=False, compare=False, hash=False)
    _scan_limit: int = field(init=False, repr=False, compare=False, hash=False)
    _flat_limit: int = field(init=False, repr=False, compare=False, hash=False)
    _cached_length: int = field(init=False, repr=False, compare=False, hash=False)
    _names: dict[str, tuple[Action | None, bool]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _clean: set[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        """Validate the policy and precompute the name table and the combined pattern.

        Raises:
            ConfigurationError: A limit is not a positive integer, an action is unknown,
                a ``"hash"`` action has no hasher, a name is empty or a pattern is
                rejected by RE2.
        """
        for name in ("max_attributes", "max_string_length", "max_depth", "max_values"):
            _positive(name, getattr(self, name))
        if self.max_string_length < HASH_LENGTH:
            # Every replacement (a hash, a marker) must itself fit in the limit.
            raise ConfigurationError(
                f"max_string_length is at least {HASH_LENGTH}, got {self.max_string_length}"
            )
        fields = frozenset(self.sensitive_fields)
        patterns = tuple(self.sensitive_patterns)
        allow = None if self.allow is None else frozenset(self.allow)
        actions = MappingProxyType(dict(self.actions))
        set_ = object.__setattr__
        set_(self, "sensitive_fields", fields)
        set_(self, "sensitive_patterns", patterns)
        set_(self, "allow", allow)
        set_(self, "actions", actions)
        for action in (self.default_action, *actions.values()):
            if action not in _ACTIONS:
                raise ConfigurationError(
                    f"unknown action {action!r}: use 'drop', 'redact' or 'hash'"
                )
        if self.hasher is None and "hash" in (self.default_action, *actions.values()):
            raise ConfigurationError(
                "a 'hash' action needs a hasher: pass hasher=IdentifierHasher(...)"
            )
        table: dict[str, Action] = {}
        for name in fields:
            table[self._checked_name(name, "sensitive field")] = self.default_action
        for name, action in actions.items():
            table[self._checked_name(name, "action field")] = action
        set_(self, "_table", MappingProxyType(table))
        set_(self, "_longest", max(map(len, table), default=0))
        set_(
            self,
            "_allowed",
            None
            if allow is None
            else frozenset(self._checked_name(name, "allowed field") for name in allow),
        )
        set_(self, "_regex", _compile_patterns(patterns))
        set_(self, "_scan_limit", self.max_string_length + _SCAN_MARGIN)
        set_(self, "_flat_limit", min(self.max_attributes, self.max_values))
        # A string in the clean cache is never longer than max_string_length, so the
        # fast path may return it as it is.
        set_(self, "_cached_length", min(_CACHED_VALUE_LENGTH, self.max_string_length))
        set_(self, "_names", {})
        set_(self, "_clean", set())

    @staticmethod
    def _checked_name(name: object, what: str) -> str:
        if not isinstance(name, str):
            raise ConfigurationError(f"a {what} name is a string, got {name!r}")
        normalised = _normalise_name(name)
        if not normalised:
            raise ConfigurationError(f"the {what} name {name!r} has no letters or digits")
        return normalised

    # -- public helpers

    def extended(
        self,
        *,
        sensitive_fields: Iterable[str] = (),
        sensitive_patterns: Iterable[str] = (),
        actions: Mapping[str, Action] | None = None,
        **changes: Any,
    ) -> Sanitizer:
        """A new sanitizer with more sensitive names, patterns and actions, and other changes.

        The names and patterns are added to this sanitizer's (duplicates ignored), the
        actions laid over its own; any other field is replaced by a keyword of the same
        name. ``Sanitizer().extended(sensitive_fields={"user_id"}, default_action="hash",
        hasher=hasher)`` keeps every default and adds ``user_id``.

        Args:
            sensitive_fields: Names to add.
            sensitive_patterns: Value patterns to add (RE2 syntax).
            actions: Per-field actions to add or replace.
            **changes: Other fields to replace, such as ``allow``, ``hasher``,
                ``default_action`` or the limits.

        Returns:
            The new sanitizer; this one is unchanged.

        Raises:
            ConfigurationError: The result is not a valid policy.
            TypeError: A keyword names no field.
        """
        extra_patterns = tuple(p for p in sensitive_patterns if p not in self.sensitive_patterns)
        return dataclasses.replace(
            self,
            sensitive_fields=self.sensitive_fields | frozenset(sensitive_fields),
            sensitive_patterns=self.sensitive_patterns + tuple(dict.fromkeys(extra_patterns)),
            actions={**self.actions, **(actions or {})},
            **changes,
        )

    def is_sensitive_field(self, name: str) -> bool:
        """Whether a field called ``name`` is sensitive (see the class for the matching)."""
        return self._field_action(name) is not None

    def is_sensitive_value(self, value: str) -> bool:
        """Whether one of the sensitive patterns is found in the string ``value``."""
        return self._sensitive_text(value[: self._scan_limit])

    def sanitize(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """A sanitized copy of ``attributes`` (see the class for the rules).

        Args:
            attributes: Evaluation attributes (or any mapping); not modified.

        Returns:
            A new ``dict``. It never raises: an input that cannot even be read (a mapping
            whose iteration fails) gives an empty dict.
        """
        try:
            if type(attributes) is dict and len(attributes) <= self._flat_limit:
                flat = self._known_flat(attributes)
                if flat is not None:
                    return flat
            return self._mapping(attributes, 1, _Budget(self.max_values), top=True)
        except Exception:  # never raise into a hook; dropping everything leaks nothing
            return {}

    def _known_flat(self, attributes: dict[Any, Any]) -> dict[Any, Any] | None:
        # The common case, made cheap: a flat dict whose names were all seen before and
        # are not sensitive, with numbers and strings already known to be clean. Anything
        # else gives None and takes the general path.
        names, clean, allow_mode = self._names, self._clean, self._allowed is not None
        out: dict[Any, Any] = {}
        for key, value in attributes.items():
            rule = names.get(key) if type(key) is str else None
            if rule is None or rule[0] is not None:
                return None
            if allow_mode and not rule[1]:
                continue
            kind = type(value)
            if (
                (kind is str and value in clean)
                or kind in _FLAT_SCALARS
                or (kind is int and -_SCANNED_INT < value < _SCANNED_INT)
            ):
                out[key] = value
            else:
                return None
        return out

    # -- names

    def _field_action(self, name: str) -> Action | None:
        table = self._table
        words = _name_words(name)
        whole = "".join(words)
        action = table.get(whole) or self._plural_action(whole)
        if action is not None:
            return action
        found: Action | None = None
        longest = self._longest
        last = len(words) - 1
        for start in range(len(words)):
            joined = ""
            for end in range(start, len(words)):
                joined += words[end]
                if len(joined) > longest + _LONGEST_ENDING:
                    break
                action = table.get(joined)
                if action is None and end == last:
                    # Only a run at the end of the name is read as a plural: the last
                    # word names the thing ("user_passwords"), an earlier one
                    # qualifies it ("tokens_used" is a count).
                    action = self._plural_action(joined)
                if action is not None and (
                    found is None or _STRICTNESS[action] > _STRICTNESS[found]
                ):
                    found = action
        return found

    def _plural_action(self, name: str) -> Action | None:
        """The action of the singular of ``name`` (a normalised name ending in s or es)."""
        for ending in _PLURAL_ENDINGS:
            if name.endswith(ending) and len(name) > len(ending):
                action = self._table.get(name[: -len(ending)])
                if action is not None:
                    return action
        return None

    def _name_rule(self, name: str) -> tuple[Action | None, bool]:
        cached = self._names.get(name)
        if cached is not None:
            return cached
        rule: tuple[Action | None, bool]
        if len(name) > self.max_string_length or self._sensitive_text(name):
            rule = ("drop", False)
        else:
            allowed = self._allowed is None or _normalise_name(name) in self._allowed
            rule = (self._field_action(name), allowed)
        if len(self._names) >= _CACHE_LIMIT:
            self._names.clear()
        self._names[name] = rule
        return rule

    # -- values

    def _sensitive_text(self, text: str) -> bool:
        regex = self._regex
        if regex is None:
            return False
        short = len(text) <= self._cached_length
        if short and text in self._clean:
            return False
        found = regex.search(text.encode("utf-8", "surrogatepass")) is not None
        # Only verdicts of "clean" are cached: a cache of sensitive values would keep
        # personal data in memory for longer than the evaluation that carried it.
        if short and not found:
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean.add(text)
        return found

    def _act(self, action: Action, value: Any) -> Any:
        if action == "redact":
            return REDACTED
        if action == "drop":
            return _DROP
        if isinstance(value, (str, *_SCALARS, *_TEMPORAL)) and self.hasher is not None:
            return self.hasher(str(value))
        return REDACTED

    def _integer(self, value: int) -> Any:
        """``value``, or its action when its digits match a pattern (a card number)."""
        if -_SCANNED_INT < value < _SCANNED_INT:
            return value
        try:
            text = str(int(value))  # int(): an IntEnum's str() is its name
        except ValueError:  # more digits than Python prints: nobody's card number
            return REDACTED
        if self._sensitive_text(text[: self._scan_limit]):
            return self._act(self.default_action, text)
        return value

    def _string(self, value: str) -> Any:
        scanned = value if len(value) <= self._scan_limit else value[: self._scan_limit]
        if self._sensitive_text(scanned):
            return self._act(self.default_action, value)
        limit = self.max_string_length
        if len(value) <= limit:
            return value
        return value[: limit - len(TRUNCATED)] + TRUNCATED

    def _value(self, value: Any, depth: int, budget: _Budget) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return self._string(value) if isinstance(value, str) else self._integer(value)
        if isinstance(value, (*_SCALARS, *_TEMPORAL)):
            return value
        is_mapping = isinstance(value, Mapping)
        if not is_mapping and not isinstance(value, (list, tuple, set, frozenset)):
            return f"[{type(value).__name__[: self.max_string_length - 2]}]"
        if depth >= self.max_depth:
            return TOO_DEEP
        if is_mapping:
            return self._mapping(value, depth + 1, budget, top=False)
        return self._sequence(value, depth + 1, budget)

    def _sequence(self, items: Iterable[Any], depth: int, budget: _Budget) -> list[Any]:
        out: list[Any] = []
        for item in islice(items, self.max_attributes):
            budget.left -= 1
            if budget.left < 0:
                break
            cleaned = self._value(item, depth, budget)
            if cleaned is not _DROP:
                out.append(cleaned)
        return out

    def _mapping(
        self, mapping: Mapping[Any, Any], depth: int, budget: _Budget, *, top: bool
    ) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        allow_mode = top and self._allowed is not None
        for key, value in islice(mapping.items(), self.max_attributes):
            budget.left -= 1
            if budget.left < 0:
                break
            cleaned = self._entry(key, value, depth, budget, allow_mode=allow_mode)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out

    def _entry(self, key: Any, value: Any, depth: int, budget: _Budget, *, allow_mode: bool) -> Any:
        if isinstance(key, str):
            action, allowed = self._names.get(key) or self._name_rule(key)
            if allow_mode and not allowed:
                return _DROP
            if action is not None:
                return self._act(action, value)
        elif (
            allow_mode
            or not isinstance(key, _SCALARS)
            or (isinstance(key, int) and self._integer(key) is not key)
        ):
            return _DROP
        kind = type(value)
        # The common flat case (short strings and numbers) is handled without a call.
        if kind is str:
            return self._string(value)
        if kind is int or kind is bool or kind is float or value is None:
            return self._integer(value) if kind is int else value
        return self._value(value, depth, budget)


# --- masking secrets -------------------------------------------------------------------

_MASK: Final = "***"

# scheme://user:password@host: the password runs to the last '@' of the authority (as
# urllib and the database drivers read it); failing that (an unencoded '/', '?' or '#'
# in the password), to the next '@' unless what follows the ':' is a port. When in
# doubt, more is masked rather than less.
_URL_PASSWORD: Final = re2.compile(
    rb"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\[\]]*:)(?:[^\s/?#]*|[^\s@/?#]*[^\s@/?#0-9][^\s@]*)@",
    options=_re2_options(),
)
# user:password@host with no scheme, at the start of a string given to mask_url.
_BARE_PASSWORD: Final = re2.compile(rb"^([^\s:/?#@]*:)(?:[^\s/?#]*)@", options=_re2_options())
# password=..., "token": "...", Authorization: Bearer ..., sslpassword=... in a query.
_KEY_VALUE_SECRET: Final = re2.compile(
    rb"(?i)(\b[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key"
    rb"|authorization)[\"']?\s*[=:]\s*)"
    rb"(\"[^\"]*\"|'[^']*'|(?:(?:bearer|basic|token)\s+)?[^\s&;,\"'\)\]\}]+)",
    options=_re2_options(),
)


def _mask_url_password(match: Any) -> bytes:
    return bytes(match.group(1)) + _MASK.encode() + b"@"


def _mask_key_value(match: Any) -> bytes:
    head, value = bytes(match.group(1)), bytes(match.group(2))
    if value.startswith(_MASK.encode()):
        return head + value  # already masked as a URL password
    quote = value[:1] if value[:1] in {b'"', b"'"} else b""
    return head + quote + _MASK.encode() + quote


def _masked(data: bytes) -> bytes:
    data = _URL_PASSWORD.sub(_mask_url_password, data)
    masked: bytes = _KEY_VALUE_SECRET.sub(_mask_key_value, data)
    return masked


def mask_secrets(text: str) -> str:
    """``text`` with every password and token it carries replaced by ``***``.

    Masks the password of every URL in the text (``scheme://user:password@host``, user
    kept) and every ``key=value`` or ``key: value`` whose key ends in ``password``,
    ``passwd``, ``pwd``, ``secret``, ``token``, ``api_key``/``apikey`` or is
    ``authorization`` (query parameters, JSON and Python reprs, ``Authorization: Bearer``
    headers). Meant for exception messages from drivers that embed a DSN before they are
    logged or re-raised. Runs in time linear in the text (RE2) and never raises.

    Args:
        text: Any text.

    Returns:
        The text with the secrets masked; text without secrets comes back unchanged.
    """
    try:
        data = text.encode("utf-8", "surrogatepass")
        return _masked(data).decode("utf-8", "surrogatepass")
    except Exception:  # a masking helper that raised would hide the error being reported
        return "<text withheld: it could not be checked for secrets>"


def mask_url(url: str) -> str:
    """``url`` with its password and password-like query parameters replaced by ``***``.

    ``"redis://user:s3cret@host:6379/0"`` becomes ``"redis://user:***@host:6379/0"``;
    ``"postgresql://host/db?sslpassword=x&password=y"`` becomes
    ``"postgresql://host/db?sslpassword=***&password=***"``. A string without a scheme
    (``user:pw@host``) is masked too. The string need not parse as a URL: masking works on
    the text (see :func:`mask_secrets`) and never raises.

    Args:
        url: A URL, or any string that may be one.

    Returns:
        The masked URL; a URL without secrets comes back unchanged.
    """
    try:
        data = url.encode("utf-8", "surrogatepass")
        if b"://" not in data:
            data = _BARE_PASSWORD.sub(_mask_url_password, data)
        return _masked(data).decode("utf-8", "surrogatepass")
    except Exception:  # as in mask_secrets
        return "<url withheld: it could not be checked for secrets>"

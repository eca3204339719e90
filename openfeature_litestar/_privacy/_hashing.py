"""Keyed hashing of identifiers: pseudonyms that can be joined on but not read.

:class:`IdentifierHasher` (and :func:`hash_identifier`) turns an identifier such as a
user id into a pseudonym that can still be joined on (the same id always gives the same
pseudonym) but not read.

**Why a keyed hash (HMAC-SHA256) and not plain SHA-256.**
Identifiers have little entropy: user ids are counters or short strings, e-mail addresses
come from a guessable population. Anyone holding a plain ``sha256(user_id)`` can hash
every candidate id and look the result up, so an unkeyed (or publicly salted) hash is
reversible by enumeration. An HMAC under a secret key cannot be computed without the
key, so the pseudonyms reveal nothing to someone who has the logs but not the key.

Consequences worth knowing:

* The key is a secret: keep it out of the code and the logs (set it in the
  ``OPENFEATURE_LITESTAR_HASH_KEY`` environment variable or pass it from your secret
  store); at least :data:`~openfeature_litestar.MIN_KEY_BYTES` bytes, ideally 32 random
  bytes.
* Rotating the key changes every pseudonym: records hashed before and after a rotation
  cannot be joined. Rotate when the key may have leaked, and plan the break in the series.
* Without a key the hasher refuses to start, unless told to use an *ephemeral* key: a
  random key made once per process. Its pseudonyms are stable within the process and
  meaningless across processes and restarts (fine for tests and development).
* The output is the first :data:`~openfeature_litestar.HASH_LENGTH` (32) lower-case
  hexadecimal characters of the HMAC-SHA256 digest, 128 bits: collisions are negligible
  for any realistic number of identifiers. This format is stable across releases.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import threading
from typing import Final, Literal

from openfeature_litestar._errors import ConfigurationError

_SHA256_BLOCK: Final = 64  # bytes; HMAC pads or hashes the key to this size

__all__ = ["HASH_KEY_ENV", "HASH_LENGTH", "MIN_KEY_BYTES", "IdentifierHasher", "hash_identifier"]

HASH_KEY_ENV: Final = "OPENFEATURE_LITESTAR_HASH_KEY"
"""The environment variable the hashing key is read from when none is passed."""

HASH_LENGTH: Final = 32
"""Hexadecimal characters in a pseudonym: the first 128 bits of the HMAC-SHA256 digest."""

MIN_KEY_BYTES: Final = 16
"""The shortest key accepted, in bytes (a ``str`` key counts its UTF-8 bytes)."""

_EPHEMERAL_KEY_BYTES: Final = 32


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

"""A route guard for static bearer tokens, compared in constant time.

.. code-block:: python

    from openfeature_litestar.web import OFREPConfig, bearer_token_guard

    OFREPConfig(guards=[bearer_token_guard(os.environ["OFREP_TOKENS"].split(","))])

Every presented token is compared with *every* configured token through
:func:`hmac.compare_digest` of their SHA-256 digests, with no early exit: the time a
request takes does not tell an attacker how much of a token was right, nor which token
(or whether any) matched, nor how long the tokens are. Tokens never appear in a log
line, an error message or a ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any, Final

from litestar.exceptions import NotAuthorizedException

from openfeature_litestar._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from litestar.types import Guard

__all__ = ["bearer_token_guard"]

_SCHEME: Final = "bearer"


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests keeps the tokens' lengths out of the timing too.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _digests(tokens: Sequence[str], where: str) -> tuple[bytes, ...]:
    if isinstance(tokens, str):
        tokens = (tokens,)
    checked = []
    for token in tokens:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError(f"{where}: every bearer token must be a non-empty string")
        checked.append(_digest(token))
    if not checked:
        raise ConfigurationError(f"{where}: no bearer tokens; give at least one")
    return tuple(checked)


def _presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        return None
    return token


def _matches_any(presented: bytes, accepted: tuple[bytes, ...]) -> bool:
    """Compare with every accepted digest, never stopping at the first match."""
    matched = False
    for digest in accepted:
        matched |= hmac.compare_digest(presented, digest)
    return matched


def bearer_token_guard(
    tokens: str | Sequence[str] | Callable[[], Sequence[str]],
    *,
    realm: str = "openfeature-litestar",
) -> Guard:
    """A guard that admits requests carrying one of some static bearer tokens.

    A request without ``Authorization: Bearer <token>``, or with a token that is not one
    of ``tokens``, is refused with ``401 Unauthorized`` and a
    ``WWW-Authenticate: Bearer realm="<realm>"`` header (with ``error="invalid_token"``
    for a wrong token, as RFC 6750 asks). The comparison is constant-time (see the
    module).

    Args:
        tokens: The accepted tokens: one, several (to rotate: accept the old and the new
            token for a while), or a callable returning them, called on every request,
            for tokens kept in a secret store that may change while the application
            runs. A callable that returns no tokens refuses every request.
        realm: The realm named in the ``WWW-Authenticate`` header.

    Returns:
        The guard, for a handler's, controller's, router's or app's ``guards`` (or
        :class:`~openfeature_litestar.web.OFREPConfig` ``guards``).

    Raises:
        ConfigurationError: ``tokens`` is empty or holds an empty or non-string token.
        ValueError: ``realm`` contains a double quote or a control character.
    """
    if '"' in realm or "\\" in realm or not realm.isprintable():
        raise ValueError("realm must be printable text without quotes or backslashes")
    challenge = f'Bearer realm="{realm}"'
    static = None if callable(tokens) else _digests(tokens, "bearer_token_guard")
    source = tokens if callable(tokens) else None

    def accepted() -> tuple[bytes, ...]:
        if static is not None:
            return static
        try:
            return _digests(source(), "bearer_token_guard") if source is not None else ()
        except ConfigurationError:
            return ()  # no valid tokens right now: nobody is admitted

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any],
        handler: BaseRouteHandler,  # noqa: ARG001 - Litestar's guard signature
    ) -> None:
        presented = _presented_token(connection)
        if presented is None:
            raise NotAuthorizedException(
                "a bearer token is required", headers={"WWW-Authenticate": challenge}
            )
        if not _matches_any(_digest(presented), accepted()):
            raise NotAuthorizedException(
                "the bearer token is not valid",
                headers={"WWW-Authenticate": f'{challenge}, error="invalid_token"'},
            )

    guard.__name__ = guard.__qualname__ = "bearer_token_guard"
    return guard

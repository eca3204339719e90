"""Bearer-token authentication: the middleware that sets ``scope["user"]``.

The tokens and their users live in a small table in code, standing in for the session
store or identity provider of a real application. What matters for the flags is that the
middleware runs before the OpenFeature plugin's middleware (the plugin adds its own after
the application's), so the context builder finds the user in ``scope["user"]``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

if TYPE_CHECKING:
    from collections.abc import Mapping

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

__all__ = ["USERS_BY_TOKEN", "BearerTokenAuthentication", "User", "require_user"]


@dataclass(frozen=True)
class User:
    """A signed-in user.

    Attributes:
        id: The user's id; the context builder makes it the targeting key.
        name: The name the application greets the user with.
    """

    id: str
    name: str


USERS_BY_TOKEN: Mapping[str, User] = MappingProxyType(
    {
        "token-alice": User("alice", "Alice"),
        "token-bob": User("bob", "Bob"),
        "token-carol": User("carol", "Carol"),
        "token-dave": User("dave", "Dave"),
    }
)
"""Bearer token → user. Made-up tokens for the example; never keep real ones in code."""

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="example"'}


def _user_for(token: str) -> User | None:
    # compare_digest against every entry, so that the time taken does not tell a client
    # how much of a token it guessed right.
    found = None
    for known, user in USERS_BY_TOKEN.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = user
    return found


class BearerTokenAuthentication(AbstractAuthenticationMiddleware):
    """Authenticate ``Authorization: Bearer <token>``; no header means anonymous.

    An anonymous request carries on with ``scope["user"]`` set to ``None`` (routes that
    need a user say so with :func:`require_user`); a malformed header or an unknown
    token is refused with ``401 Unauthorized``.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """The user of the request's bearer token, or ``None`` without a token.

        Args:
            connection: The request.

        Returns:
            The user, and ``"bearer"`` as the authentication method (``None`` for both
            when the request is anonymous).

        Raises:
            NotAuthorizedException: The header is not ``Bearer <token>``, or the token
                is unknown.
        """
        header = connection.headers.get("authorization")
        if header is None:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException(
                "expected Authorization: Bearer <token>", headers=_CHALLENGE
            )
        user = _user_for(token.strip())
        if user is None:
            raise NotAuthorizedException("unknown bearer token", headers=_CHALLENGE)
        return AuthenticationResult(user=user, auth="bearer")


def require_user(
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,  # noqa: ARG001 - Litestar's guard signature
) -> None:
    """A guard that refuses anonymous requests with ``401 Unauthorized``.

    Args:
        connection: The request.
        handler: The route handler (unused).

    Raises:
        NotAuthorizedException: The request has no user.
    """
    if connection.scope.get("user") is None:
        raise NotAuthorizedException("sign in first", headers=_CHALLENGE)

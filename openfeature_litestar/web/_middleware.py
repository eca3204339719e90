"""The middleware that gives every HTTP request and WebSocket connection its context."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from ._config import DEFAULT_SCOPE_KEY
from ._context import ContextBuilder

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from openfeature_litestar._privacy._sanitizer import Sanitizer

    from ._config import ContextBuilderCallable

__all__ = ["OpenFeatureMiddleware", "context_from_scope"]

logger = logging.getLogger("openfeature_litestar.web")


def context_from_scope(scope: Scope, scope_key: str = DEFAULT_SCOPE_KEY) -> EvaluationContext:
    """The evaluation context the middleware built for a connection.

    Args:
        scope: The connection's ASGI scope.
        scope_key: The key the middleware was configured with.

    Returns:
        The context, or an empty one when the middleware did not run (an excluded path).
    """
    state = scope.get("state")
    context = state.get(scope_key) if state is not None else None
    return context if isinstance(context, EvaluationContext) else EvaluationContext()


class OpenFeatureMiddleware(ASGIMiddleware):
    """Build each connection's evaluation context and make it the transaction context.

    For every HTTP request and WebSocket connection the middleware builds the context
    (the builder, then the sanitizer), keeps it in the scope's ``state`` under the scope
    key, and sets it as the OpenFeature transaction context while the rest of the
    application runs; afterwards it restores the transaction context that was current
    before. So every evaluation in a handler, a guard, a dependency or a
    ``sync_to_thread`` handler sees its own connection's context, and nothing leaks into
    the next request or into a caller that runs the application in its own task (a test
    client).

    A builder that raises does not fail the request: the failure is logged (the
    exception type only, never a value from the request) and the connection gets an
    empty context, so flags answer as they would for an anonymous client.

    The :class:`~openfeature_litestar.web.OpenFeaturePlugin` adds this middleware; add it
    yourself only when you do not use the plugin. It must run after the authentication
    middleware that sets ``scope["user"]``: list it after that one.

    Args:
        context_builder: Builds a connection's context; ``None`` uses
            :class:`~openfeature_litestar.web.ContextBuilder` with its defaults.
        sanitizer: Applied to the built context's attributes; ``None`` applies none.
        scope_key: Where the context is kept in the scope's ``state``.
        exclude: Path patterns (regular expressions) to skip.
    """

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    def __init__(
        self,
        *,
        context_builder: ContextBuilderCallable | None = None,
        sanitizer: Sanitizer | None = None,
        scope_key: str = DEFAULT_SCOPE_KEY,
        exclude: str | list[str] | None = None,
    ) -> None:
        """Create the middleware (see the class for the arguments)."""
        self.context_builder: ContextBuilderCallable = (
            context_builder if context_builder is not None else ContextBuilder()
        )
        self.sanitizer = sanitizer
        self.scope_key = scope_key
        # Litestar skips handle() for excluded paths, which would leave them with the
        # transaction context of whoever runs the app (a test client's task): the
        # middleware matches them itself and gives them an empty context instead.
        self.exclude_path_pattern = None
        patterns = [exclude] if isinstance(exclude, str) else list(exclude or ())
        self._excluded = re.compile("|".join(patterns)) if patterns else None

    def build_context(self, scope: Scope, receive: Receive, send: Send) -> EvaluationContext:
        """Build and sanitize the context of one connection; never raises.

        Args:
            scope: The connection's ASGI scope.
            receive: The ASGI receive channel (the builder may not read the body).
            send: The ASGI send channel.

        Returns:
            The context to evaluate the connection's flags with.
        """
        builder = self.context_builder
        try:
            if type(builder) is ContextBuilder:
                # The default builder reads only the scope: building the connection it
                # would not use (and its state in the scope) is most of the cost. A
                # subclass may override what reads the connection: it gets one.
                context = builder._build(scope)  # noqa: SLF001 - the same package's builder
            else:
                # Not ASGIConnection[Any, ...](...): subscripting a generic class at run
                # time builds a new alias on every request (about 2 µs).
                connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(
                    scope, receive, send
                )
                context = builder(connection)
            if not isinstance(context, EvaluationContext):
                raise TypeError(  # noqa: TRY301 - handled with the builder's own errors
                    f"the context builder returned {type(context).__name__}, "
                    "not an EvaluationContext"
                )
            if self.sanitizer is not None and context.attributes:
                context = self._sanitized(context)
        except Exception as exc:
            # The exception's message may quote request data (a header, an id): log
            # only its type, and where.
            logger.warning(
                "building the evaluation context for the %s handler %s failed (%s); "
                "evaluating with an empty context",
                scope["type"],
                getattr(scope.get("route_handler"), "handler_name", "?"),
                type(exc).__name__,
            )
            return EvaluationContext()
        return context

    def _sanitized(self, context: EvaluationContext) -> EvaluationContext:
        assert self.sanitizer is not None  # noqa: S101 - checked by the caller
        attributes = context.attributes
        # What the server itself derives (the client address through the trusted
        # proxies, the developer's static attributes) is not client input: it bypasses
        # the policy, or an IP-address pattern would hide the very address the
        # developer asked for. Logs still see it through the audit hook's own policy.
        trusted = (
            self.context_builder.trusted_names
            if isinstance(self.context_builder, ContextBuilder)
            else frozenset()
        )
        if not trusted:
            return EvaluationContext(context.targeting_key, self.sanitizer.sanitize(attributes))
        untrusted = {name: value for name, value in attributes.items() if name not in trusted}
        sanitized = self.sanitizer.sanitize(untrusted)
        sanitized.update({name: attributes[name] for name in trusted if name in attributes})
        return EvaluationContext(context.targeting_key, sanitized)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the rest of the application with the connection's transaction context.

        Args:
            scope: The connection's ASGI scope.
            receive: The ASGI receive channel.
            send: The ASGI send channel.
            next_app: The rest of the application.
        """
        excluded = self._excluded is not None and self._excluded.search(scope["path"])
        context = EvaluationContext() if excluded else self.build_context(scope, receive, send)
        # A server without lifespan state support sends no "state".
        scope.setdefault("state", {})[self.scope_key] = context
        previous = api.get_transaction_context()
        api.set_transaction_context(context)
        try:
            await next_app(scope, receive, send)
        finally:
            api.set_transaction_context(previous)

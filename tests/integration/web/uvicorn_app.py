"""The application the real-server test runs under uvicorn (``uvicorn uvicorn_app:app``).

Flags come from the file named by ``FLAGS_FILE``. ``X-User: <id>`` authenticates (a demo
middleware sets ``scope["user"]``). Each handler answers with what the flags said for
the request's user, evaluated through the transaction context only, so an answer that
names another user would be cross-talk.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from litestar import Litestar, get
from litestar.middleware import ASGIMiddleware
from openfeature import api

from openfeature_litestar.web import (
    ContextBuilder,
    OpenFeatureClientDependency,
    OpenFeatureConfig,
    OpenFeaturePlugin,
)

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send


class HeaderAuth(ASGIMiddleware):
    """Demo authentication: ``X-User: <id>`` makes ``scope["user"]`` ``{"id": <id>}``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Set the user from the header, if any."""
        for name, value in scope["headers"]:
            if name == b"x-user":
                scope["user"] = {"id": value.decode()}
        await next_app(scope, receive, send)


def _answer(client: Any, user: str | None) -> dict[str, Any]:
    return {
        "user": user,
        "targeting_key": api.get_transaction_context().targeting_key,
        "whoami": client.get_string_value("whoami", "error"),
        "bucket": client.get_string_value("bucket", "error"),
    }


@get("/health", sync_to_thread=False)
def health() -> str:
    """Answer once the application is up."""
    return "ok"


@get("/async")
async def evaluate_async(
    feature_flags: OpenFeatureClientDependency, user: str | None = None
) -> dict[str, Any]:
    """Evaluate on the event loop, yielding to other requests between evaluations."""
    first = await feature_flags.get_string_value_async("whoami", "error")
    await asyncio.sleep(0)
    answer = _answer(feature_flags, user)
    answer["first"] = first
    return answer


@get("/sync", sync_to_thread=True)
def evaluate_sync(
    feature_flags: OpenFeatureClientDependency, user: str | None = None
) -> dict[str, Any]:
    """Evaluate in a worker thread, pausing so that threads interleave."""
    first = feature_flags.get_string_value("whoami", "error")
    time.sleep(0.001)
    answer = _answer(feature_flags, user)
    answer["first"] = first
    return answer


@get("/ip", sync_to_thread=False)
def client_ip() -> dict[str, Any]:
    """The client address the context builder put into the request's context."""
    return {"ip": api.get_transaction_context().attributes.get("ip")}


app = Litestar(
    [health, evaluate_async, evaluate_sync, client_ip],
    middleware=[HeaderAuth()],
    plugins=[
        OpenFeaturePlugin(
            OpenFeatureConfig(
                store=f"file:{os.environ['FLAGS_FILE']}",
                context_builder=ContextBuilder(client_host="ip"),
            )
        )
    ],
)

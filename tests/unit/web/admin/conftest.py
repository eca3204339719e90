"""The admin API's tests share an application: a reader and a writer token, two namespaces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.testing import TestClient

from openfeature_litestar import MemoryStore
from openfeature_litestar.web import AdminConfig, admin_router, bearer_token_guard

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

    from openfeature_litestar._stores import WritableFlagStore

READER, WRITER = "reader-token", "writer-token"
READ_AUTH = {"Authorization": f"Bearer {READER}"}
WRITE_AUTH = {"Authorization": f"Bearer {WRITER}", "X-User": "alice"}
BASE = "/admin/v1/namespaces"


def flag(variant: str = "off", *, state: str = "ENABLED") -> dict[str, Any]:
    return {
        "state": state,
        "variants": {"on": True, "off": False},
        "defaultVariant": variant,
        "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", variant]},
    }


def document() -> dict[str, Any]:
    return {
        "flags": {
            "banner": flag(),
            "greeting": {"state": "ENABLED", "variants": {"hi": "hi"}, "defaultVariant": "hi"},
        },
        "metadata": {"flagSetId": "web"},
    }


class HeaderUser(ASGIMiddleware):
    """Demo authentication: ``X-User: <name>`` makes ``scope["user"]`` ``{"id": <name>}``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for name, value in scope["headers"]:
            if name == b"x-user":
                scope["user"] = {"id": value.decode()}
        await next_app(scope, receive, send)


async def writers_only(
    connection: ASGIConnection[Any, Any, Any, Any],
    _handler: BaseRouteHandler,
) -> None:
    """A role guard of the application's own: only the writer token may write."""
    if connection.headers.get("authorization") != f"Bearer {WRITER}":
        raise PermissionDeniedException("read-only token")


def admin_app(stores: dict[str, WritableFlagStore], **config: Any) -> Litestar:
    config.setdefault("guards", [bearer_token_guard([READER, WRITER])])
    config.setdefault("write_guards", [writers_only])
    router = admin_router(AdminConfig(**config), stores=stores)
    return Litestar([router], middleware=[HeaderUser()])


@pytest.fixture
def stores() -> dict[str, WritableFlagStore]:
    production = MemoryStore(document(), namespace="production")
    return {"production": production, "staging": production.with_namespace("staging")}


@pytest.fixture
def client(stores: dict[str, WritableFlagStore]) -> Iterator[TestClient[Litestar]]:
    with TestClient(admin_app(stores)) as test_client:
        yield test_client

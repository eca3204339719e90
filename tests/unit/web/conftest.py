"""Fixtures for the Litestar adapter: a flag document, demo authentication, app factory.

The SDK keeps process-wide state (the transaction-context propagator, API hooks,
providers); every test here gets it back as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.middleware import ASGIMiddleware
from openfeature import api, transaction_context

from openfeature_litestar import MemoryStore
from openfeature_litestar.web import OpenFeatureConfig, OpenFeaturePlugin

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from litestar.types import ASGIApp, Receive, Scope, Send

USERS = [f"user-{number}" for number in range(5)]


def flag_document() -> dict[str, Any]:
    """Flags whose answers show which context they were evaluated with."""
    return {
        "flags": {
            # The variant is the targeting key itself: an answer names its own user.
            "whoami": {
                "state": "ENABLED",
                "variants": {"anonymous": "anonymous", **{user: user for user in USERS}},
                "defaultVariant": "anonymous",
                "targeting": {"var": "targetingKey"},
            },
            "email-seen": {
                "state": "ENABLED",
                "variants": {"leak": "leak", "safe": "safe"},
                "defaultVariant": "safe",
                "targeting": {"if": [{"==": [{"var": "email"}, "a@b.c"]}, "leak", "safe"]},
            },
            "plan": {
                "state": "ENABLED",
                "variants": {"pro": "pro", "free": "free", "none": "none"},
                "defaultVariant": "none",
                "targeting": {"if": [{"var": "plan"}, {"var": "plan"}, "none"]},
            },
            "beta": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"if": [{"in": [{"var": "targetingKey"}, ["user-1"]]}, "on", "off"]},
            },
            "dark": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
            },
            "checkout": {
                "state": "ENABLED",
                "variants": {"v1": "old", "v2": "new"},
                "defaultVariant": "v1",
                "targeting": {"if": [{"==": [{"var": "targetingKey"}, "user-2"]}, "v2", "v1"]},
            },
            "limit": {
                "state": "ENABLED",
                "variants": {"small": 1, "big": 100},
                "defaultVariant": "small",
                "targeting": {"if": [{"==": [{"var": "targetingKey"}, "user-3"]}, "big", "small"]},
            },
            "gone": {
                "state": "DISABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on",
            },
        }
    }


class HeaderAuth(ASGIMiddleware):
    """Demo authentication: ``X-User: <id>`` makes ``scope["user"]`` ``{"id": <id>}``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Set the user from the header, if any."""
        for name, value in scope["headers"]:
            if name == b"x-user":
                scope["user"] = {"id": value.decode()}
        await next_app(scope, receive, send)


@pytest.fixture(autouse=True)
def sdk_state() -> Iterator[None]:
    """Restore the SDK's propagator, API hooks and providers after each test."""
    propagator = transaction_context._evaluation_transaction_context_propagator
    hooks = list(api.get_hooks())
    yield
    transaction_context.set_transaction_context_propagator(propagator)
    api.clear_hooks()
    api.add_hooks(hooks)
    api.clear_providers()


@pytest.fixture
def make_app(domain: str) -> Callable[..., tuple[Litestar, OpenFeaturePlugin]]:
    """``make_app(handlers, **config)``: an app with demo auth and the plugin on ``domain``."""

    def make(
        handlers: list[Any], *, auth: bool = True, **config: Any
    ) -> tuple[Litestar, OpenFeaturePlugin]:
        config.setdefault("domain", domain)
        if "provider" not in config:
            config.setdefault("store", MemoryStore(flag_document()))
        plugin = OpenFeaturePlugin(OpenFeatureConfig(**config))
        app = Litestar(handlers, middleware=[HeaderAuth()] if auth else [], plugins=[plugin])
        return app, plugin

    return make

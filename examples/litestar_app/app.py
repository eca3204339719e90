"""The example application: bearer-token users, flag guards, a variant read in a handler.

Run it from the repository root with ``python -m examples.litestar_app`` (or
``uvicorn examples.litestar_app.app:app``), then, for example::

    curl http://127.0.0.1:8000/dashboard                                      # anonymous
    curl -H 'Authorization: Bearer token-bob' http://127.0.0.1:8000/dashboard
    curl -H 'Authorization: Bearer token-alice' http://127.0.0.1:8000/reports/export

The flags are in ``flags.yaml`` next to this module; the application watches the file,
so an edit (or ``openfeature-litestar set-variant --store file:examples/litestar_app/flags.yaml
checkout-flow v2``) reaches the next request within a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, get

from openfeature_litestar import FileStore, FlagStore
from openfeature_litestar.web import (
    ContextBuilder,
    OpenFeatureClientDependency,
    OpenFeatureConfig,
    OpenFeaturePlugin,
    require_flag,
    require_variant,
)

from .auth import BearerTokenAuthentication, User, require_user

__all__ = [
    "CHECKOUT_FLAG",
    "DOMAIN",
    "FLAGS_FILE",
    "LAYOUT_FLAG",
    "REPORTS_FLAG",
    "WIDGETS",
    "app",
    "create_app",
]

FLAGS_FILE = Path(__file__).with_name("flags.yaml")
"""The application's own flag document."""

DOMAIN = "litestar-example"
"""The OpenFeature domain the plugin registers its provider for; the guards name it too."""

REPORTS_FLAG = "reports-export"
"""Boolean: who may export reports (``require_flag``, refused with 403)."""

LAYOUT_FLAG = "dashboard-layout"
"""String: the dashboard's layout, read by the handler through the injected client."""

CHECKOUT_FLAG = "checkout-flow"
"""String: the variant ``v2`` opens the new checkout (``require_variant``, else 404)."""

WIDGETS: dict[str, list[str]] = {
    "classic": ["orders-table", "revenue-chart"],
    "cards": ["orders-card", "revenue-card", "top-products-card"],
}
"""The widgets of each layout; an unknown layout value falls back to ``classic``."""


@get("/")
async def index(request: Request[User | None, Any, Any]) -> dict[str, str | None]:
    """Who the request is signed in as (``None`` when anonymous)."""
    user = request.user
    return {"user": None if user is None else user.name}


@get("/dashboard")
async def dashboard(
    request: Request[User | None, Any, Any], feature_flags: OpenFeatureClientDependency
) -> dict[str, Any]:
    """The dashboard, in the layout the ``dashboard-layout`` flag picks for the user.

    The client evaluates with the request's context (the plugin's middleware made it the
    transaction context), so no context is passed here.
    """
    details = await feature_flags.get_string_details_async(LAYOUT_FLAG, "classic")
    layout = details.value if details.value in WIDGETS else "classic"
    return {
        "user": None if request.user is None else request.user.id,
        "layout": layout,
        "variant": details.variant,
        "reason": details.reason,
        "widgets": WIDGETS[layout],
    }


# Signed-in users only (401), and then only those the flag is on for (403: the feature
# is known to exist, the user is just not entitled to it).
@get(
    "/reports/export",
    guards=[require_user, require_flag(REPORTS_FLAG, status_code=403, domain=DOMAIN)],
    media_type=MediaType.TEXT,
)
async def export_reports() -> str:
    """The monthly report as CSV."""
    return "month,orders\n2026-10,120\n2026-11,135\n"


@get("/checkout")
async def checkout() -> dict[str, str]:
    """The checkout everyone has."""
    return {"checkout": "v1"}


# A hidden beta: anyone not on variant "v2" gets 404, as if the route did not exist.
@get("/checkout/v2", guards=[require_variant(CHECKOUT_FLAG, "v2", domain=DOMAIN)])
async def checkout_v2() -> dict[str, str]:
    """The new one-page checkout."""
    return {"checkout": "v2"}


def create_app(store: FlagStore | str | None = None) -> Litestar:
    """Build the application.

    Args:
        store: The flag store, or a store URL; by default a
            :class:`~openfeature_litestar.FileStore` watching :data:`FLAGS_FILE`.

    Returns:
        The application; the store is opened when it starts.
    """
    config = OpenFeatureConfig(
        store=FileStore(FLAGS_FILE) if store is None else store,
        domain=DOMAIN,
        # The default builder, configured: the targeting key is scope["user"].id, set
        # by BearerTokenAuthentication; a client can never choose its own.
        context_builder=ContextBuilder(targeting_key="id", static={"service": "example-shop"}),
    )
    return Litestar(
        route_handlers=[index, dashboard, export_reports, checkout, checkout_v2],
        middleware=[BearerTokenAuthentication],
        plugins=[OpenFeaturePlugin(config)],
    )


app = create_app()
"""The application with its default store, for ``uvicorn examples.litestar_app.app:app``."""

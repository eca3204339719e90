"""The Litestar adapter: one plugin, and every handler evaluates flags for its own user.

::

    from litestar import Litestar, get

    from openfeature_litestar.web import (
        OpenFeatureClientDependency,
        OpenFeatureConfig,
        OpenFeaturePlugin,
        require_flag,
    )

    @get("/checkout", guards=[require_flag("new-checkout")])
    async def checkout(feature_flags: OpenFeatureClientDependency) -> dict[str, int]:
        return {"max_items": await feature_flags.get_integer_value_async("max-items", 10)}

    app = Litestar(
        [checkout],
        plugins=[OpenFeaturePlugin(OpenFeatureConfig(store="file:flags.yaml"))],
    )

This package imports Litestar (the ``[litestar]`` extra); the rest of
:mod:`openfeature_litestar` does not.
"""

from __future__ import annotations

from ._admin import ActorCallable, AdminConfig, admin_router, default_actor
from ._auth import bearer_token_guard
from ._config import OpenFeatureConfig
from ._context import ContextBuilder
from ._events import EventStreamConfig, close_event_streams
from ._guards import require_flag, require_variant
from ._metrics import MetricsConfig, metrics_router
from ._middleware import OpenFeatureMiddleware
from ._ofrep import OFREPConfig, ofrep_router
from ._plugin import EvaluationContextDependency, OpenFeatureClientDependency, OpenFeaturePlugin
from ._server import (
    ADMIN_TOKENS_ENV,
    CORS_ORIGINS_ENV,
    METRICS_TOKENS_ENV,
    SANITIZE_ENV,
    TOKENS_ENV,
    create_server,
    serve,
)

__all__ = [
    "ADMIN_TOKENS_ENV",
    "CORS_ORIGINS_ENV",
    "METRICS_TOKENS_ENV",
    "SANITIZE_ENV",
    "TOKENS_ENV",
    "ActorCallable",
    "AdminConfig",
    "ContextBuilder",
    "EvaluationContextDependency",
    "EventStreamConfig",
    "MetricsConfig",
    "OFREPConfig",
    "OpenFeatureClientDependency",
    "OpenFeatureConfig",
    "OpenFeatureMiddleware",
    "OpenFeaturePlugin",
    "admin_router",
    "bearer_token_guard",
    "close_event_streams",
    "create_server",
    "default_actor",
    "metrics_router",
    "ofrep_router",
    "require_flag",
    "require_variant",
    "serve",
]

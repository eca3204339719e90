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

from .admin import AdminConfig, admin_router
from .auth import bearer_token_guard
from .config import OpenFeatureConfig
from .context import ContextBuilder
from .guards import require_flag, require_variant
from .middleware import OpenFeatureMiddleware
from .ofrep import OFREPConfig, ofrep_router
from .plugin import EvaluationContextDependency, OpenFeatureClientDependency, OpenFeaturePlugin
from .server import create_server, serve

__all__ = [
    "AdminConfig",
    "ContextBuilder",
    "EvaluationContextDependency",
    "OFREPConfig",
    "OpenFeatureClientDependency",
    "OpenFeatureConfig",
    "OpenFeatureMiddleware",
    "OpenFeaturePlugin",
    "admin_router",
    "bearer_token_guard",
    "create_server",
    "ofrep_router",
    "require_flag",
    "require_variant",
    "serve",
]

"""The admin API's router: its routes, guards, state and exception handlers, mounted once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Router
from litestar.di import Provide

from openfeature_litestar._errors import ConfigurationError

from ._config import check_stores, default_actor
from ._errors import EXCEPTION_HANDLERS
from ._handlers import READ_HANDLERS, WRITE_HANDLERS
from ._insights import INSIGHTS_HANDLERS
from ._schemas import namespace_path
from ._state import Admin, AdminDependency

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature_litestar._provider import FlagProvider
    from openfeature_litestar._stores import WritableFlagStore

    from ._config import AdminConfig

__all__ = ["admin_router"]


def admin_router(
    config: AdminConfig,
    *,
    stores: Mapping[str, WritableFlagStore],
    provider: FlagProvider | None = None,
) -> Router:
    """The admin API's routes, under ``config.path``, guarded by ``config.guards``.

    Args:
        config: The API's configuration (``config.stores`` is not read here: pass the
            namespaces to serve as ``stores``).
        stores: Namespace name to writable store; only these namespaces are reachable.
        provider: The application's provider, if it is a
            :class:`~openfeature_litestar.FlagProvider`: the namespace list then shows
            the revision it serves.

    Returns:
        A router for the application's ``route_handlers``.

    Raises:
        ConfigurationError: ``config.guards`` is empty (the admin API never mounts
            unguarded), ``stores`` is empty, or a store is not writable or is listed
            under another namespace's name.
    """
    if not config.guards:
        raise ConfigurationError(
            "the admin API never mounts unguarded: give AdminConfig.guards (for example "
            "bearer_token_guard(...)) that admit only the people who may manage flags"
        )
    if not stores:
        raise ConfigurationError("the admin API needs at least one namespace to manage")
    check_stores(stores)
    state = Admin(stores, provider, config.actor or default_actor)

    def provide_admin() -> Admin:
        return state

    # The writing routes sit in a router of their own, so that its guards add to the
    # read guards for them alone.
    writes = Router(path="/", route_handlers=list(WRITE_HANDLERS), guards=list(config.write_guards))
    return Router(
        path=config.path,
        route_handlers=[*READ_HANDLERS, *INSIGHTS_HANDLERS, writes],
        guards=list(config.guards),
        dependencies={"admin": Provide(provide_admin, sync_to_thread=False)},
        signature_namespace={
            "Admin": Admin,
            "AdminDependency": AdminDependency,
            # This router's namespaces, so that the OpenAPI schema lists them.
            "NamespacePath": namespace_path(list(stores)),
        },
        request_max_body_size=config.max_body_bytes,
        # Every domain error raised under this router becomes its one HTTP response here.
        exception_handlers=dict(EXCEPTION_HANDLERS),
        tags=["admin"],
    )

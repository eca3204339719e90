"""The admin API's configuration: where it is mounted, its guards, its namespaces, its actor."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException

from openfeature_litestar._document import MAX_DOCUMENT_BYTES
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._stores import WritableFlagStore
from openfeature_litestar._validation import positive_int

if TYPE_CHECKING:
    from litestar.types import Guard

__all__ = ["ActorCallable", "AdminConfig", "check_stores", "default_actor"]

ActorCallable: TypeAlias = Callable[[ASGIConnection[Any, Any, Any, Any]], str]
"""Names who makes a write, from the connection (see :func:`default_actor`)."""


def default_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The authenticated user of ``connection``, as the audit trail names them.

    The user is ``scope["user"]`` (set by the application's authentication middleware):
    its ``id`` attribute or key, else its ``name``, else the user itself as text.

    Args:
        connection: The request.

    Returns:
        The actor's name.

    Raises:
        PermissionDeniedException: The connection has no authenticated user: the admin
            API never records an anonymous write (set :attr:`AdminConfig.actor` when
            the guard itself authenticates, as a bearer token guard does).
    """
    user = connection.scope.get("user")
    if user is None:
        raise PermissionDeniedException(
            "the admin API records who writes, and this connection has no authenticated "
            "user; authenticate it, or set AdminConfig.actor"
        )
    for field_name in ("id", "name"):
        value = (
            user.get(field_name) if isinstance(user, Mapping) else getattr(user, field_name, None)
        )
        if value is not None:
            return str(value)
    return str(user)


@dataclass
class AdminConfig:
    """Where the admin API is mounted, who may use it, and which namespaces it reaches.

    Attributes:
        path: The path the API is mounted under.
        guards: Guards for every route (reads and writes). At least one is required: the
            admin API never mounts unguarded.
        write_guards: Further guards for the routes that write (and the dry-run
            evaluation reads only, so it is not one of them). Use them to give one role
            read-only access and another write access.
        stores: Namespace name to writable store: only these namespaces are reachable.
            ``None`` serves the plugin's own store under its namespace.
        actor: Names who makes a write, from the connection; ``None`` uses
            :func:`default_actor` (the authenticated user; writes without one are
            refused with ``403``).
        max_body_bytes: The largest request body accepted; a larger one gets ``413``.

    Raises:
        ConfigurationError: ``path`` does not start with ``/``, ``max_body_bytes`` is not
            positive, or a key of ``stores`` differs from its store's namespace.
    """

    path: str = "/admin/v1"
    guards: Sequence[Guard] = ()
    write_guards: Sequence[Guard] = ()
    stores: Mapping[str, WritableFlagStore] | None = None
    actor: ActorCallable | None = None
    max_body_bytes: int = MAX_DOCUMENT_BYTES

    def __post_init__(self) -> None:
        """Check the settings that can never work, so that the application fails early."""
        if not self.path.startswith("/"):
            raise ConfigurationError(f"AdminConfig.path must start with '/', not {self.path!r}")
        positive_int("AdminConfig.max_body_bytes", self.max_body_bytes)
        if self.stores is not None:
            check_stores(self.stores)


def check_stores(stores: Mapping[str, WritableFlagStore]) -> None:
    """Check that every store is writable and listed under its own namespace.

    Raises:
        ConfigurationError: A store is not writable or is listed under another name.
    """
    for name, store in stores.items():
        if not isinstance(store, WritableFlagStore):
            raise ConfigurationError(
                f"the admin API writes flags: the store for namespace {name!r} "
                f"({type(store).__name__}) is not a WritableFlagStore"
            )
        if store.namespace != name:
            raise ConfigurationError(
                f"the admin store listed as namespace {name!r} holds namespace "
                f"{store.namespace!r}; list it under its own namespace"
            )

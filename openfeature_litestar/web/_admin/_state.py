"""What the admin API's handlers share: the namespaces, the provider, who the actor is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException

from openfeature_litestar._errors import DocumentError
from openfeature_litestar._stores._writes import check_actor

from ._errors import invalid_stored_document

if TYPE_CHECKING:
    from collections.abc import Mapping

    from litestar.connection import ASGIConnection

    from openfeature_litestar._provider import FlagProvider
    from openfeature_litestar._stores import StoredDocument, WritableFlagStore

    from ._config import ActorCallable

__all__ = ["Admin", "AdminDependency"]


class Admin:
    """The admin API's state, one per router, given to the handlers as ``admin``."""

    def __init__(
        self,
        stores: Mapping[str, WritableFlagStore],
        provider: FlagProvider | None,
        actor: ActorCallable,
    ) -> None:
        """Serve ``stores``, showing what ``provider`` serves; ``actor`` names writers."""
        self.stores = dict(stores)
        self.provider = provider
        self._actor = actor

    def store(self, namespace: str) -> WritableFlagStore:
        """The store of ``namespace``.

        Raises:
            NotFoundException: The namespace is not one the API reaches.
        """
        store = self.stores.get(namespace)
        if store is None:
            raise NotFoundException(detail=f"namespace {namespace!r} is not managed here")
        return store

    def actor(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """Who makes this write.

        Raises:
            PermissionDeniedException: No actor can be named for the connection.
        """
        name = self._actor(connection)
        try:
            return check_actor(name)
        except (TypeError, ValueError):
            raise PermissionDeniedException(
                detail="the authenticated user cannot be named in the audit trail"
            ) from None

    async def load(self, namespace: str) -> StoredDocument:
        """The namespace's current document.

        Raises:
            NotFoundException: The namespace is not one the API reaches.
            ServiceUnavailableException: The store holds an invalid document.
            StoreError: The store cannot be read (the router answers ``503``).
        """
        store = self.store(namespace)
        try:
            return await store.load()
        except DocumentError as exc:
            # Read back, an invalid document is the store's fault, not the request's.
            raise invalid_stored_document(namespace, exc) from None

    def served_revision(self, store: WritableFlagStore) -> int | None:
        """The revision the provider serves, if it serves ``store``."""
        provider = self.provider
        if provider is None or provider.store is not store:
            return None
        return provider.snapshot.revision


# Handlers receive the router's state as the dependency named ``admin``.
AdminDependency: TypeAlias = NamedDependency[Admin]

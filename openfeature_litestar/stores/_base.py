"""The interface every flag store implements, and the record a load returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from openfeature_litestar.document import FlagDocument

__all__ = ["FlagStore", "StoredDocument"]


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A validated document as a store holds it, at one revision.

    Attributes:
        document: The validated, compiled document.
        revision: The store's revision; it grows with every change.
    """

    document: FlagDocument
    revision: int


@runtime_checkable
class FlagStore(Protocol):
    """Where flag documents live: the source of truth that feeds a provider's snapshot.

    Every method is a coroutine run by the provider's background sync, never on the
    evaluation path. A store validates documents before it stores them, so what it
    loads is always a whole, valid document.
    """

    async def load(self) -> StoredDocument:
        """Return the current document and its revision.

        Raises:
            DocumentError: The stored document is invalid (for a file edited by hand).
            StoreError: The store cannot be reached or read.
        """
        ...

    def changes(self) -> AsyncIterator[None]:
        """Yield once as soon as the store is watched, then each time it may have changed.

        The provider loads the store after each yield. The first yield comes after the
        subscription is in place, so no change can fall between the first load and the
        watch. The iterator may yield for changes that turn out to be none (the provider
        compares content), and ends only when the store is closed.
        """
        ...

    async def close(self) -> None:
        """Release the store's resources. Never deletes data; safe to call twice."""
        ...

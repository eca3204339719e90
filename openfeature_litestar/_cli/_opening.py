"""How a command opens its store: the one ``--store`` names, or one already built.

The standalone command builds its store from the URL (``args.store``). ``litestar flags``
(:mod:`._litestar`) hands over the application's own store object instead, as
``args.given_store``: a store passed to the plugin as an object may carry options no URL
can express (a key or table prefix, an engine of its own), so it is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from openfeature_litestar._stores import WritableFlagStore, store_from_url

from ._outcomes import UsageError

if TYPE_CHECKING:
    import argparse

    from openfeature_litestar._stores import FlagStore

__all__ = ["GIVEN_STORE", "GivenStore", "readable_store", "writable_store"]

GIVEN_STORE = "given_store"
"""The attribute of the parsed arguments that holds a :class:`GivenStore`, if any."""


@dataclass(frozen=True, slots=True)
class GivenStore:
    """A store object for the commands to use instead of building one from ``--store``.

    Attributes:
        store: The store; a command closes it when it is done, as it would its own.
        namespace: The namespace it serves, for the messages and the JSON output.
        description: How messages name it (``the app's FileStore('flags.yaml', ...)``).
    """

    store: FlagStore
    namespace: str
    description: str


def _given(args: argparse.Namespace) -> GivenStore | None:
    given: GivenStore | None = getattr(args, GIVEN_STORE, None)
    return given


def readable_store(args: argparse.Namespace) -> tuple[FlagStore, str]:
    """The store to read and its namespace: the given one, else the one ``--store`` names."""
    given = _given(args)
    if given is not None:
        return given.store, given.namespace
    store = store_from_url(args.store, namespace=args.namespace)
    return store, store.namespace


def writable_store(args: argparse.Namespace) -> WritableFlagStore:
    """The store to write (or whose audit trail to read), built from ``--store`` if none given.

    Raises:
        UsageError: The given store is read-only (not a
            :class:`~openfeature_litestar.WritableFlagStore`): it can be neither written
            nor asked for an audit trail.
    """
    given = _given(args)
    if given is None:
        return store_from_url(args.store, namespace=args.namespace)
    if not isinstance(given.store, WritableFlagStore):
        raise UsageError(
            f"{args.command} needs a writable store, and {given.description} is read-only "
            "(it keeps no writes and no audit trail); give --store URL to name a writable "
            "store holding these flags"
        )
    return given.store

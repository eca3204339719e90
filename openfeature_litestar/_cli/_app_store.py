"""Which store ``litestar flags`` works on: the application's own, unless ``--store`` says.

The store comes from the application's :class:`~openfeature_litestar.web.OpenFeaturePlugin`:

* ``--store URL`` given: that store, as with ``openfeature-litestar`` (it always wins);
* ``--namespace NAME`` naming one of the admin API's stores (``AdminConfig(stores=...)``):
  that store, the one the admin API writes for ``NAME``;
* else the store the provider reads. Configured as a URL (``store="redis://..."``), the
  URL is used as ``--store`` would be, so ``--namespace`` may name any namespace of that
  store. Configured as a store object, that object is used as it is (its options, a key
  prefix or an engine, are kept), for its own namespace only.

``OPENFEATURE_LITESTAR_STORE`` and the default SQLite database are not consulted: inside
a project the application's configuration says where its flags are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openfeature_litestar._provider import FlagProvider
from openfeature_litestar.web import OpenFeaturePlugin

from ._opening import GIVEN_STORE, GivenStore
from ._outcomes import UsageError
from ._parser import STORE_COMMANDS

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from litestar import Litestar

    from openfeature_litestar._stores import FlagStore, WritableFlagStore

__all__ = ["use_app_store"]


def _needs_store(args: argparse.Namespace) -> bool:
    if args.command == "evaluate":
        return args.file is None  # evaluate FILE FLAG reads the file
    return args.command in STORE_COMMANDS


def _plugin(app: Litestar) -> OpenFeaturePlugin:
    plugins = [plugin for plugin in app.plugins if isinstance(plugin, OpenFeaturePlugin)]
    if len(plugins) != 1:
        found = "no OpenFeaturePlugin" if not plugins else f"{len(plugins)} OpenFeaturePlugins"
        raise UsageError(f"the app has {found}, so it names no one store; give --store URL")
    return plugins[0]


def _namespaces(stores: Mapping[str, WritableFlagStore]) -> str:
    return f" (the admin API's: {', '.join(repr(name) for name in stores)})" if stores else ""


def _give(args: argparse.Namespace, store: FlagStore, namespace: str) -> None:
    given = GivenStore(store, namespace, f"the app's store {store!r}")
    setattr(args, GIVEN_STORE, given)
    args.store, args.namespace = given.description, namespace


def use_app_store(args: argparse.Namespace, app: Litestar) -> None:
    """Point ``args`` at the application's store, unless ``--store`` names one (see above).

    Commands that use no store (``validate``, ``evaluate FILE``) are left alone.

    Raises:
        UsageError: The application has no (or more than one) OpenFeature plugin, its
            provider reads no store of this package, or ``--namespace`` names a namespace
            the application has no store for.
    """
    if not _needs_store(args) or args.store is not None:
        return
    plugin = _plugin(app)
    config = plugin.config
    admin = config.admin
    admin_stores = admin.stores if admin is not None and admin.stores is not None else {}
    namespace: str | None = args.namespace
    if namespace is not None and namespace in admin_stores:
        _give(args, admin_stores[namespace], namespace)
        return
    if isinstance(config.store, str):
        args.store = config.store  # the URL, read as --store URL would be
        return
    provider = plugin.provider
    if not isinstance(provider, FlagProvider):
        if namespace is None and len(admin_stores) == 1:
            (only,) = admin_stores.items()
            _give(args, only[1], only[0])
            return
        raise UsageError(
            f"the app's provider {provider!r} reads no flag store of openfeature-litestar"
            f"{_namespaces(admin_stores)}; give --store URL (or --namespace NAME)"
        )
    store = provider.store
    own: str = getattr(store, "namespace", "default")
    if namespace is not None and namespace != own:
        raise UsageError(
            f"the app's store {store!r} serves namespace {own!r}, not {namespace!r}"
            f"{_namespaces(admin_stores)}; give --store URL for another store"
        )
    _give(args, store, own)

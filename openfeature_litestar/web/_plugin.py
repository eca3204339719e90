"""The Litestar plugin: provider lifecycle, per-connection context, client injection."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio
import anyio.to_thread
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from litestar.plugins import InitPlugin
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ProviderFatalError
from openfeature.provider.no_op_provider import NoOpProvider
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._masking import mask_secrets
from openfeature_litestar._provider import FlagProvider
from openfeature_litestar._stores import WritableFlagStore, store_from_url
from openfeature_litestar.hooks import AuditHook

from ._admin import admin_router
from ._metrics import metrics_router
from ._middleware import OpenFeatureMiddleware, context_from_scope
from ._ofrep import event_stream_hub, ofrep_router

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.router import Router
    from litestar.types import Scope
    from openfeature.hook import Hook
    from openfeature.provider import FeatureProvider

    from ._config import OpenFeatureConfig
    from ._events import StreamHub

__all__ = ["EvaluationContextDependency", "OpenFeatureClientDependency", "OpenFeaturePlugin"]

logger = logging.getLogger("openfeature_litestar.web")


OpenFeatureClientDependency: TypeAlias = NamedDependency[OpenFeatureClient]
"""Annotate a handler parameter with this to receive the plugin's ``OpenFeatureClient``.

The parameter's name must be the configured ``client_dependency_key``
(``feature_flags`` by default).
"""

# The context is passed on as it is: Litestar would otherwise try to validate the
# dataclass, whose attribute union its validator cannot represent.
EvaluationContextDependency: TypeAlias = SkipValidation[NamedDependency[EvaluationContext]]
"""Annotate a handler parameter with this to receive the connection's ``EvaluationContext``.

The parameter's name must be the configured ``context_dependency_key``
(``evaluation_context`` by default).
"""

_SIGNATURE_NAMES: dict[str, Any] = {
    "OpenFeatureClient": OpenFeatureClient,
    "EvaluationContext": EvaluationContext,
}


def _working_propagator_installed() -> bool:
    """Whether the SDK's transaction-context propagator keeps what is set.

    The SDK has no getter for its propagator; setting a probe context and reading it
    back tells a working one from the default no-op, whatever its class.
    """
    previous = api.get_transaction_context()
    probe = EvaluationContext(targeting_key=f"openfeature-litestar-probe-{uuid.uuid4()}")
    api.set_transaction_context(probe)
    try:
        return api.get_transaction_context() is probe
    finally:
        api.set_transaction_context(previous)


# How many running plugins serve from each provider (by identity): one provider may be
# given to several apps (domains); only the last one to stop shuts it down.
_users: dict[int, int] = {}
_users_lock = threading.Lock()


def _acquire(provider: FeatureProvider) -> None:
    with _users_lock:
        _users[id(provider)] = _users.get(id(provider), 0) + 1


def _release(provider: FeatureProvider) -> bool:
    """Drop one use of ``provider``; whether it was the last one."""
    with _users_lock:
        count = _users.get(id(provider), 0) - 1
        if count > 0:
            _users[id(provider)] = count
            return False
        _users.pop(id(provider), None)
        return True


def _remove_api_hooks(ours: tuple[Hook, ...]) -> None:
    # The SDK has no remove_hooks(): its public API offers clear_hooks() and add_hooks(),
    # so the others' hooks are put back right after the clear. An evaluation that starts
    # between the two calls (only at shutdown, a window of two statements) runs without
    # API-level hooks; we accept that rather than write to the SDK's private list, which
    # a new SDK release may rename or guard.
    others = _without(api.get_hooks(), ours)
    api.clear_hooks()
    if others:
        api.add_hooks(others)


def _flush_hooks(hooks: tuple[Hook, ...]) -> None:
    """Let hooks that buffer (the audit hook's queue) hand over what they hold."""
    for hook in hooks:
        flush = getattr(hook, "flush", None)
        if callable(flush):
            try:
                flush(5.0)
            except Exception as exc:  # shutdown goes on; the type only is logged
                logger.warning("flushing %r failed: %s", hook, type(exc).__name__)


def _without(hooks: list[Hook], ours: tuple[Hook, ...]) -> list[Hook]:
    """``hooks`` minus one occurrence of each of ``ours`` (by identity)."""
    remaining = list(hooks)
    for hook in ours:
        for index, candidate in enumerate(remaining):
            if candidate is hook:
                del remaining[index]
                break
    return remaining


def _client_dependency(domain: str | None) -> Callable[[], OpenFeatureClient]:
    def provide_openfeature_client() -> OpenFeatureClient:
        return api.get_client(domain)

    return provide_openfeature_client


def _context_dependency(scope_key: str) -> Callable[[Scope], EvaluationContext]:
    def provide_evaluation_context(scope: Scope) -> EvaluationContext:
        return context_from_scope(scope, scope_key)

    return provide_evaluation_context


class OpenFeaturePlugin(InitPlugin):
    """Evaluate feature flags in a Litestar application through the OpenFeature SDK.

    .. code-block:: python

        from litestar import Litestar
        from openfeature_litestar.web import OpenFeatureConfig, OpenFeaturePlugin

        app = Litestar(
            route_handlers=[...],
            plugins=[OpenFeaturePlugin(OpenFeatureConfig(store="sqlite:///flags.db"))],
        )

    The plugin

    * registers the provider on start-up, off the event loop, for the configured domain
      (or as the default provider), adds the configured API-level hooks and, unless one
      is already installed, the SDK's contextvars transaction-context propagator;
    * adds :class:`~openfeature_litestar.web.OpenFeatureMiddleware`, which makes each
      connection's evaluation context the transaction context while it is handled;
    * provides the ``OpenFeatureClient`` (``feature_flags``) and the connection's
      ``EvaluationContext`` (``evaluation_context``) as dependencies;
    * mounts the OFREP endpoints (``ofrep=OFREPConfig(...)``), the admin API
      (``admin=AdminConfig(...)``) and the Prometheus endpoint
      (``metrics=MetricsConfig(...)``) when configured, each with its guards;
    * on shutdown removes its hooks, unbinds the provider and shuts it down, off the
      event loop, leaving other domains' providers alone.

    Start-up fails with :class:`~openfeature_litestar.ConfigurationError` only when the
    provider reports a fatal error (a configuration that can never work). Any other
    failure, or a provider slower than ``startup_timeout``, is logged and the
    application starts: evaluations return the callers' defaults until the provider is
    ready (a :class:`~openfeature_litestar.FlagProvider` keeps retrying its store).

    The propagator stays installed after shutdown: another application or code in the
    process may rely on it, and with no context set it is empty.

    Args:
        config: The configuration.

    Raises:
        ConfigurationError: ``config.store`` is a store URL that
            :func:`~openfeature_litestar.store_from_url` rejects.
    """

    __slots__ = (
        "_app_loop_stores",
        "_config",
        "_event_hub",
        "_hooks_added",
        "_middleware",
        "_provider",
        "_registered",
    )

    def __init__(self, config: OpenFeatureConfig) -> None:
        """Create the plugin; the provider is built now and registered on start-up."""
        self._config = config
        self._provider = self._build_provider(config)
        self._middleware = OpenFeatureMiddleware(
            context_builder=config.context_builder,
            sanitizer=config.sanitizer,
            scope_key=config.scope_key,
            exclude=config.exclude,
        )
        self._hooks_added: tuple[Hook, ...] = ()
        self._app_loop_stores: tuple[WritableFlagStore, ...] = ()
        self._registered = False
        self._event_hub: StreamHub | None = None

    @staticmethod
    def _build_provider(config: OpenFeatureConfig) -> FeatureProvider:
        if config.provider is not None:
            return config.provider
        # The provider only reads: a read-only URL (https://…) is fine here; the admin API
        # checks for a writable store itself.
        store = (
            store_from_url(config.store, read_only=True)
            if isinstance(config.store, str)
            else config.store
        )
        if store is None:  # the config's own check rules this out
            raise ConfigurationError("OpenFeatureConfig needs a provider or a store")
        return FlagProvider(
            store, init_timeout=config.startup_timeout, fractional=config.fractional
        )

    @property
    def config(self) -> OpenFeatureConfig:
        """The plugin's configuration."""
        return self._config

    @property
    def provider(self) -> FeatureProvider:
        """The provider the plugin registers (the configured one, or the one it built)."""
        return self._provider

    @property
    def middleware(self) -> OpenFeatureMiddleware:
        """The middleware the plugin adds to the application."""
        return self._middleware

    def client(self) -> OpenFeatureClient:
        """An OpenFeature client for the plugin's domain, for code outside handlers.

        Returns:
            ``api.get_client(config.domain)``.
        """
        return api.get_client(self._config.domain)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the middleware, the dependencies and the lifespan to the application.

        Args:
            app_config: The application's configuration.

        Returns:
            The same configuration, extended.

        Raises:
            ConfigurationError: The application already has a dependency under one of the
                plugin's keys (it is never replaced: rename one of them); OFREP is
                configured without guards (and not public) or the provider is not a
                :class:`~openfeature_litestar.FlagProvider`; the admin API is configured
                without guards or without a writable store; metrics are configured and
                the provider is not a :class:`~openfeature_litestar.FlagProvider`.
            MissingDependencyError: Metrics are configured and ``prometheus-client`` is
                not installed (the ``prometheus`` extra).
        """
        config = self._config
        dependencies = {
            config.client_dependency_key: Provide(
                _client_dependency(config.domain), sync_to_thread=False, use_cache=True
            ),
            config.context_dependency_key: Provide(
                _context_dependency(config.scope_key), sync_to_thread=False
            ),
        }
        for key in dependencies:
            if key in app_config.dependencies:
                raise ConfigurationError(
                    f"the application already has a dependency named {key!r}; the "
                    "OpenFeature plugin does not replace it: set "
                    "OpenFeatureConfig.client_dependency_key or context_dependency_key to "
                    "another name"
                )
        routers = self._routers()
        app_config.dependencies.update(dependencies)
        app_config.route_handlers.extend(routers)
        # Litestar resolves the annotations of handlers and dependencies at start-up; with
        # these names in its namespace, modules may import them for type checking only.
        for name, value in _SIGNATURE_NAMES.items():
            app_config.signature_namespace.setdefault(name, value)
        # Listed after the application's own middleware, so that it runs inside the
        # authentication middleware that sets scope["user"].
        app_config.middleware.append(self._middleware)
        # First in, last out: the provider is ready for the application's own lifespan
        # managers and startup hooks, and still there for its shutdown hooks.
        app_config.lifespan.insert(0, self.lifespan)
        return app_config

    def _routers(self) -> list[Router]:
        """The OFREP, admin and metrics routers the configuration asks for (checked here)."""
        config, routers = self._config, []
        provider = self._provider if isinstance(self._provider, FlagProvider) else None
        if config.ofrep is not None:
            if provider is None:
                raise ConfigurationError(
                    "OpenFeatureConfig.ofrep serves the flags of a FlagProvider; the "
                    f"provider {self._provider_name()!r} is not one (give store= or a "
                    "FlagProvider as provider=)"
                )
            router = ofrep_router(config.ofrep, provider)
            self._event_hub = event_stream_hub(router)
            routers.append(router)
        if config.admin is not None:
            stores = self._admin_stores(provider)
            self._app_loop_stores = tuple(stores.values())
            routers.append(admin_router(config.admin, stores=stores, provider=provider))
        if config.metrics is not None:
            if provider is None:
                raise ConfigurationError(
                    "OpenFeatureConfig.metrics reads a FlagProvider's counters; the "
                    f"provider {self._provider_name()!r} is not one (give store= or a "
                    "FlagProvider as provider=)"
                )
            audit_hooks = [hook for hook in config.hooks if isinstance(hook, AuditHook)]
            routers.append(metrics_router(config.metrics, provider, audit_hooks=audit_hooks))
        return routers

    def _admin_stores(self, provider: FlagProvider | None) -> Mapping[str, WritableFlagStore]:
        admin = self._config.admin
        if admin is not None and admin.stores is not None:
            return admin.stores
        store = provider.store if provider is not None else None
        if not isinstance(store, WritableFlagStore):
            raise ConfigurationError(
                "OpenFeatureConfig.admin needs a writable store: the provider's store "
                f"{store!r} is not one; give AdminConfig(stores={{namespace: store}})"
            )
        return {store.namespace: store}

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:  # noqa: ARG002 - Litestar's lifespan signature
        """Register the provider for the application's lifetime (see the class).

        Args:
            app: The application.

        Yields:
            Once the provider is registered (ready, or failed without a fatal error).

        Raises:
            ConfigurationError: The provider reported a fatal error on start-up.
        """
        await self.startup()
        try:
            yield
        finally:
            # A cancelled lifespan (a server stopping hard, a test's timeout) still
            # unregisters the provider and removes the hooks.
            with anyio.CancelScope(shield=True):
                await self.shutdown()

    async def startup(self) -> None:
        """Install the propagator, add the hooks and register the provider.

        Called by :meth:`lifespan`; call it yourself only when you run the application's
        lifespan some other way.

        Raises:
            ConfigurationError: The provider reported a fatal error.
        """
        config = self._config
        if config.set_propagator and not _working_propagator_installed():
            api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
        if config.hooks:
            self._hooks_added = tuple(config.hooks)
            api.add_hooks(list(self._hooks_added))
        try:
            await anyio.to_thread.run_sync(self._register)
        except BaseException as exc:
            # Whatever ends the start-up (a fatal provider, a cancelled lifespan) must
            # not leave the hooks or the registration behind.
            with anyio.CancelScope(shield=True):
                await self.shutdown()
            if not isinstance(exc, ProviderFatalError):
                raise
            raise ConfigurationError(
                f"the OpenFeature provider {self._provider_name()!r} cannot start: "
                f"{mask_secrets(str(exc))}"
            ) from None

    async def shutdown(self) -> None:
        """Remove the hooks, unbind the provider and shut it down; idempotent.

        Called by :meth:`lifespan`. The OFREP event streams still open are ended first.
        """
        if self._event_hub is not None:
            self._event_hub.close()
        if self._hooks_added:
            ours, self._hooks_added = self._hooks_added, ()
            _remove_api_hooks(ours)
            await anyio.to_thread.run_sync(_flush_hooks, ours)
        await anyio.to_thread.run_sync(self._unregister)
        # The admin API used its stores on this (the application's) loop; the provider
        # closes only what it opened on its own loop.
        for store in self._app_loop_stores:
            try:
                await store.close()
            except Exception as exc:  # noqa: PERF203 - shutdown goes on; the type only is logged
                logger.warning("closing %r failed: %s", store, type(exc).__name__)

    def _provider_name(self) -> str:
        try:
            return self._provider.get_metadata().name
        except Exception:
            return type(self._provider).__name__

    def _register(self) -> None:
        """Register and initialize the provider, waiting at most ``startup_timeout``.

        Runs in a worker thread. The SDK's initialization cannot be interrupted, so it
        runs on a daemon thread of its own, left to finish when the wait times out.
        """
        config = self._config
        if not self._registered:
            self._registered = True
            _acquire(self._provider)
        registered: concurrent.futures.Future[None] = concurrent.futures.Future()

        def register() -> None:
            try:
                api.set_provider_and_wait(self._provider, config.domain)
            except Exception as exc:
                registered.set_exception(exc)
            else:
                registered.set_result(None)

        threading.Thread(target=register, name="openfeature-litestar-startup", daemon=True).start()
        try:
            registered.result(config.startup_timeout)
        except ProviderFatalError:
            raise
        except concurrent.futures.TimeoutError:  # not the builtin TimeoutError before 3.11
            logger.warning(
                "the OpenFeature provider %r was not ready after %s s; starting without it "
                "(flags return their defaults until it is ready)",
                self._provider_name(),
                config.startup_timeout,
            )
        except Exception as exc:
            logger.warning(
                "the OpenFeature provider %r failed to start (%s); starting without it "
                "(flags return their defaults until it recovers)",
                self._provider_name(),
                mask_secrets(str(exc)),
            )

    def _unregister(self) -> None:
        """Unbind the provider from the domain and shut it down; runs in a worker thread.

        The SDK shuts an unbound provider down on a thread of its own; the plugin shuts it
        down as well and waits, so that the store is closed when the lifespan ends.
        """
        if not self._registered:
            return
        self._registered = False
        provider, domain = self._provider, self._config.domain
        if api.get_client(domain).provider is provider:
            if domain is None:
                api.set_provider(NoOpProvider())
            else:
                api.set_provider(NoOpProvider(), domain)
        if not _release(provider) or api.get_client().provider is provider:
            return  # another app (or the default domain) still serves from it
        try:
            provider.shutdown()
        except Exception as exc:
            logger.warning(
                "shutting down the OpenFeature provider %r failed: %s",
                self._provider_name(),
                mask_secrets(str(exc)),
            )

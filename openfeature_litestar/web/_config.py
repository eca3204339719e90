"""The configuration of the Litestar plugin: one dataclass, one documented field each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from openfeature_litestar._engine import DEFAULT_FRACTIONAL, fractional_version
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._privacy._sanitizer import Sanitizer
from openfeature_litestar._validation import positive_seconds

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from litestar.connection import ASGIConnection
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.hook import Hook
    from openfeature.provider import FeatureProvider

    from openfeature_litestar._engine import FractionalVersion
    from openfeature_litestar._stores import FlagStore

    from ._admin import AdminConfig
    from ._metrics import MetricsConfig
    from ._ofrep import OFREPConfig

__all__ = ["DEFAULT_SCOPE_KEY", "ContextBuilderCallable", "OpenFeatureConfig"]

DEFAULT_SCOPE_KEY = "openfeature_litestar.context"
"""Where the request's context is kept in the ASGI scope's ``state``, by default."""

ContextBuilderCallable: TypeAlias = (
    "Callable[[ASGIConnection[Any, Any, Any, Any]], EvaluationContext]"
)
"""A context builder: takes the connection, returns its evaluation context."""


@dataclass
class OpenFeatureConfig:
    """The configuration of :class:`~openfeature_litestar.web.OpenFeaturePlugin`.

    Give exactly one of :attr:`provider` and :attr:`store`.

    Attributes:
        provider: The OpenFeature provider to register: any provider, ours or another.
            ``None`` builds a :class:`~openfeature_litestar.FlagProvider` from
            :attr:`store`. The plugin owns its lifecycle: it is initialized on start-up
            and shut down on shutdown.
        store: A flag store, or a store URL for
            :func:`~openfeature_litestar.store_from_url` (``"redis://host/0"``,
            ``"sqlite:///flags.db"``, ``"file:flags.yaml"``), served by a
            :class:`~openfeature_litestar.FlagProvider` the plugin builds.
        domain: The OpenFeature domain to register the provider for; ``None`` registers
            it as the default provider. Give two applications in one process different
            domains so that they do not replace each other's provider.
        hooks: API-level OpenFeature hooks (for example
            :class:`~openfeature_litestar.hooks.AuditHook`) added on start-up and
            removed on shutdown. API-level hooks see every evaluation in the process.
        context_builder: Builds each connection's evaluation context; ``None`` uses
            :class:`~openfeature_litestar.web.ContextBuilder` with its defaults (the
            targeting key from ``scope["user"].id``, no attributes).
        sanitizer: Applied to the attributes of every built context before the context
            reaches the SDK (the targeting key is kept). ``None`` disables it.
        set_propagator: Install the SDK's ``ContextVarsTransactionContextPropagator`` on
            start-up, unless a working propagator is already installed (one you
            configured is never replaced). Without a propagator the request's context
            reaches evaluations only through dependency injection.
        client_dependency_key: The dependency name under which handlers receive the
            ``OpenFeatureClient`` for :attr:`domain`.
        context_dependency_key: The dependency name under which handlers receive the
            connection's ``EvaluationContext``.
        startup_timeout: Seconds start-up waits for the provider to initialize before it
            carries on without it (evaluations return the callers' defaults until the
            provider is ready).
        exclude: Path patterns (regular expressions) the middleware skips, as in
            Litestar's own middleware configuration; handlers there get an empty
            context.
        scope_key: The key, in the ASGI scope's ``state``, under which the middleware
            keeps the connection's context. Namespaced so that it collides with nothing.
        ofrep: Serve the flags over OFREP (see :class:`~openfeature_litestar.web.OFREPConfig`)
            at ``ofrep.path``. Needs the provider to be a
            :class:`~openfeature_litestar.FlagProvider` (the one built from :attr:`store`,
            or one you pass), and guards unless ``ofrep.public`` is set. Its evaluations
            use the context in the request body, never the connection's.
        admin: Mount the admin API (see :class:`~openfeature_litestar.web.AdminConfig`)
            at ``admin.path``: on ``admin.stores``, or else on the provider's store,
            which must then be writable. It never mounts without guards.
        fractional: The ``fractional`` bucketing version of the
            :class:`~openfeature_litestar.FlagProvider` built from :attr:`store`
            (``"v2"``, flagd's current, by default; see
            :data:`~openfeature_litestar.FractionalVersion`). The admin API's dry run
            buckets with the provider's version. A provider you pass has its own: give
            it ``fractional=`` there.

            .. versionadded:: 0.2.0
        metrics: Serve the provider's evaluation counts and health to Prometheus (see
            :class:`~openfeature_litestar.web.MetricsConfig`) at ``metrics.path``. Needs
            the provider to be a :class:`~openfeature_litestar.FlagProvider`, and tokens
            or guards: it never mounts unguarded.

            .. versionadded:: 0.2.0

    Raises:
        ConfigurationError: Both or neither of ``provider`` and ``store`` are given, a
            dependency key or the scope key is empty, the two dependency keys are the
            same, ``startup_timeout`` is not positive, or ``fractional`` names no
            bucketing version or is given with ``provider``.
    """

    provider: FeatureProvider | None = None
    store: FlagStore | str | None = None
    domain: str | None = None
    hooks: Sequence[Hook] = ()
    context_builder: ContextBuilderCallable | None = None
    sanitizer: Sanitizer | None = field(default_factory=Sanitizer)
    set_propagator: bool = True
    client_dependency_key: str = "feature_flags"
    context_dependency_key: str = "evaluation_context"
    startup_timeout: float = 30.0
    exclude: str | list[str] | None = None
    scope_key: str = DEFAULT_SCOPE_KEY
    ofrep: OFREPConfig | None = None
    admin: AdminConfig | None = None
    fractional: FractionalVersion = DEFAULT_FRACTIONAL
    metrics: MetricsConfig | None = None

    def __post_init__(self) -> None:
        """Check the settings that can never work, so that the application fails early."""
        if (self.provider is None) == (self.store is None):
            raise ConfigurationError(
                "OpenFeatureConfig needs exactly one of provider= (any OpenFeature provider) "
                "and store= (a flag store or a store URL)"
            )
        for name in ("client_dependency_key", "context_dependency_key", "scope_key"):
            if not getattr(self, name):
                raise ConfigurationError(f"OpenFeatureConfig.{name} must not be empty")
        if self.client_dependency_key == self.context_dependency_key:
            raise ConfigurationError(
                "OpenFeatureConfig.client_dependency_key and context_dependency_key are both "
                f"{self.client_dependency_key!r}; give them different names"
            )
        positive_seconds("OpenFeatureConfig.startup_timeout", self.startup_timeout)
        self.fractional = fractional_version(self.fractional, "OpenFeatureConfig.fractional")
        if self.provider is not None and self.fractional != DEFAULT_FRACTIONAL:
            raise ConfigurationError(
                "OpenFeatureConfig.fractional applies to the provider built from store=; "
                "give the provider its own (FlagProvider(..., fractional=...))"
            )
        if self.domain == "":
            raise ConfigurationError(
                "OpenFeatureConfig.domain must be a name or None (the default provider)"
            )

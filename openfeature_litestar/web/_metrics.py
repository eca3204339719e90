"""The Prometheus endpoint: a provider's evaluation counts and health, for bearer tokens.

.. code-block:: python
   :class: fragment

    OpenFeatureConfig(store=..., metrics=MetricsConfig(tokens=["scraper-token"]))

The handler reads the provider through a
:class:`~openfeature_litestar.PrometheusCollector` of its own, held in a registry of its
own (never ``prometheus_client``'s global one), so two applications in one process each
report their own provider. A scrape is read off the event loop: formatting many series
takes a while, and evaluations on the loop should not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from litestar import Request, Response, Router, get

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._metrics import PrometheusCollector

from ._auth import bearer_token_guard

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from litestar.types import Guard

    from openfeature_litestar._provider import FlagProvider
    from openfeature_litestar.hooks import AuditHook

__all__ = ["MetricsConfig", "metrics_router"]

_REALM: Final = "openfeature-litestar-metrics"


@dataclass
class MetricsConfig:
    """Where the Prometheus endpoint is mounted and who may scrape it.

    It reports what :class:`~openfeature_litestar.PrometheusCollector` reports: the
    provider's evaluation counts by flag, variant, reason and error (never a targeting
    key or an attribute), its health and its audit hooks' dropped records.

    Attributes:
        path: The path of the endpoint.
        tokens: Bearer tokens a scraper presents (Prometheus's ``authorization``
            setting); checked as :func:`~openfeature_litestar.web.bearer_token_guard`
            checks them, in constant time.
        guards: Guards of your own, in place of or beside :attr:`tokens`. The endpoint
            never mounts with neither: the counts name every flag your code asks for.
        audit_hooks: Audit hooks whose dropped and failed records to report; ``None``
            reports the :class:`~openfeature_litestar.hooks.AuditHook` instances among
            :attr:`OpenFeatureConfig.hooks <openfeature_litestar.web.OpenFeatureConfig.hooks>`.

    Raises:
        ConfigurationError: ``path`` does not start with ``/``, a token is empty, or
            there are neither tokens nor guards.

    .. versionadded:: 0.2.0
    """

    path: str = "/metrics"
    tokens: Sequence[str] = ()
    guards: Sequence[Guard] = ()
    audit_hooks: Sequence[AuditHook] | None = None

    def __post_init__(self) -> None:
        """Check the settings that can never work, so that the application fails early."""
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ConfigurationError(f"MetricsConfig.path must start with '/', not {self.path!r}")
        self.path = self.path.rstrip("/") or "/"
        self.tokens = (self.tokens,) if isinstance(self.tokens, str) else tuple(self.tokens)
        self.guards = tuple(self.guards)
        if not all(isinstance(token, str) and token.strip() for token in self.tokens):
            raise ConfigurationError("MetricsConfig.tokens: every token must be a non-empty string")
        if not self.tokens and not self.guards:
            raise ConfigurationError(
                "the metrics endpoint never mounts unguarded: give MetricsConfig.tokens "
                "(the bearer tokens your scraper presents) or MetricsConfig.guards"
            )


def _guards(config: MetricsConfig) -> list[Guard]:
    """The token guard (when there are tokens), then the configuration's own guards."""
    token_guard = [bearer_token_guard(config.tokens, realm=_REALM)] if config.tokens else []
    return [*token_guard, *config.guards]


def metrics_router(
    config: MetricsConfig,
    provider: FlagProvider,
    *,
    audit_hooks: Iterable[AuditHook] = (),
) -> Router:
    """The Prometheus endpoint at ``config.path``, behind the configuration's guards.

    The answer is Prometheus's text format, or OpenMetrics when the scraper's
    ``Accept`` header asks for it (as ``prometheus_client``'s own handlers negotiate).

    Args:
        config: Where, and for whom.
        provider: The provider reported.
        audit_hooks: Audit hooks to report when ``config.audit_hooks`` is ``None``.

    Returns:
        A router for the application's ``route_handlers``.

    Raises:
        MissingDependencyError: ``prometheus-client`` is not installed (the
            ``prometheus`` extra).
    """
    hooks = config.audit_hooks if config.audit_hooks is not None else tuple(audit_hooks)
    collector = PrometheusCollector(provider, audit_hooks=hooks)

    # Read in a worker thread: see the module.
    @get("/", include_in_schema=False, sync_to_thread=True, cache=False)
    def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        body, content_type = collector.exposition(request.headers.get("accept"))
        # The header is given whole: as media_type, Litestar would add a second charset.
        headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
        return Response(body, media_type=content_type, headers=headers)

    return Router(path=config.path, route_handlers=[scrape], guards=_guards(config))

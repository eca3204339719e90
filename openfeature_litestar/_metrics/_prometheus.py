"""Prometheus metrics: a collector that reads a provider when it is scraped.

:class:`PrometheusCollector` is a custom ``prometheus_client`` collector: nothing is
recorded per evaluation; each scrape reads the provider's counters and state through
:class:`._readings.ProviderReading`, as the OpenTelemetry instruments do. Metric and
label names are the OpenTelemetry ones as OpenTelemetry's Prometheus exporter writes
them: dots become underscores, counters end in ``_total``, seconds in ``_seconds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._errors import MissingDependencyError

from ._readings import (
    AUDIT_DROPPED,
    AUDIT_FAILED,
    CHANGE_LAG,
    EVALUATION_ATTRIBUTES,
    EVALUATIONS,
    REVISION,
    STATE,
    STATES,
    STATUS,
    SYNC_AGE,
    ProviderReading,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from openfeature_litestar._provider import FlagProvider
    from openfeature_litestar.hooks import AuditHook

__all__ = ["PrometheusCollector"]

_PROVIDER_LABEL: Final = "feature_flag_provider_name"


def _prometheus_name(name: str) -> str:
    return name.replace(".", "_")


_EVALUATION_LABELS: Final = tuple(_prometheus_name(name) for name in EVALUATION_ATTRIBUTES)


class PrometheusCollector:
    """A Prometheus collector of one provider's evaluations and health.

    .. code-block:: python
       :class: fragment

        from prometheus_client import REGISTRY

        REGISTRY.register(PrometheusCollector(provider, audit_hooks=[audit_hook]))

    It reports, read at each scrape (nothing is recorded per evaluation):

    * ``openfeature_litestar_evaluations_total`` by ``feature_flag_key``,
      ``feature_flag_result_variant``, ``feature_flag_result_reason``, ``error_type``,
      ``feature_flag_provider_name`` and ``feature_flag_set_id`` (empty where one does
      not apply);
    * ``openfeature_litestar_provider_status`` (``1`` for the current ``state``),
      ``openfeature_litestar_provider_revision``,
      ``openfeature_litestar_provider_sync_age_seconds`` and
      ``openfeature_litestar_provider_change_lag_seconds``;
    * with ``audit_hooks``, ``openfeature_litestar_audit_dropped_total`` and
      ``openfeature_litestar_audit_failed_total``.

    One collector reports one provider; a registry holds one collector (the names
    would clash), so give another provider a registry of its own.

    Args:
        provider: The provider to report.
        audit_hooks: Audit hooks whose dropped and failed records to report.

    Raises:
        MissingDependencyError: ``prometheus-client`` is not installed (install the
            ``prometheus`` extra: ``pip install "openfeature-litestar[prometheus]"``).
        TypeError: ``provider`` is not a :class:`~openfeature_litestar.FlagProvider`, or
            an audit hook is not an :class:`~openfeature_litestar.hooks.AuditHook`.

    .. versionadded:: 0.2.0
    """

    def __init__(self, provider: FlagProvider, *, audit_hooks: Iterable[AuditHook] = ()) -> None:
        """Check the provider and the hooks; nothing is read until a scrape."""
        try:
            from prometheus_client import core  # noqa: PLC0415 - an optional extra
        except ImportError:
            raise MissingDependencyError("prometheus-client", "prometheus") from None
        self._core: Any = core
        self._reading = ProviderReading(provider, audit_hooks)
        self._registry: Any = None

    @property
    def provider(self) -> FlagProvider:
        """The provider reported."""
        return self._reading.provider

    def describe(self) -> list[Any]:
        """The metric families without samples (a registry checks names with them)."""
        return list(self._families(with_samples=False))

    def collect(self) -> Iterator[Any]:
        """Read the provider and yield the metric families (called at each scrape)."""
        yield from self._families(with_samples=True)

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The metrics as a scrape would get them, in the format ``accept`` asks for.

        Args:
            accept: The scraper's ``Accept`` header; the OpenMetrics format when it
                asks for it, else Prometheus's text format.

        Returns:
            The body and its content type.
        """
        from prometheus_client import exposition  # noqa: PLC0415 - an optional extra
        from prometheus_client.registry import CollectorRegistry  # noqa: PLC0415 - same

        if self._registry is None:
            registry = CollectorRegistry()
            registry.register(self)
            self._registry = registry
        encoder, content_type = exposition.choose_encoder(accept or "")
        return encoder(self._registry), content_type

    def _families(self, *, with_samples: bool) -> Iterator[Any]:
        core, reading = self._core, self._reading
        name = reading.provider_name
        evaluations = core.CounterMetricFamily(
            _prometheus_name(EVALUATIONS),
            "Flag evaluations by flag, variant, reason and error type.",
            labels=_EVALUATION_LABELS,
        )
        status = core.GaugeMetricFamily(
            _prometheus_name(STATUS),
            "The provider's status: 1 for the current state, 0 for the others.",
            labels=(_PROVIDER_LABEL, STATE),
        )
        revision = core.GaugeMetricFamily(
            _prometheus_name(REVISION),
            "The store revision of the flags the provider serves.",
            labels=(_PROVIDER_LABEL,),
        )
        sync_age = core.GaugeMetricFamily(
            _prometheus_name(SYNC_AGE) + "_seconds",
            "Seconds since the served flags were last known to be the store's.",
            labels=(_PROVIDER_LABEL,),
            unit="seconds",
        )
        change_lag = core.GaugeMetricFamily(
            _prometheus_name(CHANGE_LAG) + "_seconds",
            "Seconds the latest change took from the store's notice to serving.",
            labels=(_PROVIDER_LABEL,),
            unit="seconds",
        )
        families = [evaluations, status, revision, sync_age, change_lag]
        audit = []
        if reading.audit_hooks:
            audit = [
                core.CounterMetricFamily(
                    _prometheus_name(AUDIT_DROPPED),
                    "Audit records dropped (a full queue, a closed hook).",
                    labels=(_PROVIDER_LABEL,),
                ),
                core.CounterMetricFamily(
                    _prometheus_name(AUDIT_FAILED),
                    "Audit records that could not be built or written.",
                    labels=(_PROVIDER_LABEL,),
                ),
            ]
        if with_samples:
            for attributes, count in reading.evaluations():
                values = [attributes.get(key, "") for key in EVALUATION_ATTRIBUTES]
                evaluations.add_metric(values, count)
            health = reading.health()
            for state in STATES:
                status.add_metric([name, state], int(state == health.status))
            revision.add_metric([name], health.revision)
            if health.seconds_since_sync is not None:
                sync_age.add_metric([name], health.seconds_since_sync)
            if health.change_lag is not None:
                change_lag.add_metric([name], health.change_lag)
            if audit:
                for family, count in zip(audit, reading.audit_counts(), strict=True):
                    family.add_metric([name], count)
        yield from families
        yield from audit

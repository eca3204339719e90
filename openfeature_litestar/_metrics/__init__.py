"""Metrics: a provider's evaluations and health for OpenTelemetry and Prometheus.

Both read what the provider keeps anyway (its usage counters and its state) when they
are collected, so that metrics cost an evaluation nothing. OpenTelemetry and
``prometheus_client`` are imported only when used (the ``otel`` and ``prometheus``
extras).
"""

from ._otel import ProviderMetrics, instrument_provider
from ._prometheus import PrometheusCollector

__all__ = ["PrometheusCollector", "ProviderMetrics", "instrument_provider"]

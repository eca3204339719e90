"""Fixtures of the metrics tests: a real OpenTelemetry SDK reader, a served provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from openfeature_litestar import FlagProvider, MemoryStore, document_from_data
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator

    from openfeature.client import OpenFeatureClient

FLAGS: dict[str, Any] = {
    "flags": {
        "static-flag": flag("on", metadata={"flagSetId": "checkout"}),
        "rule-flag": flag(
            "off",
            targeting={"if": [{"==": [{"var": "plan"}, "pro"]}, "on", None]},
        ),
        "disabled-flag": flag("on", state="DISABLED"),
    }
}


class Reader:
    """An SDK meter provider whose metrics are read in memory, as ``{name: points}``."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], float]]]:
        """Every metric collected now: its points' attributes and values."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[tuple[dict[str, Any], float]]] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, [])
                    for point in metric.data.data_points:
                        assert isinstance(point, NumberDataPoint)
                        points.append((dict(point.attributes or {}), point.value))
        return found

    def raw(self) -> str:
        """Everything collected now, as JSON text (to search it)."""
        data = self.reader.get_metrics_data()
        return "" if data is None else data.to_json()


@pytest.fixture
def reader() -> Iterator[Reader]:
    made = Reader()
    yield made
    made.meter_provider.shutdown()


def serve(
    domain: str, document: dict[str, Any] | None = None, **options: Any
) -> tuple[FlagProvider, OpenFeatureClient]:
    """A provider over a memory store of ``document``, bound to ``domain``."""
    provider = FlagProvider(MemoryStore(document_from_data(document or FLAGS)), **options)
    api.set_provider_and_wait(provider, domain)
    return provider, api.get_client(domain)

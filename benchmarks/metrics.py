"""``python -m benchmarks.metrics``: what OpenTelemetry and Prometheus metrics cost.

Two tables, from one run:

1. **Evaluation, metrics registered vs. not**: the three cases of :mod:`benchmarks.cases`
   (static, rule, rollout) through the OpenFeature client, on two providers over the same
   document, both counting (the default). One of them is reported by OpenTelemetry
   instruments (:func:`~openfeature_litestar.instrument_provider`, on an SDK meter
   provider with an in-memory reader) and by a
   :class:`~openfeature_litestar.PrometheusCollector` in a registry of its own; the other
   by nothing. Their batches are timed in interleaved rounds
   (:func:`benchmarks.timing.measure_all`), plain, metrics, metrics, plain in each; the
   ratio is metrics / plain of the best batches (the issue's target: no cost beyond the
   counters, so about 1.00x). Both providers' answers are checked against each other
   before timing, and after it one collection and one scrape must report the
   evaluations counted.
2. **One collection with 20,000 series**: a provider whose counters hold 10,000 flags x
   2 variants; the time of one Prometheus scrape (``generate_latest`` on the collector's
   registry) and of one OpenTelemetry collection (``InMemoryMetricReader``), the median
   and best of several. The series are counted in the scrape's text first.

``--quick`` is a smoke run of a few seconds (1,000 flags x 2 variants in table 2).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Final

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.no_op_provider import NoOpProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.cases import build_cases, flagd_flags
from benchmarks.peers import openfeature_context
from benchmarks.timing import FULL, QUICK, Measurement, measure_all
from openfeature_litestar import (
    FlagProvider,
    MemoryStore,
    PrometheusCollector,
    document_from_data,
    instrument_provider,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from openfeature.client import OpenFeatureClient

__all__ = ["main"]

TARGET_RATIO: Final = 1.05
EVALUATIONS: Final = "openfeature_litestar_evaluations"
OTEL_EVALUATIONS: Final = "openfeature_litestar.evaluations"
SERIES_VARIANTS: Final = ("on", "off")
_PLAIN: Final = "bench-metrics-plain"
_OBSERVED: Final = "bench-metrics-observed"
_SERIES: Final = "bench-metrics-series"


class Observed:
    """A provider reported by both exporters: an SDK meter provider and a registry."""

    def __init__(self, provider: FlagProvider) -> None:
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.metrics = instrument_provider(provider, meter_provider=self.meter_provider)
        self.registry = CollectorRegistry()
        self.registry.register(PrometheusCollector(provider))

    def scrape(self) -> str:
        """One Prometheus scrape's text."""
        return generate_latest(self.registry).decode()

    def otel_total(self) -> float:
        """The evaluations one OpenTelemetry collection reports, summed."""
        data = self.reader.get_metrics_data()
        if data is None:
            return 0.0
        return sum(
            point.value
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == OTEL_EVALUATIONS
            for point in metric.data.data_points
            if hasattr(point, "value")
        )

    def close(self) -> None:
        """Stop reporting and shut the meter provider down."""
        self.metrics.close()
        self.meter_provider.shutdown()


def scraped_total(text: str) -> float:
    """The evaluations a scrape reports, summed over every series."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == EVALUATIONS
        for sample in family.samples
        if sample.name == f"{EVALUATIONS}_total"
    )


def _client(domain: str, document: dict[str, Any]) -> tuple[FlagProvider, OpenFeatureClient]:
    provider = FlagProvider(MemoryStore(document_from_data(document)))
    api.set_provider_and_wait(provider, domain=domain)
    return provider, api.get_client(domain)


def _timer(client: OpenFeatureClient, flag_key: str) -> Callable[[Sequence[Any]], int]:
    get_value = client.get_boolean_value

    def time_batch(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            get_value(flag_key, False, context)  # noqa: FBT003 - the SDK's signature
        return perf_counter_ns() - start

    return time_batch


def _joined(first: Measurement, second: Measurement) -> Measurement:
    """The batches of two measurements of one provider, as one (in ns per call x ops)."""
    ops = min(first.ops, second.ops)
    batches = [round(ns * ops / row.ops) for row in (first, second) for ns in row.batch_ns]
    return Measurement(ops=ops, batch_ns=tuple(batches))


def evaluation_table(*, quick: bool) -> list[str]:
    """Time every case with metrics registered and without; return the lines."""
    settings = QUICK if quick else FULL
    document = {"flags": flagd_flags()}
    _, plain = _client(_PLAIN, document)
    observed_provider, observed_client = _client(_OBSERVED, document)
    observed = Observed(observed_provider)
    lines = [f"{'case':<16} {'plain ns/call':>14} {'metrics ns/call':>16} {'ratio':>8}   target"]
    try:
        for case in build_cases(rollout_users=2_000 if quick else 100_000):
            contexts = [openfeature_context(subject) for subject in case.subjects]
            sample = contexts[: settings.check_sample]
            answers = [observed_client.get_boolean_value(case.flag_key, False, c) for c in sample]  # noqa: FBT003
            expected = [plain.get_boolean_value(case.flag_key, False, c) for c in sample]  # noqa: FBT003
            if answers != expected:
                raise SystemExit(f"{case.title}: the providers answer differently")
            plain_timer = _timer(plain, case.flag_key)
            observed_timer = _timer(observed_client, case.flag_key)
            # Plain, metrics, metrics, plain in every round: neither always runs first.
            order = (plain_timer, observed_timer, observed_timer, plain_timer)
            rows = measure_all([(timer, contexts) for timer in order], settings)
            measured_plain, measured_observed = _joined(rows[0], rows[3]), _joined(rows[1], rows[2])
            ratio = measured_observed.best / measured_plain.best
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
            lines.append(
                f"{case.title:<16} {measured_plain.best:>14.0f} {measured_observed.best:>16.0f} "
                f"{ratio:>7.3f}x   <= {TARGET_RATIO}x {verdict} "
                f"(medians {measured_plain.median:.0f} / {measured_observed.median:.0f} ns)"
            )
        _check_reported(observed)
    finally:
        observed.close()
        for domain in (_PLAIN, _OBSERVED):
            api.set_provider_and_wait(NoOpProvider(), domain=domain)
    return lines


def _check_reported(observed: Observed) -> None:
    """Both exporters report what the provider counted (the timing measured real work)."""
    counted = observed.metrics.provider.usage.evaluations
    scraped, collected = scraped_total(observed.scrape()), observed.otel_total()
    if not counted or scraped < counted or collected < counted:
        raise SystemExit(
            f"{counted} evaluations counted, but {scraped:.0f} scraped, {collected:.0f} collected"
        )


def _series_document(flags: int) -> dict[str, Any]:
    rule = {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]}
    return {
        "flags": {
            f"flag-{n:05d}": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": rule,
            }
            for n in range(flags)
        }
    }


def _seconds(action: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def collection_table(*, quick: bool) -> list[str]:
    """Time one scrape and one OpenTelemetry collection of many series; return the lines."""
    flags, runs = (1_000, 3) if quick else (10_000, 15)
    provider, _ = _client(_SERIES, _series_document(flags))
    observed = Observed(provider)
    try:
        contexts = [EvaluationContext("bench", {"plan": plan}) for plan in ("pro", "free")]
        for key in provider.snapshot.flags:
            for context in contexts:
                provider.resolve_boolean_details(
                    key, default_value=False, evaluation_context=context
                )
        text = observed.scrape()
        series = text.count(f"{EVALUATIONS}_total{{")
        expected = flags * len(SERIES_VARIANTS)
        if series != expected or scraped_total(text) != expected:
            raise SystemExit(f"{series} series scraped, {expected} expected")
        scrape = _seconds(observed.scrape, runs)
        collect = _seconds(observed.reader.get_metrics_data, runs)
    finally:
        observed.close()
        api.set_provider_and_wait(NoOpProvider(), domain=_SERIES)
    header = f"{'exporter':<36} {'median ms':>10} {'best ms':>9}   ({series:,} series, {runs} runs)"
    return [
        header,
        _row("Prometheus scrape (generate_latest)", scrape),
        _row("OpenTelemetry collection (reader)", collect),
    ]


def _row(label: str, seconds: list[float]) -> str:
    return f"{label:<36} {statistics.median(seconds) * 1e3:>10.1f} {min(seconds) * 1e3:>9.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run both tables and print them."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short batches")
    options = parser.parse_args(argv)
    print(
        f"# metrics ({'quick' if options.quick else 'full'}), Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("\n## client evaluation, OpenTelemetry + Prometheus registered vs not (best batch)")
    print("\n".join(evaluation_table(quick=options.quick)))
    print("\n## one collection of every evaluation series")
    print("\n".join(collection_table(quick=options.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

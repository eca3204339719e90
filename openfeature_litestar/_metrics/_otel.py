"""OpenTelemetry metrics: observable instruments whose callbacks read the providers.

:func:`instrument_provider` adds a provider to one set of instruments per meter provider
(OpenTelemetry cannot remove an instrument once created, nor keep two of one name on a
meter, so several providers share them): an ``ObservableCounter`` of evaluations and of
audit records dropped and failed, and ``ObservableGauge`` s of the provider's health.
Their callbacks run when a metric reader collects, and read what the provider counts
anyway (see :mod:`._readings`): an evaluation does nothing more for them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._errors import MissingDependencyError

from ._readings import (
    AUDIT_DROPPED,
    AUDIT_FAILED,
    CHANGE_LAG,
    EVALUATIONS,
    REVISION,
    STATE,
    STATES,
    STATUS,
    SYNC_AGE,
    ProviderReading,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType

    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
    from typing_extensions import Self

    from openfeature_litestar._provider import FlagProvider
    from openfeature_litestar.hooks import AuditHook

__all__ = ["ProviderMetrics", "instrument_provider"]

METER_NAME: Final = "openfeature_litestar"
"""The name of the meter (the instrumentation scope) the instruments belong to."""

_PROVIDER_NAME: Final = "feature_flag.provider.name"


class _Instruments:
    """The instruments of one meter provider, and the readings their callbacks report."""

    def __init__(self, meter_provider: MeterProvider, observation: type[Observation]) -> None:
        self._observation = observation
        self._lock = threading.Lock()
        self._readings: list[ProviderReading] = []
        meter = meter_provider.get_meter(METER_NAME)
        meter.create_observable_counter(
            EVALUATIONS,
            callbacks=[self._evaluations],
            unit="{evaluation}",
            description="Flag evaluations by flag, variant, reason and error type.",
        )
        meter.create_observable_gauge(
            STATUS,
            callbacks=[self._status],
            unit="{state}",
            description="The provider's status: 1 for the current state, 0 for the others.",
        )
        meter.create_observable_gauge(
            REVISION,
            callbacks=[self._gauge(lambda health: health.revision)],
            unit="{revision}",
            description="The store revision of the flags the provider serves.",
        )
        meter.create_observable_gauge(
            SYNC_AGE,
            callbacks=[self._gauge(lambda health: health.seconds_since_sync)],
            unit="s",
            description="Seconds since the served flags were last known to be the store's.",
        )
        meter.create_observable_gauge(
            CHANGE_LAG,
            callbacks=[self._gauge(lambda health: health.change_lag)],
            unit="s",
            description="Seconds the latest change took from the store's notice to serving.",
        )
        meter.create_observable_counter(
            AUDIT_DROPPED,
            callbacks=[self._audit(0)],
            unit="{record}",
            description="Audit records dropped (a full queue, a closed hook).",
        )
        meter.create_observable_counter(
            AUDIT_FAILED,
            callbacks=[self._audit(1)],
            unit="{record}",
            description="Audit records that could not be built or written.",
        )

    def add(self, reading: ProviderReading) -> None:
        with self._lock:
            self._readings.append(reading)

    def remove(self, reading: ProviderReading) -> None:
        with self._lock:
            self._readings = [each for each in self._readings if each is not reading]

    def _current(self) -> list[ProviderReading]:
        with self._lock:
            return list(self._readings)

    def _evaluations(self, _options: CallbackOptions) -> Iterator[Observation]:
        observation = self._observation
        for reading in self._current():
            for attributes, count in reading.evaluations():
                yield observation(count, attributes)

    def _status(self, _options: CallbackOptions) -> Iterator[Observation]:
        observation = self._observation
        for reading in self._current():
            name, status = reading.provider_name, reading.health().status
            for state in STATES:
                yield observation(int(state == status), {_PROVIDER_NAME: name, STATE: state})

    def _gauge(
        self, value_of: Callable[[Any], float | None]
    ) -> Callable[[CallbackOptions], Iterator[Observation]]:
        observation = self._observation

        def observe(_options: CallbackOptions) -> Iterator[Observation]:
            for reading in self._current():
                value = value_of(reading.health())
                if value is not None:
                    yield observation(value, {_PROVIDER_NAME: reading.provider_name})

        return observe

    def _audit(self, which: int) -> Callable[[CallbackOptions], Iterator[Observation]]:
        observation = self._observation

        def observe(_options: CallbackOptions) -> Iterator[Observation]:
            for reading in self._current():
                if reading.audit_hooks:
                    count = reading.audit_counts()[which]
                    yield observation(count, {_PROVIDER_NAME: reading.provider_name})

        return observe


# One set of instruments per meter provider, for the process's lifetime (instruments
# cannot be removed); keyed by identity, holding the meter provider so the id stays its.
_instruments: dict[int, tuple[Any, _Instruments]] = {}
_instruments_lock = threading.Lock()


def _instruments_of(meter_provider: MeterProvider, observation: type[Observation]) -> _Instruments:
    with _instruments_lock:
        known = _instruments.get(id(meter_provider))
        if known is None:
            known = (meter_provider, _Instruments(meter_provider, observation))
            _instruments[id(meter_provider)] = known
        return known[1]


class ProviderMetrics:
    """A provider's OpenTelemetry metrics, as :func:`instrument_provider` registered them.

    Close it (or use it as a context manager) to stop reporting the provider: its series
    end at the next collection. The instruments stay on the meter (OpenTelemetry offers
    no way to remove one), reporting the other providers instrumented on it, if any.
    """

    __slots__ = ("_instruments", "_reading")

    def __init__(self, instruments: _Instruments, reading: ProviderReading) -> None:
        """Hold the registration; made by :func:`instrument_provider`."""
        self._instruments: _Instruments | None = instruments
        self._reading = reading

    @property
    def provider(self) -> FlagProvider:
        """The provider reported."""
        return self._reading.provider

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._instruments is None

    def close(self) -> None:
        """Stop reporting the provider; idempotent."""
        instruments, self._instruments = self._instruments, None
        if instruments is not None:
            instruments.remove(self._reading)

    def __enter__(self) -> Self:
        """Return the handle itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the handle."""
        self.close()

    def __repr__(self) -> str:
        """Show the provider's name and whether the handle is closed."""
        name = self._reading.provider_name
        return f"ProviderMetrics(provider={name!r}, closed={self.closed})"


def instrument_provider(
    provider: FlagProvider,
    *,
    meter_provider: MeterProvider | None = None,
    audit_hooks: Iterable[AuditHook] = (),
) -> ProviderMetrics:
    """Report a provider's evaluations and health as OpenTelemetry metrics.

    The instruments are observable: their callbacks read the counters the provider
    keeps anyway (:attr:`~openfeature_litestar.FlagProvider.usage`) and its health
    properties when a metric reader collects, so an evaluation costs nothing more.

    ==============================================  ==========================================
    Instrument                                      What
    ==============================================  ==========================================
    ``openfeature_litestar.evaluations``            Counter: evaluations by ``feature_flag.key``,
                                                    ``feature_flag.result.variant``,
                                                    ``feature_flag.result.reason``,
                                                    ``error.type``, ``feature_flag.set.id``
    ``openfeature_litestar.provider.status``        Gauge: 1 for the current ``state``, 0 else
    ``openfeature_litestar.provider.revision``      Gauge: the revision served
    ``openfeature_litestar.provider.sync_age``      Gauge (s): ``seconds_since_sync``
    ``openfeature_litestar.provider.change_lag``    Gauge (s): ``change_lag``
    ``openfeature_litestar.audit.dropped``          Counter: the audit hooks' dropped records
    ``openfeature_litestar.audit.failed``           Counter: the audit hooks' failed records
    ==============================================  ==========================================

    The gauges' ``seconds_since_sync`` and ``change_lag`` are the provider's
    :attr:`~openfeature_litestar.FlagProvider.seconds_since_sync` and
    :attr:`~openfeature_litestar.FlagProvider.change_lag`. Every series carries
    ``feature_flag.provider.name``: give each provider of a process its own ``name`` to
    tell them apart.

    Args:
        provider: The provider to report.
        meter_provider: The OpenTelemetry meter provider; ``None`` uses the global one
            (``opentelemetry.metrics.get_meter_provider()``), which is a no-op until an
            SDK is configured.
        audit_hooks: Audit hooks whose dropped and failed records to report with the
            provider (give each hook to one provider's metrics only).

    Returns:
        The registration: :meth:`~ProviderMetrics.close` it to stop reporting.

    Raises:
        MissingDependencyError: ``opentelemetry-api`` is not installed (install the
            ``otel`` extra: ``pip install "openfeature-litestar[otel]"``).
        TypeError: ``provider`` is not a :class:`~openfeature_litestar.FlagProvider`, or
            an audit hook is not an :class:`~openfeature_litestar.hooks.AuditHook`.

    .. versionadded:: 0.2.0
    """
    try:
        from opentelemetry import metrics  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise MissingDependencyError("opentelemetry-api", "otel") from None
    reading = ProviderReading(provider, audit_hooks)
    instruments = _instruments_of(
        meter_provider or metrics.get_meter_provider(), metrics.Observation
    )
    instruments.add(reading)
    return ProviderMetrics(instruments, reading)

"""Batch timing: calibrate a batch size, warm up, then time several batches.

Each batch is a pre-built list of contexts, taken in turn from the case's inputs (cycled),
so the timed loop does nothing but call the implementation. The garbage collector is off
while a batch runs and collected before each measurement.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter_ns, process_time_ns
from typing import Any, Final

TimeBatch = Callable[[Sequence[Any]], int]

_PROBE_OPS: Final = 8
_PROBE_GROWTH: Final = 8


@dataclass(frozen=True)
class Settings:
    """How long and how often to time.

    Attributes:
        name: ``"full"`` or ``"quick"``, shown in the header.
        batch_ns: Target duration of one timed batch.
        repeats: Timed batches per measurement.
        warmups: Untimed batches run first.
        min_ops: Fewest calls in a batch.
        max_ops: Most calls in a batch.
        check_sample: How many inputs each implementation is checked on before timing.
    """

    name: str
    batch_ns: int
    repeats: int
    warmups: int
    min_ops: int
    max_ops: int
    check_sample: int


FULL: Final = Settings(
    name="full",
    batch_ns=50_000_000,
    repeats=20,
    warmups=1,
    min_ops=100,
    max_ops=2_000_000,
    check_sample=2_000,
)
QUICK: Final = Settings(
    name="quick",
    batch_ns=2_000_000,
    repeats=3,
    warmups=1,
    min_ops=20,
    max_ops=2_000,
    check_sample=200,
)


@dataclass(frozen=True)
class Measurement:
    """The timed batches of one implementation on one case.

    Attributes:
        ops: Calls per batch.
        batch_ns: Elapsed nanoseconds of each timed batch.
        cpu_shares: Per timed batch, the share of its wall-clock time during which this
            process was on a CPU (``process_time`` ÷ ``perf_counter``); well below 1
            means other processes were competing for the machine.
    """

    ops: int
    batch_ns: tuple[int, ...]
    cpu_shares: tuple[float, ...] = ()

    @property
    def cpu_share(self) -> float:
        """The CPU share of the fastest batch, the one reported (1.0 when not measured)."""
        if not self.cpu_shares:
            return 1.0
        return self.cpu_shares[self.batch_ns.index(min(self.batch_ns))]

    @property
    def best(self) -> float:
        """Nanoseconds per call in the fastest batch (the figure the table reports)."""
        return min(self.batch_ns) / self.ops

    @property
    def median(self) -> float:
        """Nanoseconds per call in the median batch (shows the spread)."""
        return statistics.median(self.batch_ns) / self.ops


class Cycler:
    """Hands out consecutive slices of ``items``, wrapping around at the end."""

    def __init__(self, items: Sequence[Any]) -> None:
        """Start at the first item.

        Args:
            items: The inputs to cycle over; must not be empty.

        Raises:
            ValueError: When ``items`` is empty.
        """
        if not items:
            raise ValueError("nothing to cycle over")
        self._items = list(items)
        self._position = 0

    def take(self, count: int) -> list[Any]:
        """Return the next ``count`` items.

        Args:
            count: How many items.

        Returns:
            A new list; consecutive calls continue where the previous one stopped.
        """
        items = self._items
        out: list[Any] = []
        while len(out) < count:
            end = min(len(items), self._position + count - len(out))
            out += items[self._position : end]
            self._position = end % len(items)
        return out


def timed(time_batch: TimeBatch, batch: Sequence[Any]) -> int:
    """Run one batch with the garbage collector off.

    Args:
        time_batch: Runs the calls and returns their elapsed nanoseconds.
        batch: The contexts.

    Returns:
        The elapsed nanoseconds that ``time_batch`` measured.
    """
    return timed_with_cpu(time_batch, batch)[0]


def timed_with_cpu(time_batch: TimeBatch, batch: Sequence[Any]) -> tuple[int, int, int]:
    """Run one batch with the garbage collector off, also measuring the process's CPU time.

    Args:
        time_batch: Runs the calls and returns their elapsed nanoseconds.
        batch: The contexts.

    Returns:
        ``(measured, wall, cpu)``: the nanoseconds ``time_batch`` measured, and the wall
        clock and process CPU time around the whole call.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        wall = perf_counter_ns()
        cpu = process_time_ns()
        measured = time_batch(batch)
        return measured, perf_counter_ns() - wall, process_time_ns() - cpu
    finally:
        if was_enabled:
            gc.enable()


def batch_size(per_op_ns: float, inputs: int, settings: Settings) -> int:
    """Choose how many calls make one batch.

    Aims at ``settings.batch_ns`` per batch within ``[min_ops, max_ops]``. When a batch
    is at least as long as the inputs, it is rounded to whole passes over them, so that
    every batch sees the same mix.

    Args:
        per_op_ns: Estimated cost of one call.
        inputs: Number of distinct inputs in the case.
        settings: The run's settings.

    Returns:
        The batch size.
    """
    ops = int(settings.batch_ns / max(per_op_ns, 1.0))
    ops = max(settings.min_ops, min(settings.max_ops, ops))
    if ops >= inputs:
        ops = max(inputs, round(ops / inputs) * inputs)
    return ops


def calibrate(time_batch: TimeBatch, cycler: Cycler, inputs: int, settings: Settings) -> int:
    """Time growing probe batches until one is long enough, then choose the batch size.

    Args:
        time_batch: Runs the calls on a batch and returns their elapsed nanoseconds.
        cycler: Hands out the contexts.
        inputs: Number of distinct inputs.
        settings: The run's settings.

    Returns:
        The batch size (see :func:`batch_size`).
    """
    probe = _PROBE_OPS
    while True:
        elapsed = timed(time_batch, cycler.take(probe))
        if elapsed * 20 >= settings.batch_ns or probe >= settings.max_ops:
            return batch_size(elapsed / probe, inputs, settings)
        probe = min(probe * _PROBE_GROWTH, settings.max_ops)


def measure_all(
    jobs: Sequence[tuple[TimeBatch, Sequence[Any]]], settings: Settings
) -> list[Measurement]:
    """Calibrate, warm up and time several implementations in interleaved rounds.

    Each round times one batch of every job in turn, so a change in the machine's load
    (other processes on a shared machine) hits the rows being compared alike, instead of
    whichever happened to be timed at that moment.

    Args:
        jobs: Per implementation, its batch timer and its contexts.
        settings: The run's settings.

    Returns:
        One measurement per job, in the same order.
    """
    cyclers = [Cycler(contexts) for _, contexts in jobs]
    gc.collect()
    sizes = [
        calibrate(time_batch, cycler, len(contexts), settings)
        for (time_batch, contexts), cycler in zip(jobs, cyclers, strict=True)
    ]
    for _ in range(settings.warmups):
        for (time_batch, _), cycler, size in zip(jobs, cyclers, sizes, strict=True):
            timed(time_batch, cycler.take(size))
    samples: list[list[tuple[int, int, int]]] = [[] for _ in jobs]
    for _ in range(settings.repeats):
        for (time_batch, _), cycler, size, taken in zip(jobs, cyclers, sizes, samples, strict=True):
            batch = cycler.take(size)
            taken.append(timed_with_cpu(time_batch, batch))
            del batch
    return [
        Measurement(
            ops=size,
            batch_ns=tuple(measured for measured, _, _ in taken),
            cpu_shares=tuple(cpu / max(1, wall) for _, wall, cpu in taken),
        )
        for size, taken in zip(sizes, samples, strict=True)
    ]


def measure(time_batch: TimeBatch, contexts: Sequence[Any], settings: Settings) -> Measurement:
    """Calibrate, warm up and time one implementation.

    Args:
        time_batch: Runs the calls on a batch and returns their elapsed nanoseconds.
        contexts: The case's inputs in the implementation's context type.
        settings: The run's settings.

    Returns:
        The measurement.
    """
    (measurement,) = measure_all([(time_batch, contexts)], settings)
    return measurement

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
    batch_ns=200_000_000,
    repeats=5,
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
    """

    ops: int
    batch_ns: tuple[int, ...]

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
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return time_batch(batch)
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


def measure(time_batch: TimeBatch, contexts: Sequence[Any], settings: Settings) -> Measurement:
    """Calibrate, warm up and time ``time_batch`` over ``contexts``.

    Args:
        time_batch: Runs the calls on a batch and returns their elapsed nanoseconds.
        contexts: The case's inputs in the implementation's context type.
        settings: The run's settings.

    Returns:
        The measurement.
    """
    cycler = Cycler(contexts)
    gc.collect()
    probe = _PROBE_OPS
    while True:
        elapsed = timed(time_batch, cycler.take(probe))
        if elapsed * 20 >= settings.batch_ns or probe >= settings.max_ops:
            break
        probe = min(probe * _PROBE_GROWTH, settings.max_ops)
    ops = batch_size(elapsed / probe, len(contexts), settings)
    for _ in range(settings.warmups):
        timed(time_batch, cycler.take(ops))
    samples = []
    for _ in range(settings.repeats):
        batch = cycler.take(ops)
        samples.append(timed(time_batch, batch))
        del batch
    return Measurement(ops=ops, batch_ns=tuple(samples))

"""Paced document work sleeps for its share of the time; other work never sleeps."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import TYPE_CHECKING

from openfeature_litestar._pacing import SLICE_SECONDS, give_way, paced
from openfeature_litestar._stores._offload import off_loop

if TYPE_CHECKING:
    from types import FrameType

BURN_SECONDS = 0.05  # of this thread's CPU time


def _burn_giving_way() -> int:
    """Spend BURN_SECONDS of CPU, asking to give way as document work does; count sleeps."""
    sleeps = 0

    def count_sleeps(_frame: FrameType, event: str, arg: object) -> None:
        nonlocal sleeps
        if event == "c_call" and arg is time.sleep:
            sleeps += 1

    sys.setprofile(count_sleeps)  # this thread only
    try:
        start = time.thread_time()
        while time.thread_time() - start < BURN_SECONDS:
            sum(range(200))
            give_way()
    finally:
        sys.setprofile(None)
    return sleeps


def test_paced_work_sleeps_as_long_as_it_runs() -> None:
    # A lower bound on the wall time: noise on a busy machine only makes it longer.
    wall = time.perf_counter()
    cpu = time.thread_time()
    with paced(0.5):
        sleeps = _burn_giving_way()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    assert sleeps >= 1
    assert wall >= 2 * cpu - 2 * SLICE_SECONDS


def test_work_that_is_not_paced_never_sleeps() -> None:
    assert _burn_giving_way() == 0


def test_pacing_ends_with_its_block() -> None:
    with paced():
        pass
    assert _burn_giving_way() == 0


def test_pacing_is_per_thread() -> None:
    sleeps_elsewhere: list[int] = []
    with paced():
        other = threading.Thread(target=lambda: sleeps_elsewhere.append(_burn_giving_way()))
        other.start()
        other.join(30)
    assert sleeps_elsewhere == [0]


def test_the_stores_workers_are_paced() -> None:
    assert asyncio.run(off_loop(_burn_giving_way)) >= 1

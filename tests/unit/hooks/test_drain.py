"""DrainQueue: order, batching, overflow, flush and close (no timing assertions)."""

from __future__ import annotations

import threading
import time
from typing import Any

from openfeature_litestar.hooks import _drain
from openfeature_litestar.hooks._drain import DrainQueue

WAIT = 10.0


def _thread_of(queue: DrainQueue) -> threading.Thread | None:
    return queue._thread


def test_records_reach_the_handler_in_order() -> None:
    seen: list[int] = []
    queue = DrainQueue(seen.append, size=1000, name="test-drain")
    for number in range(500):
        queue.put(number)
    assert queue.flush(WAIT)
    assert seen == list(range(500))
    assert (queue.emitted, queue.dropped, queue.failed, queue.pending) == (500, 0, 0, 0)
    queue.close()


def test_the_thread_starts_with_the_first_record() -> None:
    queue = DrainQueue(lambda _record: None, size=10, name="test-drain-lazy")
    assert _thread_of(queue) is None
    assert queue.flush(0.0)  # nothing queued: nothing to wait for
    queue.put(1)
    assert _thread_of(queue) is not None
    assert queue.flush(WAIT)
    queue.close()


def test_a_long_linger_is_cut_short_by_flush() -> None:
    seen: list[int] = []
    queue = DrainQueue(seen.append, size=10, name="test-drain-linger", linger=3600.0)
    queue.put(1)
    assert queue.flush(WAIT)
    assert seen == [1]
    queue.close()


def test_a_full_queue_wakes_the_thread_before_the_linger_ends() -> None:
    seen: list[int] = []
    queue = DrainQueue(seen.append, size=4, name="test-drain-full", linger=3600.0)
    for number in range(2):  # half full: the high-water mark
        queue.put(number)
    deadline = time.monotonic() + WAIT
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [0, 1]
    queue.close()


def test_overflow_is_dropped_and_counted_while_the_handler_is_blocked() -> None:
    entered, release = threading.Event(), threading.Event()
    seen: list[Any] = []

    def handler(record: Any) -> None:
        entered.set()
        release.wait()
        seen.append(record)

    queue = DrainQueue(handler, size=3, name="test-drain-blocked")
    queue.put("first")
    queue.flush(0.0)
    assert entered.wait(WAIT)
    for number in range(10):
        queue.put(number)
    assert queue.dropped == 7
    assert queue.pending == 3
    release.set()
    assert queue.flush(WAIT)
    assert seen == ["first", 0, 1, 2]
    queue.close()


def test_close_drops_what_it_cannot_hand_over_and_later_records() -> None:
    entered, release = threading.Event(), threading.Event()

    def handler(_record: Any) -> None:
        entered.set()
        release.wait()

    queue = DrainQueue(handler, size=10, name="test-drain-close")
    queue.put(0)
    queue.flush(0.0)
    assert entered.wait(WAIT)
    queue.put(1)
    queue.put(2)
    queue.close(timeout=0.01)
    assert queue.dropped == 2
    queue.put(3)
    assert queue.dropped == 3
    release.set()


def test_a_failing_handler_is_counted_and_the_rest_still_go_out() -> None:
    seen: list[int] = []

    def handler(record: int) -> None:
        if record % 2:
            raise ValueError(record)
        seen.append(record)

    queue = DrainQueue(handler, size=100, name="test-drain-failing")
    for number in range(6):
        queue.put(number)
    assert queue.flush(WAIT)
    assert seen == [0, 2, 4]
    assert (queue.emitted, queue.failed) == (3, 3)
    queue.close()


def test_a_forked_child_forgets_the_parents_records_and_thread() -> None:
    release = threading.Event()
    queue = DrainQueue(lambda _record: release.wait(), size=10, name="test-drain-fork")
    queue.put(1)
    queue.put(2)
    parents_thread, parents_wake = queue._thread, queue._wake
    assert parents_thread is not None
    _drain._after_fork_in_child()  # what os.register_at_fork runs in a child
    assert queue.pending == 0
    assert queue._thread is None
    # This process is not really a child: let the "parent's" thread finish.
    queue._stop = True
    release.set()
    parents_wake.set()
    parents_thread.join(WAIT)
    assert not parents_thread.is_alive()


def test_exit_flush_is_bounded() -> None:
    seen: list[int] = []
    queue = DrainQueue(seen.append, size=10, name="test-drain-exit", linger=3600.0)
    queue.put(7)
    _drain._flush_at_exit()
    assert seen == [7]
    queue.close()

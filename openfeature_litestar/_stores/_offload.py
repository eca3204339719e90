"""Document-sized work off the event loop, a few at a time.

Validating, compiling, decoding and dumping a large document take as long as its text
is large (compiling takes seconds for megabytes).
Run on the loop, it would stall every request that loop serves for that long; so the
stores run it on a small pool of worker threads shared by every store and loop. The
pool's size bounds how many compile at once: compiling is CPU-bound Python, so more
threads would only share the same interpreter lock and hold more memory.

The loop still gets its turns while a worker compiles, as the interpreter switches
threads; but by default it hands the lock to a waiting thread only every 5 ms, and the
loop waits for it at each of a request's few system calls, which made a request take
tens of milliseconds during a write. So while any work runs on the pool, the interval is
0.5 ms (or the application's own, if lower), and the application's setting comes back
when the pool is idle. A finer interval costs only the switches themselves, and only
while a thread other than the loop wants to run.

Even so, a worker that wants the lock takes it at each of the loop's system calls, and
a busy loop fell behind. So the work on the pool is paced (see ``_pacing``): it sleeps
between its steps, so that it runs for only part of the time, and the loop has the
interpreter to itself for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar

from openfeature_litestar._pacing import paced

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["MAX_CONCURRENT_COMPILES", "SWITCH_INTERVAL", "off_loop"]

MAX_CONCURRENT_COMPILES: Final = 2
"""How many documents are validated and compiled at once, in the whole process."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

SWITCH_INTERVAL: Final = 0.0005
"""Seconds between thread switches while a worker runs (see :func:`sys.setswitchinterval`)."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

# The switch interval is one per process: it is lowered when the first worker starts and
# put back when the last one ends.
_switching_lock = threading.Lock()
_working = 0
_interval_before = 0.0


def _compile_pool() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process, made on first use
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=MAX_CONCURRENT_COMPILES, thread_name_prefix="openfeature-compile"
            )
        return _pool


@contextlib.contextmanager
def _switching_often() -> Iterator[None]:
    global _working, _interval_before  # noqa: PLW0603 - the interval is one per process
    with _switching_lock:
        if _working == 0:
            _interval_before = sys.getswitchinterval()
            if _interval_before > SWITCH_INTERVAL:
                sys.setswitchinterval(SWITCH_INTERVAL)
        _working += 1
    try:
        yield
    finally:
        with _switching_lock:
            _working -= 1
            # Set back only if changed: the interpreter rounds what it is given.
            if _working == 0 and _interval_before > SWITCH_INTERVAL:
                sys.setswitchinterval(_interval_before)


def _run_switching_often(work: Callable[[], _T]) -> _T:
    with _switching_often(), paced():
        return work()


async def off_loop(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``fn(*args, **kwargs)`` on the compile pool and return (or raise) its result.

    A caller cancelled while waiting stops waiting; the call itself runs to its end
    (it is bounded by the document's size), and its result is dropped.
    """
    loop = asyncio.get_running_loop()
    work = functools.partial(fn, *args, **kwargs)
    return await loop.run_in_executor(_compile_pool(), _run_switching_often, work)

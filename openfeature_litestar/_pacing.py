"""Document-sized work on a worker thread gives way to the event loop, often and for long.

Python threads share one interpreter lock. A worker that validates and compiles a large
document for a second holds it whenever it can: each time the event loop lets it go (at
every system call a request makes: reading, writing, polling) the worker takes it, and
the loop waits for its turn again. Requests served meanwhile took several times as long,
and a loop kept busy fell behind for as long as the compile ran.

So the work paces itself. Between its small steps it calls :func:`give_way`; on a paced
thread (:func:`paced`: the stores' workers), once the work has run for a slice it sleeps
for as long again (or a set multiple of it), holding no lock, and the loop runs as if
nothing else did. The document takes that much longer to build, in the background; a
document built on any other thread (a script's ``parse_document``) is not slowed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["SLICE_SECONDS", "WORK_SHARE", "give_way", "paced"]

SLICE_SECONDS: Final = 0.002
"""How long paced work runs before it gives way."""

WORK_SHARE: Final = 0.25
"""The share of the time paced work runs: it sleeps ``1 / WORK_SHARE - 1`` times a slice."""

_local = threading.local()
_clock: Final = time.perf_counter


@contextlib.contextmanager
def paced(share: float = WORK_SHARE) -> Iterator[None]:
    """Pace the document work this thread does inside the block (see :func:`give_way`)."""
    previous = getattr(_local, "pace", None)
    _local.pace = [_clock(), 1 / share - 1]
    try:
        yield
    finally:
        _local.pace = previous


def give_way() -> None:
    """On a paced thread whose work has run a slice, sleep for its share; else return."""
    pace: list[float] | None = getattr(_local, "pace", None)
    if pace is None:
        return
    ran = _clock() - pace[0]
    if ran < SLICE_SECONDS:
        return
    time.sleep(ran * pace[1])
    pace[0] = _clock()

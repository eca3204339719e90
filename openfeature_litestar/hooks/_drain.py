"""A bounded queue of records, drained into a callable on a daemon thread.

OpenFeature runs hooks synchronously on the evaluating thread, also for the async client
calls, so a hook that logged or exported directly would put the cost (and any blocking)
of its handler on the request. :class:`DrainQueue` keeps that path to an ``append``:
records wait in a bounded :class:`collections.deque` and a daemon thread hands them to
the handler. When the queue is full, new records are dropped and counted; nothing ever
waits for room.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DrainQueue"]

logger = logging.getLogger("openfeature_litestar.hooks")

_FLUSH_POLL_SECONDS = 0.002
_EXIT_FLUSH_SECONDS = 1.0
_LINGER_SECONDS = 0.05


class DrainQueue:
    """Hands records to ``handler`` on a daemon thread, dropping (and counting) overflow.

    Args:
        handler: Called with each record, in order, on the drain thread. Whatever it
            raises is caught and counted in :attr:`failed`.
        size: The most records waiting at once.
        name: The drain thread's name.
        linger: Seconds the thread waits, after the first record of a quiet spell, for
            more to arrive, so that it wakes once per batch rather than per record.
    """

    def __init__(
        self,
        handler: Callable[[Any], object],
        *,
        size: int,
        name: str,
        linger: float = _LINGER_SECONDS,
    ) -> None:
        """Create the queue; the thread starts with the first record."""
        self._handler = handler
        self._size = size
        self._high_water = max(1, size // 2)
        self._linger = linger
        self._name = name
        self._records: deque[Any] = deque()
        self._emitted = 0
        self._failed = 0
        self._dropped = 0
        self._closed = False
        self._reset_thread_state()
        _register_process_handlers(self)

    def _reset_thread_state(self) -> None:
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = False
        self._busy = False
        self._hurry = False
        self._lock = threading.Lock()

    @property
    def dropped(self) -> int:
        """Records dropped because the queue was full or closed."""
        return self._dropped

    @property
    def emitted(self) -> int:
        """Records the handler accepted (returned from without raising)."""
        return self._emitted

    @property
    def failed(self) -> int:
        """Records whose handler call raised."""
        return self._failed

    @property
    def pending(self) -> int:
        """Records waiting for the drain thread."""
        return len(self._records)

    def put(self, record: Any) -> None:
        """Queue ``record`` without blocking; drop and count it when the queue is full.

        Args:
            record: Handed to the handler as it is.
        """
        records = self._records
        if self._closed or len(records) >= self._size:
            self._count_drop(1)
            return
        records.append(record)
        # Wake the thread for the first record after a quiet spell (it then lingers to
        # gather a batch) and when the queue fills up; waking it for every record would
        # cost a thread switch per evaluation.
        waiting = len(records)
        if (waiting == 1 or waiting >= self._high_water) and not self._wake.is_set():
            if self._thread is None:
                self._start()
            self._wake.set()

    def _count_drop(self, count: int) -> None:
        with self._lock:
            self._dropped += count

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._drain, name=self._name, daemon=True)
            thread.start()
            self._thread = thread

    def _drain(self) -> None:
        records, wake = self._records, self._wake
        popleft, handler = records.popleft, self._handler
        while True:
            wake.wait()
            wake.clear()
            # A put() that found the flag still set (just before the clear above) did
            # not set it again, but its record is already counted here.
            if not (self._hurry or self._stop) and len(records) < self._high_water:
                wake.wait(
                    self._linger
                )  # gather a batch; flush(), close() or a full queue cut it short
                wake.clear()
            self._hurry = False
            while True:
                self._busy = True  # before the pop: flush() must not see "empty and idle"
                try:
                    record = popleft()
                except IndexError:
                    self._busy = False
                    break
                # Inlined (not a method call per record): under the GIL, this thread's
                # time per record is taken from the evaluating threads.
                try:
                    handler(record)
                except Exception as exc:
                    self._handler_failed(exc)
                else:
                    self._emitted += 1
            if self._stop:
                return

    def _handler_failed(self, exc: Exception) -> None:
        self._failed += 1
        if self._failed == 1:
            # The type only: a message could quote the record or the handler's state.
            logger.warning(
                "%s: the audit handler raised %s; its records are counted as failed",
                self._name,
                type(exc).__name__,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued record has been handed to the handler.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes (a
                handler that never returns then blocks this call for ever).

        Returns:
            True when the queue is empty and the handler idle; False on timeout.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._records and self._thread is not None:
            self._hurry = True
            self._wake.set()
        while self._records or self._busy:
            if self._thread is None or not self._thread.is_alive():
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_FLUSH_POLL_SECONDS)
        return True

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop accepting records, hand over what is queued, and stop the thread.

        Idempotent. Records still queued when ``timeout`` runs out are dropped and
        counted; records put after closing are dropped and counted too.

        Args:
            timeout: Seconds to wait for the queue to drain; ``None`` waits as long as
                it takes.
        """
        self._closed = True
        deadline = None if timeout is None else time.monotonic() + timeout
        self.flush(timeout)
        thread = self._thread
        self._stop = True
        self._wake.set()
        if thread is not None:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        left = len(self._records)
        self._records.clear()
        if left:
            self._count_drop(left)


_queues: weakref.WeakSet[DrainQueue] = weakref.WeakSet()
_handlers_registered = False
_registry_lock = threading.Lock()


def _register_process_handlers(queue: DrainQueue) -> None:
    """Register ``queue`` for the process-wide fork and exit handlers.

    A forked child inherits the queue's records (the parent emits them) and its locks
    in whatever state they were, but not its thread; pre-forking servers create hooks
    before they fork, so the child starts afresh. At exit the daemon thread would be
    killed with records still queued, so they get a short, bounded chance to go out.
    """
    global _handlers_registered  # noqa: PLW0603 - one process-wide set of handlers
    with _registry_lock:
        _queues.add(queue)
        if not _handlers_registered:
            if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
                os.register_at_fork(after_in_child=_after_fork_in_child)
            atexit.register(_flush_at_exit)
            _handlers_registered = True


def _flush_at_exit() -> None:
    deadline = time.monotonic() + _EXIT_FLUSH_SECONDS
    for queue in list(_queues):
        queue.flush(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    global _registry_lock  # noqa: PLW0603 - the parent's lock may have been held at fork
    _registry_lock = threading.Lock()
    for queue in list(_queues):
        with contextlib.suppress(Exception):
            queue._records.clear()  # noqa: SLF001 - this module's own class
            queue._reset_thread_state()  # noqa: SLF001

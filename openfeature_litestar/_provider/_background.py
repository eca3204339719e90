"""A private asyncio event loop on a daemon thread, where a provider runs store I/O.

Every store client (file polling today; Redis and SQL connections later) is created and
used on this one loop, so it never meets an application's loop: no "attached to a
different event loop" errors, and no blocking of the application's loop, whether the
application is plain sync code, asyncio code, or a Litestar app.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import concurrent.futures
    from collections.abc import Coroutine
    from typing import Any

__all__ = ["BackgroundLoop"]

T = TypeVar("T")


class BackgroundLoop:
    """An event loop running on its own daemon thread until :meth:`stop`."""

    def __init__(self, name: str) -> None:
        """Create the loop's thread (not started) named ``name``."""
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the loop's thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def is_current_thread(self) -> bool:
        """Whether the caller runs on the loop's own thread."""
        return self._thread is threading.current_thread()

    def start(self) -> None:
        """Start the thread and wait until its loop runs; does nothing if running."""
        if self.running:
            return
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                _cancel_remaining(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        ready.wait()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coroutine`` on the loop and return a future for its result.

        Raises:
            RuntimeError: The loop is not running.
        """
        if self._loop is None or not self.running:
            coroutine.close()
            raise RuntimeError(f"background loop {self._name!r} is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def stop(self, timeout: float | None = None) -> None:
        """Cancel what runs on the loop, stop it and join its thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed already
            loop.call_soon_threadsafe(loop.stop)
        if thread is not threading.current_thread():
            thread.join(timeout)


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

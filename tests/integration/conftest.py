"""Integration fixtures: a TCP proxy the test owns, to cut a real server off and back.

Cutting the proxy aborts every open connection and refuses new ones, exactly what a
client sees when a server host goes away; restoring it listens on the same port again.
The servers themselves keep running, so other tests are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target address until cut; restorable."""

    def __init__(self, target_host: str, target_port: int) -> None:
        """Create the proxy (not listening yet) for ``target_host:target_port``."""
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self.port = 0

    def start(self) -> None:
        """Start the proxy's loop and listen on a free port."""
        self._thread.start()
        self._run(self._listen())

    def cut(self) -> None:
        """Stop listening and abort every open connection."""
        self._run(self._cut())

    def restore(self) -> None:
        """Listen again on the same port."""
        self._run(self._listen())

    def close(self) -> None:
        """Cut, end every forwarding task, stop and close the loop."""
        self._run(self._cut())
        self._run(self._end_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def _run(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _end_tasks(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._transports.update({writer.transport, upstream_writer.transport})
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test() -> Iterator[None]:
    """Collect cyclic garbage as each test ends.

    A socket or transport left open in a reference cycle (an exception's traceback, a
    closed event loop's callbacks) warns only when the collector frees it. Freeing it
    here makes the warning, which ``filterwarnings = error`` turns into a failure, name
    the test that leaked it instead of whichever test runs when the collector happens
    to run.
    """
    yield
    gc.collect()


def _target_of(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


@pytest.fixture
def proxy_for() -> Iterator[Callable[[str, int], TcpProxy]]:
    """``proxy_for(server_url, default_port)``: a started proxy to that server.

    Every proxy made is closed after the test.
    """
    made: list[TcpProxy] = []

    def make(url: str, default_port: int) -> TcpProxy:
        proxy = TcpProxy(*_target_of(url, default_port))
        proxy.start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()

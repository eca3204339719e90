"""``python -m benchmarks.event_streams``: change-to-stream latency with many open streams.

An application serving :func:`~openfeature_litestar.web.ofrep_router` (event streams on)
on a :class:`~openfeature_litestar.FlagProvider` over a
:class:`~openfeature_litestar.MemoryStore` (registered with the OpenFeature SDK, as the
plugin and ``serve`` register theirs) runs under uvicorn in a process of its own
(one worker). This process opens N event streams to it (1,000 by default; raw asyncio
connections, each reading its stream line by line), then, round after round, writes a
new document to the store (``POST /bench/write``, which calls the store's
``replace_document`` in the server) and times, for every stream, the interval from just
before the write request to the arrival of its ``refetchEvaluation`` event. The table
gives p50, p99 and the maximum over all streams and rounds, and the server's resident
memory per open stream (its RSS with the streams open, minus before, over N).

There is no peer here: what is measured is this package's own promise (every stream
told within a second). ``--quick`` is a smoke run of a few seconds with 100 streams.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from litestar import Litestar, post
from openfeature import api

from benchmarks._uvicorn import Server, package_version, start_server, stop_server
from openfeature_litestar import FlagProvider, MemoryStore
from openfeature_litestar.web import EventStreamConfig, OFREPConfig, ofrep_router

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["app", "main"]

STARTUP_DEADLINE: Final = 60.0
EVENTS: Final = "/ofrep/v1/events"
EVENT_DEADLINE: Final = 30.0


def _document(round_number: int) -> dict[str, Any]:
    flags: dict[str, Any] = {
        f"flag-{number}": {
            "state": "ENABLED",
            "variants": {"a": "a", "b": "b"},
            "defaultVariant": "a" if (number + round_number) % 2 else "b",
        }
        for number in range(20)
    }
    return {"flags": flags}


def app() -> Litestar:
    """The benchmarked application: OFREP with event streams, and a write endpoint."""
    store = MemoryStore(_document(0))
    provider = FlagProvider(store)
    streams = EventStreamConfig(max_connections=100_000, heartbeat_interval=15.0)
    router = ofrep_router(OFREPConfig(public=True, event_streams=streams), provider)

    @post("/bench/write", status_code=204)
    async def write(round_number: int) -> None:
        """Write the document of ``round_number`` to the store."""
        await store.replace_document(_document(round_number), actor="benchmark")

    def register() -> None:
        # Registered with the SDK, as the plugin and `serve` do: its change events are
        # what wakes the streams.
        api.set_provider_and_wait(provider, "benchmark-event-streams")

    return Litestar([router, write], on_startup=[register], on_shutdown=[provider.shutdown])


# -- the client side ------------------------------------------------------------------------


class _Stream:
    """One raw event stream connection; ``arrivals`` maps event ETag to arrival time."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.changed = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        self._writer = writer
        request = f"GET {EVENTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"the stream answered {status!r}")
        while (await reader.readline()).strip():
            pass  # the headers
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            # Chunked transfer: data lines arrive whole within a chunk.
            if line.startswith(b"data: "):
                data = json.loads(line[6:])
                self.arrivals.setdefault(data["etag"], time.perf_counter())
                self.changed.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()


async def _request(port: int, method: str, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 2\r\nConnection: close\r\n\r\n{{}}".encode()
        )
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc")


async def _measure(server: Server, streams: int, rounds: int) -> tuple[list[float], float]:
    """The latencies in seconds (every stream, every round) and KiB per open stream."""
    port = server.port
    await asyncio.sleep(0.5)
    before = _rss_kib(server.process.pid)
    opened = [_Stream() for _ in range(streams)]
    for batch in range(0, streams, 100):
        await asyncio.gather(*(stream.open(port) for stream in opened[batch : batch + 100]))
    # Every stream is told the current configuration on connecting: wait for all.
    await asyncio.wait_for(
        asyncio.gather(*(stream.changed.wait() for stream in opened)), EVENT_DEADLINE
    )
    await asyncio.sleep(1.0)
    per_stream = (_rss_kib(server.process.pid) - before) / streams
    latencies: list[float] = []
    try:
        for round_number in range(1, rounds + 1):
            for stream in opened:
                stream.changed.clear()
            known = [set(stream.arrivals) for stream in opened]
            started = time.perf_counter()
            status, body = await _request(port, "POST", f"/bench/write?round_number={round_number}")
            if status != 204:  # noqa: PLR2004 - HTTP No Content
                raise RuntimeError(f"the write answered {status}: {body!r}")
            await asyncio.wait_for(
                asyncio.gather(*(stream.changed.wait() for stream in opened)), EVENT_DEADLINE
            )
            for stream, seen in zip(opened, known, strict=True):
                new = [at for etag, at in stream.arrivals.items() if etag not in seen]
                latencies.append(min(new) - started)
            await asyncio.sleep(0.2)
    finally:
        await asyncio.gather(*(stream.close() for stream in opened))
    return latencies, per_stream


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode})")
        with contextlib.suppress(OSError, IndexError, ValueError):
            status, _ = asyncio.run(_request(server.port, "POST", "/ofrep/v1/evaluate/flags"))
            if status == 200:  # noqa: PLR2004 - HTTP OK
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server is not answering after {STARTUP_DEADLINE} s")
        time.sleep(0.1)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(latencies: list[float], per_stream: float, streams: int, rounds: int) -> str:
    milliseconds = [value * 1000 for value in latencies]
    return "\n".join(
        [
            "OFREP event streams: store write to refetchEvaluation on every open stream",
            (
                f"uvicorn {package_version('uvicorn')} (1 worker), "
                f"litestar {package_version('litestar')}, "
                f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
                f"{streams:,} streams, {rounds} writes, MemoryStore"
            ),
            "",
            "| streams | p50 ms | p99 ms | max ms | mean ms | server KiB per open stream |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
            (
                f"| {streams:,} | {statistics.median(milliseconds):.1f} | "
                f"{_percentile(milliseconds, 0.99):.1f} | {max(milliseconds):.1f} | "
                f"{statistics.fmean(milliseconds):.1f} | {per_stream:.1f} |"
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when the server failed or a stream missed an event.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.event_streams", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--streams", type=int, help="open event streams (1,000)")
    parser.add_argument("--rounds", type=int, help="writes timed (20)")
    args = parser.parse_args(argv)
    streams = args.streams or (100 if args.quick else 1000)
    rounds = args.rounds or (3 if args.quick else 20)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, streams * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    server = start_server("benchmarks.event_streams:app")
    try:
        _wait_until_ready(server)
        latencies, per_stream = asyncio.run(_measure(server, streams, rounds))
    except (RuntimeError, OSError, TimeoutError, asyncio.TimeoutError) as exc:
        sys.stderr.write(f"benchmarks.event_streams: {exc!r}\n")
        return 1
    finally:
        stop_server(server)
    print(_report(latencies, per_stream, streams, rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())

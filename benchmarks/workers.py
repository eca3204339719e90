"""``python -m benchmarks.workers``: the standalone server with one and with several workers.

Three servers in turn, each on its own port, serving the 20 flags of
:mod:`benchmarks.ofrep` from one SQLite store:

* ``openfeature-litestar serve --workers 1`` and ``--workers 2`` (the command a user runs);
* ``uvicorn --workers 2`` on the same application (what a user might run instead), whose
  shared socket leaves Nagle's algorithm on.

For each: the latency of single-flag evaluations on an idle keep-alive connection (one
request at a time, a pause between them: where Nagle's algorithm meets the client's
delayed acknowledgements), and single-flag evaluations per second with ``--connections``
connections kept busy. The load generator is one asyncio process, so on a small machine
it, not the server, may be what limits the throughput of several workers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from benchmarks._uvicorn import ROOT, Server, free_port, package_version, stop_server
from benchmarks.ofrep import (
    BASE,
    DOCUMENT,
    FLAGS,
    context,
    http_rate,
    request,
    single_requests,
    wait_until_ready,
)
from openfeature_litestar import store_from_url
from openfeature_litestar.web import create_server

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar import Litestar

__all__ = ["app", "main"]

IDLE_REQUESTS: Final = 200
IDLE_PAUSE: Final = 0.005  # seconds between two requests on the idle connection


def app() -> Litestar:
    """The server uvicorn runs itself: the store comes from ``OPENFEATURE_LITESTAR_STORE``."""
    return create_server(public=True)


def _start(name: str, arguments: list[str]) -> Server:
    port = free_port()
    command = [sys.executable, "-m", *arguments, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return Server(name, process, port)


def _servers() -> dict[str, list[str]]:
    serve = ["openfeature_litestar", "serve", "--public"]
    uvicorn = ["uvicorn", "--factory", "benchmarks.workers:app", "--log-level", "warning"]
    return {
        "serve --workers 1": [*serve, "--workers", "1"],
        "serve --workers 2": [*serve, "--workers", "2"],
        "uvicorn --workers 2": [*uvicorn, "--no-access-log", "--workers", "2"],
    }


async def _idle_latencies(port: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies = []
    try:
        for index in range(IDLE_REQUESTS):
            sent = request(f"{BASE}/{FLAGS[index % len(FLAGS)]}", context(index))
            start = time.perf_counter()
            writer.write(sent)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.partition(b":")[2])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(IDLE_PAUSE)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return latencies


def _seed(url: str) -> None:
    async def write() -> None:
        store = store_from_url(url)
        try:
            await store.replace_document(DOCUMENT, actor="benchmark")
        finally:
            await store.close()

    asyncio.run(write())


def _measure(server: Server, connections: int, duration: float) -> tuple[float, float, float]:
    wait_until_ready(server)
    http_rate(server.port, single_requests(), connections, 1.0)  # warm every worker
    latencies = asyncio.run(_idle_latencies(server.port))
    cuts = statistics.quantiles(latencies, n=100)
    rate = http_rate(server.port, single_requests(), connections, duration)
    return cuts[49] * 1000, cuts[98] * 1000, rate


def _report(
    results: dict[str, tuple[float, float, float]], connections: int, duration: float
) -> str:
    base_rate = results["serve --workers 1"][2]
    lines = [
        "The standalone server with one and several workers (single-flag OFREP evaluations)",
        (
            f"uvicorn {package_version('uvicorn')}, litestar {package_version('litestar')}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; SQLite store; "
            f"idle: {IDLE_REQUESTS} requests {IDLE_PAUSE * 1000:g} ms apart on one connection; "
            f"load: {connections} connections, {duration:g} s"
        ),
        "",
        "| server | idle p50 ms | idle p99 ms | requests/s | ÷ serve --workers 1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, (p50, p99, rate) in results.items():
        lines.append(f"| {name} | {p50:.2f} | {p99:.2f} | {rate:,.0f} | {rate / base_rate:.2f}x |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when a server failed or answered an error.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers", description=__doc__)
    parser.add_argument("--connections", type=int, default=16, help="connections under load")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of load per server")
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 20 s")
    args = parser.parse_args(argv)
    duration = 1.0 if args.quick else args.duration
    results: dict[str, tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'flags.db'}"
        _seed(url)
        os.environ["OPENFEATURE_LITESTAR_STORE"] = url
        for name, arguments in _servers().items():
            server = _start(name, arguments)
            try:
                results[name] = _measure(server, args.connections, duration)
            except (RuntimeError, OSError) as exc:
                sys.stderr.write(f"benchmarks.workers: {name}: {exc}\n")
                return 1
            finally:
                stop_server(server)
    print(_report(results, args.connections, duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks.write_stall``: OFREP latency while the admin API writes a large document.

The standalone server (:func:`~openfeature_litestar.web.create_server`: OFREP and the
admin API on one namespace of an SQLite store) runs under uvicorn in a process of its
own. A generator in this process keeps ``--connections`` keep-alive connections asking
for one flag over OFREP, one request at a time each, and records every request's
latency: first with nothing else going on, then while a writer replaces the whole
document through the admin API (``PUT /admin/v1/namespaces/default/document``, about
1 MiB: the flags of :mod:`benchmarks.documents`) again and again. Each replace is
validated and compiled by the server, as is each reload of the document that follows
it. The table gives the latency percentiles of both phases and their ratio (with
writes ÷ without).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from benchmarks._uvicorn import Server, package_version, start_server, stop_server
from benchmarks.documents import document_text
from openfeature_litestar.web import create_server

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar import Litestar

__all__ = ["Load", "app", "main"]

ADMIN_TOKEN: Final = "benchmark-admin-token"  # noqa: S105 - a local benchmark's own token
DOCUMENT_PATH: Final = "/admin/v1/namespaces/default/document"
FLAG_PATH: Final = "/ofrep/v1/evaluate/flags/flag-00000"
STARTUP_DEADLINE: Final = 60.0
DOCUMENT_FLAGS: Final = 7_000  # about 1 MiB of JSON with the evaluators


@dataclass(frozen=True)
class Load:
    """The OFREP load: ``connections`` connections, ``rate`` requests/s in all (0: flat out)."""

    connections: int
    rate: float


def app() -> Litestar:
    """The server: the store comes from ``OPENFEATURE_LITESTAR_STORE``, set by the run."""
    return create_server(admin_tokens=(ADMIN_TOKEN,), public=True)


# -- HTTP/1.1 on keep-alive connections ---------------------------------------------------


def _request(method: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    headers = {}
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split(b" ", 2)[1]), headers, body


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        self.writer.write(request)
        return await _response(self.reader)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def _evaluate(
    port: int, stop: asyncio.Event, latencies: list[float], interval: float, offset: float
) -> None:
    """Ask for the flag every ``interval`` seconds (back to back when 0) and time each.

    A request's latency counts from when it was due, so a request held up behind a slow
    one counts its wait too (no coordinated omission).
    """
    loop = asyncio.get_running_loop()
    connection = await _Connection.open(port)
    requests = [
        _request(
            "POST", FLAG_PATH, json.dumps({"context": {"targetingKey": f"u{n}", "id": n}}).encode()
        )
        for n in range(64)
    ]
    try:
        index = 0
        due = loop.time() + offset
        while not stop.is_set():
            if interval:
                await asyncio.sleep(max(0.0, due - loop.time()))
            else:
                due = loop.time()
            status, _, body = await connection.exchange(requests[index % len(requests)])
            latencies.append(loop.time() - due)
            if status != 200:  # noqa: PLR2004 - HTTP OK
                raise RuntimeError(f"OFREP answered {status}: {body[:200]!r}")
            index += 1
            due += interval
    finally:
        await connection.close()


async def _write_again_and_again(port: int, stop: asyncio.Event, document: bytes) -> list[float]:
    connection = await _Connection.open(port)
    authorization = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    durations = []
    try:
        while not stop.is_set():
            status, headers, body = await connection.exchange(
                _request("GET", DOCUMENT_PATH, b"", authorization)
            )
            if status != 200:  # noqa: PLR2004 - HTTP OK
                raise RuntimeError(f"reading the document answered {status}: {body[:200]!r}")
            start = time.perf_counter()
            status, _, body = await connection.exchange(
                _request(
                    "PUT", DOCUMENT_PATH, document, {**authorization, "If-Match": headers["etag"]}
                )
            )
            durations.append(time.perf_counter() - start)
            if status != 200:  # noqa: PLR2004 - HTTP OK
                raise RuntimeError(f"replacing the document answered {status}: {body[:200]!r}")
    finally:
        await connection.close()
    return durations


async def _phase(
    port: int, load: Load, duration: float, document: bytes | None
) -> tuple[list[float], list[float]]:
    stop = asyncio.Event()
    latencies: list[float] = []
    interval = load.connections / load.rate if load.rate else 0.0
    evaluators = [
        asyncio.create_task(
            _evaluate(port, stop, latencies, interval, interval * n / load.connections)
        )
        for n in range(load.connections)
    ]
    writer = (
        asyncio.create_task(_write_again_and_again(port, stop, document))
        if document is not None
        else None
    )
    await asyncio.sleep(duration)
    stop.set()
    await asyncio.gather(*evaluators)
    writes = await writer if writer is not None else []
    return latencies, writes


async def _seed(port: int, document: bytes) -> None:
    """Write the document once and wait until OFREP serves its flags."""
    stop = asyncio.Event()
    writer = asyncio.create_task(_write_again_and_again(port, stop, document))
    connection = await _Connection.open(port)
    request = _request("POST", FLAG_PATH, b'{"context": {"targetingKey": "u", "id": 1}}')
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while (await connection.exchange(request))[0] != 200:  # noqa: PLR2004 - HTTP OK
            if time.monotonic() > deadline:
                raise RuntimeError(f"the flags were not served after {STARTUP_DEADLINE} s")
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await connection.close()
        await writer


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE

    async def ready() -> bool:
        connection = await _Connection.open(server.port)
        try:
            status, _, _ = await connection.exchange(_request("GET", "/readyz", b""))
            return status == 200  # noqa: PLR2004 - HTTP OK
        finally:
            await connection.close()

    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode})")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            if asyncio.run(ready()):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server is not ready after {STARTUP_DEADLINE} s")
        time.sleep(0.1)


def _percentiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000, max(latencies) * 1000


def _report(
    phases: dict[str, tuple[list[float], list[float]]], size: int, load: Load, duration: float
) -> str:
    base_p50, base_p99, _ = _percentiles(phases["without writes"][0])
    lines = [
        f"OFREP latency while the admin API replaces a {size / 2**20:.2f} MiB document",
        (
            f"uvicorn {package_version('uvicorn')} (1 worker), "
            f"litestar {package_version('litestar')}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; SQLite store; "
            f"{load.connections} connections, "
            f"{f'{load.rate:g} requests/s' if load.rate else 'back to back'}, "
            f"{duration:g} s per phase"
        ),
        "",
        (
            "| phase | requests | p50 ms | p99 ms | max ms | p50 ÷ without | p99 ÷ without "
            "| writes (mean s) |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (latencies, writes) in phases.items():
        p50, p99, most = _percentiles(latencies)
        written = f"{len(writes)} ({statistics.mean(writes):.2f})" if writes else "-"
        lines.append(
            f"| {name} | {len(latencies):,} | {p50:.2f} | {p99:.2f} | {most:.1f} | "
            f"{p50 / base_p50:.2f}x | {p99 / base_p99:.2f}x | {written} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when the server failed or answered an error.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.write_stall", description=__doc__)
    parser.add_argument("--connections", type=int, default=8, help="OFREP connections")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="OFREP requests per second in all; 0 sends them back to back (default 1000)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 10 s")
    args = parser.parse_args(argv)
    load = Load(args.connections, args.rate)
    duration = 3.0 if args.quick else args.duration
    document = json.dumps(json.loads(document_text(DOCUMENT_FLAGS))).encode()
    with tempfile.TemporaryDirectory() as directory:
        os.environ["OPENFEATURE_LITESTAR_STORE"] = (
            f"sqlite+aiosqlite:///{Path(directory) / 'flags.db'}"
        )
        server = start_server("benchmarks.write_stall:app")
        try:
            _wait_until_ready(server)
            asyncio.run(_seed(server.port, document))
            phases = {
                "without writes": asyncio.run(_phase(server.port, load, duration, None)),
                "with writes": asyncio.run(_phase(server.port, load, duration, document)),
            }
        except (RuntimeError, OSError) as exc:
            sys.stderr.write(f"benchmarks.write_stall: {exc}\n")
            return 1
        finally:
            stop_server(server)
    print(_report(phases, len(document), load, duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())

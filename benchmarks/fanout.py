"""``python -m benchmarks.fanout``: many provider processes following one store.

For Redis and then for PostgreSQL, ``--processes`` child processes (default 32) each run a
:class:`~openfeature_litestar.FlagProvider` with the store's default settings on one
namespace (a unique key or table prefix, removed afterwards; the servers are never
flushed). This process then writes ``--changes`` changes, one at a time, and measures:

* **connections per process**, counted by the server (Redis ``CLIENT LIST`` by client
  name, PostgreSQL ``pg_stat_activity`` by ``application_name``), once all are ready and
  again after the changes;
* **the time for a change to reach every process**: from ``time.time()`` just before the
  write to the ``time.time()`` each child reads in its ``PROVIDER_CONFIGURATION_CHANGED``
  handler (one system clock: every process runs on this machine), p50 and p99 over the
  changes, for the first process and for the last of them;
* **CPU per change**: the children's CPU time (``/proc/<pid>/stat``) over the changes,
  per change and per process: what each worker pays for every change (a reload and a
  compile of the whole document);
* **CPU per idle process**: the same over an idle window after the changes, where only
  the revision check and the usage flushes run.

The children share this machine's CPUs, which the report names: on a small machine the
time to reach the last process is mostly the children queueing for a CPU to reload on.
Servers come from ``OPENFEATURE_LITESTAR_TEST_REDIS_URL`` / ``..._POSTGRES_URL`` (defaults:
the local servers); a missing server's row says so instead of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from benchmarks.stores import POSTGRES_URL, REDIS_URL

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature.event import EventDetails

    from openfeature_litestar import FlagStore, WritableFlagStore

__all__ = [
    "FLAG",
    "Fleet",
    "StoreFigures",
    "cpu_seconds",
    "follow",
    "main",
    "percentile",
    "redis_connections",
    "render",
    "with_client_name",
]

ROOT: Final = Path(__file__).resolve().parent.parent
FLAG: Final = "counter"
"""The flag each change sets to the next integer."""
READY_TIMEOUT: Final = 180.0  # seconds for every child to load (they start at once)
CHANGE_TIMEOUT: Final = 60.0  # seconds for one change to reach every child


def _counter_flag(value: int) -> dict[str, Any]:
    return {"state": "ENABLED", "variants": {"v": value}, "defaultVariant": "v"}


def document_data(flags: int, value: int = 0) -> dict[str, Any]:
    """The benchmark's document: ``FLAG`` at ``value`` and ``flags - 1`` others.

    The others are those of :mod:`benchmarks.stores` (plain, targeting and fractional
    flags), so that every reload compiles rules as a real document's would.
    """
    from benchmarks.stores import _document_data  # noqa: PLC0415 - shared generator

    data = _document_data(max(0, flags - 1))
    data["flags"][FLAG] = _counter_flag(value)
    return data


def with_client_name(url: str, name: str) -> str:
    """``url`` with redis-py's ``client_name`` query parameter set to ``name``."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "client_name"]
    query.append(("client_name", name))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _open_store(kind: str, url: str, prefix: str, name: str | None) -> FlagStore:
    """The store a child (``name``: its connections' name) or the writer (None) uses."""
    from openfeature_litestar import RedisStore, SQLAlchemyStore  # noqa: PLC0415

    if kind == "redis":
        return RedisStore(with_client_name(url, name) if name else url, key_prefix=prefix)
    if name is None:
        return SQLAlchemyStore(url, table_prefix=prefix)
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    from openfeature_litestar._stores._sql._engines import parse_url  # noqa: PLC0415

    # The settings the store gives an engine from a URL, plus a name the server shows
    # (asyncpg takes it only as a server setting, not from the URL).
    engine = create_async_engine(
        parse_url(url),
        connect_args={
            "timeout": 5.0,
            "command_timeout": 5.0,
            "server_settings": {"application_name": name},
        },
        pool_pre_ping=True,
    )
    return SQLAlchemyStore(engine, table_prefix=prefix)


def follow(kind: str, url: str, prefix: str, name: str) -> None:
    """A child: follow the store, print each new value of ``FLAG`` and when it was seen.

    Prints ``ready`` once the provider is ready, then ``<value> <time.time()>`` per
    change, and shuts down when standard input closes.
    """
    from openfeature import api  # noqa: PLC0415 - the child's imports, not the parent's
    from openfeature.event import ProviderEvent  # noqa: PLC0415

    from openfeature_litestar import FlagProvider  # noqa: PLC0415

    provider = FlagProvider(_open_store(kind, url, prefix, name), init_timeout=READY_TIMEOUT)
    api.set_provider_and_wait(provider)
    client = api.get_client()
    lock = threading.Lock()

    def changed(_details: EventDetails) -> None:
        # The handler runs right after the snapshot swap: the answer is the new one.
        seen = time.time()
        value = client.get_integer_value(FLAG, -1)
        with lock:
            sys.stdout.write(f"{value} {seen!r}\n")
            sys.stdout.flush()

    client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, changed)
    print("ready", flush=True)
    sys.stdin.read()
    api.shutdown()


_CHILD: Final = "import sys; from benchmarks.fanout import follow; follow(*sys.argv[1:5])"


@dataclass
class Fleet:
    """The child processes and what they print, read by one thread each."""

    processes: list[subprocess.Popen[str]]
    names: list[str]
    lines: queue.Queue[tuple[int, str]] = field(default_factory=queue.Queue)
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, kind: str, url: str, prefix: str, label: str, count: int) -> Fleet:
        """Start ``count`` children named ``<label>-<index>``."""
        names = [f"{label}-{index}" for index in range(count)]
        processes = [
            subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [sys.executable, "-c", _CHILD, kind, url, prefix, name],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        fleet = cls(processes, names)
        for index, process in enumerate(processes):
            reader = threading.Thread(target=fleet._read, args=(index, process), daemon=True)
            reader.start()
            fleet.readers.append(reader)
        return fleet

    def _read(self, index: int, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None  # noqa: S101 - set by Popen(stdout=PIPE)
        for line in process.stdout:
            self.lines.put((index, line.strip()))
        self.lines.put((index, ""))  # the child ended

    def _collect(self, wanted: str | int, timeout: float) -> dict[int, float]:
        """Wait until every child printed ``ready`` (a str) or the value (an int)."""
        deadline = time.monotonic() + timeout
        seen: dict[int, float] = {}
        while len(seen) < len(self.processes):
            remaining = deadline - time.monotonic()
            try:
                index, line = self.lines.get(timeout=max(0.0, remaining))
            except queue.Empty:
                missing = len(self.processes) - len(seen)
                raise RuntimeError(f"{missing} processes did not report {wanted!r}") from None
            if not line:
                raise RuntimeError(f"process {self.names[index]} ended early")
            if isinstance(wanted, str):
                if line == wanted:
                    seen[index] = time.time()
                continue
            value, _, stamp = line.partition(" ")
            if int(value) == wanted:
                seen.setdefault(index, float(stamp))
        return seen

    def wait_ready(self) -> None:
        """Wait until every child's provider is ready."""
        self._collect("ready", READY_TIMEOUT)

    def wait_value(self, value: int) -> list[float]:
        """The ``time.time()`` at which each child saw ``FLAG`` at ``value``."""
        return list(self._collect(value, CHANGE_TIMEOUT).values())

    def cpu(self) -> list[float]:
        """Each child's CPU seconds so far."""
        return [cpu_seconds(process.pid) for process in self.processes]

    def stop(self) -> None:
        """Close every child's standard input (it shuts down), kill what outlives 30 s."""
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        deadline = time.monotonic() + 30
        for process in self.processes:
            _end(process, max(0.1, deadline - time.monotonic()))
        for reader, process in zip(self.readers, self.processes, strict=True):
            reader.join(5)  # the child's end closed its output: the reader is at its end
            if process.stdout is not None:
                process.stdout.close()


def _end(process: subprocess.Popen[str], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for ``process`` to exit, then kill it."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """User plus system CPU seconds of process ``pid`` (all its threads), from ``/proc``."""
    text = (proc / str(pid) / "stat").read_text()
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank ``fraction`` percentile of ``values``."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def redis_connections(clients: Sequence[dict[str, Any]], names: Sequence[str]) -> list[int]:
    """Connections per name in a parsed ``CLIENT LIST``, in the order of ``names``."""
    counts = dict.fromkeys(names, 0)
    for client in clients:
        name = client.get("name")
        if name in counts:
            counts[name] += 1
    return [counts[name] for name in names]


def _redis_client_list(url: str) -> list[dict[str, Any]]:
    import redis  # noqa: PLC0415 - only for a Redis run

    client = redis.Redis.from_url(url)
    try:
        return list(client.client_list())
    finally:
        client.close()


def _delete_keys(url: str, prefix: str) -> None:
    import redis  # noqa: PLC0415 - only for a Redis run

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _postgres(url: str, statement: str, **parameters: Any) -> list[Any]:
    from sqlalchemy import text  # noqa: PLC0415 - only for a PostgreSQL run
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    from openfeature_litestar._stores._sql._engines import parse_url  # noqa: PLC0415

    async def run() -> list[Any]:
        engine = create_async_engine(parse_url(url))
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), parameters)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _postgres_connections(url: str, names: Sequence[str]) -> list[int]:
    rows = _postgres(
        url,
        "SELECT application_name, count(*) FROM pg_stat_activity "
        "WHERE application_name LIKE :pattern GROUP BY application_name",
        pattern=names[0].rpartition("-")[0] + "-%",
    )
    counts = {name: int(count) for name, count in rows}
    return [counts.get(name, 0) for name in names]


def _drop_tables(url: str, prefix: str) -> None:
    # Every table of the prefix, the usage tables the children's flushes made too.
    rows = _postgres(
        url,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND starts_with(table_name, :prefix)",
        prefix=prefix,
    )
    for (table,) in rows:
        _postgres(url, f'DROP TABLE IF EXISTS "{table}" CASCADE')


@dataclass
class StoreFigures:
    """What one store's run measured."""

    store: str
    processes: int
    changes: int
    connections_ready: list[int]
    connections_after: list[int]
    write_ms: list[float]
    first_ms: list[float]
    all_ms: list[float]
    cpu_per_change_ms: float
    idle_cpu_percent: list[float]
    idle_seconds: float


async def _write(store: WritableFlagStore, value: int) -> None:
    await store.put_flag(FLAG, _counter_flag(value), actor="benchmark")


def _run_store(kind: str, url: str, options: argparse.Namespace) -> StoreFigures:
    from openfeature_litestar import WritableFlagStore  # noqa: PLC0415

    tag = uuid.uuid4().hex[:8]
    prefix = f"fanout{tag}:" if kind == "redis" else f"fanout{tag}_"
    label = f"fanout{tag}"
    writer = _open_store(kind, url, prefix, None)
    assert isinstance(writer, WritableFlagStore)  # noqa: S101 - both stores are writable

    async def seed() -> None:
        await writer.replace_document(document_data(options.flags), actor="benchmark")

    loop = asyncio.new_event_loop()
    fleet: Fleet | None = None
    try:
        loop.run_until_complete(seed())
        fleet = Fleet.start(kind, url, prefix, label, options.processes)
        fleet.wait_ready()
        count = _redis_connections if kind == "redis" else _postgres_connections
        ready = count(url, fleet.names)
        writes, firsts, alls = [], [], []
        cpu_before = fleet.cpu()
        for value in range(1, options.changes + 1):
            start = time.time()
            loop.run_until_complete(_write(writer, value))
            written = time.time()
            seen = fleet.wait_value(value)
            writes.append((written - start) * 1000)
            firsts.append((min(seen) - start) * 1000)
            alls.append((max(seen) - start) * 1000)
        cpu_after = fleet.cpu()
        after = count(url, fleet.names)
        time.sleep(1.0)  # let the last reloads' work finish before the idle window
        idle_start, began = fleet.cpu(), time.monotonic()
        time.sleep(options.idle)
        idle_end, window = fleet.cpu(), time.monotonic() - began
        spent = sum(cpu_after) - sum(cpu_before)
        return StoreFigures(
            store="Redis (pub/sub)" if kind == "redis" else "PostgreSQL (LISTEN/NOTIFY)",
            processes=options.processes,
            changes=options.changes,
            connections_ready=ready,
            connections_after=after,
            write_ms=writes,
            first_ms=firsts,
            all_ms=alls,
            cpu_per_change_ms=spent / options.changes / options.processes * 1000,
            idle_cpu_percent=[
                (end - begin) / window * 100
                for begin, end in zip(idle_start, idle_end, strict=True)
            ],
            idle_seconds=window,
        )
    finally:
        if fleet is not None:
            fleet.stop()
        loop.run_until_complete(writer.close())
        loop.close()
        if kind == "redis":
            _delete_keys(url, prefix)
        else:
            _drop_tables(url, prefix)


def _redis_connections(url: str, names: Sequence[str]) -> list[int]:
    return redis_connections(_redis_client_list(url), names)


def _spread(values: Sequence[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def render(figures: Sequence[StoreFigures | tuple[str, str]], *, markdown: bool) -> str:
    """The table: one row per store, or the store's name and why it was not measured."""
    headers = [
        "store",
        "processes",
        "conns/process ready",
        "after changes",
        "total conns",
        "write p50 ms",
        "first p50 ms",
        "all p50 ms",
        "all p99 ms",
        "CPU/change/process ms",
        "idle CPU/process % (mean, max)",
    ]
    rows: list[list[str]] = []
    for item in figures:
        if isinstance(item, tuple):
            rows.append([item[0], item[1], *[""] * (len(headers) - 2)])
            continue
        idle = item.idle_cpu_percent
        rows.append(
            [
                item.store,
                str(item.processes),
                _spread(item.connections_ready),
                _spread(item.connections_after),
                str(sum(item.connections_after)),
                f"{statistics.median(item.write_ms):.1f}",
                f"{statistics.median(item.first_ms):.1f}",
                f"{statistics.median(item.all_ms):.1f}",
                f"{percentile(item.all_ms, 0.99):.1f}",
                f"{item.cpu_per_change_ms:.1f}",
                f"{statistics.mean(idle):.3f}, {max(idle):.3f}",
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in (headers, *rows)
    )


def _reachable(url: str, default_port: int) -> bool:
    from benchmarks.stores import _reachable as reachable  # noqa: PLC0415

    return reachable(url, default_port)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fan-out benchmark on Redis and PostgreSQL and print its table.

    Returns:
        The exit status: 0, or 1 when a child failed or a change did not arrive.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    parser.add_argument("--processes", type=int, default=32, help="provider processes per store")
    parser.add_argument("--changes", type=int, default=200, help="changes written per store")
    parser.add_argument("--flags", type=int, default=100, help="flags in the document")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle window")
    parser.add_argument("--stores", default="redis,postgresql", help="which stores to run")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 4 processes, 10 changes, 2 s idle"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.processes, options.changes, options.idle = 4, 10, 2.0
    if not Path("/proc/self/stat").exists():
        print("benchmarks.fanout: needs Linux's /proc for the CPU figures", file=sys.stderr)
        return 1
    stores = {"redis": (REDIS_URL, 6379), "postgresql": (POSTGRES_URL, 5432)}
    load_before = os.getloadavg()[0]
    figures: list[StoreFigures | tuple[str, str]] = []
    for kind in options.stores.split(","):
        url, port = stores[kind]
        if not _reachable(url, port):
            figures.append((kind, "server not reachable"))
            continue
        print(f"benchmarks.fanout: {kind}: {options.processes} processes", file=sys.stderr)
        try:
            figures.append(_run_store("redis" if kind == "redis" else "sql", url, options))
        except RuntimeError as exc:
            print(f"benchmarks.fanout: {kind}: {exc}", file=sys.stderr)
            return 1
    print(
        f"# Fan-out: {options.processes} provider processes per store, {options.changes} "
        f"changes, a {options.flags}-flag document (Python {sys.version.split()[0]})\n"
    )
    print(render(figures, markdown=options.markdown))
    print(
        f"\nThis machine has {os.cpu_count()} CPUs, shared by the {options.processes} "
        "children, this writer and the servers: 'all' includes the children queueing for "
        "a CPU to reload on. Times are from just before the write (time.time()) to each "
        "child's handler; 'first'/'all' are the first and the last child to see a change. "
        "CPU from /proc/<pid>/stat (10 ms ticks): per change, over the changes; idle, over "
        f"a {options.idle:g} s window after them (% of one CPU). Connections counted by the "
        "server (CLIENT LIST by client name, pg_stat_activity by application_name). "
        f"Load average (1 min) before the run {load_before:.1f}, after it "
        f"{os.getloadavg()[0]:.1f}: other work on the machine slows every figure."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m benchmarks.fanout``: many provider processes following one shared store.

For Redis and for PostgreSQL in turn, ``--processes`` child processes (32 by default)
each run a :class:`~openfeature_litestar.FlagProvider` on the same namespace, as the
workers of a fleet would. This process then measures, from the servers' side and from
the children's:

* **Connections per process**: the server's own count of the connections each child
  holds once it is serving (Redis ``CLIENT LIST``, PostgreSQL ``pg_stat_activity``),
  each child naming its connections (``client_name`` / ``application_name``) so that
  other clients of the same servers are not counted.
* **Fan-out**: the time from a write returning here to the changed answer in *every*
  child (the slowest of them), and the time to each child, p50 and p99 over
  ``--changes`` changes. Every process reads ``time.monotonic()``, which on Linux is one
  system-wide clock. The children's periodic revision check is set slower than the run,
  so these are the push channels (pub/sub, LISTEN/NOTIFY).
* **CPU per idle process**: the CPU time a child spends, in percent of one core, while
  nothing changes for ``--idle`` seconds (``/proc/<pid>/stat``; Linux only).

The children and this process share the machine's cores: on a small machine the
fan-out figures include the children waiting for a core, which the output says. Servers
come from ``OPENFEATURE_LITESTAR_TEST_REDIS_URL`` / ``..._POSTGRES_URL`` (defaults: the
local servers); a missing server's row says so instead of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from benchmarks.stores import (
    POSTGRES_URL,
    REDIS_URL,
    _counter_flag,
    _delete_keys,
    _drop_tables,
    _percentile,
    _reachable,
)
from openfeature_litestar import RedisStore, SQLAlchemyStore, WritableFlagStore

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["main"]

READY_DEADLINE: Final = 180.0  # seconds for every child to serve (they start at once)
CHANGE_DEADLINE: Final = 60.0  # seconds for one change to reach every child
PROC_STAT: Final = Path("/proc/self/stat")
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# The child: a provider on the store, naming its connections, printing each answer it
# sees change. Its usage counters are off, so that their flushes are not measured.
_CHILD: Final = """
import json, sys, time
from openfeature import api
from openfeature.event import ProviderEvent
from openfeature_litestar import FlagProvider, RedisStore, SQLAlchemyStore

kind, url, options, name = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
if kind == "redis":
    from redis.asyncio import Redis
    store = RedisStore(Redis.from_url(url, client_name=name), **options)
else:
    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine(
        url, connect_args={"server_settings": {"application_name": name}}
    )
    store = SQLAlchemyStore(engine, **options)
provider = FlagProvider(store, init_timeout=120, usage=False)
api.set_provider_and_wait(provider)
client = api.get_client()

def changed(details):
    seen = time.monotonic()
    print(json.dumps([client.get_integer_value("counter", -1), seen]), flush=True)

client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, changed)
print("ready", flush=True)
sys.stdin.read()
api.shutdown()
"""


@dataclass
class _Child:
    """One child process and what it has printed."""

    process: asyncio.subprocess.Process
    name: str
    seen: dict[int, float] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class FanoutResult:
    """The figures of one store."""

    connections: list[int]
    to_all_ms: list[float]
    to_each_ms: list[float]
    idle_cpu_percent: list[float]


async def _read_lines(child: _Child, changed: asyncio.Condition) -> None:
    stdout = child.process.stdout
    assert stdout is not None  # noqa: S101 - created with stdout=PIPE
    async for raw in stdout:
        line = raw.decode().strip()
        if line == "ready":
            child.ready.set()
            continue
        value, seen_at = json.loads(line)
        async with changed:
            child.seen.setdefault(value, seen_at)
            changed.notify_all()


async def _start(
    kind: str, url: str, options: dict[str, Any], names: Sequence[str]
) -> list[_Child]:
    child_options = json.dumps({**options, "poll_interval": 600})
    children = []
    for name in names:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            kind,
            url,
            child_options,
            name,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        children.append(_Child(process, name))
    return children


async def _serving(child: _Child) -> None:
    """Return once ``child`` serves; raise if it exits first (its error is on stderr)."""
    exited = asyncio.create_task(child.process.wait())
    ready = asyncio.create_task(child.ready.wait())
    done, _ = await asyncio.wait({exited, ready}, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    ready.cancel()
    if ready not in done:
        raise RuntimeError(f"{child.name} exited ({child.process.returncode}) before serving")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def _idle_cpu(children: Sequence[_Child], seconds: float) -> list[float]:
    if not PROC_STAT.exists():
        return []
    before = [_cpu_seconds(child.process.pid) for child in children]
    await asyncio.sleep(seconds)
    after = [_cpu_seconds(child.process.pid) for child in children]
    return [(end - start) / seconds * 100 for start, end in zip(before, after, strict=True)]


async def _redis_connections(url: str, names: Sequence[str]) -> list[int]:
    from redis.asyncio import Redis  # noqa: PLC0415 - only for a Redis run

    client = Redis.from_url(url)
    try:
        listed = await client.client_list()
    finally:
        await client.aclose()
    counts = dict.fromkeys(names, 0)
    for entry in listed:
        if entry.get("name") in counts:
            counts[entry["name"]] += 1
    return list(counts.values())


async def _postgres_connections(url: str, names: Sequence[str]) -> list[int]:
    from sqlalchemy import text  # noqa: PLC0415 - only for a PostgreSQL run
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT application_name, count(*) FROM pg_stat_activity "
                    "WHERE application_name = ANY(:names) GROUP BY application_name"
                ),
                {"names": list(names)},
            )
            counted = {name: int(count) for name, count in rows}
    finally:
        await engine.dispose()
    return [counted.get(name, 0) for name in names]


def _seen_by_all(children: Sequence[_Child], value: int) -> Callable[[], bool]:
    return lambda: all(value in child.seen for child in children)


async def _fan_out(
    store: WritableFlagStore, children: Sequence[_Child], changed: asyncio.Condition, changes: int
) -> tuple[list[float], list[float]]:
    to_all: list[float] = []
    to_each: list[float] = []
    for value in range(1, changes + 1):
        await store.put_flag("counter", _counter_flag(value), actor="benchmark")
        written = time.monotonic()
        async with changed:
            await asyncio.wait_for(changed.wait_for(_seen_by_all(children, value)), CHANGE_DEADLINE)
        lags = [(child.seen[value] - written) * 1000 for child in children]
        to_each.extend(lags)
        to_all.append(max(lags))
    return to_all, to_each


async def _measure(
    kind: str, url: str, options: dict[str, Any], *, processes: int, changes: int, idle: float
) -> FanoutResult:
    run = uuid.uuid4().hex[:8]
    names = [f"fanout-{run}-{number}" for number in range(processes)]
    store: WritableFlagStore = (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)
    children: list[_Child] = []
    readers: list[asyncio.Task[None]] = []
    changed = asyncio.Condition()
    try:
        await store.put_flag("counter", _counter_flag(0), actor="benchmark")
        children = await _start(kind, url, options, names)
        readers = [asyncio.create_task(_read_lines(child, changed)) for child in children]
        await asyncio.wait_for(
            asyncio.gather(*(_serving(child) for child in children)), READY_DEADLINE
        )
        await asyncio.sleep(1.0)  # let the last children finish connecting their feeds
        count = _redis_connections if kind == "redis" else _postgres_connections
        connections = await count(url, names)
        idle_cpu = await _idle_cpu(children, idle)
        to_all, to_each = await _fan_out(store, children, changed, changes)
    finally:
        await store.close()
        await _stop(children, readers)
    return FanoutResult(connections, to_all, to_each, idle_cpu)


async def _stop(children: Sequence[_Child], readers: Sequence[asyncio.Task[None]]) -> None:
    for child in children:
        if child.process.stdin is not None:
            child.process.stdin.close()
    for child in children:
        await _reap(child.process)
    for reader in readers:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _reap(process: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


def _row(label: str, result: FanoutResult) -> list[str]:
    def spread(values: Sequence[float], unit: str = "") -> str:
        low, high = min(values), max(values)
        shown = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        return shown + unit

    idle = (
        f"{sum(result.idle_cpu_percent) / len(result.idle_cpu_percent):.2f} %"
        if result.idle_cpu_percent
        else "n/a (no /proc)"
    )
    return [
        label,
        spread([float(count) for count in result.connections]),
        f"{_percentile(result.to_all_ms, 0.5):.1f}",
        f"{_percentile(result.to_all_ms, 0.99):.1f}",
        f"{_percentile(result.to_each_ms, 0.5):.1f}",
        f"{_percentile(result.to_each_ms, 0.99):.1f}",
        idle,
    ]


HEADINGS: Final = [
    "store",
    "connections / process",
    "to all p50 ms",
    "to all p99 ms",
    "to each p50 ms",
    "to each p99 ms",
    "idle CPU / process",
]


def fanout_rows(processes: int, changes: int, idle: float) -> list[list[str]]:
    """One row per store with its figures, or why it was not measured."""
    name = f"fanout{uuid.uuid4().hex[:8]}"
    cases: list[tuple[str, str, str, dict[str, Any], Callable[[], None], bool]] = [
        (
            "Redis (pub/sub)",
            "redis",
            REDIS_URL,
            {"key_prefix": f"{name}:"},
            lambda: _delete_keys(REDIS_URL, f"{name}:"),
            _reachable(REDIS_URL, 6379),
        ),
        (
            "PostgreSQL (LISTEN/NOTIFY)",
            "sql",
            POSTGRES_URL,
            {"table_prefix": f"{name}_"},
            lambda: _drop_tables(POSTGRES_URL, f"{name}_"),
            _reachable(POSTGRES_URL, 5432),
        ),
    ]
    rows: list[list[str]] = []
    for label, kind, url, options, cleanup, reachable in cases:
        if not reachable:
            rows.append([label, "server not reachable", *[""] * (len(HEADINGS) - 2)])
            continue
        try:
            result = asyncio.run(
                _measure(kind, url, options, processes=processes, changes=changes, idle=idle)
            )
        finally:
            cleanup()
        rows.append(_row(label, result))
    return rows


def _markdown(rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(HEADINGS) + " |", "|" + " --- |" * len(HEADINGS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    parser.add_argument("--processes", type=int, default=32, help="provider processes")
    parser.add_argument("--changes", type=int, default=50, help="writes to fan out")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU sampling")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 processes")
    args = parser.parse_args(argv)
    processes, changes, idle = (
        (3, 3, 1.0) if args.quick else (args.processes, args.changes, args.idle)
    )
    rows = fanout_rows(processes, changes, idle)
    print(
        f"{processes} provider processes on one namespace; {changes} changes; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs shared by the "
        "children and the writer; idle CPU counts whole clock ticks "
        f"(1/{CLOCK_TICKS} s) over {idle:g} s"
    )
    print()
    print(_markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m benchmarks.stores``: shared stores — propagation, load+compile, memory.

Three tables, from one run:

1. **Propagation**: the time from a write returning in this process to the changed answer
   in another process (a child with a :class:`~openfeature_litestar.FlagProvider` on the
   same store), p50 and p99 over N changes, for Redis, PostgreSQL and SQLite. Both
   processes read ``time.monotonic()``, which on Linux is one system-wide clock. The
   child's periodic revision check is set slower than the run, so Redis and PostgreSQL
   numbers are their push channels (pub/sub, LISTEN/NOTIFY); SQLite is polled every
   50 ms (it has no push channel), so its figures are bounded by that interval.
2. **Load + compile**: validating and compiling a document of 100, 1,000 and 10,000
   flags into a snapshot (median of several runs), the Python heap the snapshot retains
   (``tracemalloc``), and the growth of the resident set size when a fresh process
   builds it (``/proc/self/statm``, Linux only; it includes RE2's and the allocator's
   memory, which ``tracemalloc`` does not see).
3. **Evaluation vs. number of flags**: one targeting flag evaluated through the provider
   when the snapshot holds 100 and 10,000 flags.

Servers come from ``OPENFEATURE_LITESTAR_TEST_REDIS_URL`` / ``..._POSTGRES_URL``
(defaults: the local servers); a missing server's row says so instead of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from openfeature.evaluation_context import EvaluationContext

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

from openfeature_litestar import (
    FlagProvider,
    RedisStore,
    Snapshot,
    SQLAlchemyStore,
    WritableFlagStore,
    document_from_data,
)

REDIS_URL: Final = os.environ.get("OPENFEATURE_LITESTAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL: Final = os.environ.get(
    "OPENFEATURE_LITESTAR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TARGETS: Final = {"propagation_p99_ms": 100.0, "load_10000_s": 1.0}

_CHILD: Final = """
import json, sys, time
from openfeature import api
from openfeature.event import ProviderEvent
from openfeature_litestar import FlagProvider, RedisStore, SQLAlchemyStore

kind, url, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
store = (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)
provider = FlagProvider(store, init_timeout=30)
api.set_provider_and_wait(provider)
client = api.get_client()

def changed(details):
    # The handler runs right after the snapshot swap: the answer is already the new one.
    seen = time.monotonic()
    value = client.get_integer_value("counter", -1)
    print(json.dumps([value, seen]), flush=True)

client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, changed)
print("ready", flush=True)
sys.stdin.read()
api.shutdown()
"""


def _counter_flag(value: int) -> dict[str, Any]:
    return {"state": "ENABLED", "variants": {"v": value}, "defaultVariant": "v"}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _write(store: WritableFlagStore, value: int) -> float:
    await store.put_flag("counter", _counter_flag(value), actor="benchmark")
    return time.monotonic()


def _propagation(kind: str, url: str, options: dict[str, Any], changes: int) -> list[float]:
    """Latencies in milliseconds from write-returned to seen-in-the-child."""
    store = (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)

    async def write_all(child: subprocess.Popen[str]) -> list[float]:
        assert child.stdout is not None  # noqa: S101 - set by Popen(stdout=PIPE)
        latencies: list[float] = []
        try:
            await _write(store, 0)
            assert child.stdout.readline().strip() == "ready"  # noqa: S101
            for value in range(1, changes + 1):
                written = await _write(store, value)
                while True:
                    seen_value, seen_at = json.loads(await asyncio.to_thread(child.stdout.readline))
                    if seen_value == value:
                        break
                latencies.append((seen_at - written) * 1000)
        finally:
            await store.close()
        return latencies

    asyncio.run(_write_once(store))
    child_options = {**options, "poll_interval": options.get("poll_interval", 600)}
    child = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", _CHILD, kind, url, json.dumps(child_options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        return asyncio.run(write_all(child))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(30)


async def _write_once(store: WritableFlagStore) -> None:
    try:
        await _write(store, 0)
    finally:
        await store.close()


def _drop_tables(url: str, prefix: str) -> None:
    from sqlalchemy import text  # noqa: PLC0415 - only after a SQL run
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    async def drop() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            for table in ("audit", "flags", "namespaces", "schema"):
                await connection.execute(text(f'DROP TABLE IF EXISTS "{prefix}{table}"'))
        await engine.dispose()

    asyncio.run(drop())


def _delete_keys(url: str, prefix: str) -> None:
    import redis  # noqa: PLC0415 - only after a Redis run

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def propagation_rows(changes: int) -> list[list[str]]:
    """One row per store: p50 and p99 propagation in ms, or why it was not measured."""
    rows: list[list[str]] = []
    name = f"bench{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
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
            (
                "SQLite (polled every 50 ms)",
                "sql",
                f"sqlite+aiosqlite:///{Path(folder) / 'flags.db'}",
                {"poll_interval": 0.05},
                lambda: None,
                True,
            ),
        ]
        for label, kind, url, options, cleanup, reachable in cases:
            if not reachable:
                rows.append([label, "server not reachable", "", ""])
                continue
            try:
                latencies = _propagation(kind, url, options, changes)
            finally:
                cleanup()
            p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
            rows.append([label, str(len(latencies)), f"{p50:.1f}", f"{p99:.1f}"])
    return rows


def _document_data(count: int) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for index in range(count):
        kind = index % 3
        flag: dict[str, Any] = {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
        }
        if kind == 1:
            flag["targeting"] = {
                "if": [{"in": [{"var": "country"}, ["DE", "FR", f"C{index}"]]}, "on", "off"]
            }
        elif kind == 2:  # noqa: PLR2004 - the third kind of flag
            flag["targeting"] = {"fractional": [["on", 50], ["off", 50]]}
        flags[f"flag-{index}"] = flag
    return {"flags": flags}


_RSS_CHILD: Final = """
import gc, os, sys
from benchmarks.stores import _document_data
from openfeature_litestar import Snapshot, document_from_data

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

data = _document_data(int(sys.argv[1]))
gc.collect()
before = rss()
snapshot = Snapshot.from_document(document_from_data(data))
gc.collect()
print(rss() - before)
"""


def _rss_growth(count: int) -> str:
    if not Path("/proc/self/statm").exists():
        return "n/a (not Linux)"
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", _RSS_CHILD, str(count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return f"{int(result.stdout) / 2**20:.1f} MiB"


def load_rows(counts: Sequence[int], repeats: int) -> list[list[str]]:
    """Per flag count: median load+compile seconds and the snapshot's retained heap."""
    rows = []
    for count in counts:
        data = _document_data(count)
        durations = []
        for _ in range(repeats):
            gc.collect()
            start = time.perf_counter()
            Snapshot.from_document(document_from_data(data))
            durations.append(time.perf_counter() - start)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        snapshot = Snapshot.from_document(document_from_data(data))
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del snapshot
        median = statistics.median(durations)
        rows.append(
            [
                f"{count:,}",
                f"{median * 1000:.1f} ms",
                f"{retained / 2**20:.1f} MiB",
                _rss_growth(count),
            ]
        )
    return rows


def evaluation_rows(counts: Sequence[int], calls: int) -> list[list[str]]:
    """Per flag count: one targeting evaluation through the provider, best and median.

    The snapshots are built first, then timed in interleaved rounds (one batch of each
    per round), with the garbage collector off during a batch as in the main
    benchmark: a collection's cost grows with everything the process holds, not with
    the lookup this table is about.
    """
    context = EvaluationContext(targeting_key="user-1", attributes={"country": "DE"})
    providers = []
    for count in counts:
        provider = FlagProvider(document_from_data(_document_data(count)))
        provider.initialize(EvaluationContext())
        providers.append(provider)
    samples: list[list[float]] = [[] for _ in counts]
    key = "flag-1"  # the same targeting flag in every document
    try:
        for _ in range(9):
            for provider, timings in zip(providers, samples, strict=True):
                gc.collect()
                gc.disable()
                try:
                    start = time.perf_counter_ns()
                    for _ in range(calls):
                        provider.resolve_boolean_details(key, False, context)  # noqa: FBT003
                    timings.append((time.perf_counter_ns() - start) / calls)
                finally:
                    gc.enable()
    finally:
        for provider in providers:
            provider.shutdown()
    base = min(samples[0])
    return [
        [
            f"{count:,}",
            f"{min(timings) / 1000:.2f} µs",
            f"{statistics.median(timings) / 1000:.2f} µs",
            f"{min(timings) / base:.2f}x",
        ]
        for count, timings in zip(counts, samples, strict=True)
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in (headers, *rows)
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three store benchmarks and print their tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stores", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer changes")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    options = parser.parse_args(argv)
    changes = 20 if options.quick else 200
    counts = (100, 1_000) if options.quick else (100, 1_000, 10_000)
    run = "quick" if options.quick else "full"
    print(f"# Store benchmarks ({run} run, Python {sys.version.split()[0]})")
    print(f"\n## Propagation: write in this process → answer in another ({changes} changes)\n")
    print(
        _table(
            ["store", "changes", "p50 ms", "p99 ms"],
            propagation_rows(changes),
            markdown=options.markdown,
        )
    )
    print(f"\nTarget: Redis and PostgreSQL p99 ≤ {TARGETS['propagation_p99_ms']:.0f} ms.")
    print("\n## Load + compile a document into a snapshot\n")
    print(
        _table(
            ["flags", "load+compile (median)", "retained heap", "RSS growth"],
            load_rows(counts, 3 if options.quick else 5),
            markdown=options.markdown,
        )
    )
    print(f"\nTarget: 10,000 flags ≤ {TARGETS['load_10000_s']:.0f} s.")
    print("\n## Evaluation time vs. number of flags (one targeting flag)\n")
    print(
        _table(
            ["flags in snapshot", "best", "median", "÷ 100 flags (best)"],
            evaluation_rows((100, counts[-1]), 2_000 if options.quick else 50_000),
            markdown=options.markdown,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

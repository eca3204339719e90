"""``python -m benchmarks.pgbouncer``: SQL store writes and loads, direct vs. through PgBouncer.

One run starts its own PgBouncer (Debian's ``pgbouncer``, transaction pooling, on a free
loopback port) in front of the test PostgreSQL database, then times ``--writes``
single-flag writes (``put_flag``: read, conditional update, audit row, ``NOTIFY``) and as
many loads of the namespace, after ten untimed rounds, with one store per way, each on a
fresh table prefix. Each round times one write and one load on every store in turn, so
that a busy machine's drift affects all of them alike. The ways:

* ``direct``: the store on PostgreSQL itself, asyncpg's statement caches on;
* ``direct, pooler=transaction``: on PostgreSQL itself with the caches off, which
  separates what turning the caches off costs from what the extra hop costs;
* ``PgBouncer, pooler=transaction``: through PgBouncer.

Each row gives p50 and p99 per operation and the ratio of its p50 to the ``direct`` row's.
The server comes from ``OPENFEATURE_LITESTAR_TEST_POSTGRES_URL`` (default: the local one);
without a server or without ``pgbouncer`` the run says so instead of a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks._uvicorn import free_port
from benchmarks.stores import POSTGRES_URL
from openfeature_litestar import SQLAlchemyStore

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["main"]

TABLES: Final = ("audit", "flags", "namespaces", "schema")
FLAG: Final = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"}
STARTUP_DEADLINE: Final = 10.0
WARM_UP: Final = 10


@contextlib.contextmanager
def running_pgbouncer(
    binary: str, postgres_url: str, *, pool_size: int = 4, max_client_conn: int = 100
) -> Iterator[str]:
    """Run PgBouncer in transaction pooling mode; yield the database's URL through it.

    ``pool_size`` server connections are shared by at most ``max_client_conn`` clients.
    The tests start theirs with this too.

    Raises:
        RuntimeError: PgBouncer exited or did not listen in time (with its log).
    """
    server = make_url(postgres_url)
    port = free_port()
    # PgBouncer refuses to run as root; then it runs as "nobody", who must read this.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o755)
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"{server.database} = host={server.host} port={server.port or 5432} "
        f"dbname={server.database} user={server.username}\n"
        "[pgbouncer]\nlisten_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\nauth_type = any\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = {max_client_conn}\n"
    )
    config.chmod(0o644)
    log = folder / "pgbouncer.log"
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - the installed binary, our own file
            [binary, *user, str(config)], stdout=output, stderr=output
        )
    try:
        _wait_for_port(port, process, log)
        yield f"postgresql+asyncpg://{server.username}@127.0.0.1:{port}/{server.database}"
    finally:
        process.terminate()
        process.wait(STARTUP_DEADLINE)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited at start: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on 127.0.0.1:{port}")


async def _time(
    ways: Sequence[tuple[str, str, str | None]], writes: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Seconds per write and per load for each way, interleaved so drift hits all alike.

    Each way has a store on a fresh table prefix of its own (dropped afterwards); each
    round times one write and one load on every store in turn.
    """
    prefix = f"bench{uuid.uuid4().hex[:10]}_"
    stores = {
        name: SQLAlchemyStore(url, table_prefix=f"{prefix}{index}_", pooler=pooler)
        for index, (name, url, pooler) in enumerate(ways)
    }
    timed: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in stores}
    try:
        for store in stores.values():
            await store.load()  # creates the tables; not timed
        for index in range(WARM_UP + writes):
            for name, store in stores.items():
                started = time.perf_counter()
                await store.put_flag(f"flag-{index % 20}", FLAG, actor="bench")
                wrote = time.perf_counter()
                await store.load()
                loaded = time.perf_counter()
                if index >= WARM_UP:  # connections opened, statements planned: not timed
                    timed[name][0].append(wrote - started)
                    timed[name][1].append(loaded - wrote)
    finally:
        for store in stores.values():
            await store.close()
        engine = create_async_engine(POSTGRES_URL)
        try:
            async with engine.begin() as connection:
                for index in range(len(ways)):
                    names = ", ".join(f'"{prefix}{index}_{name}"' for name in TABLES)
                    await connection.execute(text(f"DROP TABLE IF EXISTS {names}"))
        finally:
            await engine.dispose()
    return timed


def _p(values: Sequence[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


def rows(writes: int) -> list[list[str]]:
    """The table's rows: one per way of reaching PostgreSQL, or one saying why none."""
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")
    if binary is None:
        return [["PgBouncer", "pgbouncer is not installed (apt-get install pgbouncer)", "", ""]]
    try:
        with running_pgbouncer(binary, POSTGRES_URL) as bouncer:
            ways = [
                ("direct", POSTGRES_URL, None),
                ("direct, pooler=transaction", POSTGRES_URL, "transaction"),
                ("PgBouncer, pooler=transaction", bouncer, "transaction"),
            ]
            timed = list(asyncio.run(_time(ways, writes)).items())
    except (OSError, RuntimeError) as exc:
        return [["PostgreSQL", f"unavailable: {type(exc).__name__}: {exc}", "", ""]]
    base_write, base_load = _p(timed[0][1][0], 0.5), _p(timed[0][1][1], 0.5)
    return [
        [
            name,
            f"{_p(write, 0.5):.2f} / {_p(write, 0.99):.2f}",
            f"{_p(load, 0.5):.2f} / {_p(load, 0.99):.2f}",
            f"{_p(write, 0.5) / base_write:.2f}x / {_p(load, 0.5) / base_load:.2f}x",
        ]
        for name, (write, load) in timed
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Time the three ways and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pgbouncer", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer writes")
    parser.add_argument("--writes", type=int, default=500, help="writes (and loads) per row")
    options = parser.parse_args(argv)
    writes = 20 if options.quick else options.writes
    python = sys.version.split()[0]
    print(f"# SQL store through PgBouncer ({writes} writes and loads, Python {python})")
    headers = ["connection", "write p50 / p99 ms", "load p50 / p99 ms", "p50 ÷ direct (w / l)"]
    table = [headers, *rows(writes)]
    widths = [max(len(row[column]) for row in table) for column in range(len(headers))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

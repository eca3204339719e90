"""A write in one process is evaluated in another, through each shared store.

The child process watches the store with a provider whose periodic revision check is
slower than the test's deadline for Redis and PostgreSQL, so only their push channels
(pub/sub, LISTEN/NOTIFY) can deliver the change in time; SQLite has no push channel and
is watched by polling.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import RedisStore, SQLAlchemyStore
from tests.support import SQL_TABLES, flag

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from openfeature_litestar import WritableFlagStore

WAIT = 20.0

CHILD = """
import json, sys, time
from openfeature import api
from openfeature_litestar import FlagProvider, RedisStore, SQLAlchemyStore

kind, url, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
store = (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)
api.set_provider_and_wait(FlagProvider(store, init_timeout=20))
client = api.get_client()
print("ready", flush=True)
for line in sys.stdin:
    wanted = line.strip() == "true"
    deadline = time.monotonic() + 10
    while client.get_boolean_value("switch", not wanted) != wanted:
        if time.monotonic() > deadline:
            print("timeout", flush=True)
            break
        time.sleep(0.001)
    else:
        print("seen", flush=True)
api.shutdown()
"""


def _put(store: WritableFlagStore, value: bool) -> None:
    async def put() -> None:
        try:
            await store.put_flag("switch", flag("on" if value else "off"), actor="parent-process")
        finally:
            await store.close()

    asyncio.run(put())


@pytest.fixture(params=["redis", "postgres", "sqlite"])
def shared(
    request: pytest.FixtureRequest, unique_name: str, tmp_path: Path
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, url, options) of a store both processes open; its data is removed after."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        yield "redis", url, {"key_prefix": f"{unique_name}:", "poll_interval": 60}
        import redis  # noqa: PLC0415 - only the Redis case needs it

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{unique_name}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
        yield "sql", url, {"poll_interval": 0.05}
        return
    url = request.getfixturevalue("postgres_url")
    yield "sql", url, {"table_prefix": f"{unique_name}_", "poll_interval": 60}
    from sqlalchemy import text  # noqa: PLC0415 - only the SQL case needs it
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    async def drop() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            for table in SQL_TABLES:
                await connection.execute(text(f'DROP TABLE IF EXISTS "{unique_name}_{table}"'))
        await engine.dispose()

    asyncio.run(drop())


def test_a_write_in_one_process_is_evaluated_in_another(
    shared: tuple[str, str, dict[str, Any]],
) -> None:
    kind, url, options = shared

    def store() -> WritableFlagStore:
        return (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)

    _put(store(), True)
    child = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", CHILD, kind, url, json.dumps(options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"
        for value in (False, True, False):
            _put(store(), value)
            child.stdin.write(f"{str(value).lower()}\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "seen"
        child.stdin.close()
        assert child.wait(WAIT) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        if not child.stdin.closed:
            child.stdin.close()

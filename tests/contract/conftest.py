"""The stores the contract suite runs against, each built from its URL on real backing data.

``backend`` is parametrized over every store. A :class:`Backend` opens new store objects
on the same backing data (``backend.open()`` is "another process"; ``backend.open("qa")``
is another namespace of the same backend), and removes what the test created.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from openfeature_litestar import MemoryStore
from openfeature_litestar._stores._url import store_from_url
from tests.support import SQL_TABLES

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator
    from pathlib import Path

    from openfeature_litestar import WritableFlagStore

T = TypeVar("T")

POLL = 0.1  # seconds between a store's periodic checks: short, so tests are quick
BACKENDS = ["memory", "file", "sqlite", "redis", "postgres"]


@dataclass
class Backend:
    """One kind of store, and a way to open more store objects on the same data.

    Attributes:
        name: The parameter id (``memory``, ``file``, ...).
        make: Builds a new store object for a namespace.
        missing_is_empty: Whether a namespace never written loads as an empty document
            (every store but a file store, where a missing file is an error for readers).
    """

    name: str
    make: Callable[[str], WritableFlagStore]
    missing_is_empty: bool = True
    opened: list[WritableFlagStore] = field(default_factory=list)

    def open(self, namespace: str = "default") -> WritableFlagStore:
        """A new store object on this backend's data, for ``namespace``."""
        store = self.make(namespace)
        self.opened.append(store)
        return store

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on a new event loop, then close every store on that loop.

        Stores keep one connection per event loop, so each loop must close them.
        """

        async def main() -> T:
            try:
                return await coroutine
            finally:
                for store in list(self.opened):
                    await store.close()

        return asyncio.run(main())


def _memory() -> Callable[[str], WritableFlagStore]:
    memory = MemoryStore()
    return memory.with_namespace


def _file(tmp_path: Path) -> Callable[[str], WritableFlagStore]:
    # A file store's namespace is its file: one file per namespace.
    return lambda namespace: store_from_url(
        f"file://{tmp_path}/{namespace}.json", namespace=namespace, poll_interval=POLL
    )


def _sqlite(tmp_path: Path) -> Callable[[str], WritableFlagStore]:
    url = f"sqlite+aiosqlite:///{tmp_path}/flags.db"
    return lambda namespace: store_from_url(url, namespace=namespace, poll_interval=POLL)


def _redis(url: str, prefix: str) -> Callable[[str], WritableFlagStore]:
    return lambda namespace: store_from_url(
        url, namespace=namespace, key_prefix=prefix, poll_interval=POLL
    )


def _postgres(url: str, prefix: str) -> Callable[[str], WritableFlagStore]:
    return lambda namespace: store_from_url(
        url, namespace=namespace, table_prefix=prefix, poll_interval=POLL
    )


async def delete_redis_keys(url: str, prefix: str) -> None:
    """Delete every key under ``prefix``."""
    import redis.asyncio  # noqa: PLC0415 - only the redis backend needs it

    client: Any = redis.asyncio.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def drop_sql_tables(url: str, prefix: str) -> None:
    """Drop the four tables a SQL store with ``prefix`` creates."""
    from sqlalchemy import text  # noqa: PLC0415 - only the SQL backends need it
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for table in SQL_TABLES:
                await connection.execute(text(f'DROP TABLE IF EXISTS "{prefix}{table}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, unique_name: str) -> Iterator[Backend]:
    """Every store in turn, on fresh data that is removed afterwards."""
    name: str = request.param
    cleanup: Callable[[], Any] | None = None
    if name == "memory":
        backend = Backend(name, _memory())
    elif name == "file":
        backend = Backend(name, _file(tmp_path), missing_is_empty=False)
    elif name == "sqlite":
        backend = Backend(name, _sqlite(tmp_path))
    elif name == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = f"{unique_name}:"
        backend = Backend(name, _redis(url, prefix))
        cleanup = lambda: delete_redis_keys(url, prefix)  # noqa: E731 - a one-line callback
    else:
        url = request.getfixturevalue("postgres_url")
        prefix = f"{unique_name}_"
        backend = Backend(name, _postgres(url, prefix))
        cleanup = lambda: drop_sql_tables(url, prefix)  # noqa: E731
    try:
        yield backend
    finally:
        if cleanup is not None:
            asyncio.run(cleanup())


@pytest.fixture
def store(backend: Backend) -> WritableFlagStore:
    """A store on the backend's ``default`` namespace."""
    return backend.open()

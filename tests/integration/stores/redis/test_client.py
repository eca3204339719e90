"""RedisStore's connections against a real Redis: per-loop clients, URLs, TLS, timeouts.

Every test uses a fresh key prefix (the ``prefix`` fixture) and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import pytest
import redis
import redis.asyncio
from redis.asyncio.connection import SSLConnection

from openfeature_litestar import ConfigurationError, StoreError
from openfeature_litestar._stores._redis import RedisStore
from tests.support import echo_flag

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator


WAIT = 10.0


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def test_one_store_serves_two_threads_with_their_own_loops(redis_url: str, prefix: str) -> None:
    store = RedisStore(redis_url, key_prefix=prefix)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        async def work() -> None:
            for index in range(5):
                await store.put_flag(f"{name}{index}", echo_flag(), actor=name)
                await store.load()

        try:
            _run(store, work)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)

    assert errors == []
    assert _run(store, store.load).revision == 10


def test_the_store_recovers_after_an_outage(
    redis_url: str, prefix: str, proxy_for: Callable[[str, int], Any]
) -> None:
    proxy = proxy_for(redis_url, 6379)
    store = RedisStore(proxy.url(redis_url), key_prefix=prefix, timeout=1)

    async def work() -> int:
        await store.put_flag("a", echo_flag(), actor="alice")
        proxy.cut()
        with pytest.raises(StoreError):
            await store.load()
        proxy.restore()
        return (await store.load()).revision

    assert _run(store, work) == 1


def test_an_existing_client_is_reused_by_its_settings(redis_url: str, prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)  # bytes replies: the store decodes itself
    store = RedisStore(client, key_prefix=prefix)

    assert _run(store, lambda: store.put_flag("a", echo_flag(), actor="alice")) == 1
    assert _run(store, store.load).revision == 1  # a second loop: fresh connections

    async def client_still_works() -> Any:
        try:
            return await client.hget(f"{prefix}default", "revision")
        finally:
            await client.aclose()

    assert asyncio.run(client_still_works()) == b"1"
    server = urlsplit(redis_url)  # the server the suite was pointed at, whichever database
    database = server.path.strip("/") or "0"
    assert f"{server.hostname}:{server.port or 6379}/{database}" in repr(store)


def test_a_rediss_url_connects_with_tls(prefix: str) -> None:
    store = RedisStore("rediss://ops:s3cret@redis.example:6380/2", key_prefix=prefix, timeout=2)

    async def pool_of_this_loop() -> Any:
        return cast("redis.asyncio.Redis", store._clients.this_loop().client).connection_pool

    pool = _run(store, pool_of_this_loop)

    assert pool.connection_class is SSLConnection
    settings = pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"]) == ("redis.example", 6380, 2)
    assert (settings["username"], settings["password"]) == ("ops", "s3cret")
    assert (settings["socket_timeout"], settings["socket_connect_timeout"]) == (2, 2)
    assert "s3cret" not in repr(store)
    assert "redis.example:6380" in repr(store)


def test_an_unreachable_server_is_a_store_error_without_the_password(prefix: str) -> None:
    store = RedisStore("redis://user:s3cret@127.0.0.1:1/0", key_prefix=prefix, timeout=1)

    async def first_change() -> None:
        async for _ in store.changes():
            return

    attempts: list[Callable[[], Awaitable[Any]]] = [
        store.load,
        lambda: store.put_flag("a", echo_flag(), actor="alice"),
        store.audit_log,
        first_change,
    ]
    for attempt in attempts:
        with pytest.raises(StoreError) as caught:
            _run(store, attempt)
        assert "s3cret" not in str(caught.value)
        assert "127.0.0.1:1" in str(caught.value)
    assert "s3cret" not in repr(store)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_is_a_store_error(silent_server: int) -> None:
    store = RedisStore(f"redis://127.0.0.1:{silent_server}/0", timeout=0.5)
    with pytest.raises(StoreError, match="Timeout"):
        _run(store, store.load)


def test_a_url_that_is_not_redis_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RedisStore("http://user:s3cret@127.0.0.1:6379/0")
    assert "s3cret" not in str(caught.value)


def test_neither_url_nor_client_is_a_type_error() -> None:
    with redis.Redis() as client, pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        RedisStore(client)

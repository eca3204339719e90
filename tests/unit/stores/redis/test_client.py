"""The Redis store's per-loop clients and connection settings, checked without a server.

Making a client connects nothing, so all of this runs without Redis; connecting, TLS
against a server and timeouts are checked in ``tests/integration/stores/redis``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

import pytest
import redis.asyncio
from redis.asyncio.connection import UnixDomainSocketConnection

from openfeature_litestar import ConfigurationError, StoreError
from openfeature_litestar._stores._redis._client import LoopClients

if TYPE_CHECKING:
    from openfeature_litestar._stores._redis._client import LoopClient


def _in_a_loop(clients: LoopClients) -> LoopClient:
    """The client ``clients`` makes for a fresh event loop (closed again afterwards)."""

    async def make() -> LoopClient:
        try:
            return clients.this_loop()
        finally:
            await clients.close_this_loop()

    return asyncio.run(make())


def test_a_url_is_shown_without_its_password() -> None:
    clients = LoopClients("redis://ops:s3cret@redis.example:6380/2", timeout=1)
    assert "s3cret" not in clients.target
    assert "redis.example:6380" in clients.target


def test_a_given_client_is_shown_by_host_port_and_database() -> None:
    given = redis.asyncio.Redis(host="flags.internal", port=6390, db=4)
    assert LoopClients(given, timeout=1).target == "flags.internal:6390/4"


def test_a_given_unix_socket_client_is_shown_by_its_path() -> None:
    given = redis.asyncio.Redis(unix_socket_path="/run/redis/redis.sock", db=1)
    clients = LoopClients(given, timeout=1)
    assert clients.target == "unix:/run/redis/redis.sock?db=1"
    assert cast(
        "redis.asyncio.Redis", _in_a_loop(clients).client
    ).connection_pool.connection_class is (UnixDomainSocketConnection)


def test_the_store_s_timeouts_and_decoding_replace_a_given_client_s() -> None:
    given = redis.asyncio.Redis(
        host="flags.internal", socket_timeout=60, socket_connect_timeout=60, username="flags"
    )
    settings = cast(
        "redis.asyncio.Redis", _in_a_loop(LoopClients(given, timeout=2)).client
    ).connection_pool.connection_kwargs
    assert (settings["socket_timeout"], settings["socket_connect_timeout"]) == (2, 2)
    assert (settings["decode_responses"], settings["encoding"]) == (True, "utf-8")
    assert (settings["host"], settings["username"]) == ("flags.internal", "flags")


def test_each_loop_gets_its_own_client_and_a_loop_keeps_its_one() -> None:
    clients = LoopClients("redis://127.0.0.1:6379/0", timeout=1)

    async def twice() -> tuple[LoopClient, LoopClient]:
        try:
            return clients.this_loop(), clients.this_loop()
        finally:
            await clients.close_this_loop()

    first, again = asyncio.run(twice())
    other, _ = asyncio.run(twice())
    assert first is again
    assert other is not first
    assert other.client is not first.client


def test_closing_a_loop_ends_its_watches_and_the_next_use_opens_afresh() -> None:
    clients = LoopClients("redis://127.0.0.1:6379/0", timeout=1)

    async def close_and_reopen() -> tuple[LoopClient, LoopClient]:
        closed = clients.this_loop()
        await clients.close_this_loop()
        await clients.close_this_loop()  # twice is fine
        try:
            return closed, clients.this_loop()
        finally:
            await clients.close_this_loop()

    closed, reopened = asyncio.run(close_and_reopen())
    assert closed.closing.is_set()
    assert reopened is not closed
    assert reopened.closing.is_set()  # closed in turn by the finally above


def test_a_loop_s_script_is_registered_once() -> None:
    clients = LoopClients("redis://127.0.0.1:6379/0", timeout=1)

    async def register() -> bool:
        try:
            state = clients.this_loop()
            return state.script("return 1") is state.script("return 1")
        finally:
            await clients.close_this_loop()

    assert asyncio.run(register())


def test_driver_errors_become_store_errors_without_the_password() -> None:
    clients = LoopClients("redis://user:s3cret@127.0.0.1:1/0", timeout=1)
    with pytest.raises(StoreError) as caught, clients.store_errors("reading the document"):
        raise redis.exceptions.ConnectionError("refused by redis://user:s3cret@127.0.0.1:1")
    message = str(caught.value)
    assert message.startswith("Redis at redis://user:***@127.0.0.1:1/0: reading the document")
    assert "s3cret" not in message
    assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)


def test_a_timeout_without_a_message_is_named_by_its_type() -> None:
    clients = LoopClients("redis://127.0.0.1:1/0", timeout=1)
    with (
        pytest.raises(StoreError, match="checking the revision failed: TimeoutError"),
        clients.store_errors("checking the revision"),
    ):
        raise TimeoutError


def test_a_url_redis_py_refuses_is_a_configuration_error_without_the_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        LoopClients("http://user:s3cret@127.0.0.1:6379/0", timeout=1)
    assert "s3cret" not in str(caught.value)
    assert "redis://, rediss:// or unix://" in str(caught.value)


def test_neither_url_nor_client_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not int"):
        LoopClients(6379, timeout=1)  # type: ignore[arg-type]

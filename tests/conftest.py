"""Fixtures shared by every test: a fresh OpenFeature domain, and the real servers.

Redis and PostgreSQL tests use real servers, found through environment variables
(defaults: the local servers on their standard ports). Where a server cannot be used
(not reachable, refusing the credentials, without the database) the tests that need it
skip with the reason, except under CI (``CI`` set), where a
missing server fails them: CI must never pass by skipping what it exists to check.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import TYPE_CHECKING, NoReturn

import pytest
import redis
from openfeature import api
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from openfeature_litestar._masking import mask_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REDIS_URL_ENV = "OPENFEATURE_LITESTAR_TEST_REDIS_URL"
POSTGRES_URL_ENV = "OPENFEATURE_LITESTAR_TEST_POSTGRES_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def domain() -> Iterator[str]:
    """A unique OpenFeature domain; every provider is shut down and unbound afterwards.

    ``api.clear_providers()`` also removes the event handlers the test added, so no
    handler or background sync outlives the test that started it.
    """
    yield f"test-{uuid.uuid4()}"
    api.clear_providers()


def _unavailable(name: str, env: str, problem: str) -> NoReturn:
    reason = f"{name} {problem}; set {env} to use another"
    if os.environ.get("CI"):
        pytest.fail(f"under CI every server must run: {reason}")
    pytest.skip(reason)


def _check_redis(url: str) -> None:
    """Connect, authenticate and ``PING``: an open port alone is not a usable server."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _check_postgres(url: str) -> None:
    """Connect (authenticating, to the database named) and run ``SELECT 1``."""

    async def select_one() -> None:
        engine = create_async_engine(url, connect_args={"timeout": 2})
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()

    asyncio.run(select_one())


def _require_server(url: str, name: str, env: str, check: Callable[[str], None]) -> str:
    shown = mask_url(url)
    try:
        check(url)
    except Exception as exc:  # any failure means: no usable server here
        first_line = str(exc).partition("\n")[0]  # SQLAlchemy appends a help link
        _unavailable(name, env, f"at {shown} cannot be used ({type(exc).__name__}: {first_line})")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a real Redis server (skips without one, fails under CI)."""
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    return _require_server(url, "Redis", REDIS_URL_ENV, _check_redis)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The SQLAlchemy URL of a real PostgreSQL database (skips without one, fails under CI)."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    return _require_server(url, "PostgreSQL", POSTGRES_URL_ENV, _check_postgres)


@pytest.fixture
def unique_name() -> str:
    """A fresh name for a namespace, key prefix or table prefix, so tests never collide."""
    return f"t{uuid.uuid4().hex[:12]}"

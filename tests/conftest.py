"""Fixtures shared by every test: a fresh OpenFeature domain, and the real servers.

Redis and PostgreSQL tests use real servers, found through environment variables
(defaults: the local servers on their standard ports). Where a server is not reachable
the tests that need it skip with the reason, except under CI (``CI`` set), where a
missing server fails them: CI must never pass by skipping what it exists to check.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from openfeature import api

if TYPE_CHECKING:
    from collections.abc import Iterator

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


def _require_server(url: str, name: str, env: str, default_port: int) -> str:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return url
    except OSError as exc:
        reason = f"{name} is not reachable at {host}:{port} ({exc}); set {env} to use another"
        if os.environ.get("CI"):
            pytest.fail(f"under CI every server must run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a real Redis server (skips without one, fails under CI)."""
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    return _require_server(url, "Redis", REDIS_URL_ENV, 6379)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The SQLAlchemy URL of a real PostgreSQL database (skips without one, fails under CI)."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    return _require_server(url, "PostgreSQL", POSTGRES_URL_ENV, 5432)


@pytest.fixture
def unique_name() -> str:
    """A fresh name for a namespace, key prefix or table prefix, so tests never collide."""
    return f"t{uuid.uuid4().hex[:12]}"

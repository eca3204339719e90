"""Fixtures of the Redis store's tests: a fresh key prefix, a plain client, a store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import redis

from openfeature_litestar._stores._redis import RedisStore

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def prefix(redis_url: str, unique_name: str) -> Iterator[str]:
    """A fresh key prefix; every key under it is deleted after the test."""
    yield f"{unique_name}:"
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{unique_name}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client, to look at and tamper with the keys behind the store's back."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        yield client


@pytest.fixture
def store(redis_url: str, prefix: str) -> RedisStore:
    return RedisStore(redis_url, key_prefix=prefix, namespace="production")

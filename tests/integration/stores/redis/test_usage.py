"""Usage counters in a real Redis: hourly hashes, added to at most once per batch."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import StoreError, UsageBatch, UsageKey, UsageRecord
from openfeature_litestar._stores._redis import RedisStore

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    import redis

pytestmark = pytest.mark.integration

HOUR = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
EARLIER = HOUR - timedelta(hours=3)
ON = UsageKey("beta", "on", "TARGETING_MATCH", None)
MISSING = UsageKey("nope", None, "ERROR", "FLAG_NOT_FOUND")


def _run(store: RedisStore, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def test_counts_are_added_per_hour_and_read_back(store: RedisStore, raw: redis.Redis) -> None:
    first = UsageBatch("a1", 1, {(HOUR, ON): 3, (EARLIER, MISSING): 2})
    second = UsageBatch("b2", 1, {(HOUR, ON): 4, (HOUR, MISSING): 1})

    async def work() -> list[UsageRecord]:
        await store.record_usage(first)
        await store.record_usage(second)
        return await store.read_usage(since=EARLIER)

    assert _run(store, work) == [
        UsageRecord(EARLIER, MISSING, 2),
        UsageRecord(HOUR, ON, 7),
        UsageRecord(HOUR, MISSING, 1),
    ]
    name = f"{store.key_prefix}production:usage:{HOUR:%Y%m%d%H}"
    assert raw.hgetall(name) == {
        json.dumps(list(ON), separators=(",", ":")): "7",
        json.dumps(list(MISSING), separators=(",", ":")): "1",
    }
    ttl = raw.ttl(name)
    assert 34 * 86400 < ttl <= 35 * 86400


def test_a_batch_sent_twice_is_added_once(store: RedisStore) -> None:
    batch = UsageBatch("c3", 7, {(HOUR, ON): 5})

    async def work() -> list[UsageRecord]:
        await store.record_usage(batch)
        await store.record_usage(batch)  # its first answer was lost, say
        await store.record_usage(UsageBatch("c3", 6, {(HOUR, ON): 100}))  # an older one
        await store.record_usage(UsageBatch("c3", 8, {(HOUR, ON): 1}))
        return await store.read_usage(since=HOUR, until=HOUR)

    assert _run(store, work) == [UsageRecord(HOUR, ON, 6)]


def test_reading_a_range_reads_only_those_hours(store: RedisStore) -> None:
    batch = UsageBatch("d4", 1, {(EARLIER, ON): 1, (HOUR, ON): 2})

    async def work() -> tuple[list[UsageRecord], list[UsageRecord]]:
        await store.record_usage(batch)
        return (
            await store.read_usage(since=EARLIER, until=EARLIER + timedelta(minutes=59)),
            await store.read_usage(since=HOUR + timedelta(hours=1)),
        )

    assert _run(store, work) == ([UsageRecord(EARLIER, ON, 1)], [])
    with pytest.raises(ValueError, match="aware"):
        _run(store, lambda: store.read_usage(since=datetime(2026, 1, 1)))  # noqa: DTZ001 - the point


def test_a_field_written_around_the_store_is_a_store_error(
    store: RedisStore, raw: redis.Redis
) -> None:
    raw.hset(f"{store.key_prefix}production:usage:{HOUR:%Y%m%d%H}", "junk", "1")
    with pytest.raises(StoreError, match="no usage counter"):
        _run(store, lambda: store.read_usage(since=HOUR))


def test_an_unreachable_redis_is_a_store_error() -> None:
    store = RedisStore("redis://127.0.0.1:1/0", timeout=0.5)
    with pytest.raises(StoreError, match="adding usage counters"):
        _run(store, lambda: store.record_usage(UsageBatch("e5", 1, {(HOUR, ON): 1})))


def test_a_session_must_be_a_token_a_provider_makes(store: RedisStore) -> None:
    with pytest.raises(ValueError, match="hex digits"):
        _run(store, lambda: store.record_usage(UsageBatch("a:b*", 1, {(HOUR, ON): 1})))

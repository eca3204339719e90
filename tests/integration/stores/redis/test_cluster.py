"""RedisStore on its own local Redis Cluster (3 primaries, 3 replicas) and Sentinel set-up.

The deployments are started by :mod:`tests.redis_servers` on free loopback ports, never
the shared Redis. The failover tests kill the primary that owns the namespace while
providers evaluate and a writer writes (:mod:`benchmarks.redis_failover`), and assert
what must hold whatever the timing: no exception reaches a caller, no answer is one
never written, every provider is READY again and serves a write made after the failover.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pytest
import redis

from benchmarks.redis_failover import run_failover
from openfeature_litestar import RedisStore, store_from_url
from openfeature_litestar._stores._usage import UsageBatch, UsageKey
from tests.redis_servers import Cluster, running_cluster, running_sentinels
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as started:
        yield started


def test_a_cluster_store_writes_reads_and_keeps_a_namespace_in_one_slot(
    cluster: Cluster, unique_name: str
) -> None:
    store = store_from_url(f"{cluster.url}?namespace=production", key_prefix=f"{unique_name}:")
    assert isinstance(store, RedisStore)

    async def work() -> tuple[int, int]:
        try:
            first = await store.put_flag("switch", flag("on"), actor="t")
            second = await store.put_flag("other", flag("off"), actor="t")
            loaded = await store.load()
            assert set(loaded.document.flags) == {"switch", "other"}
            assert [entry.revision for entry in await store.audit_log()] == [2, 1]
            return first, second
        finally:
            await store.close()

    assert asyncio.run(work()) == (1, 2)
    tag = f"{{{unique_name}:production}}"
    owner = cluster.primary_of(tag)
    with redis.Redis(port=owner, decode_responses=True) as node:
        assert node.hget(tag, "revision") == "2"
        assert node.xlen(f"{tag}:audit") == 2
        slots = {node.cluster("keyslot", key) for key in (tag, f"{tag}:audit", f"{tag}:changes")}
    assert len(slots) == 1


def test_a_cluster_watch_wakes_on_a_write_by_sharded_pub_sub(
    cluster: Cluster, unique_name: str
) -> None:
    # A poll far beyond the test's wait: only the SPUBLISH notice can wake the watch.
    watcher = RedisStore(cluster.url, key_prefix=f"{unique_name}:", poll_interval=3600)
    writer = RedisStore(cluster.url, key_prefix=f"{unique_name}:")

    async def work() -> int:
        changes = watcher.changes()
        try:
            await anext(changes)
            await writer.put_flag("switch", flag("on"), actor="t")
            await asyncio.wait_for(anext(changes), 30)
            return (await watcher.load()).revision
        finally:
            await changes.aclose()
            await watcher.close()
            await writer.close()

    assert asyncio.run(work()) == 1


def test_usage_counters_work_in_a_cluster(cluster: Cluster, unique_name: str) -> None:
    store = RedisStore(cluster.url, key_prefix=f"{unique_name}:")
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    counter = UsageKey("switch", "on", "STATIC", None)

    async def work() -> int:
        try:
            await store.record_usage(UsageBatch("ab12", 1, {(hour, counter): 3}))
            return sum(record.count for record in await store.read_usage(since=hour))
        finally:
            await store.close()

    assert asyncio.run(work()) == 3


def test_killing_the_namespace_s_cluster_primary_never_reaches_callers() -> None:
    with running_cluster() as own:
        result = run_failover(own.url, lambda key: own.kill(own.primary_of(key)), tagged=True)
    assert result.exceptions == []
    assert result.evaluations > 0
    assert result.wrong_answers == 0
    assert result.to_seen_everywhere is not None  # every provider served a later write
    # Acknowledged writes lost is measured, not asserted: replication is asynchronous
    # and the store does not use WAIT (see the docs), so 0 is likely but not promised.


def test_a_sentinel_failover_never_reaches_callers() -> None:
    with running_sentinels() as own:

        def kill(_: str) -> None:
            own.server(own.current_primary()).kill()

        result = run_failover(own.url, kill, tagged=False)
    assert result.exceptions == []
    assert result.evaluations > 0
    assert result.wrong_answers == 0
    assert result.to_seen_everywhere is not None

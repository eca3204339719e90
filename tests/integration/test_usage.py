"""Usage counters across processes and through outages, on real Redis and PostgreSQL.

Several processes evaluate through their own providers on one shared store, on several
threads each, and shut down; the counts the store holds then add up to every
evaluation made, per counter. A provider whose store is cut off (a TCP proxy the test
owns) keeps its counts while the store is down and delivers them when it is back, and
drops only beyond its bound, saying how many. No raw targeting key or attribute value
is ever in the stored counters.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import (
    TRACKING_REASON,
    FlagProvider,
    RedisStore,
    SQLAlchemyStore,
    UsageConfig,
    UsageKey,
)
from tests.support import SQL_TABLES, flag

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from openfeature_litestar import UsageRecord, WritableFlagStore

pytestmark = pytest.mark.integration

PROCESSES = 3
THREADS = 4
PER_THREAD = 2_000
SIZES = (str(THREADS), str(PER_THREAD))
FLAGS: dict[str, Any] = {
    "static": flag("on"),
    "targeted": flag("off", targeting={"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]}),
}

CHILD = """
import json, sys, threading
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature_litestar import FlagProvider, RedisStore, SQLAlchemyStore, UsageConfig

kind, url, options, threads, per_thread = sys.argv[1:6]
store = (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **json.loads(options))
usage = UsageConfig(flush_interval=0.2)
api.set_provider_and_wait(FlagProvider(store, init_timeout=20, usage=usage))
client = api.get_client()
keys = ["static", "targeted", "missing"]

def work(n):
    for i in range(int(per_thread)):
        plan = "pro" if i % 3 == 0 else "free"
        context = EvaluationContext(f"user-{n}-{i}", {"plan": plan})
        client.get_boolean_value(keys[(i + n) % len(keys)], False, context)

running = [threading.Thread(target=work, args=(n,)) for n in range(int(threads))]
for thread in running:
    thread.start()
for thread in running:
    thread.join()
api.shutdown()  # the final flush
print("done", flush=True)
"""


def _expected_per_process() -> Counter[UsageKey]:
    """What one child counts: its evaluations, worked out as plainly as possible."""
    keys = ["static", "targeted", "missing"]
    expected: Counter[UsageKey] = Counter()
    for n in range(THREADS):
        for i in range(PER_THREAD):
            key = keys[(i + n) % len(keys)]
            if key == "static":
                expected[UsageKey("static", "on", "STATIC", None)] += 1
            elif key == "targeted":
                variant = "on" if i % 3 == 0 else "off"
                expected[UsageKey("targeted", variant, "TARGETING_MATCH", None)] += 1
            else:
                expected[UsageKey("missing", None, "ERROR", "FLAG_NOT_FOUND")] += 1
    return expected


def _run(store: WritableFlagStore, work: Callable[[], Any]) -> Any:
    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def _read(store: Any) -> list[UsageRecord]:
    since = datetime.now(timezone.utc) - timedelta(hours=2)
    records: list[UsageRecord] = _run(store, lambda: store.read_usage(since=since))
    return records


def _totals(records: list[UsageRecord]) -> Counter[UsageKey]:
    totals: Counter[UsageKey] = Counter()
    for record in records:
        totals[record.key] += record.count
    return totals


@pytest.fixture(params=["redis", "postgres"])
def shared(
    request: pytest.FixtureRequest, unique_name: str
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, url, options) of a store every process opens; its data is removed after."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        yield "redis", url, {"key_prefix": f"{unique_name}:"}
        import redis  # noqa: PLC0415 - only the Redis case needs it

        with redis.Redis.from_url(url) as client:
            keys = list(client.scan_iter(match=f"{unique_name}:*"))
            if keys:
                client.delete(*keys)
    else:
        url = request.getfixturevalue("postgres_url")
        prefix = f"{unique_name}_"
        yield "postgres", url, {"table_prefix": prefix}
        from sqlalchemy import text  # noqa: PLC0415 - only the PostgreSQL case needs it
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415 - same

        async def drop() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                for name in SQL_TABLES:
                    await connection.execute(text(f'DROP TABLE IF EXISTS "{prefix}{name}"'))
            await engine.dispose()

        asyncio.run(drop())


def _store(kind: str, url: str, options: dict[str, Any]) -> WritableFlagStore:
    return (RedisStore if kind == "redis" else SQLAlchemyStore)(url, **options)


def test_processes_sharing_a_store_add_up_to_every_evaluation(
    shared: tuple[str, str, dict[str, Any]],
) -> None:
    kind, url, options = shared
    writer = _store(kind, url, options)
    _run(writer, lambda: writer.replace_document({"flags": FLAGS}, actor="test"))
    children = [
        subprocess.Popen(  # noqa: S603 - this interpreter, our own script
            [sys.executable, "-c", CHILD, kind, url, json.dumps(options), *SIZES],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        assert out.strip() == "done"
    totals = _totals(_read(_store(kind, url, options)))
    expected = _expected_per_process()
    assert totals == Counter({key: count * PROCESSES for key, count in expected.items()})
    assert sum(totals.values()) == PROCESSES * THREADS * PER_THREAD


def test_counts_wait_out_an_outage_and_beyond_the_bound_are_dropped_and_reported(
    proxy_for: Any,
    shared: tuple[str, str, dict[str, Any]],
    domain: str,
) -> None:
    kind, url, options = shared
    direct = _store(kind, url, options)
    many = {f"f{n}": flag("on") for n in range(10)}
    _run(direct, lambda: direct.replace_document({"flags": {**FLAGS, **many}}, actor="test"))
    proxy = proxy_for(url, 6379 if kind == "redis" else 5432)
    proxied = _store(kind, proxy.url(url), {**options, "timeout": 1.0})
    config = UsageConfig(flush_interval=3600, max_pending=12)
    provider = FlagProvider(proxied, usage=config, stale_after=60)
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    secret_key, secret_plan = f"user-{uuid.uuid4()}", f"plan-{uuid.uuid4()}"
    context = EvaluationContext(secret_key, {"plan": secret_plan})

    for _ in range(5):
        client.get_boolean_value("static", False, context)
    proxy.cut()
    for _ in range(7):
        client.get_boolean_value("targeted", False, context)
    assert not provider.flush_usage(timeout=10)
    assert provider.flush_usage(timeout=10) is False  # retried, still down: still kept
    usage = provider.usage
    assert (usage.unflushed, usage.dropped) == (12, 0)
    proxy.restore()
    assert provider.flush_usage(timeout=10)
    stored = _totals(_read(_store(kind, url, options)))
    assert stored == {
        UsageKey("static", "on", "STATIC", None): 5,
        UsageKey("targeted", "off", "TARGETING_MATCH", None): 7,
    }

    # Beyond the bound: 12 counts may wait; 13 drop the oldest batch (the ten sent and
    # refused: a batch once sent is dropped whole, never changed).
    proxy.cut()
    for key in many:
        client.get_boolean_value(key, False, context)
    assert not provider.flush_usage(timeout=10)
    for key in ["static", "targeted", "missing"]:
        client.get_boolean_value(key, False, context)
    assert not provider.flush_usage(timeout=10)
    assert provider.usage.dropped == 10
    proxy.restore()
    assert provider.flush_usage(timeout=10)
    provider.shutdown()
    records = _read(_store(kind, url, options))
    assert sum(record.count for record in records) + provider.usage.dropped == 5 + 7 + 13
    assert provider.usage.evaluations == 5 + 7 + 13
    text = repr(records)
    assert secret_key not in text
    assert secret_plan not in text
    if kind == "redis":
        import redis  # noqa: PLC0415 - only the Redis case needs it

        with redis.Redis.from_url(url, decode_responses=True) as raw:
            for name in raw.scan_iter(match=f"{options['key_prefix']}*usage*"):
                dumped = f"{name} {raw.dump(name)!r}"
                assert secret_key not in dumped
                assert secret_plan not in dumped


def test_tracking_events_are_stored_per_name_beside_the_evaluations(
    shared: tuple[str, str, dict[str, Any]], domain: str
) -> None:
    kind, url, options = shared
    writer = _store(kind, url, options)
    _run(writer, lambda: writer.replace_document({"flags": FLAGS}, actor="test"))
    for _ in range(2):  # two providers, as two processes would be: their counts add up
        provider = FlagProvider(_store(kind, url, options), usage=UsageConfig(flush_interval=3600))
        api.set_provider_and_wait(provider, domain=domain)
        client = api.get_client(domain)
        try:
            client.get_boolean_value("static", default_value=False)
            for name in ["purchase", "purchase", "static"]:
                client.track(name)
            assert provider.flush_usage(timeout=10)
        finally:
            api.clear_providers()
    totals = _totals(_read(_store(kind, url, options)))
    assert totals[UsageKey("purchase", None, TRACKING_REASON, None)] == 4
    assert totals[UsageKey("static", None, TRACKING_REASON, None)] == 2
    assert totals[UsageKey("static", "on", "STATIC", None)] == 2

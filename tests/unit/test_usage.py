"""Usage counters in the provider: exact, bounded, off when asked, flushed to the store."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, FlagType

from openfeature_litestar import (
    OTHER_FLAG_KEYS,
    ConfigurationError,
    FlagProvider,
    MemoryStore,
    Snapshot,
    StoreError,
    UsageBatch,
    UsageConfig,
    UsageKey,
    UsageRecord,
    UsageStore,
    document_from_data,
)
from openfeature_litestar._provider._usage import UsageCounters, UsageFlusher
from openfeature_litestar.evaluation import resolve
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator

THREADS = 8
PER_THREAD = 20_000

DOCUMENT: dict[str, Any] = {
    "flags": {
        "static": flag("on"),
        "targeted": flag("off", targeting={"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]}),
        "disabled": flag("on", state="DISABLED"),
        "colour": flag("red", variants={"red": "red", "blue": "blue"}),
    }
}
# Half past the current hour: the in-process stores forget hours past their retention.
NOW = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)


def _key(flag_key: str, variant: str | None, reason: str, error: str | None = None) -> UsageKey:
    return UsageKey(flag_key, variant, reason, error)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(DOCUMENT)


@pytest.fixture
def provider(store: MemoryStore, domain: str) -> Iterator[FlagProvider]:
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    yield provider
    provider.shutdown()


def _read(store: UsageStore) -> list[UsageRecord]:
    since = datetime.now(timezone.utc) - timedelta(hours=2)
    return asyncio.run(store.read_usage(since=since))


def _stored_totals(store: UsageStore) -> Counter[UsageKey]:
    totals: Counter[UsageKey] = Counter()
    for record in _read(store):
        totals[record.key] += record.count
    return totals


def test_every_outcome_is_counted_by_flag_variant_reason_and_error(
    provider: FlagProvider, domain: str
) -> None:
    client = api.get_client(domain)
    pro = EvaluationContext("user-1", {"plan": "pro"})
    client.get_boolean_value("static", False)
    client.get_boolean_value("targeted", False, pro)
    client.get_boolean_value("targeted", False, EvaluationContext("user-2", {"plan": "free"}))
    client.get_boolean_value("disabled", False)
    client.get_boolean_value("nope", False)
    client.get_integer_value("static", 0)  # a boolean flag asked as an integer
    client.get_string_value("colour", "x")
    assert dict(provider.usage.counts) == {
        _key("static", "on", "STATIC"): 1,
        _key("targeted", "on", "TARGETING_MATCH"): 1,
        _key("targeted", "off", "TARGETING_MATCH"): 1,
        _key("disabled", None, "DISABLED"): 1,
        _key("nope", None, "ERROR", "FLAG_NOT_FOUND"): 1,
        _key("static", None, "ERROR", "TYPE_MISMATCH"): 1,
        _key("colour", "red", "STATIC"): 1,
    }
    assert provider.usage.evaluations == 7
    assert all(type(part) in {str, type(None)} for key in provider.usage.counts for part in key)


def test_the_other_resolvers_count_too(provider: FlagProvider) -> None:
    provider.resolve_any_details("colour")
    provider.resolve_all_details(None)
    counts = provider.usage.counts
    assert counts[_key("colour", "red", "STATIC")] == 2
    assert counts[_key("static", "on", "STATIC")] == 1
    assert sum(counts.values()) == 1 + len(DOCUMENT["flags"])


def test_counts_are_exact_under_eight_threads(provider: FlagProvider, domain: str) -> None:
    client = api.get_client(domain)
    keys = ["static", "targeted", "colour", "missing-1", "missing-2"]
    start = threading.Barrier(THREADS)
    taken: Counter[UsageKey] = Counter()
    counters = provider._counters
    assert counters is not None
    done = threading.Event()

    def evaluate(offset: int) -> None:
        start.wait()
        for i in range(PER_THREAD):
            client.get_boolean_value(keys[(i + offset) % len(keys)], False)

    def collect() -> None:
        while not done.is_set():
            for (_, key), count in counters.take(NOW).items():
                taken[key] += count

    collector = threading.Thread(target=collect)
    collector.start()
    threads = [threading.Thread(target=evaluate, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    collector.join()
    for (_, key), count in counters.take(NOW).items():
        taken[key] += count

    total = THREADS * PER_THREAD
    assert provider.usage.evaluations == total
    assert sum(taken.values()) == total  # what the flushes took: nothing lost, nothing twice
    assert dict(taken) == dict(provider.usage.counts)
    assert taken[_key("static", "on", "STATIC")] == total // len(keys)


def _started(store: MemoryStore, domain: str, **config: Any) -> FlagProvider:
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600, **config))
    api.set_provider_and_wait(provider, domain=domain)
    return provider


def test_unknown_keys_beyond_the_cap_count_as_one_bucket(store: MemoryStore, domain: str) -> None:
    provider = _started(store, domain, max_unknown_keys=10)
    for n in range(1_000):
        provider.resolve_boolean_details(f"random-{n}", False)
    provider.resolve_boolean_details("random-3", False)  # known to the counters already
    provider.resolve_boolean_details("static", False)  # flags are not unknown keys
    counts = provider.usage.counts
    other = _key(OTHER_FLAG_KEYS, None, "ERROR", "FLAG_NOT_FOUND")
    assert counts[other] == 990
    assert counts[_key("random-3", None, "ERROR", "FLAG_NOT_FOUND")] == 2
    assert len(counts) == 10 + 1 + 1
    assert sum(counts.values()) == 1_002


def test_keys_no_flag_can_have_are_never_kept(store: MemoryStore, domain: str) -> None:
    provider = _started(store, domain)
    for bad in ["", "x" * 300, "line\nbreak", " padded", "\x1b[31mred"]:
        provider.resolve_boolean_details(bad, False)
    provider.resolve_boolean_details(["not", "hashable"], False)  # type: ignore[arg-type]
    counts = provider.usage.counts
    assert set(counts) == {
        _key(OTHER_FLAG_KEYS, None, "ERROR", "FLAG_NOT_FOUND"),
        _key(OTHER_FLAG_KEYS, None, "ERROR", "GENERAL"),
    }
    assert sum(counts.values()) == 6


def test_distinct_counters_are_bounded(store: MemoryStore, domain: str) -> None:
    provider = _started(store, domain, max_keys=2, max_unknown_keys=100)
    provider.resolve_boolean_details("static", False)
    provider.resolve_string_details("colour", "x")
    provider.resolve_boolean_details("targeted", False)  # a third counter: the overflow's
    provider.resolve_boolean_details("gone", False)
    assert dict(provider.usage.counts) == {
        _key("static", "on", "STATIC"): 1,
        _key("colour", "red", "STATIC"): 1,
        _key(OTHER_FLAG_KEYS, None, "TARGETING_MATCH"): 1,
        _key(OTHER_FLAG_KEYS, None, "ERROR", "FLAG_NOT_FOUND"): 1,
    }


def test_usage_false_counts_nothing(store: MemoryStore, domain: str) -> None:
    provider = FlagProvider(store, usage=False)
    api.set_provider_and_wait(provider, domain=domain)
    api.get_client(domain).get_boolean_value("static", False)
    assert not provider.usage.enabled
    assert provider.usage.evaluations == 0
    assert provider.flush_usage() is False
    assert _read(store) == []


@pytest.mark.parametrize(
    "config",
    [
        {"flush_interval": 0},
        {"max_keys": 0},
        {"max_unknown_keys": -1},
        {"max_pending": True},
        {"max_batch": 1.5},
    ],
)
def test_bad_settings_are_configuration_errors(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(config))):
        UsageConfig(**config)


def test_usage_must_be_a_config_or_a_bool(store: MemoryStore) -> None:
    with pytest.raises(TypeError, match="UsageConfig"):
        FlagProvider(store, usage="yes")  # type: ignore[arg-type]


def test_a_flush_writes_the_counts_to_the_store(
    provider: FlagProvider, store: MemoryStore, domain: str
) -> None:
    client = api.get_client(domain)
    for _ in range(5):
        client.get_boolean_value("static", False)
    assert provider.flush_usage()
    assert _stored_totals(store) == {_key("static", "on", "STATIC"): 5}
    client.get_boolean_value("static", False)
    assert provider.flush_usage()
    assert provider.flush_usage()  # nothing new: nothing added
    assert _stored_totals(store) == {_key("static", "on", "STATIC"): 6}
    usage = provider.usage
    assert (usage.unflushed, usage.dropped, usage.flushes) == (0, 0, 2)
    (hour,) = {record.hour for record in _read(store)}
    assert hour == datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)


def test_shutdown_flushes_what_was_counted(store: MemoryStore, domain: str) -> None:
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    for _ in range(3):
        api.get_client(domain).get_string_value("colour", "x")
    provider.shutdown()
    assert _stored_totals(store) == {_key("colour", "red", "STATIC"): 3}
    provider.shutdown()  # idempotent


def test_the_background_flush_runs_every_interval(store: MemoryStore, domain: str) -> None:
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=0.05))
    api.set_provider_and_wait(provider, domain=domain)
    api.get_client(domain).get_boolean_value("static", False)
    deadline = asyncio.run(_until(lambda: bool(_read(store))))
    assert deadline, "no flush within 5 s"
    provider.shutdown()


async def _until(predicate: Any, timeout: float = 5.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(0.02)
    return False


def test_stores_that_keep_no_counts_leave_them_in_the_provider(domain: str) -> None:
    class PlainStore:
        def __init__(self) -> None:
            self.inner = MemoryStore(DOCUMENT)

        async def load(self) -> Any:
            return await self.inner.load()

        def changes(self) -> Any:
            return self.inner.changes()

        async def close(self) -> None:
            await self.inner.close()

    provider = FlagProvider(PlainStore())
    api.set_provider_and_wait(provider, domain=domain)
    api.get_client(domain).get_boolean_value("static", False)
    assert provider.flush_usage() is False
    assert provider.usage.evaluations == 1
    provider.shutdown()
    assert provider.usage.dropped == 0


# -- the flusher against a store that fails -------------------------------------------------


class FlakyStore:
    """A usage store that fails while ``down``, and may apply a batch before failing."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.down = False
        self.apply_then_fail = False
        self.sent: list[tuple[str, int]] = []
        self.applied: set[tuple[str, int]] = set()

    async def record_usage(self, batch: UsageBatch) -> None:
        self.sent.append((batch.session, batch.sequence))
        if self.down:
            raise StoreError("down")
        if (batch.session, batch.sequence) not in self.applied:  # at most once, as stores do
            self.applied.add((batch.session, batch.sequence))
            await self.inner.record_usage(batch)
        if self.apply_then_fail:
            raise StoreError("the answer was lost")

    async def read_usage(self, *, since: datetime, until: datetime | None = None) -> Any:
        return await self.inner.read_usage(since=since, until=until)


SNAPSHOT = Snapshot.from_document(document_from_data(DOCUMENT))


def _details(key: str) -> FlagResolutionDetails[bool]:
    return resolve(SNAPSHOT, key, None, FlagType.BOOLEAN, False)


def _counters_with(evaluations: dict[str, int], config: UsageConfig) -> UsageCounters:
    counters = UsageCounters(config)
    for key, times in evaluations.items():
        for _ in range(times):
            counters.count(key, _details(key))
    return counters


def _total(store: FlakyStore) -> int:
    day = timedelta(days=1)
    records = asyncio.run(store.inner.read_usage(since=NOW - day, until=NOW + day))
    return sum(record.count for record in records)


def test_counts_wait_while_the_store_is_down_and_arrive_once_when_it_is_back() -> None:
    config = UsageConfig()
    counters = _counters_with({"static": 3}, config)
    store = FlakyStore()
    flusher = UsageFlusher(counters, store, config)
    store.down = True
    assert not asyncio.run(flusher.flush())
    counters.count(
        "static", FlagProvider(MemoryStore(DOCUMENT)).resolve_boolean_details("static", False)
    )
    assert not asyncio.run(flusher.flush())
    assert flusher.unflushed == 4
    store.down = False
    assert asyncio.run(flusher.flush())
    assert _total(store) == 4
    assert (flusher.unflushed, flusher.dropped) == (0, 0)


def test_a_batch_whose_answer_was_lost_is_sent_again_unchanged() -> None:
    config = UsageConfig()
    counters = _counters_with({"static": 2}, config)
    store = FlakyStore()
    flusher = UsageFlusher(counters, store, config)
    store.apply_then_fail = True
    assert not asyncio.run(flusher.flush())
    store.apply_then_fail = False
    assert asyncio.run(flusher.flush())
    assert store.sent[0] == store.sent[1]  # the same session and sequence
    assert _total(store) == 2


def test_beyond_max_pending_the_oldest_counts_are_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = UsageConfig(max_pending=2, max_batch=1)
    hours = iter([NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW])
    current = [next(hours)]
    counters = _counters_with({"static": 1, "colour": 2}, config)
    store = FlakyStore()
    store.down = True
    flusher = UsageFlusher(counters, store, config, clock=lambda: current[0])
    assert not asyncio.run(flusher.flush())  # two counts wait, in two batches
    current[0] = next(hours)
    counters.count("static", _details("static"))
    with caplog.at_level(logging.WARNING, "openfeature_litestar.provider.usage"):
        assert not asyncio.run(flusher.flush())
    assert flusher.dropped == 1  # the oldest batch: one of the first hour's counts
    assert "dropped the oldest 1 evaluations" in caplog.text
    store.down = False
    assert asyncio.run(flusher.flush())
    assert _total(store) + flusher.dropped == 4


def test_a_store_that_can_never_keep_counts_is_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Refusing(FlakyStore):
        async def record_usage(self, batch: UsageBatch) -> None:
            self.sent.append((batch.session, batch.sequence))
            raise ConfigurationError("no usage tables")

    config = UsageConfig()
    store = Refusing()
    flusher = UsageFlusher(_counters_with({"static": 1}, config), store, config)
    with caplog.at_level(logging.ERROR):
        assert not asyncio.run(flusher.flush())
        assert not asyncio.run(flusher.flush())
    assert len(store.sent) == 1
    assert "cannot keep usage counters" in caplog.text


def test_counts_land_in_the_hour_they_were_taken_in() -> None:
    config = UsageConfig()
    counters = _counters_with({"static": 1}, config)
    first = counters.take(NOW)
    counters.count("static", _details("static"))
    counters.count("static", _details("static"))
    second = counters.take(NOW + timedelta(hours=1))
    key = _key("static", "on", "STATIC")
    assert first == {(NOW.replace(minute=0), key): 1}
    assert second == {(NOW.replace(minute=0) + timedelta(hours=1), key): 2}
    assert counters.take(NOW) == {}


class FlakyFlagStore(FlakyStore):
    """A flag store (memory) whose usage side is flaky."""

    def __init__(self) -> None:
        super().__init__()
        self.flags = MemoryStore(DOCUMENT)

    async def load(self) -> Any:
        return await self.flags.load()

    def changes(self) -> Any:
        return self.flags.changes()

    async def close(self) -> None:
        await self.flags.close()


def test_shutdown_with_the_store_down_drops_and_says_so(
    caplog: pytest.LogCaptureFixture, domain: str
) -> None:
    store = FlakyFlagStore()
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    api.get_client(domain).get_boolean_value("static", False)
    store.down = True
    with caplog.at_level(logging.WARNING, "openfeature_litestar.provider.usage"):
        provider.shutdown()
    assert provider.usage.dropped == 1
    assert provider.usage.evaluations == 1
    assert "did not take them at shutdown" in caplog.text

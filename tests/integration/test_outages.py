"""Store outages against real Redis and PostgreSQL: the provider keeps answering.

Each test reaches its server through a TCP proxy it owns, evaluates a flag in a loop on
a sync thread and on an asyncio task, cuts the proxy, writes a change directly to the
server during the outage, then restores the proxy. Nothing may raise to a caller; every
answer during the outage is the last good one; STALE and then READY are announced; the
change written meanwhile is served after recovery.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import redis as redis_client
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent
from openfeature.provider import ProviderStatus

from openfeature_litestar import FlagProvider, RedisStore, SQLAlchemyStore
from tests.support import SQL_TABLES, flag, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator

    from typing_extensions import Self

    from openfeature_litestar import WritableFlagStore

WAIT = 20.0


def _run(store: WritableFlagStore, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


@dataclass
class _Backend:
    """One server reached two ways: directly, and through the test's proxy."""

    direct: WritableFlagStore
    proxied: WritableFlagStore
    proxy: Any
    cleanup: Callable[[], None] = field(default=lambda: None)


def _redis(request: pytest.FixtureRequest, name: str, proxy_for: Any) -> _Backend:
    url = request.getfixturevalue("redis_url")
    proxy = proxy_for(url, 6379)
    options: dict[str, Any] = {"key_prefix": f"{name}:", "poll_interval": 0.2, "timeout": 1.0}

    def cleanup() -> None:
        import redis  # noqa: PLC0415 - only the Redis case needs it

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{name}:*"))
        if keys:
            client.delete(*keys)
        client.close()

    return _Backend(
        RedisStore(url, **options), RedisStore(proxy.url(url), **options), proxy, cleanup
    )


def _postgres(request: pytest.FixtureRequest, name: str, proxy_for: Any) -> _Backend:
    url = request.getfixturevalue("postgres_url")
    proxy = proxy_for(url, 5432)
    options: dict[str, Any] = {"table_prefix": f"{name}_", "poll_interval": 0.2, "timeout": 1.0}

    def cleanup() -> None:
        from sqlalchemy import text  # noqa: PLC0415 - only the SQL case needs it
        from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

        async def drop() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                for table in SQL_TABLES:
                    await connection.execute(text(f'DROP TABLE IF EXISTS "{name}_{table}"'))
            await engine.dispose()

        asyncio.run(drop())

    return _Backend(
        SQLAlchemyStore(url, **options),
        SQLAlchemyStore(proxy.url(url), **options),
        proxy,
        cleanup,
    )


@pytest.fixture(params=["redis", "postgres"])
def backend(request: pytest.FixtureRequest, unique_name: str, proxy_for: Any) -> Iterator[_Backend]:
    """A real server seeded with ``switch = True``, reachable directly and by proxy."""
    make = _redis if request.param == "redis" else _postgres
    made = make(request, unique_name, proxy_for)
    _run(made.direct, lambda: made.direct.put_flag("switch", flag("on"), actor="test"))
    yield made
    made.cleanup()


class _Evaluations:
    """Evaluates ``switch`` without pause on a thread (sync) and a task (async)."""

    def __init__(self, domain: str) -> None:
        self.client = api.get_client(domain)
        self.phase = "before"
        self.answers: list[tuple[str, bool, object]] = []
        self.exceptions: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._sync_loop, daemon=True),
            threading.Thread(target=lambda: asyncio.run(self._async_loop()), daemon=True),
        ]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(WAIT)

    def _record(self, phase: str, value: bool, error: object) -> None:
        self.answers.append((phase, value, error))

    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            phase = self.phase
            try:
                details = self.client.get_boolean_details("switch", False)
            except BaseException as exc:  # counting what must never happen
                self.exceptions.append(exc)
            else:
                self._record(phase, details.value, details.error_code)
            time.sleep(0.001)

    async def _async_loop(self) -> None:
        while not self._stop.is_set():
            phase = self.phase
            try:
                details = await self.client.get_boolean_details_async("switch", False)
            except BaseException as exc:  # counting what must never happen
                self.exceptions.append(exc)
            else:
                self._record(phase, details.value, details.error_code)
            await asyncio.sleep(0.001)


def _events(domain: str) -> queue.Queue[ProviderEvent]:
    seen: queue.Queue[ProviderEvent] = queue.Queue()
    client = api.get_client(domain)
    for event in (ProviderEvent.PROVIDER_STALE, ProviderEvent.PROVIDER_READY):

        def handler(_: EventDetails, event: ProviderEvent = event) -> None:
            seen.put(event)

        client.add_handler(event, handler)
    return seen


def _wait_for(seen: queue.Queue[ProviderEvent], wanted: ProviderEvent) -> None:
    deadline = time.monotonic() + WAIT
    while (left := deadline - time.monotonic()) > 0:
        with contextlib.suppress(queue.Empty):
            if seen.get(timeout=min(left, 0.1)) == wanted:
                return
    pytest.fail(f"no {wanted} within {WAIT} s")


def test_an_outage_never_reaches_callers(backend: _Backend, domain: str) -> None:
    provider = FlagProvider(backend.proxied, stale_after=0.5, init_timeout=WAIT)
    api.set_provider_and_wait(provider, domain)
    seen = _events(domain)
    _wait_for(seen, ProviderEvent.PROVIDER_READY)  # a new handler hears READY at once

    with _Evaluations(domain) as evaluations:
        time.sleep(0.2)
        evaluations.phase = "outage"
        backend.proxy.cut()
        _wait_for(seen, ProviderEvent.PROVIDER_STALE)
        _run(
            backend.direct,
            lambda: backend.direct.put_flag("switch", flag("off"), actor="during-outage"),
        )
        time.sleep(0.3)  # answers keep coming from the last good snapshot
        evaluations.phase = "recovering"
        backend.proxy.restore()
        _wait_for(seen, ProviderEvent.PROVIDER_READY)
        evaluations.phase = "after"
        deadline = time.monotonic() + WAIT
        while not any(phase == "after" for phase, _, _ in evaluations.answers):
            assert time.monotonic() < deadline
            time.sleep(0.01)

    assert evaluations.exceptions == []
    outage = [(value, error) for phase, value, error in evaluations.answers if phase == "outage"]
    assert outage
    assert set(outage) == {(True, None)}
    after = [(value, error) for phase, value, error in evaluations.answers if phase == "after"]
    assert set(after) == {(False, None)}
    assert provider.snapshot.revision == 2


def _ordered_events(domain: str) -> list[ProviderEvent]:
    """Every STALE, READY and CONFIGURATION_CHANGED the client hears, in order."""
    seen: list[ProviderEvent] = []
    client = api.get_client(domain)
    for event in (
        ProviderEvent.PROVIDER_STALE,
        ProviderEvent.PROVIDER_READY,
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
    ):

        def handler(_: EventDetails, event: ProviderEvent = event) -> None:
            seen.append(event)

        client.add_handler(event, handler)
    return seen


def _redis_writer(url: str, prefix: str) -> Callable[[dict[str, Any]], int]:
    """Writes ``switch`` into the default namespace under ``prefix``; returns the revision."""
    writer = RedisStore(url, key_prefix=prefix)

    async def write(definition: dict[str, Any]) -> int:
        try:
            return await writer.put_flag("switch", definition, actor="ci")
        finally:
            await writer.close()

    return lambda definition: asyncio.run(write(definition))


def test_a_redis_that_comes_back_empty_keeps_the_flags_until_a_new_history_is_written(
    redis_url: str,
    unique_name: str,
    proxy_for: Callable[[str, int], Any],
    domain: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A Redis restarted without persistence: the connections drop and the keys are gone.
    prefix = f"{unique_name}:"
    write = _redis_writer(redis_url, prefix)
    write(flag("on"))
    assert write(flag("on", metadata={"note": "second"})) == 2
    proxy = proxy_for(redis_url, 6379)
    store = RedisStore(proxy.url(redis_url), key_prefix=prefix, timeout=1)
    provider = FlagProvider(store, stale_after=0.2)
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    events = _ordered_events(domain)
    old_epoch = provider.snapshot.epoch
    try:
        proxy.cut()
        with redis_client.Redis.from_url(redis_url) as raw:
            raw.delete(*raw.scan_iter(match=f"{prefix}*"))
        proxy.restore()
        wait_until(
            lambda: "went back from revision 2 to 0" in str(provider.last_sync_error),
            timeout=WAIT,
            interval=0.05,
        )
        assert client.get_provider_status() == ProviderStatus.STALE
        assert client.get_boolean_details("switch", False).value is True  # not erased

        # One write, at revision 1 again (below the one served): a new history someone
        # wrote on purpose, taken at once.
        with caplog.at_level(logging.WARNING, logger="openfeature_litestar.provider"):
            assert write(flag("off")) == 1
            wait_until(
                lambda: ProviderEvent.PROVIDER_CONFIGURATION_CHANGED in events,
                timeout=WAIT,
                interval=0.05,
            )
        assert client.get_provider_status() == ProviderStatus.READY
        assert client.get_boolean_value("switch", True) is False
        new_epoch = provider.snapshot.epoch
        assert provider.snapshot.revision == 1
        assert new_epoch not in {"", old_epoch}
        stale = events.index(ProviderEvent.PROVIDER_STALE)
        assert events[stale:] == [
            ProviderEvent.PROVIDER_STALE,
            ProviderEvent.PROVIDER_READY,
            ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
        ]
        warnings = [
            record for record in caplog.records if "holds a new history" in record.getMessage()
        ]
        assert [record.levelno for record in warnings] == [logging.WARNING]
        message = warnings[0].getMessage()
        assert repr(store) in message
        assert repr(old_epoch) in message
        assert repr(new_epoch) in message
    finally:
        provider.shutdown()


def test_a_redis_restored_from_an_older_dump_is_refused_until_it_is_back(
    redis_url: str, unique_name: str, domain: str
) -> None:
    # The same history going back (an older RDB file, a lagging replica promoted): the
    # epoch is restored with the hash, so it is refused like any revision going back.
    prefix = f"{unique_name}:"
    key = f"{prefix}default"
    write = _redis_writer(redis_url, prefix)
    write(flag("on"))
    with redis_client.Redis.from_url(redis_url) as raw:
        older = raw.dump(key)
        assert write(flag("off")) == 2
        store = RedisStore(redis_url, key_prefix=prefix, poll_interval=0.1, timeout=1)
        provider = FlagProvider(store, stale_after=0.2)
        api.set_provider_and_wait(provider, domain)
        client = api.get_client(domain)
        epoch = provider.snapshot.epoch
        try:
            raw.restore(key, 0, older, replace=True)  # revision 1 again, nothing published
            wait_until(
                lambda: "went back from revision 2 to 1" in str(provider.last_sync_error),
                timeout=WAIT,
                interval=0.05,
            )
            wait_until(
                lambda: client.get_provider_status() == ProviderStatus.STALE,
                timeout=WAIT,
                interval=0.05,
            )
            assert client.get_boolean_value("switch", True) is False  # revision 2's

            # A write brings the restored history back to the revision served.
            assert write(flag("on", metadata={"note": "after the restore"})) == 2
            wait_until(
                lambda: client.get_provider_status() == ProviderStatus.READY,
                timeout=WAIT,
                interval=0.05,
            )
            assert client.get_boolean_value("switch", False) is True
            assert (provider.snapshot.revision, provider.snapshot.epoch) == (2, epoch)
        finally:
            provider.shutdown()


def test_the_first_write_of_an_empty_redis_namespace_is_served_without_a_warning(
    redis_url: str, unique_name: str, domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Its first write starts the namespace's history: nothing was served to replace.
    prefix = f"{unique_name}:"
    store = RedisStore(redis_url, key_prefix=prefix, timeout=1)
    provider = FlagProvider(store)
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    events = _ordered_events(domain)
    try:
        caplog.clear()  # the start-up warning that the namespace is empty is not the point
        with caplog.at_level(logging.WARNING, logger="openfeature_litestar.provider"):
            assert _redis_writer(redis_url, prefix)(flag("on")) == 1
            wait_until(
                lambda: ProviderEvent.PROVIDER_CONFIGURATION_CHANGED in events,
                timeout=WAIT,
                interval=0.05,
            )
        assert client.get_boolean_value("switch", False) is True
        assert provider.snapshot.epoch != ""
        assert [record.getMessage() for record in caplog.records] == []
    finally:
        provider.shutdown()

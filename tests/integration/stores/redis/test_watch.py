"""RedisStore's watch against a real Redis: published writes, the revision check, closing.

Every test uses a fresh key prefix (the ``prefix`` fixture) and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import StoreError
from openfeature_litestar._stores._redis import RedisStore
from tests.support import echo_flag

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import redis
    from typing_extensions import Self


WAIT = 10.0


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


class _Watcher:
    """Watches a store on its own thread and event loop, counting the wake-ups."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.wakes: queue.Queue[int] = queue.Queue()
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        assert self.wakes.get(timeout=WAIT) == 1, "the first yield comes once subscribed"
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                asyncio.run_coroutine_threadsafe(self.store.close(), self._loop)
        self._thread.join(WAIT)

    def woken(self) -> bool:
        """Whether another wake-up comes within the deadline."""
        try:
            self.wakes.get(timeout=WAIT)
        except queue.Empty:
            return False
        return True

    def _run(self) -> None:
        async def watch() -> None:
            self._loop = asyncio.get_running_loop()
            count = 0
            try:
                async with contextlib.aclosing(self.store.changes()) as changes:
                    async for _ in changes:
                        count += 1
                        self.wakes.put(count)
            finally:
                await self.store.close()  # as a provider does on its own loop

        try:
            asyncio.run(watch())
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended.set()


def test_a_write_wakes_a_watcher_on_another_loop(redis_url: str, prefix: str) -> None:
    # A poll interval far beyond the deadline: only the published message can wake it.
    watched = RedisStore(redis_url, key_prefix=prefix, poll_interval=3600)
    writer = RedisStore(redis_url, key_prefix=prefix)

    with _Watcher(watched) as watcher:
        _run(writer, lambda: writer.put_flag("a", echo_flag(), actor="alice"))
        assert watcher.woken()
        _run(writer, lambda: writer.delete_flag("a", actor="alice"))
        assert watcher.woken()

    assert watcher.ended.wait(WAIT)
    assert watcher.error is None


def test_a_missed_message_is_caught_by_the_revision_check(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    watched = RedisStore(redis_url, key_prefix=prefix, poll_interval=0.1)

    with _Watcher(watched) as watcher:
        # Written around the store: no message is published.
        raw.hset(f"{prefix}default", mapping={"document": '{"flags":{}}', "revision": "7"})
        assert watcher.woken()

    assert watcher.error is None


def test_a_published_write_is_not_reported_again_by_the_revision_check(
    redis_url: str, prefix: str
) -> None:
    watched = RedisStore(redis_url, key_prefix=prefix, poll_interval=0.05)
    writer = RedisStore(redis_url, key_prefix=prefix)

    with _Watcher(watched) as watcher:
        _run(writer, lambda: writer.put_flag("a", echo_flag(), actor="alice"))
        assert watcher.woken()
        # Many revision checks run meanwhile; the published revision is already seen.
        with pytest.raises(queue.Empty):
            watcher.wakes.get(timeout=1.0)

    assert watcher.error is None


def test_a_dropped_subscription_is_restored_and_reported(
    redis_url: str, prefix: str, raw: redis.Redis, unique_name: str
) -> None:
    separator = "&" if "?" in redis_url else "?"
    url = f"{redis_url}{separator}client_name={unique_name}"
    watched = RedisStore(url, key_prefix=prefix, poll_interval=3600)
    writer = RedisStore(redis_url, key_prefix=prefix)

    with _Watcher(watched) as watcher:
        subscribers = [
            client
            for client in raw.client_list(_type="pubsub")
            if client.get("name") == unique_name
        ]
        assert len(subscribers) == 1
        raw.client_kill_filter(_id=subscribers[0]["id"])
        assert watcher.woken(), "notices may have been lost while disconnected"
        _run(writer, lambda: writer.put_flag("a", echo_flag(), actor="alice"))
        assert watcher.woken(), "and the new subscription hears the next write"

    assert watcher.error is None


def test_close_on_the_watching_loop_ends_the_watch(store: RedisStore) -> None:
    async def work() -> int:
        count = 0
        watching = asyncio.Event()

        async def watch() -> None:
            nonlocal count
            async for _ in store.changes():
                count += 1
                watching.set()

        task = asyncio.create_task(watch())
        await asyncio.wait_for(watching.wait(), WAIT)
        await store.close()
        await asyncio.wait_for(task, WAIT)
        await store.close()  # twice is fine
        return count

    assert asyncio.run(work()) == 1


def test_close_on_one_loop_leaves_another_loops_watch_running(redis_url: str, prefix: str) -> None:
    store = RedisStore(redis_url, key_prefix=prefix, poll_interval=3600)

    with _Watcher(store) as watcher:
        _run(store, lambda: store.put_flag("a", echo_flag(), actor="alice"))  # closes this loop's
        assert watcher.woken()
        assert not watcher.ended.is_set()

    assert watcher.ended.wait(WAIT)
    assert watcher.error is None


def test_a_lost_server_ends_the_watch_with_a_store_error(
    redis_url: str, prefix: str, proxy_for: Callable[[str, int], Any]
) -> None:
    proxy = proxy_for(redis_url, 6379)
    store = RedisStore(proxy.url(redis_url), key_prefix=prefix, poll_interval=0.2, timeout=1)

    with _Watcher(store) as watcher:
        proxy.cut()
        assert watcher.ended.wait(WAIT)

    assert isinstance(watcher.error, StoreError)


def test_a_namespace_written_again_at_the_revision_seen_is_caught_by_the_check(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    watched = RedisStore(redis_url, key_prefix=prefix, poll_interval=0.1)
    writer = RedisStore(redis_url, key_prefix=prefix)
    _run(writer, lambda: writer.put_flag("a", echo_flag(), actor="alice"))

    with _Watcher(watched) as watcher:
        # Emptied and written again, around the store (no message): the same revision
        # as before, in another history.
        raw.delete(f"{prefix}default")
        raw.hset(
            f"{prefix}default",
            mapping={"document": '{"flags":{}}', "revision": "1", "epoch": "0123456789abcdef"},
        )
        assert watcher.woken()

    assert watcher.error is None

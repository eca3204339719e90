"""RedisStore against a real Redis: atomic scripted writes, the audit stream, pub/sub.

Every test uses a fresh key prefix and deletes its keys afterwards. The store-independent
behaviour (revisions, conflicts, audit paging) is also covered by the shared contract
suite; these tests check what only Redis does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest
import redis
import redis.asyncio
from redis.asyncio.connection import SSLConnection

from openfeature_litestar import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    RevisionConflict,
    StoreError,
    WritableFlagStore,
)
from openfeature_litestar._stores._redis import RedisStore

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from typing_extensions import Self

WAIT = 10.0


def _flag(value: str = "a") -> dict[str, Any]:
    return {"state": "ENABLED", "variants": {value: value}, "defaultVariant": value}


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


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


# -- reading and writing ------------------------------------------------------------------


def test_is_a_writable_flag_store(store: RedisStore) -> None:
    assert isinstance(store, WritableFlagStore)


def test_a_namespace_never_written_loads_empty_at_revision_zero(store: RedisStore) -> None:
    stored = _run(store, store.load)
    assert stored.revision == 0
    assert stored.document.flags == {}


def test_writes_count_revisions_and_load_back(store: RedisStore) -> None:
    async def work() -> list[int]:
        return [
            await store.put_flag("a", _flag("x"), actor="alice"),
            await store.put_flag("b", _flag("y"), actor="alice"),
            await store.delete_flag("a", actor="bob"),
        ]

    assert _run(store, work) == [1, 2, 3]
    stored = _run(store, store.load)
    assert stored.revision == 3
    assert list(stored.document.flags) == ["b"]
    assert stored.document.flags["b"].default_variant == "y"


def test_the_keys_hold_compact_json_a_revision_and_a_stream(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", _flag(), actor="alice"))
    stored = _run(store, store.load)

    assert raw.type(f"{prefix}production") == "hash"
    assert raw.hget(f"{prefix}production", "revision") == "1"
    text = raw.hget(f"{prefix}production", "document")
    assert isinstance(text, str)
    assert json.loads(text) == stored.document.dump()
    assert ", " not in text
    assert ": " not in text
    assert raw.type(f"{prefix}production:audit") == "stream"
    assert raw.xlen(f"{prefix}production:audit") == 1


def test_a_stale_expected_revision_conflicts_and_writes_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", _flag("x"), actor="alice"))

    with pytest.raises(RevisionConflict) as caught:
        _run(store, lambda: store.put_flag("a", _flag("y"), actor="bob", expected_revision=0))

    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert _run(store, store.load).document.flags["a"].default_variant == "x"
    assert raw.xlen(f"{prefix}production:audit") == 1


def test_an_invalid_flag_is_a_document_error_and_writes_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    with pytest.raises(DocumentError):
        _run(store, lambda: store.put_flag("a", {"state": "ENABLED"}, actor="alice"))
    assert raw.exists(f"{prefix}production", f"{prefix}production:audit") == 0


def test_deleting_an_absent_flag_is_flag_not_found(store: RedisStore) -> None:
    with pytest.raises(FlagNotFound) as caught:
        _run(store, lambda: store.delete_flag("nope", actor="alice"))
    assert (caught.value.key, caught.value.namespace) == ("nope", "production")


def test_a_replace_without_change_bumps_the_revision_and_audits_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    document = {"flags": {"a": _flag()}}
    assert _run(store, lambda: store.replace_document(document, actor="alice")) == 1
    assert _run(store, lambda: store.replace_document(document, actor="alice")) == 2
    assert raw.xlen(f"{prefix}production:audit") == 1


def test_namespaces_under_one_prefix_are_separate(redis_url: str, prefix: str) -> None:
    staging = RedisStore(redis_url, key_prefix=prefix, namespace="staging")
    production = RedisStore(redis_url, key_prefix=prefix, namespace="production")
    _run(staging, lambda: staging.put_flag("a", _flag(), actor="alice"))
    assert _run(production, production.load).revision == 0
    assert _run(staging, staging.load).revision == 1


# -- the audit trail ------------------------------------------------------------------------


def test_audit_entries_record_each_change(store: RedisStore) -> None:
    async def work() -> Any:
        await store.put_flag("a", _flag("x"), actor="alice")
        await store.replace_document(
            {"flags": {"a": _flag("y"), "b": _flag()}, "metadata": {"team": "web"}},
            actor="bob",
            note="release 7",
        )
        return await store.audit_log()

    entries = _run(store, work)

    assert [(e.revision, e.flag_key, e.action, e.actor) for e in entries] == [
        (2, None, "update", "bob"),
        (2, "b", "create", "bob"),
        (2, "a", "update", "bob"),
        (1, "a", "create", "alice"),
    ]
    newest, oldest = entries[2], entries[3]
    assert newest.before == _flag("x")
    assert newest.after == _flag("y")
    assert newest.note == "release 7"
    assert entries[0].before == {}
    assert entries[0].after == {"metadata": {"team": "web"}}
    assert oldest.before is None
    assert oldest.note is None
    assert all(entry.namespace == "production" for entry in entries)
    assert all(entry.at.utcoffset() is not None for entry in entries)
    assert entries[0].at >= oldest.at
    assert len({entry.id for entry in entries}) == 4


def test_audit_pages_follow_before_and_filter_by_flag(store: RedisStore) -> None:
    async def work() -> Any:
        for index in range(6):
            await store.put_flag("a" if index % 2 else "b", _flag(f"v{index}"), actor="alice")
        first = await store.audit_log(limit=4)
        second = await store.audit_log(limit=4, before=first[-1].id)
        only_a = await store.audit_log(flag_key="a", limit=2)
        older_a = await store.audit_log(flag_key="a", before=only_a[-1].id)
        return first, second, only_a, older_a

    first, second, only_a, older_a = _run(store, work)

    assert [entry.revision for entry in first] == [6, 5, 4, 3]
    assert [entry.revision for entry in second] == [2, 1]
    assert [entry.revision for entry in only_a] == [6, 4]
    assert [entry.revision for entry in older_a] == [2]


def test_an_unknown_or_malformed_before_is_a_value_error(store: RedisStore) -> None:
    _run(store, lambda: store.put_flag("a", _flag(), actor="alice"))
    with pytest.raises(ValueError, match="no audit entry"):
        _run(store, lambda: store.audit_log(before="1-0"))
    with pytest.raises(ValueError, match="must be an audit entry id"):
        _run(store, lambda: store.audit_log(before="nonsense"))
    with pytest.raises(ValueError, match="limit"):
        _run(store, lambda: store.audit_log(limit=0))


def test_the_audit_stream_keeps_only_the_newest_entries(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    store = RedisStore(redis_url, key_prefix=prefix, audit_max_length=5)

    async def work() -> Any:
        for index in range(8):
            await store.put_flag("a", _flag(f"v{index}"), actor="alice")
        return await store.audit_log(limit=100)

    entries = _run(store, work)

    assert raw.xlen(f"{prefix}default:audit") == 5
    assert [entry.revision for entry in entries] == [8, 7, 6, 5, 4]


# -- atomicity under concurrent writers ----------------------------------------------------------


def test_concurrent_writers_on_separate_clients_lose_no_update(redis_url: str, prefix: str) -> None:
    writers, writes = 4, 8
    errors: list[BaseException] = []

    def write_from_own_process_like_client(writer: int) -> None:
        store = RedisStore(redis_url, key_prefix=prefix)

        async def work() -> None:
            for index in range(writes):
                await store.put_flag(f"w{writer}-{index}", _flag(), actor=f"writer-{writer}")

        try:
            _run(store, work)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=write_from_own_process_like_client, args=(writer,))
        for writer in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)

    assert errors == []
    store = RedisStore(redis_url, key_prefix=prefix)
    stored = _run(store, store.load)
    entries = _run(store, lambda: store.audit_log(limit=100))
    assert stored.revision == writers * writes
    assert len(stored.document.flags) == writers * writes
    assert sorted(entry.revision for entry in entries) == list(range(1, writers * writes + 1))


def test_of_concurrent_conditional_writers_exactly_one_wins(redis_url: str, prefix: str) -> None:
    stores = [RedisStore(redis_url, key_prefix=prefix) for _ in range(5)]

    async def work() -> list[int | BaseException]:
        try:
            return await asyncio.gather(
                *(
                    store.put_flag("a", _flag(f"v{index}"), actor="x", expected_revision=0)
                    for index, store in enumerate(stores)
                ),
                return_exceptions=True,
            )
        finally:
            for store in stores:
                await store.close()

    results = asyncio.run(work())

    assert results.count(1) == 1
    conflicts = [result for result in results if isinstance(result, RevisionConflict)]
    assert len(conflicts) == 4
    assert all((conflict.expected, conflict.actual) == (0, 1) for conflict in conflicts)


def test_one_store_serves_two_threads_with_their_own_loops(redis_url: str, prefix: str) -> None:
    store = RedisStore(redis_url, key_prefix=prefix)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        async def work() -> None:
            for index in range(5):
                await store.put_flag(f"{name}{index}", _flag(), actor=name)
                await store.load()

        try:
            _run(store, work)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)

    assert errors == []
    assert _run(store, store.load).revision == 10


# -- watching for changes ----------------------------------------------------------------------


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
        _run(writer, lambda: writer.put_flag("a", _flag(), actor="alice"))
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
        _run(writer, lambda: writer.put_flag("a", _flag(), actor="alice"))
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
        _run(writer, lambda: writer.put_flag("a", _flag(), actor="alice"))
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
        _run(store, lambda: store.put_flag("a", _flag(), actor="alice"))  # closes this loop's
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


def test_the_store_recovers_after_an_outage(
    redis_url: str, prefix: str, proxy_for: Callable[[str, int], Any]
) -> None:
    proxy = proxy_for(redis_url, 6379)
    store = RedisStore(proxy.url(redis_url), key_prefix=prefix, timeout=1)

    async def work() -> int:
        await store.put_flag("a", _flag(), actor="alice")
        proxy.cut()
        with pytest.raises(StoreError):
            await store.load()
        proxy.restore()
        return (await store.load()).revision

    assert _run(store, work) == 1


# -- connections and configuration -----------------------------------------------------------


def test_an_existing_client_is_reused_by_its_settings(redis_url: str, prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)  # bytes replies: the store decodes itself
    store = RedisStore(client, key_prefix=prefix)

    assert _run(store, lambda: store.put_flag("a", _flag(), actor="alice")) == 1
    assert _run(store, store.load).revision == 1  # a second loop: fresh connections

    async def client_still_works() -> Any:
        try:
            return await client.hget(f"{prefix}default", "revision")
        finally:
            await client.aclose()

    assert asyncio.run(client_still_works()) == b"1"
    assert "127.0.0.1:6379/0" in repr(store)


# The commands the documentation lists for an ACL user of the store.
STORE_COMMANDS = (
    *("+hget", "+hmget", "+hset", "+xadd", "+xrange", "+xrevrange"),
    *("+publish", "+subscribe", "+unsubscribe", "+evalsha", "+script|load", "+ping", "+select"),
)


@pytest.fixture
def acl_user(raw: redis.Redis, prefix: str, unique_name: str) -> Iterator[tuple[str, str]]:
    """A Redis ACL user limited to the store's commands, keys and channels."""
    password = f"pw-{unique_name}"
    raw.acl_setuser(
        unique_name,
        enabled=True,
        passwords=[f"+{password}"],
        categories=["-@all"],
        commands=STORE_COMMANDS,
        keys=[f"{prefix}*"],
        channels=[f"{prefix}*"],
        reset_keys=True,
        reset_channels=True,
    )
    try:
        yield unique_name, password
    finally:
        raw.acl_deluser(unique_name)


def test_an_acl_user_with_the_documented_commands_can_do_everything(
    redis_url: str, prefix: str, acl_user: tuple[str, str], raw: redis.Redis
) -> None:
    user, password = acl_user
    # An empty script cache makes the store load its script, as on a fresh server. (Other
    # clients of this server reload theirs the same way: EVALSHA falls back on NOSCRIPT.)
    raw.script_flush()
    host_and_db = redis_url.split("://", 1)[1].rpartition("@")[2]
    store = RedisStore(f"redis://{user}:{password}@{host_and_db}", key_prefix=prefix)

    async def work() -> Any:
        changes = store.changes()
        await anext(changes)
        await store.put_flag("a", _flag(), actor="alice")
        await anext(changes)
        await changes.aclose()
        return await store.load(), await store.audit_log()

    stored, entries = _run(store, work)
    assert stored.revision == 1
    assert [entry.flag_key for entry in entries] == ["a"]

    wrong = RedisStore(f"redis://{user}:not-{password}@{host_and_db}", key_prefix=prefix)
    with pytest.raises(StoreError) as caught:
        _run(wrong, wrong.load)
    assert password not in str(caught.value)


def test_a_rediss_url_connects_with_tls(prefix: str) -> None:
    store = RedisStore("rediss://ops:s3cret@redis.example:6380/2", key_prefix=prefix, timeout=2)

    async def pool_of_this_loop() -> Any:
        return store._clients.this_loop().client.connection_pool

    pool = _run(store, pool_of_this_loop)

    assert pool.connection_class is SSLConnection
    settings = pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"]) == ("redis.example", 6380, 2)
    assert (settings["username"], settings["password"]) == ("ops", "s3cret")
    assert (settings["socket_timeout"], settings["socket_connect_timeout"]) == (2, 2)
    assert "s3cret" not in repr(store)
    assert "redis.example:6380" in repr(store)


def test_an_unreachable_server_is_a_store_error_without_the_password(prefix: str) -> None:
    store = RedisStore("redis://user:s3cret@127.0.0.1:1/0", key_prefix=prefix, timeout=1)

    async def first_change() -> None:
        async for _ in store.changes():
            return

    attempts: list[Callable[[], Awaitable[Any]]] = [
        store.load,
        lambda: store.put_flag("a", _flag(), actor="alice"),
        store.audit_log,
        first_change,
    ]
    for attempt in attempts:
        with pytest.raises(StoreError) as caught:
            _run(store, attempt)
        assert "s3cret" not in str(caught.value)
        assert "127.0.0.1:1" in str(caught.value)
    assert "s3cret" not in repr(store)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_is_a_store_error(silent_server: int) -> None:
    store = RedisStore(f"redis://127.0.0.1:{silent_server}/0", timeout=0.5)
    with pytest.raises(StoreError, match="Timeout"):
        _run(store, store.load)


def test_a_corrupt_stored_document_is_a_document_error(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    raw.hset(f"{prefix}production", mapping={"document": "{not json", "revision": "3"})
    with pytest.raises(DocumentError, match="not valid JSON"):
        _run(store, store.load)

    raw.hset(f"{prefix}production", "document", '{"flags":{"a":{"state":"ENABLED"}}}')
    with pytest.raises(DocumentError) as caught:
        _run(store, store.load)
    assert [problem.path for problem in caught.value.problems] == ["flags.a.variants"]

    with pytest.raises(DocumentError):
        _run(store, lambda: store.put_flag("b", _flag(), actor="alice"))
    assert raw.hget(f"{prefix}production", "revision") == "3"


def test_a_corrupt_revision_is_a_store_error(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    raw.hset(f"{prefix}production", mapping={"document": '{"flags":{}}', "revision": "x"})
    with pytest.raises(StoreError, match="revision"):
        _run(store, store.load)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"namespace": "no spaces"}, "namespace"),
        ({"namespace": ""}, "namespace"),
        ({"key_prefix": "a*"}, "prefix"),
        ({"audit_max_length": 0}, "audit_max_length"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": -1.0}, "timeout"),
    ],
)
def test_bad_settings_are_value_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisStore("redis://127.0.0.1:6379/0", **options)


def test_a_url_that_is_not_redis_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RedisStore("http://user:s3cret@127.0.0.1:6379/0")
    assert "s3cret" not in str(caught.value)


def test_neither_url_nor_client_is_a_type_error() -> None:
    with redis.Redis() as client, pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        RedisStore(client)


def test_without_redis_installed_the_import_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "try:\n"
        "    import openfeature_litestar._stores._redis\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.startswith("MissingDependencyError")
    assert "openfeature-litestar[redis]" in result.stdout

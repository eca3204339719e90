"""RedisStore's write script against a real Redis: all or nothing, under concurrent writers.

Every test uses a fresh key prefix (the ``prefix`` fixture) and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import RevisionConflict
from openfeature_litestar._stores._redis import RedisStore
from openfeature_litestar._stores._redis._codec import Keys
from openfeature_litestar._stores._redis._scripts import WRITE_SCRIPT, write_arguments, write_keys
from tests.support import echo_flag

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import redis


WAIT = 10.0


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def test_a_stale_expected_revision_conflicts_and_writes_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))

    with pytest.raises(RevisionConflict) as caught:
        _run(store, lambda: store.put_flag("a", echo_flag("y"), actor="bob", expected_revision=0))

    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert _run(store, store.load).document.flags["a"].default_variant == "x"
    assert raw.xlen(f"{prefix}production:audit") == 1


def test_a_replace_without_change_bumps_the_revision_and_audits_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    document = {"flags": {"a": echo_flag()}}
    assert _run(store, lambda: store.replace_document(document, actor="alice")) == 1
    assert _run(store, lambda: store.replace_document(document, actor="alice")) == 2
    assert raw.xlen(f"{prefix}production:audit") == 1


def test_the_audit_stream_keeps_only_the_newest_entries(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    store = RedisStore(redis_url, key_prefix=prefix, audit_max_length=5)

    async def work() -> Any:
        for index in range(8):
            await store.put_flag("a", echo_flag(f"v{index}"), actor="alice")
        return await store.audit_log(limit=100)

    entries = _run(store, work)

    assert raw.xlen(f"{prefix}default:audit") == 5
    assert [entry.revision for entry in entries] == [8, 7, 6, 5, 4]


def test_concurrent_writers_on_separate_clients_lose_no_update(redis_url: str, prefix: str) -> None:
    writers, writes = 4, 8
    errors: list[BaseException] = []

    def write_from_own_process_like_client(writer: int) -> None:
        store = RedisStore(redis_url, key_prefix=prefix)

        async def work() -> None:
            for index in range(writes):
                await store.put_flag(f"w{writer}-{index}", echo_flag(), actor=f"writer-{writer}")

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
                    store.put_flag("a", echo_flag(f"v{index}"), actor="x", expected_revision=0)
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


# -- epochs: which history a revision counts in --------------------------------------------


def test_a_namespace_s_first_write_starts_a_history_its_later_writes_keep(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    assert _run(store, store.load).epoch == ""  # never written: no history yet

    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))
    first = _run(store, store.load)
    _run(store, lambda: store.put_flag("a", echo_flag("y"), actor="alice"))
    second = _run(store, store.load)

    assert re.fullmatch(r"[0-9a-f]{16}", first.epoch)
    assert (second.revision, second.epoch) == (2, first.epoch)
    assert raw.hget(f"{prefix}production", "epoch") == first.epoch


def test_a_namespace_emptied_and_written_again_starts_a_new_history(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))
    before = _run(store, store.load)
    raw.delete(f"{prefix}production")  # a Redis restarted without persistence

    assert _run(store, lambda: store.put_flag("a", echo_flag("y"), actor="alice")) == 1
    after = _run(store, store.load)

    # The revision number is used again, for another document, in another history.
    assert after.revision == before.revision == 1
    assert after.document.flags["a"].default_variant == "y"
    assert after.epoch not in {"", before.epoch}


def test_a_history_begun_before_epochs_were_kept_stays_without_one(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # A hash an earlier version of the package wrote: a document and a revision only.
    document = json.dumps({"flags": {"a": echo_flag("x")}})
    raw.hset(f"{prefix}production", mapping={"document": document, "revision": "3"})
    loaded = _run(store, store.load)
    assert (loaded.revision, loaded.epoch) == (3, "")

    assert _run(store, lambda: store.put_flag("a", echo_flag("y"), actor="alice")) == 4
    written = _run(store, store.load)
    assert (written.revision, written.epoch) == (4, "")
    assert not raw.hexists(f"{prefix}production", "epoch")


def test_a_write_built_on_another_history_commits_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # A writer read revision 1 of one history; meanwhile the namespace was emptied and
    # written again, up to revision 1 of a new one. Its write must not land there.
    _run(store, lambda: store.put_flag("a", echo_flag("old"), actor="alice"))
    read = _run(store, store.load)
    raw.delete(f"{prefix}production")
    _run(store, lambda: store.put_flag("a", echo_flag("new"), actor="bob"))
    current = _run(store, store.load)
    keys = Keys.of(prefix, "production")
    built = read.document.with_flags({"a": echo_flag("stale")})
    args = write_arguments(
        keys,
        read.revision,
        built,
        [],
        epoch=read.epoch,
        new_epoch="f" * 16,
        audit_max_length=100,
        actor="alice",
        at="2026-01-01T00:00:00+00:00",
        note=None,
    )

    result = raw.eval(WRITE_SCRIPT, 2, *write_keys(keys), *args)

    assert result == [0, 1, current.epoch]
    stored = _run(store, store.load)
    assert (stored.revision, stored.epoch) == (1, current.epoch)
    assert stored.document.flags["a"].default_variant == "new"


def test_a_conflict_names_the_epoch_the_store_is_at(store: RedisStore) -> None:
    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))
    epoch = _run(store, store.load).epoch

    with pytest.raises(RevisionConflict) as caught:
        _run(store, lambda: store.put_flag("a", echo_flag("y"), actor="bob", expected_revision=7))

    assert (caught.value.actual, caught.value.epoch) == (1, epoch)

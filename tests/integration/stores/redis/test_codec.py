"""RedisStore's key layout against a real Redis: the keys, their encodings, bad values.

Every test uses a fresh key prefix (the ``prefix`` fixture) and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import DocumentError, StoreError
from openfeature_litestar._stores._redis import RedisStore
from tests.support import echo_flag

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import redis


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def test_the_keys_hold_compact_json_a_revision_and_a_stream(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", echo_flag(), actor="alice"))
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


def test_namespaces_under_one_prefix_are_separate(redis_url: str, prefix: str) -> None:
    staging = RedisStore(redis_url, key_prefix=prefix, namespace="staging")
    production = RedisStore(redis_url, key_prefix=prefix, namespace="production")
    _run(staging, lambda: staging.put_flag("a", echo_flag(), actor="alice"))
    assert _run(production, production.load).revision == 0
    assert _run(staging, staging.load).revision == 1


def test_audit_entries_record_each_change(store: RedisStore) -> None:
    async def work() -> Any:
        await store.put_flag("a", echo_flag("x"), actor="alice")
        await store.replace_document(
            {"flags": {"a": echo_flag("y"), "b": echo_flag()}, "metadata": {"team": "web"}},
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
    assert newest.before == echo_flag("x")
    assert newest.after == echo_flag("y")
    assert newest.note == "release 7"
    assert entries[0].before == {}
    assert entries[0].after == {"metadata": {"team": "web"}}
    assert oldest.before is None
    assert oldest.note is None
    assert all(entry.namespace == "production" for entry in entries)
    assert all(entry.at.utcoffset() is not None for entry in entries)
    assert entries[0].at >= oldest.at
    assert len({entry.id for entry in entries}) == 4


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
        _run(store, lambda: store.put_flag("b", echo_flag(), actor="alice"))
    assert raw.hget(f"{prefix}production", "revision") == "3"


def test_a_corrupt_revision_is_a_store_error(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    raw.hset(f"{prefix}production", mapping={"document": '{"flags":{}}', "revision": "x"})
    with pytest.raises(StoreError, match="revision"):
        _run(store, store.load)


@pytest.mark.parametrize("epoch", ["", "has space", 'quote"d', "x" * 65])
def test_an_epoch_that_is_not_letters_and_digits_is_a_store_error(
    store: RedisStore, raw: redis.Redis, prefix: str, epoch: str
) -> None:
    # An epoch goes into HTTP entity tags as it is: it must never hold a quote or a space.
    raw.hset(
        f"{prefix}production", mapping={"document": '{"flags":{}}', "revision": "3", "epoch": epoch}
    )
    with pytest.raises(StoreError, match="epoch"):
        _run(store, store.load)

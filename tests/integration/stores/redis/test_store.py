"""RedisStore against a real Redis: reading, writing, the audit trail, its settings.

Every test uses a fresh key prefix (the ``prefix`` fixture) and deletes its keys afterwards.

The store-independent behaviour (revisions, conflicts, audit paging) is also covered by
the shared contract suite; these tests check the Redis store as a whole.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import (
    DocumentError,
    FlagNotFound,
    StoreError,
    UsageBatch,
    UsageKey,
    WritableFlagStore,
    parse_document,
)
from openfeature_litestar._stores._redis import RedisStore
from openfeature_litestar._stores._usage import hour_of
from tests.support import echo_flag

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    import redis


def _run(store: RedisStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh event loop, closing the store's connections for that loop."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


def test_is_a_writable_flag_store(store: RedisStore) -> None:
    assert isinstance(store, WritableFlagStore)


def test_a_namespace_never_written_loads_empty_at_revision_zero(store: RedisStore) -> None:
    stored = _run(store, store.load)
    assert stored.revision == 0
    assert stored.document.flags == {}


def test_writes_count_revisions_and_load_back(store: RedisStore) -> None:
    async def work() -> list[int]:
        return [
            await store.put_flag("a", echo_flag("x"), actor="alice"),
            await store.put_flag("b", echo_flag("y"), actor="alice"),
            await store.delete_flag("a", actor="bob"),
        ]

    assert _run(store, work) == [1, 2, 3]
    stored = _run(store, store.load)
    assert stored.revision == 3
    assert list(stored.document.flags) == ["b"]
    assert stored.document.flags["b"].default_variant == "y"


def test_an_invalid_flag_is_a_document_error_and_writes_nothing(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    with pytest.raises(DocumentError):
        _run(store, lambda: store.put_flag("a", {"state": "ENABLED"}, actor="alice"))
    assert raw.exists(f"{prefix}production", f"{prefix}production:audit") == 0


def test_an_import_replaces_a_stored_document_that_no_longer_compiles(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    # Edited by hand: valid as a document, but its targeting names a missing evaluator.
    # A write must not depend on compiling what is stored, so the import repairs it.
    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))
    broken = {**echo_flag("x"), "targeting": {"if": [{"$ref": "gone"}, "x", None]}}
    raw.hset(f"{prefix}production", "document", json.dumps({"flags": {"a": broken}}))
    # Read as flagd reads it: the flag is kept (PARSE_ERROR), its problem a warning.
    loaded = _run(store, store.load)
    assert [w.path for w in loaded.document.warnings] == ["flags.a.targeting.if.0.$ref"]
    with pytest.raises(DocumentError, match="missing evaluator"):
        _run(store, lambda: store.put_flag("a", broken, actor="alice"))  # a write is strict
    revision = _run(
        store, lambda: store.replace_document({"flags": {"b": echo_flag("y")}}, actor="ops")
    )
    stored = _run(store, store.load)
    assert (stored.revision, list(stored.document.flags)) == (revision, ["b"])
    entries = _run(store, lambda: store.audit_log(flag_key="a"))
    assert entries[0].action == "delete"
    assert entries[0].before == broken


def test_a_load_reuses_the_document_the_store_wrote_while_the_hash_is_unchanged(
    store: RedisStore,
) -> None:
    # Compiling a large document costs most of a second: the load after a store's own
    # write (a provider's reload) and every load of an unchanged namespace reuse it.
    written = parse_document(json.dumps({"flags": {"a": echo_flag("x")}}))
    _run(store, lambda: store.replace_document(written, actor="alice"))
    first = _run(store, store.load)
    assert first.document is written
    assert _run(store, store.load) is first


def test_a_load_reads_a_document_changed_by_hand_at_the_same_revision(
    store: RedisStore, raw: redis.Redis, prefix: str
) -> None:
    _run(store, lambda: store.put_flag("a", echo_flag("x"), actor="alice"))
    before = _run(store, store.load)
    raw.hset(f"{prefix}production", "document", json.dumps({"flags": {"a": echo_flag("y")}}))
    after = _run(store, store.load)
    assert (after.revision, after.epoch) == (before.revision, before.epoch)
    assert after.document.flags["a"].default_variant == "y"


def test_deleting_an_absent_flag_is_flag_not_found(store: RedisStore) -> None:
    with pytest.raises(FlagNotFound) as caught:
        _run(store, lambda: store.delete_flag("nope", actor="alice"))
    assert (caught.value.key, caught.value.namespace) == ("nope", "production")


def test_audit_pages_follow_before_and_filter_by_flag(store: RedisStore) -> None:
    async def work() -> Any:
        for index in range(6):
            await store.put_flag("a" if index % 2 else "b", echo_flag(f"v{index}"), actor="alice")
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
    _run(store, lambda: store.put_flag("a", echo_flag(), actor="alice"))
    with pytest.raises(ValueError, match="no audit entry"):
        _run(store, lambda: store.audit_log(before="1-0"))
    with pytest.raises(ValueError, match="must be an audit entry id"):
        _run(store, lambda: store.audit_log(before="nonsense"))
    with pytest.raises(ValueError, match="limit"):
        _run(store, lambda: store.audit_log(limit=0))


USAGE_KEY = UsageKey("a", "a", "STATIC", None)

# The commands the documentation lists for an ACL user of the store.
STORE_COMMANDS = (
    *("+hget", "+hmget", "+hset", "+xadd", "+xrange", "+xrevrange"),
    *("+publish", "+subscribe", "+unsubscribe", "+evalsha", "+script|load", "+ping", "+select"),
    *("+get", "+set", "+hincrby", "+expire", "+hgetall"),  # usage counters
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
        await store.put_flag("a", echo_flag(), actor="alice")
        await anext(changes)
        await changes.aclose()
        hour = datetime.now(timezone.utc)
        await store.record_usage(UsageBatch("ab12", 1, {(hour_of(hour), USAGE_KEY): 2}))
        usage = await store.read_usage(since=hour)
        return await store.load(), await store.audit_log(), usage

    stored, entries, usage = _run(store, work)
    assert stored.revision == 1
    assert [entry.flag_key for entry in entries] == ["a"]
    assert [record.count for record in usage] == [2]

    wrong = RedisStore(f"redis://{user}:not-{password}@{host_and_db}", key_prefix=prefix)
    with pytest.raises(StoreError) as caught:
        _run(wrong, wrong.load)
    assert password not in str(caught.value)


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

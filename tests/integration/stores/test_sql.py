"""SQLAlchemyStore against real PostgreSQL (asyncpg) and SQLite (aiosqlite) databases.

The shared write and watch semantics are covered by the contract suite; these tests
check what is particular to the SQL store: its tables and schema versioning, LISTEN/NOTIFY
and the periodic revision check, per-loop engines, given engines, and its errors.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from openfeature_litestar import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    RevisionConflict,
    StaleThresholds,
    StoreError,
    UsageBatch,
    UsageKey,
    UsageRecord,
    WritableFlagStore,
    document_from_data,
    parse_document,
)
from openfeature_litestar._insights._aggregate import build_insights, period_start, window_bounds
from openfeature_litestar._stores._sql import SCHEMA_VERSION, SQLAlchemyStore
from openfeature_litestar._stores._sql._engines import parse_url
from openfeature_litestar._stores._usage import hour_of
from tests.support import SQL_TABLES, flag

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from openfeature_litestar import FlagDocument

pytestmark = pytest.mark.integration

WAIT = 10.0  # generous: only a broken store ever waits this long
TABLES = ("audit", "flags", "namespaces", "schema")
USAGE_TABLES = ("usage", "usage_seq")
USAGE_KEY = UsageKey("a", "on", "STATIC", None)


class Database:
    """A real database and a fresh table prefix; plain SQL for what the store hides."""

    def __init__(self, kind: str, url: str, prefix: str) -> None:
        self.kind = kind
        self.url = url
        self.prefix = prefix

    def store(self, **options: Any) -> SQLAlchemyStore:
        options.setdefault("table_prefix", self.prefix)
        options.setdefault("poll_interval", 0.1)
        return SQLAlchemyStore(self.url, **options)

    def table(self, name: str) -> str:
        return f'"{self.prefix}{name}"'

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        engine = create_async_engine(self.url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    async def drop(self) -> None:
        for name in SQL_TABLES:
            await self.sql(f"DROP TABLE IF EXISTS {self.table(name)}")


@pytest.fixture(params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[Database]:
    """Each database in turn, with tables under a fresh prefix dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/flags.db"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(request.param, url, f"{unique_name}_")
    yield db
    asyncio.run(db.drop())


@pytest.fixture
def postgres(postgres_url: str, unique_name: str) -> Iterator[Database]:
    """PostgreSQL only, with tables under a fresh prefix dropped afterwards."""
    db = Database("postgres", postgres_url, f"{unique_name}_")
    yield db
    asyncio.run(db.drop())


def _run(store: SQLAlchemyStore, work: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``work`` on a fresh loop, closing the store on that loop afterwards."""

    async def once() -> Any:
        try:
            return await work()
        finally:
            await store.close()

    return asyncio.run(once())


async def _next(changes: AsyncIterator[None]) -> None:
    await asyncio.wait_for(changes.__anext__(), WAIT)


def test_is_a_writable_store(database: Database) -> None:
    assert isinstance(database.store(), WritableFlagStore)


def test_a_new_namespace_is_empty_at_revision_zero(database: Database) -> None:
    store = database.store()
    stored = _run(store, store.load)
    assert stored.revision == 0
    assert stored.document.flags == {}


def test_writes_round_trip_in_order_with_their_rows(database: Database) -> None:
    store = database.store(namespace="production")
    document = {
        "$schema": "https://flagd.dev/schema/v0/flags.json",
        "flags": {"zeta": flag(), "alpha": flag("off")},
        "$evaluators": {"staff": {"in": ["@example.com", {"var": "email"}]}},
        "metadata": {"flagSetId": "shop"},
    }

    async def work() -> Any:
        assert await store.replace_document(document, actor="alice") == 1
        assert await store.put_flag("middle", flag(), actor="bob") == 2
        assert await store.delete_flag("zeta", actor="carol") == 3
        assert await store.put_flag("zeta", flag("off"), actor="dave") == 4
        return await store.load()

    stored = _run(store, work)
    assert stored.revision == 4
    assert list(stored.document.flags) == ["alpha", "middle", "zeta"]
    assert stored.document.dump() == {
        "$schema": document["$schema"],
        "flags": {"alpha": flag("off"), "middle": flag(), "zeta": flag("off")},
        "$evaluators": document["$evaluators"],
        "metadata": document["metadata"],
    }
    rows = asyncio.run(
        database.sql(
            f"SELECT key, revision, updated_by FROM {database.table('flags')} "  # noqa: S608 - the test's own table name
            "WHERE namespace = 'production' ORDER BY key"
        )
    )
    assert [tuple(row) for row in rows] == [
        ("alpha", 1, "alice"),
        ("middle", 2, "bob"),
        ("zeta", 4, "dave"),
    ]
    namespace = asyncio.run(
        database.sql(f"SELECT revision, updated_by FROM {database.table('namespaces')}")  # noqa: S608
    )
    assert [tuple(row) for row in namespace] == [(4, "dave")]


def test_a_replace_reorders_and_stamps_only_changed_flags(database: Database) -> None:
    store = database.store()

    async def work() -> Any:
        await store.put_flag("a", flag(), actor="alice")
        await store.put_flag("b", flag(), actor="alice")
        await store.put_flag("c", flag(), actor="alice")
        flags = {"c": flag(), "new": flag(), "a": flag(), "b": flag("off")}
        await store.replace_document({"flags": flags}, actor="bob")
        return await store.load()

    stored = _run(store, work)
    assert list(stored.document.flags) == ["c", "new", "a", "b"]
    rows = asyncio.run(
        database.sql(
            f"SELECT key, revision, updated_by FROM {database.table('flags')} ORDER BY key"  # noqa: S608
        )
    )
    assert [tuple(row) for row in rows] == [
        ("a", 1, "alice"),
        ("b", 4, "bob"),
        ("c", 3, "alice"),
        ("new", 4, "bob"),
    ]


def test_the_audit_trail_records_each_change(database: Database) -> None:
    store = database.store()

    async def work() -> Any:
        await store.put_flag("a", flag(), actor="alice")
        await store.put_flag("a", flag("off"), actor="bob")
        await store.replace_document(
            {"flags": {"b": flag()}, "metadata": {"v": 2}}, actor="carol", note="promoted"
        )
        return await store.audit_log()

    entries = _run(store, work)
    summary = [(e.revision, e.flag_key, e.action, e.actor, e.note) for e in entries]
    assert summary == [
        (3, None, "update", "carol", "promoted"),
        (3, "a", "delete", "carol", "promoted"),
        (3, "b", "create", "carol", "promoted"),
        (2, "a", "update", "bob", None),
        (1, "a", "create", "alice", None),
    ]
    assert (entries[0].before, entries[0].after) == ({}, {"metadata": {"v": 2}})
    assert (entries[1].before, entries[1].after) == (flag("off"), None)
    assert (entries[3].before, entries[3].after) == (flag(), flag("off"))
    assert entries[4].before is None
    assert all(entry.at.tzinfo is timezone.utc for entry in entries)
    assert all(entry.namespace == "default" for entry in entries)
    assert len({entry.id for entry in entries}) == 5


def test_audit_pages_and_filters(database: Database) -> None:
    store = database.store()

    async def work() -> Any:
        for value in ("on", "off", "on"):
            await store.put_flag("a", flag(value), actor="alice")
            await store.put_flag("b", flag(value), actor="bob")
        first = await store.audit_log(limit=4)
        rest = await store.audit_log(limit=4, before=first[-1].id)
        only_a = await store.audit_log(flag_key="a")
        older_a = await store.audit_log(flag_key="a", before=only_a[0].id)
        with pytest.raises(ValueError, match="not an audit entry"):
            await store.audit_log(before="999999999")
        with pytest.raises(ValueError, match="not an audit entry"):
            await store.audit_log(before="not-an-id")
        with pytest.raises(ValueError, match="limit"):
            await store.audit_log(limit=0)
        return first, rest, only_a, older_a

    first, rest, only_a, older_a = _run(store, work)
    assert [e.revision for e in first] == [6, 5, 4, 3]
    assert [e.revision for e in rest] == [2, 1]
    assert [e.revision for e in only_a] == [5, 3, 1]
    assert [e.revision for e in older_a] == [3, 1]


@pytest.mark.parametrize(
    "before",
    ["0", str(2**63), "99999999999999999999999", "0" * 20 + "1", "9" * 400, "\u0661\u0662"],
)
def test_an_audit_cursor_outside_the_id_range_is_a_value_error(
    database: Database, before: str
) -> None:
    # Never a driver's overflow (a 500) or a store error (a 503) for a client's input.
    store = database.store()

    async def work() -> None:
        await store.put_flag("a", flag(), actor="alice")
        with pytest.raises(ValueError, match="not an audit entry id") as caught:
            await store.audit_log(before=before)
        assert len(str(caught.value)) < 100

    _run(store, work)


def test_the_largest_audit_id_is_a_valid_cursor(database: Database) -> None:
    store = database.store()

    async def work() -> None:
        await store.put_flag("a", flag(), actor="alice")
        with pytest.raises(ValueError, match="not an audit entry of this namespace"):
            await store.audit_log(before=str(2**63 - 1))

    _run(store, work)


def test_a_stale_expected_revision_conflicts_and_writes_nothing(database: Database) -> None:
    store = database.store()

    async def work() -> Any:
        await store.put_flag("a", flag(), actor="alice", expected_revision=0)
        with pytest.raises(RevisionConflict) as caught:
            await store.put_flag("a", flag("off"), actor="bob", expected_revision=0)
        assert (caught.value.expected, caught.value.actual) == (0, 1)
        with pytest.raises(FlagNotFound):
            await store.delete_flag("missing", actor="bob")
        with pytest.raises(DocumentError):
            await store.put_flag("a", {"state": "ENABLED"}, actor="bob")
        return await store.load(), await store.audit_log()

    stored, entries = _run(store, work)
    assert stored.revision == 1
    assert stored.document.flags["a"].default_variant == "on"
    assert len(entries) == 1


def test_concurrent_writers_lose_no_update(database: Database) -> None:
    writers = [database.store() for _ in range(4)]
    reader = database.store()

    def write(index: int, store: SQLAlchemyStore) -> None:
        async def work() -> None:
            for round_ in range(5):
                await store.put_flag(f"f{index}-{round_}", flag(), actor=f"writer{index}")

        _run(store, work)

    threads = [
        threading.Thread(target=write, args=(index, store)) for index, store in enumerate(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = _run(reader, reader.load)
    assert stored.revision == 20
    assert len(stored.document.flags) == 20
    entries = _run(reader, lambda: reader.audit_log(limit=100))
    assert sorted(entry.revision for entry in entries) == list(range(1, 21))


def test_namespaces_share_tables_but_not_flags(database: Database) -> None:
    staging, production = database.store(namespace="staging"), database.store(namespace="prod")

    async def work() -> Any:
        await staging.put_flag("a", flag(), actor="alice")
        await staging.put_flag("b", flag(), actor="alice")
        await production.put_flag("a", flag("off"), actor="bob")
        try:
            return await staging.load(), await production.load(), await production.audit_log()
        finally:
            await production.close()

    staged, produced, audit = _run(staging, work)
    assert (staged.revision, list(staged.document.flags)) == (2, ["a", "b"])
    assert (produced.revision, list(produced.document.flags)) == (1, ["a"])
    assert [entry.actor for entry in audit] == ["bob"]


def test_schema_creation_is_idempotent_and_concurrent(database: Database) -> None:
    stores = [database.store() for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    revisions: list[int] = []
    errors: list[BaseException] = []

    def start(store: SQLAlchemyStore) -> None:
        async def work() -> int:
            barrier.wait(WAIT)
            return (await store.load()).revision

        try:
            revisions.append(_run(store, work))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert revisions == [0, 0, 0, 0]
    later = database.store()
    assert _run(later, later.load).revision == 0
    versions = asyncio.run(database.sql(f"SELECT version FROM {database.table('schema')}"))  # noqa: S608
    assert [tuple(row) for row in versions] == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused(database: Database) -> None:
    first = database.store()
    _run(first, first.load)
    asyncio.run(database.sql(f"UPDATE {database.table('schema')} SET version = 99"))  # noqa: S608
    for create in (True, False):
        store = database.store(create_schema=create)
        with pytest.raises(ConfigurationError, match="schema version 99"):
            _run(store, store.load)


def test_without_create_schema_missing_tables_are_a_store_error(database: Database) -> None:
    store = database.store(create_schema=False)
    with pytest.raises(StoreError, match="do not exist") as caught:
        _run(store, store.load)
    assert "create_schema=True" in str(caught.value)
    creator = database.store()
    _run(creator, lambda: creator.put_flag("a", flag(), actor="migration"))
    assert _run(store, store.load).revision == 1  # the tables exist now: it recovers


def test_corrupt_stored_definitions_are_a_document_error(database: Database) -> None:
    store = database.store()
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
    asyncio.run(
        database.sql(
            f"UPDATE {database.table('flags')} SET definition = :bad",  # noqa: S608
            bad='{"state": "SOMETIMES", "variants": {}}',
        )
    )
    with pytest.raises(DocumentError) as caught:
        _run(store, store.load)
    assert {problem.path for problem in caught.value.problems} >= {"flags.a.state"}
    assert "namespace 'default'" in str(caught.value)


def test_an_import_replaces_a_stored_document_that_no_longer_compiles(
    database: Database,
) -> None:
    # Edited by hand: valid as a document, but its targeting names a missing evaluator.
    # A write must not depend on compiling what is stored, so the import repairs it.
    store = database.store()
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
    broken = {**flag(), "targeting": {"if": [{"$ref": "gone"}, "on", "off"]}}
    asyncio.run(
        database.sql(
            f"UPDATE {database.table('flags')} SET definition = :broken",  # noqa: S608
            broken=json.dumps(broken),
        )
    )
    # Read as flagd reads it: the flag is kept (PARSE_ERROR), its problem a warning.
    loaded = _run(store, store.load)
    assert [w.path for w in loaded.document.warnings] == ["flags.a.targeting.if.0.$ref"]
    # A write of another flag is not refused for it; a write of that flag is.
    _run(store, lambda: store.put_flag("b", flag(), actor="alice"))
    with pytest.raises(DocumentError, match=r"flags\.a\.targeting"):
        _run(store, lambda: store.put_flag("a", broken, actor="alice"))
    revision = _run(store, lambda: store.replace_document({"flags": {"b": flag()}}, actor="ops"))
    stored = _run(store, store.load)
    assert (stored.revision, list(stored.document.flags)) == (revision, ["b"])
    entries = _run(store, lambda: store.audit_log(flag_key="a"))
    assert entries[0].action == "delete"
    assert entries[0].before == broken


def test_a_load_reuses_the_document_the_store_wrote_while_its_rows_are_unchanged(
    database: Database,
) -> None:
    # Compiling a large document costs most of a second: the load after a store's own
    # write (a provider's reload) and every load of an unchanged namespace reuse it.
    store = database.store()
    written = parse_document(json.dumps({"flags": {"a": flag()}}))
    _run(store, lambda: store.replace_document(written, actor="alice"))
    first = _run(store, store.load)
    assert first.document is written
    assert _run(store, store.load) is first


def test_building_the_next_document_is_not_bound_by_the_store_s_timeout(
    database: Database,
) -> None:
    # Validating and compiling a large document takes seconds (paced on the workers):
    # a write must not fail its I/O deadline, nor hold the namespace's row, meanwhile.
    store = database.store(timeout=0.5)

    def slow_build(current: FlagDocument) -> FlagDocument:
        time.sleep(1.0)  # longer than the timeout
        return current.with_flags({"a": flag()})

    revision = _run(store, lambda: store._write(slow_build, actor="alice", expected=None))
    assert revision == 1
    assert list(_run(store, store.load).document.flags) == ["a"]


def test_a_writer_that_loses_the_race_builds_on_the_winner_s_document(
    database: Database,
) -> None:
    slow, fast = database.store(), database.store()
    builds = 0

    def slow_build(current: FlagDocument) -> FlagDocument:
        nonlocal builds
        builds += 1
        if builds == 1:  # the other writer commits while this one builds
            _run(fast, lambda: fast.put_flag("b", flag(), actor="bob"))
        return current.with_flags({**current.flags, "a": flag()})

    _run(slow, lambda: slow._write(slow_build, actor="alice", expected=None))
    assert builds == 2
    assert sorted(_run(slow, slow.load).document.flags) == ["a", "b"]


def test_a_load_reads_rows_changed_by_hand_at_the_same_revision(database: Database) -> None:
    store = database.store()
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
    before = _run(store, store.load)
    edited = flag("off")
    asyncio.run(
        database.sql(
            f"UPDATE {database.table('flags')} SET definition = :edited",  # noqa: S608
            edited=json.dumps(edited),
        )
    )
    after = _run(store, store.load)
    assert after.revision == before.revision
    assert after.document.flags["a"].default_variant == "off"
    assert before.document.flags["a"].default_variant == "on"


def test_a_load_reads_what_another_store_object_wrote(database: Database) -> None:
    store, other = database.store(), database.store()
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
    _run(store, store.load)
    _run(other, lambda: other.put_flag("b", flag(), actor="bob"))
    assert list(_run(store, store.load).document.flags) == ["a", "b"]


def test_invalid_stored_json_is_a_document_error(tmp_path: Path, unique_name: str) -> None:
    # Only SQLite can hold text that is not JSON in a JSON column; PostgreSQL checks it.
    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path}/flags.db", f"{unique_name}_")
    store = database.store()
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
    asyncio.run(database.sql(f"UPDATE {database.table('flags')} SET definition = '{{nope'"))  # noqa: S608
    with pytest.raises(DocumentError, match="not valid JSON"):
        _run(store, store.load)


def test_the_periodic_check_sees_changes_made_with_plain_sql(database: Database) -> None:
    store = database.store(poll_interval=0.1)
    _run(store, lambda: store.put_flag("a", flag(), actor="alice"))

    async def work() -> None:
        changes = store.changes()
        try:
            await _next(changes)
            # No NOTIFY: only the revision check can see this.
            await database.sql(
                f"UPDATE {database.table('namespaces')} SET revision = revision + 1"  # noqa: S608
            )
            await _next(changes)
            assert (await store.load()).revision == 2
        finally:
            await changes.aclose()

    _run(store, work)


def test_a_sqlite_file_is_shared_by_two_store_objects(tmp_path: Path, unique_name: str) -> None:
    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path}/shared.db", f"{unique_name}_")
    writer, watcher = database.store(), database.store(poll_interval=0.05)
    ready = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            ready.wait(WAIT)
            _run(writer, lambda: writer.put_flag("a", flag("off"), actor="alice"))
        except BaseException as exc:
            failures.append(exc)

    async def watch() -> Any:
        changes = watcher.changes()
        try:
            await _next(changes)
            ready.set()
            await _next(changes)
            return await watcher.load()
        finally:
            await changes.aclose()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        stored = _run(watcher, watch)
    finally:
        ready.set()
        thread.join(WAIT)
    assert failures == []
    assert stored.revision == 1
    assert stored.document.flags["a"].default_variant == "off"


def test_a_write_wakes_a_watcher_of_the_same_store_on_another_loop(database: Database) -> None:
    # A long poll interval: only a notification (PostgreSQL) or the store's own
    # announcement of its write (SQLite) can wake the watcher in time.
    store = database.store(poll_interval=3600)
    watching = threading.Event()
    woke = threading.Event()
    failures: list[BaseException] = []

    async def watch() -> None:
        changes = store.changes()
        try:
            await _next(changes)
            watching.set()
            await _next(changes)
            woke.set()
        finally:
            await changes.aclose()

    def watch_in_thread() -> None:
        try:
            _run(store, watch)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=watch_in_thread)
    thread.start()
    try:
        assert watching.wait(WAIT)
        _run(store, lambda: store.put_flag("a", flag(), actor="alice"))
        assert woke.wait(WAIT)
    finally:
        thread.join(WAIT)
    assert failures == []


def test_notify_wakes_a_watcher_of_another_store_object(postgres: Database) -> None:
    watcher, writer = postgres.store(poll_interval=3600), postgres.store()

    async def work() -> Any:
        changes = watcher.changes()
        try:
            await _next(changes)
            await writer.put_flag("a", flag(), actor="alice")
            await _next(changes)
            return await watcher.load()
        finally:
            await changes.aclose()
            await writer.close()

    stored = _run(watcher, work)
    assert stored.revision == 1


def test_another_namespace_does_not_wake_a_watcher(postgres: Database) -> None:
    watcher = postgres.store(poll_interval=3600)
    other = postgres.store(namespace="other")
    own = postgres.store()

    async def work() -> None:
        changes = watcher.changes()
        try:
            await _next(changes)
            # A task, not wait_for: cancelling __anext__ on a timeout would end the watch.
            wake = asyncio.ensure_future(changes.__anext__())
            await other.put_flag("a", flag(), actor="alice")
            done, _ = await asyncio.wait({wake}, timeout=0.5)
            assert not done
            # The watch was listening all along: its own namespace's write wakes it.
            await own.put_flag("a", flag(), actor="alice")
            await asyncio.wait_for(wake, 10)
        finally:
            await changes.aclose()
            await other.close()
            await own.close()

    _run(watcher, work)


def test_losing_the_listening_connection_is_a_store_error(postgres: Database) -> None:
    store = postgres.store(poll_interval=3600)
    channel = f"{postgres.prefix}changes"

    async def work() -> None:
        changes = store.changes()
        try:
            await _next(changes)
            await postgres.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = :listen",
                listen=f'LISTEN "{channel}"',
            )
            with pytest.raises(StoreError, match="lost the connection"):
                await _next(changes)
        finally:
            await changes.aclose()

    _run(store, work)
    # Watching again works: the provider simply calls changes() again.
    _run(store, lambda: _first_change(store))


async def _first_change(store: SQLAlchemyStore) -> None:
    changes = store.changes()
    try:
        await _next(changes)
    finally:
        await changes.aclose()


def test_close_ends_the_watch_on_its_loop(database: Database) -> None:
    store = database.store(poll_interval=3600)

    async def work() -> list[None]:
        changes = store.changes()
        await _next(changes)
        seen: list[None] = []

        async def drain() -> None:
            seen.extend([item async for item in changes])

        task = asyncio.create_task(drain())
        await asyncio.sleep(0.05)
        await store.close()
        await store.close()  # twice is fine
        await asyncio.wait_for(task, WAIT)
        return seen

    assert _run(store, work) == []


def test_a_given_engine_is_copied_never_used_or_disposed(database: Database) -> None:
    engine = create_async_engine(database.url)
    store = SQLAlchemyStore(engine, table_prefix=database.prefix, poll_interval=0.1)
    in_thread: list[int] = []

    def load_in_thread() -> None:
        in_thread.append(_run(store, store.load).revision)

    async def work() -> int:
        await store.put_flag("a", flag(), actor="alice")
        thread = threading.Thread(target=load_in_thread)
        thread.start()
        await asyncio.to_thread(thread.join, WAIT)
        await store.close()
        # The application's engine still works after the store closed its copies.
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(f"SELECT count(*) FROM {database.table('flags')}")  # noqa: S608
            )
        await engine.dispose()
        return int(count or 0)

    assert asyncio.run(work()) == 1
    assert in_thread == [1]
    assert "postgres" in repr(store) or "sqlite" in repr(store)


def test_a_password_never_shows(postgres_url: str) -> None:
    url = "postgresql+asyncpg://postgres:s3cret@127.0.0.1:1/test"
    store = SQLAlchemyStore(url, timeout=2.0)
    assert "s3cret" not in repr(store)
    with pytest.raises(StoreError) as caught:
        _run(store, store.load)
    assert "s3cret" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    with pytest.raises(StoreError) as watching:
        _run(store, lambda: _first_change(store))
    assert "s3cret" not in str(watching.value)
    assert postgres_url  # the real server runs; only this URL's port is closed


def test_a_wrong_password_is_a_store_error_without_it(postgres_url: str) -> None:
    server = parse_url(postgres_url)
    url = f"postgresql://no_such_role_x:s3cret@{server.host}:{server.port or 5432}/test"
    store = SQLAlchemyStore(url, timeout=5.0)
    with pytest.raises(StoreError) as caught:
        _run(store, store.load)
    assert "s3cret" not in str(caught.value)
    assert "no_such_role_x" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "mysql+aiomysql://root@localhost/flags",
        "postgresql+psycopg2://postgres@localhost/test",
        "not a url",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_unusable_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        SQLAlchemyStore(url)


def test_url_forms() -> None:
    assert parse_url("postgres://u:p@h/db").drivername == "postgresql+asyncpg"
    assert parse_url("sqlite:///flags.db").drivername == "sqlite+aiosqlite"
    assert dict(parse_url("postgresql://h/db?sslmode=require").query) == {"ssl": "require"}
    assert dict(parse_url("postgresql://h/db?ssl=verify-full").query) == {"ssl": "verify-full"}
    with pytest.raises(ConfigurationError) as caught:
        parse_url("mysql://root:s3cret@h/db")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"namespace": "a b"}, "namespace"),
        ({"table_prefix": "x" * 54}, "at most 53"),
        ({"table_prefix": 'x"; DROP'}, "prefix"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"timeout": -1}, "timeout"),
    ],
)
def test_bad_options_are_value_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SQLAlchemyStore("sqlite+aiosqlite:///flags.db", **options)


def test_neither_url_nor_engine_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        SQLAlchemyStore(42)  # type: ignore[arg-type]


def test_an_unreachable_database_fails_in_bounded_time() -> None:
    # 192.0.2.0/24 is TEST-NET-1: never routed, so the connection attempt hangs.
    store = SQLAlchemyStore("postgresql+asyncpg://postgres@192.0.2.1:5432/test", timeout=0.5)
    with pytest.raises(StoreError, match=r"load the flags|no answer"):
        _run(store, lambda: asyncio.wait_for(store.load(), WAIT))


def test_an_invalid_actor_writes_nothing(database: Database) -> None:
    store = database.store()

    async def work() -> int:
        with pytest.raises(ValueError, match="actor"):
            await store.put_flag("a", flag(), actor=" ")
        return (await store.load()).revision

    assert _run(store, work) == 0


def test_a_least_privilege_role_is_enough(postgres: Database, unique_name: str) -> None:
    # The grants docs/stores/sql.rst gives: a writer role, and a read-only provider role.
    owner = postgres.store()
    _run(owner, owner.load)  # creates the tables
    writer, reader = f"{unique_name}_writer", f"{unique_name}_reader"
    tables = ", ".join(postgres.table(name) for name in TABLES)
    read_tables = ", ".join(postgres.table(name) for name in ("namespaces", "flags", "schema"))
    usage_tables = ", ".join(postgres.table(name) for name in USAGE_TABLES)
    _run(owner, lambda: owner.read_usage(since=datetime.now(timezone.utc)))  # and these
    sequence = f'"{postgres.prefix}audit_id_seq"'
    grants = [
        f'CREATE ROLE "{writer}" LOGIN',
        f'CREATE ROLE "{reader}" LOGIN',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON {tables} TO "{writer}"',
        f'GRANT USAGE ON SEQUENCE {sequence} TO "{writer}"',
        f'GRANT SELECT ON {read_tables} TO "{reader}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON {usage_tables} TO "{writer}", "{reader}"',
    ]
    server = parse_url(postgres.url)

    def as_role(role: str, **options: Any) -> SQLAlchemyStore:
        url = f"postgresql+asyncpg://{role}@{server.host}:{server.port or 5432}/{server.database}"
        return SQLAlchemyStore(
            url, table_prefix=postgres.prefix, create_schema=False, poll_interval=3600, **options
        )

    async def work() -> None:
        writing, reading = as_role(writer), as_role(reader)
        changes = reading.changes()
        try:
            await _next(changes)
            await writing.put_flag("a", flag(), actor="alice")
            await writing.replace_document({"flags": {"b": flag()}}, actor="alice")
            assert len(await writing.audit_log()) == 3
            await _next(changes)
            assert list((await reading.load()).document.flags) == ["b"]
            with pytest.raises(StoreError, match="permission denied"):
                await reading.put_flag("c", flag(), actor="mallory")
            hour = hour_of(datetime.now(timezone.utc))
            await reading.record_usage(UsageBatch("ab", 1, {(hour, USAGE_KEY): 2}))
            await writing.record_usage(UsageBatch("cd", 1, {(hour, USAGE_KEY): 3}))
            assert [record.count for record in await reading.read_usage(since=hour)] == [5]
        finally:
            await changes.aclose()
            await writing.close()
            await reading.close()

    try:
        for grant in grants:
            asyncio.run(postgres.sql(grant))
        asyncio.run(work())
    finally:
        for role in (writer, reader):
            asyncio.run(postgres.sql(f'DROP OWNED BY "{role}"'))
            asyncio.run(postgres.sql(f'DROP ROLE IF EXISTS "{role}"'))


def test_an_older_schema_is_upgraded_by_the_shipped_steps(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openfeature_litestar._stores._sql import _schema  # noqa: PLC0415 - patched below

    first = database.store()
    _run(first, lambda: first.put_flag("a", flag(), actor="alice"))
    applied: list[int] = []

    def add_column(connection: Any, tables: Any) -> None:
        applied.append(1)
        connection.execute(text(f'ALTER TABLE "{tables.flags.name}" ADD COLUMN extra TEXT'))

    # Pretend this code is a release with schema version 2 and one upgrade step.
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(_schema._UPGRADES, 1, add_column)
    upgraded, checker = database.store(), database.store(create_schema=False)
    with pytest.raises(StoreError, match="schema version 1"):
        _run(checker, checker.load)  # without create_schema it only reports the old version
    assert _run(upgraded, upgraded.load).revision == 1
    again = database.store()
    assert _run(again, again.load).revision == 1  # the step runs once
    assert applied == [1]
    versions = asyncio.run(database.sql(f"SELECT version FROM {database.table('schema')}"))  # noqa: S608
    assert [tuple(row) for row in versions] == [(2,)]
    columns = asyncio.run(database.sql(f"SELECT extra FROM {database.table('flags')}"))  # noqa: S608
    assert [tuple(row) for row in columns] == [(None,)]


# -- usage counters ------------------------------------------------------------------------

HOUR = hour_of(datetime.now(timezone.utc))
EARLIER = HOUR - timedelta(hours=5)
MISSING = UsageKey("nope", None, "ERROR", "FLAG_NOT_FOUND")


def test_usage_counts_are_upserted_per_hour_and_read_back(database: Database) -> None:
    store = database.store()

    async def work() -> list[UsageRecord]:
        await store.record_usage(UsageBatch("a1", 1, {(HOUR, USAGE_KEY): 3, (EARLIER, MISSING): 1}))
        await store.record_usage(UsageBatch("b2", 1, {(HOUR, USAGE_KEY): 4}))
        await store.record_usage(UsageBatch("b2", 1, {(HOUR, USAGE_KEY): 4}))  # sent again
        await store.record_usage(UsageBatch("b2", 2, {(HOUR, MISSING): 2}))
        return await store.read_usage(since=EARLIER)

    assert _run(store, work) == [
        UsageRecord(EARLIER, MISSING, 1),
        UsageRecord(HOUR, USAGE_KEY, 7),
        UsageRecord(HOUR, MISSING, 2),
    ]
    later = _run(store, lambda: store.read_usage(since=HOUR, until=HOUR))
    assert [record.hour for record in later] == [HOUR, HOUR]
    count = f"SELECT COUNT(*) FROM {database.table('usage')}"  # noqa: S608 - our own prefix
    rows = asyncio.run(database.sql(count))
    assert rows[0][0] == 3


def test_old_usage_counts_are_pruned(database: Database) -> None:
    store = database.store(usage_retention_days=1)
    old = HOUR - timedelta(days=3)

    async def work() -> list[UsageRecord]:
        await store.record_usage(UsageBatch("a1", 1, {(old, USAGE_KEY): 1}))
        store._usage_pruned = float("-inf")
        await store.record_usage(UsageBatch("a1", 2, {(HOUR, USAGE_KEY): 1}))
        return await store.read_usage(since=old)

    assert _run(store, work) == [UsageRecord(HOUR, USAGE_KEY, 1)]


def test_without_usage_tables_and_create_schema_false_counts_are_refused(
    database: Database,
) -> None:
    owner = database.store()
    _run(owner, owner.load)  # the flag tables only
    store = database.store(create_schema=False)
    batch = UsageBatch("a1", 1, {(HOUR, USAGE_KEY): 1})
    with pytest.raises(ConfigurationError, match="usage tables"):
        _run(store, lambda: store.record_usage(batch))
    assert _run(store, store.load).revision == 0  # flags are served as before


def test_the_documented_ddl_makes_the_usage_tables(postgres: Database) -> None:
    owner = postgres.store()
    _run(owner, owner.load)
    docs = (Path(__file__).parents[3] / "docs" / "stores" / "sql.rst").read_text()
    ddl = re.findall(r"CREATE TABLE openfeature_usage.*?\);", docs, flags=re.DOTALL)
    assert len(ddl) == 2
    for statement in ddl:
        asyncio.run(postgres.sql(statement.replace("openfeature_", postgres.prefix)))
    store = postgres.store(create_schema=False)

    async def work() -> list[UsageRecord]:
        await store.record_usage(UsageBatch("a1", 1, {(HOUR, USAGE_KEY): 2}))
        return await store.read_usage(since=HOUR)

    assert _run(store, work) == [UsageRecord(HOUR, USAGE_KEY, 2)]


def test_concurrent_flushes_of_the_same_counters_add_up(database: Database) -> None:
    keys = [UsageKey(f"flag-{n}", "on", "STATIC", None) for n in range(200)]
    store = database.store(timeout=30)

    async def work() -> list[UsageRecord]:
        batches = [
            UsageBatch(
                f"{writer:02x}",
                1,
                {(HOUR, key): 1 for key in (keys if writer % 2 else reversed(keys))},
            )
            for writer in range(8)
        ]
        await asyncio.gather(*(store.record_usage(batch) for batch in batches))
        return await store.read_usage(since=HOUR)

    records = _run(store, work)
    assert len(records) == len(keys)
    assert {record.count for record in records} == {8}


def _spread_counts(now: datetime) -> dict[tuple[datetime, UsageKey], int]:
    """Counts over 20 days: flags with variants, errors, an unknown key, gaps between."""
    keys = [
        UsageKey("a", "on", "STATIC", None),
        UsageKey("a", "off", "TARGETING_MATCH", None),
        UsageKey("b", None, "ERROR", "TYPE_MISMATCH"),
        UsageKey("b", "x", "DEFAULT", None),
        UsageKey("ghost", None, "ERROR", "FLAG_NOT_FOUND"),
        UsageKey("", None, "ERROR", "FLAG_NOT_FOUND"),
    ]
    counts: dict[tuple[datetime, UsageKey], int] = {}
    for hours_ago in range(20 * 24):
        hour = hour_of(now - timedelta(hours=hours_ago))
        for number, key in enumerate(keys):
            if (hours_ago + number) % 3:
                counts[(hour, key)] = 1 + (hours_ago * 31 + number) % 97
    return counts


def test_insights_from_sql_bands_equal_insights_from_every_hour(database: Database) -> None:
    # The database sums the hours per band (GROUP BY); the report must not change.
    now = datetime.now(timezone.utc).replace(minute=25)
    document = document_from_data(
        {
            "flags": {
                "a": {
                    "state": "ENABLED",
                    "variants": {"on": True, "off": False},
                    "defaultVariant": "on",
                },
                "b": {"state": "ENABLED", "variants": {"x": "x"}, "defaultVariant": "x"},
                "c": {"state": "ENABLED", "variants": {"y": 1}, "defaultVariant": "y"},
            }
        }
    )
    store = database.store()
    thresholds = StaleThresholds(single_variant_after=timedelta(days=3, hours=5))

    async def work() -> tuple[list[UsageRecord], list[UsageRecord]]:
        await store.record_usage(UsageBatch("ab", 1, _spread_counts(now)))
        since = period_start(now, thresholds)
        hourly = await store.read_usage(since=since, until=now)
        banded = await store.read_usage_bands(
            since=since, until=now, bounds=window_bounds(now, thresholds)
        )
        return hourly, banded

    hourly, banded = _run(store, work)
    assert len(banded) < len(hourly) / 3
    assert build_insights(document, banded, now=now, thresholds=thresholds) == build_insights(
        document, hourly, now=now, thresholds=thresholds
    )

"""The contract every writable store keeps, checked against each store on real backing data.

See ``conftest.py`` for the backends. Each test runs its coroutine with ``backend.run``,
which closes every store it opened on that event loop.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from openfeature_litestar import (
    DocumentError,
    FlagNotFound,
    RevisionConflict,
    StoreError,
    WritableFlagStore,
    copy_namespace,
)
from openfeature_litestar._stores._url import store_from_url
from tests.support import echo_flag

if TYPE_CHECKING:
    from tests.contract.conftest import Backend

WAIT = 10.0  # generous: only a broken store ever waits this long
WRITERS = 5


BAD_FLAG = {"state": "ENABLED", "variants": {}}


async def _revision(store: WritableFlagStore) -> int:
    return (await store.load()).revision


async def _audit_ids(store: WritableFlagStore) -> list[str]:
    return [entry.id for entry in await store.audit_log(limit=1000)]


# -- reading and writing --------------------------------------------------------------------


def test_is_a_writable_store(store: WritableFlagStore) -> None:
    assert isinstance(store, WritableFlagStore)
    assert store.namespace == "default"


def test_a_fresh_namespace_is_empty_at_revision_zero(
    backend: Backend, store: WritableFlagStore
) -> None:
    async def check() -> None:
        if backend.missing_is_empty:
            stored = await store.load()
            assert (stored.revision, stored.document.flags) == (0, {})
        else:
            with pytest.raises(StoreError):
                await store.load()
        assert await store.audit_log() == []
        assert (
            await store.put_flag("a", echo_flag("a", "zz"), actor="alice", expected_revision=0) == 1
        )

    backend.run(check())


def test_put_creates_then_updates(backend: Backend, store: WritableFlagStore) -> None:
    async def check() -> None:
        assert await store.put_flag("greeting", echo_flag("a", "zz"), actor="alice") == 1
        assert await store.put_flag("greeting", echo_flag("zz"), actor="bob") == 2
        stored = await store.load()
        assert stored.revision == 2
        assert stored.document.flags["greeting"].default_variant == "zz"
        update, create = await store.audit_log()
        assert (create.action, create.actor, create.revision) == ("create", "alice", 1)
        assert (create.before, create.after) == (None, echo_flag("a", "zz"))
        assert (update.action, update.actor, update.revision) == ("update", "bob", 2)
        assert (update.before, update.after) == (echo_flag("a", "zz"), echo_flag("zz"))
        for entry in (create, update):
            assert entry.namespace == "default"
            assert entry.flag_key == "greeting"
            assert entry.note is None
            assert entry.at.utcoffset() == timedelta(0)
        assert update.at >= create.at
        assert create.id != update.id

    backend.run(check())


def test_delete(backend: Backend, store: WritableFlagStore) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        await store.put_flag("b", echo_flag("a", "zz"), actor="alice")
        assert await store.delete_flag("a", actor="bob", expected_revision=2) == 3
        assert list((await store.load()).document.flags) == ["b"]
        [entry, *_] = await store.audit_log()
        assert (entry.flag_key, entry.action, entry.actor) == ("a", "delete", "bob")
        assert (entry.before, entry.after, entry.revision) == (echo_flag("a", "zz"), None, 3)

    backend.run(check())


def test_deleting_a_missing_flag_writes_nothing(backend: Backend, store: WritableFlagStore) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        with pytest.raises(FlagNotFound) as caught:
            await store.delete_flag("nope", actor="bob")
        assert (caught.value.key, caught.value.namespace) == ("nope", "default")
        assert await _revision(store) == 1
        assert len(await store.audit_log()) == 1

    backend.run(check())


def test_replace_document_audits_each_changed_flag(
    backend: Backend, store: WritableFlagStore
) -> None:
    async def check() -> None:
        await store.put_flag("kept", echo_flag("a", "zz"), actor="alice")
        await store.put_flag("dropped", echo_flag("a", "zz"), actor="alice")
        document = {
            "flags": {"kept": echo_flag("a", "zz"), "added": echo_flag("zz")},
            "metadata": {"flagSetId": "shop"},
        }
        assert await store.replace_document(document, actor="bob", note="release 7") == 3
        stored = await store.load()
        assert (stored.revision, list(stored.document.flags)) == (3, ["kept", "added"])
        entries = await store.audit_log()
        latest = [entry for entry in entries if entry.revision == 3]
        assert {(entry.flag_key, entry.action) for entry in latest} == {
            ("added", "create"),
            ("dropped", "delete"),
            (None, "update"),
        }
        shared = next(entry for entry in latest if entry.flag_key is None)
        assert (shared.before, shared.after) == ({}, {"metadata": {"flagSetId": "shop"}})
        assert {(entry.actor, entry.note) for entry in latest} == {("bob", "release 7")}

        # The same document again: a write all the same, with nothing to audit.
        assert await store.replace_document(stored.document, actor="bob") == 4
        assert await _revision(store) == 4
        assert len(await store.audit_log()) == len(entries)

    backend.run(check())


def test_invalid_writes_change_nothing(backend: Backend, store: WritableFlagStore) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        before = await store.load()
        with pytest.raises(DocumentError) as caught:
            await store.put_flag("b", BAD_FLAG, actor="alice")
        assert [problem.path for problem in caught.value.problems] == ["flags.b.variants"]
        with pytest.raises(DocumentError):
            await store.put_flag(" bad key", echo_flag("a", "zz"), actor="alice")
        with pytest.raises(DocumentError):
            await store.put_flag(
                "t", {**echo_flag("a", "zz"), "targeting": {"$ref": "none"}}, actor="x"
            )
        with pytest.raises(DocumentError):
            await store.replace_document({"flags": {"a": BAD_FLAG}}, actor="alice")
        after = await store.load()
        assert after.revision == before.revision == 1
        assert after.document == before.document
        assert len(await store.audit_log()) == 1

    backend.run(check())


@pytest.mark.parametrize("actor", ["", "  ", "two\nlines", "x" * 257])
def test_actor_is_checked_before_writing(
    backend: Backend, store: WritableFlagStore, actor: str
) -> None:
    async def check() -> None:
        with pytest.raises(ValueError, match="actor"):
            await store.put_flag("a", echo_flag("a", "zz"), actor=actor)
        with pytest.raises(ValueError, match="actor"):
            await store.replace_document({"flags": {}}, actor=actor)
        assert await store.audit_log() == []
        assert await store.put_flag("a", echo_flag("a", "zz"), actor="alice") == 1

    backend.run(check())


def test_a_stale_expected_revision_conflicts_and_writes_nothing(
    backend: Backend, store: WritableFlagStore
) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice", expected_revision=0)
        await store.put_flag("a", echo_flag("zz"), actor="alice", expected_revision=1)
        attempts = [
            store.put_flag("b", echo_flag("a", "zz"), actor="bob", expected_revision=1),
            store.delete_flag("a", actor="bob", expected_revision=1),
            store.replace_document({"flags": {}}, actor="bob", expected_revision=3),
        ]
        for attempt in attempts:
            with pytest.raises(RevisionConflict) as caught:
                await attempt
            assert caught.value.actual == 2
            assert isinstance(caught.value, StoreError)
        stored = await store.load()
        assert (stored.revision, list(stored.document.flags)) == (2, ["a"])
        assert [entry.actor for entry in await store.audit_log()] == ["alice", "alice"]

    backend.run(check())


def test_an_expected_epoch_must_be_the_one_the_revision_counts_in(
    backend: Backend, store: WritableFlagStore
) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        epoch = (await store.load()).epoch  # "" where the store keeps none
        other = "another" + epoch
        attempts = [
            store.put_flag(
                "b", echo_flag(), actor="bob", expected_revision=1, expected_epoch=other
            ),
            store.delete_flag("a", actor="bob", expected_revision=1, expected_epoch=other),
            store.replace_document(
                {"flags": {}}, actor="bob", expected_revision=1, expected_epoch=other
            ),
        ]
        for attempt in attempts:
            with pytest.raises(RevisionConflict) as caught:
                await attempt
            assert (caught.value.expected, caught.value.actual) == (1, 1)
            assert caught.value.epoch == epoch
        with pytest.raises(ValueError, match="expected_epoch"):
            await store.put_flag("b", echo_flag(), actor="bob", expected_epoch=epoch)
        assert (await store.load()).revision == 1

        revision = await store.put_flag(
            "a", echo_flag("zz"), actor="bob", expected_revision=1, expected_epoch=epoch
        )
        assert revision == 2
        assert (await store.load()).epoch == epoch

    backend.run(check())


def test_a_second_store_object_sees_every_write(backend: Backend, store: WritableFlagStore) -> None:
    other = backend.open()

    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        assert await _revision(other) == 1
        assert (
            await other.put_flag("b", echo_flag("a", "zz"), actor="bob", expected_revision=1) == 2
        )
        stored = await store.load()
        assert (stored.revision, sorted(stored.document.flags)) == (2, ["a", "b"])
        assert await _audit_ids(store) == await _audit_ids(other)

    backend.run(check())


# -- concurrency ----------------------------------------------------------------------------


def test_concurrent_conditional_writers_exactly_one_wins(
    backend: Backend, store: WritableFlagStore
) -> None:
    writers = [backend.open() for _ in range(WRITERS)]

    async def check() -> None:
        await store.put_flag("shared", echo_flag("a", "zz"), actor="setup")
        results = await asyncio.gather(
            *(
                writer.put_flag("shared", echo_flag("zz"), actor=f"w{n}", expected_revision=1)
                for n, writer in enumerate(writers)
            ),
            return_exceptions=True,
        )
        won = [result for result in results if result == 2]
        lost = [result for result in results if isinstance(result, RevisionConflict)]
        assert (len(won), len(lost)) == (1, WRITERS - 1), results
        winner = f"w{results.index(2)}"
        assert await _revision(store) == 2
        entries = await store.audit_log()
        assert [(entry.actor, entry.revision) for entry in entries] == [
            (winner, 2),
            ("setup", 1),
        ]

    backend.run(check())


def test_concurrent_writers_without_expected_revision_lose_no_update(
    backend: Backend, store: WritableFlagStore
) -> None:
    writers = [backend.open() for _ in range(WRITERS)]

    async def check() -> None:
        revisions = await asyncio.gather(
            *(
                writer.put_flag(f"f{n}", echo_flag("a", "zz"), actor=f"w{n}")
                for n, writer in enumerate(writers)
            )
        )
        assert sorted(revisions) == list(range(1, WRITERS + 1))
        stored = await store.load()
        assert stored.revision == WRITERS
        assert sorted(stored.document.flags) == sorted(f"f{n}" for n in range(WRITERS))
        entries = await store.audit_log()
        assert sorted(entry.revision for entry in entries) == list(range(1, WRITERS + 1))
        assert {entry.action for entry in entries} == {"create"}

    backend.run(check())


def test_one_store_object_from_two_threads_and_loops(
    backend: Backend, store: WritableFlagStore
) -> None:
    per_thread = 4
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        async def write() -> None:
            try:
                for n in range(per_thread):
                    await store.put_flag(
                        f"t{thread}-{n}", echo_flag("a", "zz"), actor=f"thread-{thread}"
                    )
                    assert f"t{thread}-{n}" in (await store.load()).document.flags
            finally:
                await store.close()

        try:
            asyncio.run(write())
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(thread,)) for thread in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    async def check() -> None:
        stored = await store.load()
        assert stored.revision == 2 * per_thread
        assert len(stored.document.flags) == 2 * per_thread

    backend.run(check())


# -- the audit trail --------------------------------------------------------------------------


def test_audit_log_newest_first_filtered_and_paged(
    backend: Backend, store: WritableFlagStore
) -> None:
    async def check() -> None:
        for n in range(7):
            await store.put_flag(
                "odd" if n % 2 else "even", echo_flag(f"v{n}", "zz"), actor=f"a{n}"
            )
        everything = await store.audit_log()
        assert [entry.revision for entry in everything] == [7, 6, 5, 4, 3, 2, 1]
        assert [entry.actor for entry in everything] == [f"a{n}" for n in range(6, -1, -1)]

        odd = await store.audit_log(flag_key="odd")
        assert [entry.revision for entry in odd] == [6, 4, 2]
        assert await store.audit_log(flag_key="absent") == []

        pages, before = [], None
        while True:
            page = await store.audit_log(limit=3, before=before)
            if not page:
                break
            assert len(page) <= 3
            pages.append(page)
            before = page[-1].id
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [entry.id for page in pages for entry in page] == [e.id for e in everything]

        older_odd = await store.audit_log(flag_key="odd", before=everything[1].id)
        assert [entry.revision for entry in older_odd] == [4, 2]
        assert [e.revision for e in await store.audit_log(limit=1)] == [7]

    backend.run(check())


def test_audit_log_arguments_are_checked(backend: Backend, store: WritableFlagStore) -> None:
    async def check() -> None:
        await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        for limit in (0, -1, 1001):
            with pytest.raises(ValueError, match="limit"):
                await store.audit_log(limit=limit)
        assert len(await store.audit_log(limit=1000)) == 1
        with pytest.raises(ValueError, match="no-such-entry"):
            await store.audit_log(before="no-such-entry")

    backend.run(check())


# -- watching ---------------------------------------------------------------------------------


def test_changes_yield_at_once_then_on_a_write_elsewhere_until_closed(
    backend: Backend, store: WritableFlagStore
) -> None:
    writer = backend.open()

    async def check() -> None:
        await writer.put_flag("a", echo_flag("a", "zz"), actor="alice")
        changes = store.changes()
        await asyncio.wait_for(anext(changes), WAIT)  # watching has started
        assert await _revision(store) == 1
        changed = asyncio.ensure_future(anext(changes))
        await writer.put_flag("a", echo_flag("zz"), actor="bob")
        await asyncio.wait_for(changed, WAIT)
        stored = await store.load()
        assert (stored.revision, stored.document.flags["a"].default_variant) == (2, "zz")
        after_close = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        await store.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(after_close, WAIT)

    backend.run(check())


# -- namespaces and promotion -----------------------------------------------------------------


def test_namespaces_are_separate_and_copy_namespace_promotes(backend: Backend) -> None:
    staging, production = backend.open("staging"), backend.open("production")

    async def check() -> None:
        await staging.put_flag("a", echo_flag("a", "zz"), actor="alice")
        await staging.put_flag("b", echo_flag("zz"), actor="alice")
        await production.put_flag("a", echo_flag("zz"), actor="ops")
        await production.put_flag("old", echo_flag("a", "zz"), actor="ops")
        assert sorted((await staging.load()).document.flags) == ["a", "b"]

        assert await copy_namespace(staging, production, actor="ci", expected_revision=2) == 3
        promoted = await production.load()
        assert promoted.document == (await staging.load()).document
        latest = [entry for entry in await production.audit_log() if entry.revision == 3]
        assert {(entry.flag_key, entry.action) for entry in latest} == {
            ("a", "update"),
            ("b", "create"),
            ("old", "delete"),
        }
        assert {entry.note for entry in latest} == {"promoted from 'staging' at revision 2"}
        assert {entry.namespace for entry in latest} == {"production"}
        assert [entry.namespace for entry in await staging.audit_log()] == ["staging"] * 2
        with pytest.raises(RevisionConflict):
            await copy_namespace(staging, production, actor="ci", expected_revision=2)

    backend.run(check())


# -- secrets ---------------------------------------------------------------------------------

WORD_TO_HIDE = "hunter2-not-a-real-password"


@pytest.mark.parametrize(
    "url",
    [
        f"redis://admin:{WORD_TO_HIDE}@127.0.0.1:6379/0",
        f"rediss://:{WORD_TO_HIDE}@127.0.0.1:6379/0?namespace=prod",
        f"postgresql://postgres:{WORD_TO_HIDE}@127.0.0.1:5432/test",
        f"postgresql+asyncpg://postgres:{WORD_TO_HIDE}@127.0.0.1/test?namespace=prod",
    ],
)
def test_repr_never_shows_a_password(url: str) -> None:
    store = store_from_url(url)
    assert WORD_TO_HIDE not in repr(store)
    assert WORD_TO_HIDE not in str(store)


@pytest.mark.parametrize(
    "url",
    [
        # Nothing listens on port 1: connecting fails at once.
        f"redis://admin:{WORD_TO_HIDE}@127.0.0.1:1/0",
        f"postgresql://postgres:{WORD_TO_HIDE}@127.0.0.1:1/test",
    ],
)
def test_errors_never_show_a_password(url: str) -> None:
    store = store_from_url(url, timeout=2.0)

    async def check() -> None:
        try:
            with pytest.raises(StoreError) as caught:
                await store.load()
            with pytest.raises(StoreError) as caught_write:
                await store.put_flag("a", echo_flag("a", "zz"), actor="alice")
        finally:
            await store.close()
        for error in (caught.value, caught_write.value):
            assert WORD_TO_HIDE not in str(error)
            assert WORD_TO_HIDE not in repr(error)

    asyncio.run(check())

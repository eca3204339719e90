"""MemoryStore: revisions, optimistic replacement, validation and change notification."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest

from openfeature_litestar import (
    DocumentError,
    FlagStore,
    MemoryStore,
    RevisionConflict,
    StoredDocument,
    StoreError,
    WritableFlagStore,
    document_from_data,
)

WAIT = 10.0


def _document(value: str = "a") -> dict[str, Any]:
    return {
        "flags": {
            "greeting": {"state": "ENABLED", "variants": {value: value}, "defaultVariant": value}
        }
    }


def test_is_a_flag_store() -> None:
    assert isinstance(MemoryStore(), FlagStore)


def test_starts_empty_at_revision_zero_like_a_namespace_never_written() -> None:
    store = MemoryStore()
    assert store.revision == 0
    assert store.document.flags == {}
    assert store.namespace == "default"
    assert repr(store) == "MemoryStore(revision=0, flags=0)"


def test_an_initial_document_is_revision_one_and_not_audited() -> None:
    store = MemoryStore(_document(), namespace="qa")
    assert store.revision == 1
    assert repr(store) == "MemoryStore(namespace='qa', revision=1, flags=1)"
    assert asyncio.run(store.audit_log()) == []


def test_accepts_a_document_or_data() -> None:
    document = document_from_data(_document())
    assert MemoryStore(document).document is document
    from_data = MemoryStore(_document())
    assert list(from_data.document.flags) == ["greeting"]
    assert from_data.document == document


def test_invalid_initial_data_is_rejected() -> None:
    with pytest.raises(DocumentError) as caught:
        MemoryStore({"flags": {"x": {"state": "ENABLED"}}})
    assert [problem.path for problem in caught.value.problems] == ["flags.x.variants"]


def test_replace_counts_revisions() -> None:
    store = MemoryStore(_document("a"))
    assert store.replace(_document("b")) == 2
    assert store.replace(document_from_data(_document("c"))) == 3
    assert store.revision == 3
    assert list(store.document.flags["greeting"].variants) == ["c"]
    assert repr(store) == "MemoryStore(revision=3, flags=1)"


def test_replace_with_the_expected_revision() -> None:
    store = MemoryStore(_document("a"))
    assert store.replace(_document("b"), expected_revision=1) == 2
    assert store.replace(_document("c"), expected_revision=2) == 3


def test_a_stale_revision_conflicts_and_changes_nothing() -> None:
    store = MemoryStore(_document("a"))
    store.replace(_document("b"))
    before = store.document
    with pytest.raises(RevisionConflict) as caught:
        store.replace(_document("c"), expected_revision=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert isinstance(caught.value, StoreError)
    assert store.revision == 2
    assert store.document is before


def test_an_invalid_replacement_changes_nothing() -> None:
    store = MemoryStore(_document("a"))
    before = store.document
    with pytest.raises(DocumentError):
        store.replace({"flags": {"greeting": {"state": "ENABLED", "variants": {}}}})
    assert store.revision == 1
    assert store.document is before


def test_load_returns_the_current_document() -> None:
    store = MemoryStore(_document("a"))
    store.replace(_document("b"))
    loaded = asyncio.run(store.load())
    assert loaded == StoredDocument(store.document, 2)


def test_changes_wake_watchers_until_closed() -> None:
    store = MemoryStore(_document("a"))

    async def watch() -> None:
        changes = store.changes()
        # The first yield comes as soon as the watch is in place, before any change.
        await asyncio.wait_for(anext(changes), WAIT)
        second = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        assert not second.done()  # nothing changed yet
        # Replaced from another thread, as an application would.
        writer = threading.Thread(target=store.replace, args=(_document("b"),))
        writer.start()
        await asyncio.wait_for(second, WAIT)
        writer.join(WAIT)
        third = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        await store.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(third, WAIT)

    asyncio.run(watch())
    # A closed store still serves its document.
    assert asyncio.run(store.load()).revision == 2


def test_watching_again_after_close_reopens_the_store() -> None:
    store = MemoryStore(_document("a"))
    asyncio.run(store.close())

    async def watch() -> None:
        changes = store.changes()
        await asyncio.wait_for(anext(changes), WAIT)
        second = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        store.replace(_document("b"))
        await asyncio.wait_for(second, WAIT)

    asyncio.run(watch())


def test_close_is_idempotent() -> None:
    store = MemoryStore(_document())
    asyncio.run(store.close())
    asyncio.run(store.close())
    assert store.revision == 1


# -- the writable store ---------------------------------------------------------------------


def test_is_a_writable_store() -> None:
    assert isinstance(MemoryStore(), WritableFlagStore)


@pytest.mark.parametrize("namespace", ["", "a b", "a:b", "x" * 65])
def test_namespace_is_checked(namespace: str) -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        MemoryStore(namespace=namespace)
    with pytest.raises(ValueError, match="invalid namespace"):
        MemoryStore().with_namespace(namespace)


@pytest.mark.parametrize("length", [0, -1, True])
def test_audit_max_length_must_be_positive(length: int) -> None:
    with pytest.raises(ValueError, match="audit_max_length"):
        MemoryStore(audit_max_length=length)


def test_replace_is_audited() -> None:
    store = MemoryStore(_document("a"))
    store.replace(_document("b"))
    store.replace(_document("c"), actor="deploy-bot", note="release 7")
    newest, older = asyncio.run(store.audit_log())
    assert (older.actor, older.note, older.revision, older.action) == ("local", None, 2, "update")
    assert (newest.actor, newest.note, newest.revision) == ("deploy-bot", "release 7", 3)
    assert newest.before == older.after == _document("b")["flags"]["greeting"]
    assert newest.at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="actor"):
        store.replace(_document("d"), actor="")
    assert store.revision == 3


def test_the_audit_trail_keeps_the_newest_entries() -> None:
    store = MemoryStore(audit_max_length=3)
    for value in "abcde":
        store.replace(_document(value))
    entries = asyncio.run(store.audit_log())
    assert [entry.revision for entry in entries] == [5, 4, 3]
    assert [entry.revision for entry in asyncio.run(store.audit_log(before=entries[0].id))] == [
        4,
        3,
    ]
    dropped = str(int(entries[-1].id) - 1)  # ids count up; the entry before the oldest is gone
    with pytest.raises(ValueError, match="no audit entry"):
        asyncio.run(store.audit_log(before=dropped))


def test_with_namespace_shares_the_memory() -> None:
    default = MemoryStore(_document("a"))
    same = default.with_namespace("default")
    other = default.with_namespace("other")
    assert same is not default
    assert same.document is default.document
    assert (other.revision, other.document.flags) == (0, {})
    asyncio.run(other.put_flag("x", _document()["flags"]["greeting"], actor="alice"))
    assert (other.revision, default.revision) == (1, 1)
    assert list(default.with_namespace("other").document.flags) == ["x"]
    assert asyncio.run(default.audit_log()) == []
    [entry] = asyncio.run(other.audit_log())
    assert (entry.namespace, entry.flag_key) == ("other", "x")


def test_a_write_wakes_only_the_watchers_of_its_namespace() -> None:
    store = MemoryStore(_document("a"))
    other = store.with_namespace("other")

    async def watch() -> None:
        changes = store.changes()
        await asyncio.wait_for(anext(changes), WAIT)
        woken = asyncio.ensure_future(anext(changes))
        other.replace(_document("b"))
        await asyncio.sleep(0.05)
        assert not woken.done()
        store.with_namespace("default").replace(_document("b"))
        await asyncio.wait_for(woken, WAIT)
        await store.close()

    asyncio.run(watch())


def test_closing_one_store_object_leaves_the_others_watching() -> None:
    store = MemoryStore(_document("a"))
    twin = store.with_namespace("default")

    async def watch() -> None:
        mine, theirs = store.changes(), twin.changes()
        await asyncio.wait_for(anext(mine), WAIT)
        await asyncio.wait_for(anext(theirs), WAIT)
        ended, still = asyncio.ensure_future(anext(mine)), asyncio.ensure_future(anext(theirs))
        await asyncio.sleep(0)
        await store.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(ended, WAIT)
        assert not still.done()
        store.replace(_document("b"))
        await asyncio.wait_for(still, WAIT)
        await twin.close()

    asyncio.run(watch())

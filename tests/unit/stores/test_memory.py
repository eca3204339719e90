"""MemoryStore: revisions, optimistic replacement, validation and change notification."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from openfeature_litestar import (
    DocumentError,
    FlagStore,
    MemoryStore,
    RevisionConflict,
    StoredDocument,
    StoreError,
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


def test_starts_empty_at_revision_one() -> None:
    store = MemoryStore()
    assert store.revision == 1
    assert store.document.flags == {}
    assert repr(store) == "MemoryStore(revision=1, flags=0)"


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

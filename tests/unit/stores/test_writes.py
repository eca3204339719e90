"""The pure helpers every writable store builds its writes and audit entries with."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import (
    DocumentError,
    FileStore,
    FlagNotFound,
    MemoryStore,
    RevisionConflict,
    document_from_data,
)
from openfeature_litestar._document import stored_document
from openfeature_litestar._stores._writes import (
    MAX_ACTOR_LENGTH,
    MAX_AUDIT_PAGE,
    Change,
    as_document,
    changes_between,
    check_actor,
    check_audit_limit,
    copy_namespace,
    definition_data,
    empty_document,
    shared_parts,
    utc_now,
    with_flag,
    without_flag,
)
from tests.support import echo_flag

if TYPE_CHECKING:
    from pathlib import Path


BASE = document_from_data(
    {
        "flags": {"one": echo_flag("a"), "two": echo_flag("b")},
        "$evaluators": {"is-admin": {"==": [{"var": "role"}, "admin"]}},
        "metadata": {"flagSetId": "shop"},
    }
)


def test_empty_document() -> None:
    document = empty_document()
    assert document.flags == {}
    assert document.dump() == {"flags": {}}


def test_as_document_passes_documents_through_and_validates_data() -> None:
    assert as_document(BASE) is BASE
    assert as_document({"flags": {"x": echo_flag()}}).flags["x"].default_variant == "a"
    with pytest.raises(DocumentError):
        as_document({"flags": {"x": {"state": "ENABLED"}}})


def test_definition_data_is_flagd_json() -> None:
    assert definition_data(BASE, "one") == echo_flag("a")
    assert definition_data(BASE, "missing") is None


def test_shared_parts() -> None:
    assert shared_parts(BASE) == {
        "$evaluators": {"is-admin": {"==": [{"var": "role"}, "admin"]}},
        "metadata": {"flagSetId": "shop"},
    }
    assert shared_parts(empty_document()) == {}


def test_with_flag_adds_and_replaces() -> None:
    added = with_flag(BASE, "three", echo_flag("c"))
    assert list(added.flags) == ["one", "two", "three"]
    replaced = with_flag(added, "one", echo_flag("z"))
    assert list(replaced.flags) == ["one", "two", "three"]
    assert definition_data(replaced, "one") == echo_flag("z")
    assert shared_parts(replaced) == shared_parts(BASE)
    assert definition_data(BASE, "one") == echo_flag("a")  # the input is not changed


def test_with_flag_can_use_the_documents_evaluators() -> None:
    targeted = echo_flag("a", targeting={"if": [{"$ref": "is-admin"}, "a", None]})
    assert "t" in with_flag(BASE, "t", targeted).flags
    with pytest.raises(DocumentError):
        with_flag(empty_document(), "t", targeted)  # no such evaluator there


@pytest.mark.parametrize("key", ["", " padded", "line\nbreak", "k" * 257])
def test_with_flag_refuses_bad_keys(key: str) -> None:
    with pytest.raises(DocumentError) as caught:
        with_flag(BASE, key, echo_flag())
    assert [problem.path for problem in caught.value.problems] == [f"flags.{key}"]


def test_with_flag_reports_problems_under_the_flag() -> None:
    with pytest.raises(DocumentError) as caught:
        with_flag(BASE, "bad", {"state": "ENABLED", "variants": {}})
    assert [problem.path for problem in caught.value.problems] == ["flags.bad.variants"]


def test_without_flag() -> None:
    assert list(without_flag(BASE, "one", "prod").flags) == ["two"]
    with pytest.raises(FlagNotFound) as caught:
        without_flag(BASE, "nope", "prod")
    assert (caught.value.key, caught.value.namespace) == ("nope", "prod")
    assert isinstance(caught.value, LookupError)


def test_changes_between_lists_creates_updates_then_deletes_then_shared_parts() -> None:
    after = document_from_data(
        {
            "flags": {"three": echo_flag("c"), "two": echo_flag("B")},
            "metadata": {"flagSetId": "shop", "version": "2"},
        }
    )
    assert changes_between(BASE, after) == [
        Change("three", "create", None, echo_flag("c")),
        Change("two", "update", echo_flag("b"), echo_flag("B")),
        Change("one", "delete", echo_flag("a"), None),
        Change(
            None,
            "update",
            {
                "$evaluators": {"is-admin": {"==": [{"var": "role"}, "admin"]}},
                "metadata": {"flagSetId": "shop"},
            },
            {"metadata": {"flagSetId": "shop", "version": "2"}},
        ),
    ]


def test_no_changes_between_equal_documents() -> None:
    assert changes_between(BASE, document_from_data(BASE.dump())) == []


@pytest.mark.parametrize("actor", ["alice", "ci:deploy-42", "x" * MAX_ACTOR_LENGTH, "Zoë"])
def test_check_actor_accepts_names(actor: str) -> None:
    assert check_actor(actor) == actor


@pytest.mark.parametrize("actor", ["", "   ", "x" * (MAX_ACTOR_LENGTH + 1), "a\nb", "\x00", 42])
def test_check_actor_refuses(actor: Any) -> None:
    with pytest.raises(ValueError, match="actor"):
        check_actor(actor)


@pytest.mark.parametrize("limit", [1, 50, MAX_AUDIT_PAGE])
def test_check_audit_limit_accepts(limit: int) -> None:
    assert check_audit_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, MAX_AUDIT_PAGE + 1, True, 2.0, "5"])
def test_check_audit_limit_refuses(limit: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        check_audit_limit(limit)


def test_utc_now_is_aware_utc() -> None:
    assert utc_now().utcoffset() == timedelta(0)


def test_copy_namespace_promotes_with_a_note() -> None:
    staging = MemoryStore({"flags": {"one": echo_flag("new")}}, namespace="staging")
    production = staging.with_namespace("production")

    async def promote() -> None:
        await production.put_flag("one", echo_flag("old"), actor="alice")
        assert await copy_namespace(staging, production, actor="bob") == 2
        [entry, *_] = await production.audit_log()
        assert (entry.flag_key, entry.action, entry.actor) == ("one", "update", "bob")
        assert entry.note == "promoted from 'staging' at revision 1"
        with pytest.raises(RevisionConflict):
            await copy_namespace(staging, production, actor="bob", expected_revision=1)

    asyncio.run(promote())
    assert production.document == staging.document


def test_copy_namespace_from_a_file(tmp_path: Path) -> None:
    source = tmp_path / "reviewed.json"
    source.write_text('{"flags": {"x": {"state": "ENABLED", "variants": {"a": 1}}}}')
    target = MemoryStore()
    asyncio.run(copy_namespace(FileStore(source, namespace="reviewed"), target, actor="ci"))
    [entry] = asyncio.run(target.audit_log())
    assert entry.note == "promoted from 'reviewed' at revision 1"


# --- lenient reading, strict writing -------------------------------------------------------

_ODD_FLAG = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"ends_with": [{"var": "email"}, 3]}, "on", None]},
}
_ODD_PATH = "flags.odd.targeting.if.0.ends_with.1"
_PLAIN_FLAG = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"}


def _stored_with_an_odd_flag() -> Any:
    return document_from_data({"flags": {"odd": _ODD_FLAG, "plain": _PLAIN_FLAG}})


def test_a_write_of_one_flag_is_not_refused_for_another_stored_flags_warning() -> None:
    after = with_flag(_stored_with_an_odd_flag(), "plain", {**_PLAIN_FLAG, "defaultVariant": "off"})
    assert after.flags["plain"].default_variant == "off"
    assert [warning.path for warning in after.warnings] == [_ODD_PATH]  # still tolerated


def test_a_write_is_refused_for_the_problems_of_the_flag_it_writes() -> None:
    stored = _stored_with_an_odd_flag()
    with pytest.raises(DocumentError) as caught:
        with_flag(stored, "odd", {**_ODD_FLAG, "defaultVariant": "on"})
    assert [problem.path for problem in caught.value.problems] == [_ODD_PATH]
    with pytest.raises(DocumentError) as caught:
        with_flag(stored, "new", {**_PLAIN_FLAG, "targeting": {"invalid": [1]}})
    assert [problem.path for problem in caught.value.problems] == ["flags.new.targeting"]


def test_deleting_a_flag_is_never_refused_for_warnings() -> None:
    stored = _stored_with_an_odd_flag()
    assert list(without_flag(stored, "plain", "default").flags) == ["odd"]
    assert without_flag(stored, "odd", "default").warnings == ()


def test_a_write_building_on_an_uncompiled_stored_document_is_as_lenient() -> None:
    # What the Redis and SQL stores build writes on: validated, not compiled.
    stored = stored_document({"flags": {"odd": _ODD_FLAG, "plain": _PLAIN_FLAG}}, source="t")
    after = with_flag(stored, "plain", {**_PLAIN_FLAG, "state": "DISABLED"})
    assert after.flags["plain"].state == "DISABLED"
    assert [warning.path for warning in after.warnings] == [_ODD_PATH]


def test_a_whole_document_write_refuses_a_document_with_warnings() -> None:
    with pytest.raises(DocumentError) as caught:
        as_document(_stored_with_an_odd_flag())
    assert [problem.path for problem in caught.value.problems] == [_ODD_PATH]
    with pytest.raises(DocumentError) as caught:
        as_document({"flags": {"odd": _ODD_FLAG}})
    assert [problem.path for problem in caught.value.problems] == [_ODD_PATH]
    assert as_document({"flags": {"odd": _ODD_FLAG}}, strict=False).warnings


def test_a_memory_store_reads_its_initial_document_leniently_and_writes_strictly() -> None:
    store = MemoryStore({"flags": {"odd": _ODD_FLAG, "plain": _PLAIN_FLAG}})
    assert [warning.path for warning in store.document.warnings] == [_ODD_PATH]
    asyncio.run(store.put_flag("plain", {**_PLAIN_FLAG, "defaultVariant": "off"}, actor="t"))
    assert store.revision == 2
    with pytest.raises(DocumentError):
        store.replace(store.document)  # the whole document is what it writes
    with pytest.raises(DocumentError):
        asyncio.run(store.put_flag("odd", _ODD_FLAG, actor="t"))
    assert store.revision == 2

"""Snapshot: building from a document, changed_keys and with_flags."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from openfeature_litestar import Snapshot, document_from_data
from openfeature_litestar._engine import CompiledFlag
from tests.support import flag

BASE: dict[str, Any] = {
    "metadata": {"flagSetId": "set", "version": "1"},
    "$evaluators": {"beta": {"==": [{"var": "plan"}, "beta"]}, "unused": True},
    "flags": {
        "plain": flag(),
        "uses-ref": flag(targeting={"if": [{"$ref": "beta"}, "on", "off"]}),
        "targeted": flag(targeting={"if": [{"var": "on"}, "on", "off"]}),
    },
}


def _snapshot(data: dict[str, Any], revision: int = 1) -> Snapshot:
    return Snapshot.from_document(document_from_data(data), revision)


def _override(key: str) -> CompiledFlag:
    return CompiledFlag(
        key=key,
        enabled=True,
        variants={"forced": "yes"},
        default_variant="forced",
        fingerprint=f"override:{key}",
    )


def test_empty_snapshot() -> None:
    snapshot = Snapshot()
    assert dict(snapshot.flags) == {}
    assert snapshot.revision == 0
    assert snapshot.document is None
    assert snapshot.epoch == ""


def test_from_document() -> None:
    document = document_from_data(BASE)
    snapshot = Snapshot.from_document(document, 5)
    assert list(snapshot.flags) == ["plain", "uses-ref", "targeted"]
    assert snapshot.revision == 5
    assert snapshot.document is document
    assert snapshot.flags["plain"].metadata == {"flagSetId": "set", "version": "1"}


def test_the_epoch_is_kept_when_overrides_are_laid_over() -> None:
    snapshot = Snapshot.from_document(document_from_data(BASE), 5, "0123456789abcdef")
    overridden = snapshot.with_flags({"plain": _override("plain")})
    assert (overridden.revision, overridden.epoch) == (5, "0123456789abcdef")


def test_snapshot_is_immutable() -> None:
    snapshot = _snapshot(BASE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.revision = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        snapshot.flags["new"] = _override("new")  # type: ignore[index]


def test_no_change() -> None:
    assert _snapshot(BASE).changed_keys(_snapshot(BASE, revision=2)) == []
    assert Snapshot().changed_keys(Snapshot()) == []


def test_from_empty_every_flag_is_new() -> None:
    assert Snapshot().changed_keys(_snapshot(BASE)) == ["plain", "targeted", "uses-ref"]
    assert _snapshot(BASE).changed_keys(Snapshot()) == ["plain", "targeted", "uses-ref"]


def test_added_removed_and_modified_flags_are_sorted() -> None:
    flags = dict(BASE["flags"])
    del flags["plain"]
    flags["targeted"] = flag("off", targeting={"if": [{"var": "on"}, "on", "off"]})
    flags["a-new-one"] = flag()
    newer = _snapshot({**BASE, "flags": flags})
    assert _snapshot(BASE).changed_keys(newer) == ["a-new-one", "plain", "targeted"]


@pytest.mark.parametrize(
    "change",
    [
        {"state": "DISABLED"},
        {"variants": {"on": True, "off": False, "maybe": True}},
        {"metadata": {"owner": "someone"}},
        {"targeting": {"if": [{"var": "x"}, "off", "on"]}},
    ],
)
def test_any_field_of_a_flag_is_a_change(change: dict[str, Any]) -> None:
    newer = _snapshot({**BASE, "flags": {**BASE["flags"], "plain": {**flag(), **change}}})
    assert _snapshot(BASE).changed_keys(newer) == ["plain"]


def test_an_evaluator_change_changes_only_the_flags_that_reference_it() -> None:
    newer = _snapshot({**BASE, "$evaluators": {**BASE["$evaluators"], "beta": True}})
    assert _snapshot(BASE).changed_keys(newer) == ["uses-ref"]


def test_a_flag_set_metadata_change_changes_every_flag() -> None:
    newer = _snapshot({**BASE, "metadata": {"flagSetId": "set", "version": "2"}})
    assert _snapshot(BASE).changed_keys(newer) == ["plain", "targeted", "uses-ref"]


def test_with_flags_nothing_is_the_same_snapshot() -> None:
    snapshot = _snapshot(BASE)
    assert snapshot.with_flags({}) is snapshot


def test_with_flags_lays_flags_over_a_copy() -> None:
    snapshot = _snapshot(BASE, revision=3)
    overrides = {"plain": _override("plain"), "extra": _override("extra")}
    merged = snapshot.with_flags(overrides)
    assert merged.flags["plain"] is overrides["plain"]
    assert merged.flags["extra"] is overrides["extra"]
    assert merged.flags["targeted"] is snapshot.flags["targeted"]
    assert (merged.revision, merged.document) == (3, snapshot.document)
    # The original is untouched.
    assert set(snapshot.flags) == {"plain", "uses-ref", "targeted"}
    assert snapshot.flags["plain"].variants == {"on": True, "off": False}
    assert snapshot.changed_keys(merged) == ["extra", "plain"]
    with pytest.raises(TypeError):
        merged.flags["other"] = _override("other")  # type: ignore[index]

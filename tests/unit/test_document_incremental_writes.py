"""A write of some flags compiles only those: the result equals the document built whole."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfeature_litestar import DocumentError, FlagDocument, document_from_data
from openfeature_litestar._stores._writes import changes_between, with_flag, without_flag

EVALUATORS = {
    "is_pro": {"in": [{"var": "plan"}, ["pro", "team"]]},
    "big": {"in": [{"var": "targetingKey"}, [f"user-{n}" for n in range(50)]]},
}


def definitions() -> dict[str, dict[str, Any]]:
    return {
        "static": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
        "pro": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"$ref": "is_pro"}, "on", "off"]},
            "metadata": {"owner": "billing"},
        },
        "rollout": {
            "state": "ENABLED",
            "variants": {"a": "a", "b": "b"},
            "defaultVariant": "a",
            "targeting": {"fractional": [["a", 50], ["b", 50]]},
        },
        # Tolerated when read (flagd evaluates it to null): a warning of its own.
        "odd": {
            "state": "ENABLED",
            "variants": {"a": "a"},
            "defaultVariant": "a",
            "targeting": {"ends_with": [{"var": "email"}, 3]},
        },
        "listed": {
            "state": "DISABLED",
            "variants": {"in": True, "out": False},
            "defaultVariant": "out",
            "targeting": {"if": [{"$ref": "big"}, "in", "out"]},
        },
    }


def document() -> FlagDocument:
    return document_from_data(
        {"flags": definitions(), "$evaluators": EVALUATORS, "metadata": {"flagSetId": "shop"}}
    )


def built_whole(written: FlagDocument) -> FlagDocument:
    return document_from_data(written.dump())


def same(written: FlagDocument, whole: FlagDocument) -> None:
    assert written.dump() == whole.dump()
    ours, theirs = written.compiled_flags(), whole.compiled_flags()
    assert list(ours) == list(theirs)
    for key, flag in theirs.items():
        assert ours[key].fingerprint == flag.fingerprint, key
        assert ours[key].broken == flag.broken, key
        assert ours[key].reads == flag.reads, key
        assert dict(ours[key].metadata) == dict(flag.metadata), key
    assert written.warnings == whole.warnings


VARIATIONS: list[dict[str, Any]] = [
    {"state": "DISABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"},
    {
        "state": "ENABLED",
        "variants": {"x": 1, "y": 2},
        "defaultVariant": "x",
        "targeting": {"if": [{"$ref": "big"}, "y", "x"]},
    },
    {
        "state": "ENABLED",
        "variants": {"x": "x", "y": "y"},
        "defaultVariant": "y",
        "targeting": {"fractional": [{"var": "email"}, ["x", 1], ["y", 3]]},
    },
]


@pytest.mark.parametrize("definition", VARIATIONS)
@pytest.mark.parametrize("key", ["static", "pro", "odd", "new-flag"])
def test_writing_one_flag_equals_building_the_document_whole(
    key: str, definition: dict[str, Any]
) -> None:
    before = document()
    after = with_flag(before, key, definition)
    same(after, built_whole(after))
    # The flags the write kept are the stored document's own, compiled once.
    for other, flag in before.compiled_flags().items():
        if other != key:
            assert after.compiled_flags()[other] is flag
    assert [change.flag_key for change in changes_between(before, after)] == [key]


def test_deleting_a_flag_equals_building_the_document_whole() -> None:
    after = without_flag(document(), "pro", "default")
    same(after, built_whole(after))
    assert "pro" not in after.compiled_flags()


def test_the_kept_flags_warning_stays_and_the_written_flag_is_strict() -> None:
    before = document()
    after = with_flag(before, "static", VARIATIONS[0])
    assert after.flag_warnings("odd") == before.flag_warnings("odd") != ()
    with pytest.raises(DocumentError, match=r"flags\.static\.targeting"):
        with_flag(
            before, "static", {**VARIATIONS[0], "targeting": {"ends_with": [{"var": "e"}, 3]}}
        )


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ({"state": "ON", "variants": {"a": 1}, "defaultVariant": "a"}, "flags.static.state"),
        ({"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "nope"}}, "flags.static"),
        ({"state": "ENABLED", "variants": {"a": 1}, "targeting": {"nope": [1]}}, "flags.static"),
    ],
)
def test_an_invalid_written_flag_is_reported_at_its_path(
    definition: dict[str, Any], path: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        with_flag(document(), "static", definition)
    assert any(problem.path.startswith(path) for problem in caught.value.problems)


def test_a_write_over_the_node_budget_is_refused_as_a_whole_compile_refuses_it() -> None:
    # 50 ids in "big", 57 values in all; the budget counts each evaluator once.
    data = {"flags": definitions(), "$evaluators": EVALUATORS}
    small = document_from_data(data, max_nodes=200)
    heavy = {
        "state": "ENABLED",
        "variants": {"a": "a"},
        "defaultVariant": "a",
        "targeting": {"in": [{"var": "k"}, [f"id-{n}" for n in range(300)]]},
    }
    with pytest.raises(DocumentError, match="more than 200 nodes"):
        with_flag(small, "heavy", heavy)


def _smallest_budget(data: dict[str, Any]) -> int:
    for budget in range(1, 1000):
        try:
            document_from_data(data, max_nodes=budget)
        except DocumentError:
            continue
        return budget
    raise AssertionError("no budget under 1000 loads it")


def test_a_write_the_whole_budget_holds_is_taken_though_its_evaluator_counts_twice() -> None:
    # "twin" names "big", which "listed" (kept) was the first to name: compiled alone,
    # "twin" counts big's values again, so only a whole compile can judge the budget.
    twin = {**definitions()["listed"], "state": "ENABLED"}
    exact = _smallest_budget({"flags": {**definitions(), "twin": twin}, "$evaluators": EVALUATORS})
    stored = document_from_data(
        {"flags": definitions(), "$evaluators": EVALUATORS}, max_nodes=exact
    )
    after = with_flag(stored, "twin", twin)
    same(after, document_from_data(after.dump(), max_nodes=exact))
    with pytest.raises(DocumentError, match=f"more than {exact - 1} nodes"):
        with_flag(
            document_from_data(
                {"flags": definitions(), "$evaluators": EVALUATORS}, max_nodes=exact - 1
            ),
            "twin",
            twin,
        )


@settings(max_examples=40, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["static", "pro", "rollout", "odd", "listed", "extra"]),
            st.sampled_from([*VARIATIONS, None]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_sequence_of_writes_equals_building_the_last_document_whole(
    edits: list[tuple[str, dict[str, Any] | None]],
) -> None:
    current = document()
    for key, definition in edits:
        if definition is None:
            if key in current.flags:
                current = without_flag(current, key, "default")
        else:
            current = with_flag(current, key, definition)
    same(current, built_whole(current))

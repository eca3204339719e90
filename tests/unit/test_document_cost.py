"""What a document costs to load follows its text: evaluators are compiled once, and a
document over its node budget is refused as soon as the count passes it."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from openfeature_litestar import (
    MAX_DOCUMENT_NODES,
    MAX_TARGETING_NODES,
    DocumentError,
    Snapshot,
    document_from_data,
    parse_document,
)
from openfeature_litestar._document import stored_document
from openfeature_litestar._engine import compile_targeting
from tests.support import BOOLEAN_VARIANTS

ALLOWED = list(range(9_000))
"""An allow-list of ids, the shape the hardening report found amplified per flag."""


def _sharing(flags: int, evaluator: Any) -> dict[str, Any]:
    """A document whose ``flags`` flags all name one evaluator."""
    return {
        "$evaluators": {"allowed": evaluator},
        "flags": {
            f"f{i}": {
                "state": "ENABLED",
                "variants": BOOLEAN_VARIANTS,
                "defaultVariant": "off",
                "targeting": {"if": [{"$ref": "allowed"}, "on", "off"]},
            }
            for i in range(flags)
        },
    }


def _peak_bytes(load: Any) -> int:
    tracemalloc.start()
    try:
        load()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_one_evaluator_named_by_many_flags_is_compiled_once() -> None:
    # 1,000 flags naming a 9,000-id allow-list: expanding it per flag (as loading used to)
    # compiled 9 million values and peaked at hundreds of MiB.
    document = _sharing(1_000, {"in": [{"var": "id"}, ALLOWED]})
    text = json.dumps(document)
    peak = _peak_bytes(lambda: parse_document(text))
    assert peak < 40 * len(text), f"{peak} bytes to load a {len(text)}-byte document"
    flags = Snapshot.from_document(parse_document(text)).flags
    last, first = flags["f999"].rule, flags["f0"].rule
    assert last is not None
    assert first is not None
    assert last({"id": 8_999}) == "on"
    assert first({"id": 9_000}) == "off"


def test_the_budget_counts_an_evaluator_once_however_many_flags_name_it() -> None:
    # in, var and "id", the list and its 100 items: 104 values.
    evaluator = {"in": [{"var": "id"}, list(range(100))]}
    # Each rule is if, the $ref, "on" and "off": 4 values (expanded: 107).
    document = _sharing(50, evaluator)
    loaded = document_from_data(document, max_nodes=50 * 4 + 104)
    assert loaded.compiled_flags()["f49"].rule is not None
    with pytest.raises(DocumentError, match="more than 303 nodes together"):
        document_from_data(document, max_nodes=50 * 4 + 103)


@pytest.mark.parametrize("strict", [True, False])
def test_a_document_over_its_budget_is_refused_at_the_flag_that_passes_it(strict: bool) -> None:
    # Every flag is fine on its own; together they are over the budget. Compiling stops
    # at the flag that passes it, so the refusal costs no more than the budget.
    rule = {"in": [{"var": "id"}, list(range(96))]}  # in, var, "id", the list, 96 items: 100
    flags = {
        f"f{i:04}": {"state": "ENABLED", "variants": BOOLEAN_VARIANTS, "targeting": rule}
        for i in range(1_000)
    }
    with pytest.raises(DocumentError) as caught:
        document_from_data({"flags": flags}, strict=strict, max_nodes=1_000)
    problems = [(problem.path, problem.message) for problem in caught.value.problems]
    assert problems == [  # ten flags make 1,000 values; the eleventh passes the budget
        ("flags.f0010.targeting", "the document's rules have more than 1000 nodes together")
    ]


def test_the_default_budget_is_documented_and_roomy() -> None:
    # 10,000 flags (the most a document may hold) of 100 values each fit.
    assert MAX_DOCUMENT_NODES >= 10_000 * 100


def test_one_rule_still_counts_an_evaluator_at_every_reference() -> None:
    # What one evaluation walks is bounded per rule: naming a 9,000-value evaluator twice
    # is over the per-rule limit even though it is compiled once.
    evaluator = {"in": [{"var": "id"}, ALLOWED]}
    twice = {"or": [{"$ref": "allowed"}, {"$ref": "allowed"}]}
    with pytest.raises(DocumentError, match=f"more than {MAX_TARGETING_NODES} nodes"):
        compile_targeting(twice, evaluators={"allowed": evaluator})


def test_a_reference_still_counts_its_evaluator_s_depth_where_it_is_used() -> None:
    deep: Any = {"var": "x"}
    for _ in range(40):
        deep = {"!": [deep]}
    outer: Any = {"$ref": "deep"}
    for _ in range(30):
        outer = {"!": [outer]}
    evaluators = {"deep": deep}
    assert compile_targeting(deep)({"x": 0}) is False  # 40 levels alone are fine
    with pytest.raises(DocumentError, match="nested deeper than 64 levels"):
        compile_targeting(outer, evaluators=evaluators)
    assert compile_targeting(outer, evaluators=evaluators, max_depth=72)({"x": 0}) is False


def test_a_broken_evaluator_named_at_every_level_reports_its_problem_once() -> None:
    # e0 names e1 twice, e1 names e2 twice, ...: replaying e40's problem at every use
    # would list it 2**40 times.
    evaluators: dict[str, Any] = {
        f"e{i}": {"and": [{"$ref": f"e{i + 1}"}, {"$ref": f"e{i + 1}"}]} for i in range(40)
    }
    evaluators["e40"] = {"xyzzy": 1}
    with pytest.raises(DocumentError) as caught:
        compile_targeting({"$ref": "e0"}, evaluators=evaluators, max_depth=1_000)
    assert [problem.message for problem in caught.value.problems] == [
        "in $evaluators.e40: unknown operator 'xyzzy'"
    ]


def test_changing_an_evaluator_changes_only_the_flags_that_name_it() -> None:
    base: dict[str, Any] = {
        "$evaluators": {"beta": {"==": [{"var": "plan"}, "beta"]}},
        "flags": {
            "named": {
                "state": "ENABLED",
                "variants": BOOLEAN_VARIANTS,
                "targeting": {"if": [{"$ref": "beta"}, "on", "off"]},
            },
            "plain": {"state": "ENABLED", "variants": BOOLEAN_VARIANTS, "defaultVariant": "off"},
        },
    }
    before = document_from_data(base).compiled_flags()
    changed = {**base, "$evaluators": {"beta": {"==": [{"var": "plan"}, "gamma"]}}}
    after = document_from_data(changed).compiled_flags()
    assert before["plain"].fingerprint == after["plain"].fingerprint
    assert before["named"].fingerprint != after["named"].fingerprint
    again = document_from_data(json.loads(json.dumps(base))).compiled_flags()
    assert again["named"].fingerprint == before["named"].fingerprint


def test_a_stored_document_is_validated_now_and_compiled_only_when_asked() -> None:
    data = {
        "flags": {
            "a": {"state": "ENABLED", "variants": BOOLEAN_VARIANTS, "targeting": {"$ref": "gone"}}
        }
    }
    document = stored_document(data, source="test")
    assert list(document.flags) == ["a"]  # a write can build on it
    assert document._compiled is None
    # Compiled leniently when asked: what a store holds was accepted, as flagd accepts it.
    assert document.compiled_flags()["a"].broken
    (warning,) = document.warnings
    assert warning.path == "flags.a.targeting.$ref"
    assert "missing evaluator 'gone'" in warning.message
    with pytest.raises(DocumentError, match=r"flags\.a\.state"):
        stored_document({"flags": {"a": {"state": "SOMETIMES", "variants": {}}}}, source="t")

"""The operator registry: one declaration per operator, read by the compiler's checks."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from openfeature_litestar._engine._compiler import Compiler
from openfeature_litestar._engine._operators import OPERATORS
from openfeature_litestar._engine._registry import declarations, operator
from openfeature_litestar._errors import DocumentError

# Written out rather than derived, so that a family module that is never imported (and so
# never registers its operators) fails here.
FAMILIES: dict[str, set[str]] = {
    "data": {"var", "missing", "missing_some"},
    "logic": {"if", "?:", "and", "or", "!", "!!", "log"},
    "comparison": {"==", "===", "!=", "!==", "<", "<=", ">", ">="},
    "strings": {"in", "cat", "substr"},
    "arithmetic": {"+", "-", "*", "/", "%", "max", "min"},
    "arrays": {"map", "filter", "reduce", "all", "none", "some", "merge"},
    "flagd": {"fractional", "sem_ver", "starts_with", "ends_with"},
    "matches": {"matches"},
}


def test_every_operator_of_every_family_is_registered() -> None:
    expected = set().union(*FAMILIES.values())
    assert set(OPERATORS) == expected


def test_every_registered_operator_has_exactly_one_declaration() -> None:
    declared = [name for spec in declarations() for name in spec.names]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(OPERATORS)
    for spec in declarations():
        for name in spec.names:
            assert OPERATORS[name] is spec


def test_declaring_a_name_twice_is_refused_and_changes_nothing() -> None:
    before = dict(OPERATORS)
    count = len(declarations())
    builder = OPERATORS["var"].builder
    with pytest.raises(ValueError, match="'var' is declared twice"):
        operator("var")(builder)
    with pytest.raises(ValueError, match="'==' is declared twice"):
        operator("not-yet-an-operator", "==")(builder)
    assert dict(OPERATORS) == before
    assert len(declarations()) == count


def test_aliases_share_one_declaration() -> None:
    assert OPERATORS["if"] is OPERATORS["?:"]
    assert OPERATORS["if"].names == ("if", "?:")


# One operator of each family given a wrong number of operands; matches has no schema
# arity, its builder counts, and is checked the same way for the message it gives.
WRONG_COUNTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("data", {"missing_some": [1]}, "t.missing_some", "'missing_some' takes 2 operands, got 1"),
    ("logic", {"!": [True, False]}, "t.!", "'!' takes 1 operands, got 2"),
    ("comparison", {"==": [1, 1, 1]}, "t.==", "'==' takes 2 operands, got 3"),
    ("comparison", {"<": [1]}, "t.<", "'<' takes 2 to 3 operands, got 1"),
    ("strings", {"substr": ["abc"]}, "t.substr", "'substr' takes 2 to 3 operands, got 1"),
    ("arithmetic", {"/": [1, 2, 3]}, "t./", "'/' takes 2 operands, got 3"),
    ("arithmetic", {"*": [2]}, "t.*", "'*' takes 2 to any operands, got 1"),
    ("arrays", {"reduce": [[1], {"var": "current"}]}, "t.reduce", "'reduce' takes 3 operands"),
    ("flagd", {"sem_ver": ["1.0.0", "="]}, "t.sem_ver", "'sem_ver' takes 3 operands, got 2"),
    ("matches", {"matches": ["abc"]}, "t.matches", "matches takes a string and a pattern"),
]


@pytest.mark.parametrize(
    ("family", "rule", "path", "message"), WRONG_COUNTS, ids=[w[0] for w in WRONG_COUNTS]
)
def test_strict_arity_check_rejects_a_wrong_operand_count(
    family: str, rule: dict[str, Any], path: str, message: str
) -> None:
    assert next(iter(rule)) in FAMILIES[family]
    with pytest.raises(DocumentError) as caught:
        compile_targeting(rule, path="t")
    assert [(p.path, p.message[: len(message)]) for p in caught.value.problems] == [(path, message)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"!": [True, False]}, False),  # the extra operand is ignored, as in json-logic-js
        ({"==": [1, 1, 2]}, True),
        ({"/": [1, 2, 3]}, 0.5),
        ({"substr": ["abc"]}, "abc"),  # an absent start reads as null, that is 0
    ],
)
def test_lenient_mode_does_not_check_arity(rule: dict[str, Any], expected: Any) -> None:
    assert compile_targeting(rule, strict=False)({}) == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"<": [1, 2, 3]}, True),
        ({"substr": ["abc", 1, 1]}, "b"),
        ({"+": [1]}, 1),
        ({"and": [1, 2, 3, 4]}, 4),
    ],
)
def test_strict_arity_check_accepts_counts_within_the_range(
    rule: dict[str, Any], expected: Any
) -> None:
    assert compile_targeting(rule)({}) == expected


def compile_node(rule: Any) -> Any:
    return Compiler({}, strict=True, max_depth=64, max_nodes=10_000).compile(rule, "t", 0)


def test_pure_operators_on_constants_fold_and_impure_ones_do_not() -> None:
    assert OPERATORS["+"].pure
    assert compile_node({"+": [1, 2]}).const
    assert compile_node({"+": [1, 2]}).value == 3
    for name in ("var", "missing", "missing_some", "fractional"):
        assert not OPERATORS[name].pure, name
    assert not compile_node({"var": "x"}).const
    assert not compile_node({"missing": ["x"]}).const


def test_only_fractional_builds_from_raw_operands() -> None:
    assert {name for name, spec in OPERATORS.items() if spec.raw} == {"fractional"}


def test_log_is_the_only_lenient_only_operator() -> None:
    assert {name for name, spec in OPERATORS.items() if spec.lenient_only} == {"log"}

"""Compile-time problems: every one reported, each with its path."""

from __future__ import annotations

from typing import Any

import pytest

from openfeature_litestar._engine import MAX_TARGETING_DEPTH, compile_targeting
from openfeature_litestar._errors import DocumentError


def _problems(targeting: Any, **options: Any) -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as caught:
        compile_targeting(targeting, **options)
    return [(problem.path, problem.message) for problem in caught.value.problems]


@pytest.mark.parametrize("strict", [True, False])
def test_unknown_operator_is_an_error_with_its_path(strict: bool) -> None:
    problems = _problems(
        {"if": [{"in": [{"var": "x"}, {"regex_match": ["a", "b"]}]}, "on", "off"]},
        path="flags.x.targeting",
        strict=strict,
    )
    assert problems == [("flags.x.targeting.if.0.in.1", "unknown operator 'regex_match'")]


@pytest.mark.parametrize("strict", [True, False])
def test_a_misspelt_operator_names_the_nearest_ones(strict: bool) -> None:
    problems = _problems({"strts_with": [{"var": "email"}, "a"]}, strict=strict)
    expected = "unknown operator 'strts_with'; did you mean 'starts_with' or 'ends_with'?"
    assert problems == [("targeting", expected)]


def test_strict_suggests_no_operator_it_refuses() -> None:
    # "log" is evaluated as flagd does, but only when reading leniently.
    assert _problems({"lgo": [1]}, strict=True) == [("targeting", "unknown operator 'lgo'")]
    assert _problems({"lgo": [1]}, strict=False) == [
        ("targeting", "unknown operator 'lgo'; did you mean 'log'?")
    ]


@pytest.mark.parametrize("strict", [True, False])
def test_always_errors_are_all_reported(strict: bool) -> None:
    problems = _problems(
        {
            "or": [
                {"==": [1, 1], "!=": [1, 2]},
                {"$ref": "nowhere"},
                {"matches": [{"var": "s"}, "("]},
                {"matches": [{"var": "s"}, {"var": "p"}]},
                {"bogus": []},
            ]
        },
        strict=strict,
    )
    paths = [path for path, _ in problems]
    assert paths == [
        "targeting.or.0",
        "targeting.or.1.$ref",
        "targeting.or.2.matches.1",
        "targeting.or.3.matches.1",
        "targeting.or.4",
    ]
    assert "RE2" in problems[2][1]


def test_ref_expands_and_cycles_are_errors() -> None:
    evaluators = {"a": {"$ref": "b"}, "b": {"==": [{"var": "x"}, 1]}}
    assert (
        compile_targeting({"if": [{"$ref": "a"}, "y", "n"]}, evaluators=evaluators)({"x": 1}) == "y"
    )
    cyclic = {"a": {"!": {"$ref": "b"}}, "b": {"$ref": "a"}}
    problems = _problems({"$ref": "a"}, evaluators=cyclic, strict=False)
    assert len(problems) == 1
    assert "cycle" in problems[0][1]


def test_problems_inside_evaluators_name_the_evaluator() -> None:
    problems = _problems({"$ref": "e"}, evaluators={"e": {"xyzzy": 1}})
    assert problems == [("targeting", "in $evaluators.e: unknown operator 'xyzzy'")]


def test_depth_limit() -> None:
    deep: Any = {"var": "x"}
    for _ in range(MAX_TARGETING_DEPTH):
        deep = {"!": [deep]}
    problems = _problems(deep, strict=False)
    assert len(problems) == 1
    assert "deeper" in problems[0][1]
    assert compile_targeting(deep, max_depth=MAX_TARGETING_DEPTH + 1)({"x": 0}) is False  # 64 nots


def test_node_limit_counts_ref_expansion() -> None:
    evaluators: dict[str, Any] = {
        f"e{i}": {"and": [{"$ref": f"e{i + 1}"}, {"$ref": f"e{i + 1}"}]} for i in range(40)
    }
    evaluators["e40"] = {"var": "x"}
    problems = _problems({"$ref": "e0"}, evaluators=evaluators, max_depth=1000)
    assert len(problems) == 1
    assert "nodes" in problems[0][1]
    small = compile_targeting({"$ref": "e35"}, evaluators=evaluators)
    assert small({"x": 1}) == 1


@pytest.mark.parametrize(
    ("targeting", "lenient"),
    [
        ({"==": [1]}, False),  # the missing operand is null, and 1 == null is false
        ({"var": 1}, None),  # the path "1" is not in the data
        ({"starts_with": [{"var": "id"}]}, None),
        # Only strict mode insists on a literal operator; "=" from the data compares.
        ({"sem_ver": [{"var": "v"}, {"var": "op"}, "1.0.0"]}, True),
        ({"fractional": [["a", True]]}, None),
        ({"fractional": [["a", 1, 2]]}, None),
        ({"fractional": [["a", 2_147_483_647], ["b", 1]]}, None),
        ({"fractional": [{"var": "k"}]}, None),
        ({"log": "x"}, "x"),  # log passes its operand through
        ("not an object", "not an object"),  # a literal rule is its own value
    ],
)
def test_strict_rejects_what_flagd_quietly_nulls(targeting: Any, lenient: Any) -> None:
    assert _problems(targeting)
    result = compile_targeting(targeting, strict=False)({"k": "x", "v": "1.0.0", "op": "="})
    assert result == lenient
    assert type(result) is type(lenient)


def test_empty_targeting_returns_null() -> None:
    assert compile_targeting({})({}) is None
    assert compile_targeting(None)({}) is None

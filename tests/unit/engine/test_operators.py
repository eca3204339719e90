"""JSON Logic operator semantics, with expectations worked out from json-logic-js."""

from __future__ import annotations

import math
from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting

DATA: dict[str, Any] = {
    "s": "abc",
    "n": 5,
    "f": 2.5,
    "zero": 0,
    "empty": "",
    "t": True,
    "null": None,
    "list": [1, 2, 3],
    "user": {"name": "ann", "tags": ["a", "b"], "age": "42"},
    "targetingKey": "u1",
    "$flagd": {"flagKey": "flag", "timestamp": 1_750_000_000},
}

CASES: list[tuple[Any, Any]] = [
    # var
    ({"var": "s"}, "abc"),
    ({"var": ["s"]}, "abc"),
    ({"var": "user.name"}, "ann"),
    ({"var": "user.tags.1"}, "b"),
    ({"var": "list.0"}, 1),
    ({"var": "list.01"}, None),
    ({"var": "list.9"}, None),
    ({"var": ["nope", "dflt"]}, "dflt"),
    ({"var": ["null", "dflt"]}, None),  # present null is not missing
    ({"var": ["user.nope.deeper", 7]}, 7),
    ({"var": "$flagd.flagKey"}, "flag"),
    ({"var": {"cat": ["user", ".", "name"]}}, "ann"),
    ({"var": ""}, DATA),
    ({"var": [[1]]}, None),
    # missing
    ({"missing": ["s", "nope", "empty", "user.name"]}, ["nope", "empty"]),
    ({"missing": [["nope", "s"]]}, ["nope"]),
    ({"missing_some": [1, ["s", "nope"]]}, []),
    ({"missing_some": [2, ["s", "nope"]]}, ["nope"]),
    # if
    ({"if": []}, None),
    ({"if": [True, "a", "b"]}, "a"),
    ({"if": [[], "a", "b"]}, "b"),
    ({"if": ["0", "a", "b"]}, "a"),
    ({"if": [False, "a", False, "b", "c"]}, "c"),
    ({"if": [False, "a", {"var": "n"}, "b", "c"]}, "b"),
    ({"if": [{"var": "zero"}, "a"]}, None),
    ({"?:": [{"var": "t"}, 1, 2]}, 1),
    # loose equality
    ({"==": [1, "1"]}, True),
    ({"==": [0, ""]}, True),
    ({"==": [None, False]}, False),
    ({"==": [None, None]}, True),
    ({"==": [{"var": "nope"}, None]}, True),
    ({"==": [True, 1]}, True),
    ({"==": [True, "1"]}, True),
    ({"==": ["true", True]}, False),
    ({"==": [{"var": "list"}, "1,2,3"]}, True),
    ({"==": [{"var": "user.age"}, 42]}, True),
    ({"==": [{"var": "s"}, "abc"]}, True),
    ({"==": [{"var": "n"}, "5"]}, True),
    ({"==": [{"var": "n"}, " 5 "]}, True),
    ({"==": [{"var": "n"}, "0x5"]}, True),
    ({"==": [{"var": "list"}, {"var": "list"}]}, True),
    ({"==": [[1], [1]]}, False),
    ({"!=": [1, "1"]}, False),
    ({"!=": [{"var": "s"}, "abd"]}, True),
    # strict equality
    ({"===": [1, 1.0]}, True),
    ({"===": [1, "1"]}, False),
    ({"===": [1, True]}, False),
    ({"===": [{"var": "s"}, "abc"]}, True),
    ({"===": [{"var": "n"}, "5"]}, False),
    ({"!==": [{"var": "n"}, 5]}, False),
    # negation and truthiness
    ({"!": [[]]}, True),
    ({"!": {"var": "empty"}}, True),
    ({"!!": ["0"]}, True),
    ({"!!": [{"var": "user"}]}, True),
    ({"!!": [{"var": "null"}]}, False),
    ({"!!": [{"/": [0, 0]}]}, False),  # NaN is falsy
    # and / or return the deciding operand
    ({"and": [1, "a", 0, "b"]}, 0),
    ({"and": [1, "a"]}, "a"),
    ({"and": [{"==": [1, 1]}, {"==": [1, 2]}, {"==": [1, 1]}]}, False),
    ({"or": [0, "", "x"]}, "x"),
    ({"or": [0, ""]}, ""),
    ({"or": [{"var": "nope"}, {"var": "s"}]}, "abc"),
    ({"or": [{"==": [1, 2]}, {"==": [1, 1]}]}, True),
    ({"and": []}, None),
    # comparison
    ({">": [2, 1]}, True),
    ({">": ["10", "9"]}, False),  # strings compare as strings
    ({">": ["10", 9]}, True),  # a string against a number compares numbers
    ({"<": ["a", 1]}, False),  # NaN
    ({">=": [{"var": "user.age"}, 18]}, True),
    ({">=": [{"var": "n"}, 5]}, True),
    ({">=": [{"var": "nope"}, 0]}, True),  # null is 0
    ({"<": [{"var": "n"}, 5]}, False),
    ({"<=": [None, 0]}, True),
    ({"<": [1, {"var": "n"}, 10]}, True),
    ({"<": [1, {"var": "n"}, 5]}, False),
    ({"<=": [1, {"var": "n"}, 5]}, True),
    ({">": [{"var": "t"}, 0]}, True),
    ({"<": [[2], 3]}, True),
    # arithmetic
    ({"+": [1, 2]}, 3),
    ({"+": ["1", "2.5"]}, 3.5),
    ({"+": ["3px", 1]}, 4),  # parseFloat reads a numeric prefix
    ({"+": []}, 0),
    ({"+": [{"var": "user.age"}]}, 42),
    ({"*": [2, "3"]}, 6),
    ({"*": ["x"]}, "x"),  # one operand comes back untouched
    ({"-": [5]}, -5),
    ({"-": [5, "2"]}, 3),
    ({"/": [1, 4]}, 0.25),
    ({"/": [1, 0]}, math.inf),
    ({"/": [-1, 0]}, -math.inf),
    ({"%": [7, 3]}, 1),
    ({"%": [-7, 3]}, -1),
    ({"*": [1e308, 10]}, math.inf),
    ({"max": [1, "7", 3]}, 7),
    ({"min": [1, -2.5]}, -2.5),
    ({"max": []}, -math.inf),
    ({"+": [0.1, 0.2]}, 0.30000000000000004),
    # in
    ({"in": ["b", "abc"]}, True),
    ({"in": [{"var": "s"}, ["x", "abc"]]}, True),
    ({"in": [1, ["1", 2]]}, False),
    ({"in": [1, [1.0, 2]]}, True),
    ({"in": [True, [1]]}, False),
    ({"in": [None, [None]]}, True),
    ({"in": [{"var": "nope"}, "nullable"]}, True),  # String(null) is "null"
    ({"in": ["a", {"var": "user.tags"}]}, True),
    ({"in": [5, "12345"]}, True),
    ({"in": ["a", None]}, False),
    ({"in": [{"var": "n"}, ["DE", "FR"]]}, False),
    # strings
    ({"cat": ["a", 1, None, True, [1, None, 2], 2.5]}, "a1true1,,22.5"),
    ({"cat": [{"var": "s"}, "-", {"var": "n"}]}, "abc-5"),
    (
        {"cat": [1e21, 1e-7, 0.000001, 123456789012345680000]},
        "1e+211e-70.000001123456789012345680000",
    ),
    ({"substr": ["jsonlogic", 4]}, "logic"),
    ({"substr": ["jsonlogic", -5]}, "logic"),
    ({"substr": ["jsonlogic", 1, 3]}, "son"),
    ({"substr": ["jsonlogic", 4, -2]}, "log"),
    ({"substr": ["jsonlogic", -5, -2]}, "log"),
    ({"substr": ["jsonlogic", 20]}, ""),
    ({"substr": [None, 0, 2]}, "nu"),
    ({"substr": [12345, 1, 2]}, "23"),
    # arrays
    ({"merge": [[1, 2], 3, [[4]]]}, [1, 2, 3, [4]]),
    ({"merge": []}, []),
    ({"map": [{"var": "list"}, {"*": [{"var": ""}, 2]}]}, [2, 4, 6]),
    ({"map": [{"var": "nope"}, {"var": ""}]}, []),
    ({"filter": [{"var": "list"}, {">": [{"var": ""}, 1]}]}, [2, 3]),
    ({"reduce": [{"var": "list"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 10]}, 16),
    ({"reduce": [{"var": "nope"}, {"var": "current"}, 10]}, 10),
    ({"all": [{"var": "list"}, {">": [{"var": ""}, 0]}]}, True),
    ({"all": [[], True]}, False),
    ({"some": [{"var": "list"}, {">": [{"var": ""}, 2]}]}, True),
    ({"some": [[], True]}, False),
    ({"none": [{"var": "list"}, {">": [{"var": ""}, 5]}]}, True),
    ({"none": [[], True]}, True),
    ({"all": [{"var": "nope"}, True]}, None),  # JavaScript throws reading null.length
    # literals and arrays with rules inside
    ([1, {"var": "n"}], [1, 5]),
    ("literal", "literal"),
]


@pytest.mark.parametrize(("rule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_operator(rule: Any, expected: Any) -> None:
    result = compile_targeting(rule, strict=False)(DATA)
    assert result == expected
    assert type(result) is type(expected) or (
        isinstance(expected, float) and type(result) is int and expected.is_integer()
    )


def test_nan_results() -> None:
    for rule in ({"/": [0, 0]}, {"%": [1, 0]}, {"-": ["a", 1]}, {"max": [1, "x"]}):
        result = compile_targeting(rule, strict=False)(DATA)
        assert isinstance(result, float)
        assert math.isnan(result)


def test_integral_float_results_are_ints() -> None:
    assert type(compile_targeting({"+": [1.5, 1.5]})(DATA)) is int
    assert type(compile_targeting({"*": [2**60, 2**60]})(DATA)) is float


def test_var_reads_mapping_and_list_data() -> None:
    from types import MappingProxyType  # noqa: PLC0415

    rule = compile_targeting({"var": "a.b"})
    assert rule(MappingProxyType({"a": MappingProxyType({"b": 1})})) == 1
    assert rule({"a": [1]}) is None
    assert compile_targeting({"var": "0"}, strict=False)(["x"]) == "x"  # type: ignore[arg-type]


def test_huge_integers_do_not_blow_up() -> None:
    rule = compile_targeting({"*": [{"var": "x"}, {"var": "x"}]})
    assert rule({"x": 10**400}) == math.inf
    assert compile_targeting({"<": [{"var": "x"}, "1e500"]})({"x": 10**400}) is False


def test_log_is_identity_when_lenient_and_unknown_when_strict() -> None:
    assert compile_targeting({"log": [{"var": "s"}]}, strict=False)(DATA) == "abc"
    from openfeature_litestar._errors import DocumentError  # noqa: PLC0415

    with pytest.raises(DocumentError):
        compile_targeting({"log": [{"var": "s"}]})


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"starts_with": [{"var": "id"}, "abc"]}, {"id": "abcdef"}, True),
        ({"starts_with": [{"var": "id"}, "abc"]}, {"id": "xabc"}, False),
        ({"ends_with": [{"var": "id"}, "xyz"]}, {"id": "uvwxyz"}, True),
        ({"ends_with": [{"var": "id"}, "xyz"]}, {"id": 123}, None),
        ({"starts_with": [{"var": "id"}, "abc"]}, {}, None),
        ({"matches": [{"var": "email"}, "@example\\.com$"]}, {"email": "a@example.com"}, True),
        ({"matches": [{"var": "email"}, "^b"]}, {"email": "abc"}, False),
        ({"matches": [{"var": "email"}, "b"]}, {"email": "abc"}, True),  # search, not match
        ({"matches": [{"var": "email"}, "b"]}, {"email": 5}, False),
        ({"matches": [{"var": "email"}, "(?i)ABC"]}, {"email": "xabcx"}, True),
    ],
)
def test_string_operators(rule: Any, data: dict[str, Any], expected: Any) -> None:
    assert compile_targeting(rule)(data) is expected


def test_matches_is_linear_on_catastrophic_patterns() -> None:
    rule = compile_targeting({"matches": [{"var": "s"}, "(a+)+$"]})
    assert rule({"s": "a" * 100_000 + "!"}) is False
    assert rule({"s": "a" * 100_000}) is True


def test_lenient_custom_operator_mistakes_give_null() -> None:
    rules: list[Any] = [
        {"starts_with": ["abc"]},
        {"ends_with": [{"var": "id"}, 0]},
        {"sem_ver": [{"var": "v"}, "="]},
        {"sem_ver": [{"var": "v"}, "===", "1.0.0"]},
        {"sem_ver": [{"var": "v"}, "=", "1.0.0.0"]},
        {"fractional": [["a", "25"], ["b", 25]]},
        {"fractional": [["a", 2.5], ["b", 25]]},
        {"fractional": [["a", 0], ["b", 0]]},
        {"fractional": []},
        {"var": "$flagd.nope"},
    ]
    for rule in rules:
        compiled = compile_targeting(rule, strict=False)
        assert compiled({"id": "abc", "v": "1.0.0", "targetingKey": "k"}) is None, rule

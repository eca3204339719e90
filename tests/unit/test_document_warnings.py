"""Lenient reading (the default): every problem flagd tolerates, its warning and its result.

Each case is one flag whose targeting (or ``defaultVariant``) flagd accepts but that
cannot work as written. Read with the defaults, the document loads, the problem is one
of :attr:`FlagDocument.warnings` with its path, and the flag evaluates to what flagd
gives (the flagd-testbed scenario named beside a case is the referee); read strictly,
the same problem refuses the document. ``fallback`` is the flag's default variant,
``caller`` the caller's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagType, Reason

from openfeature_litestar import DocumentError, Snapshot, document_from_data, load_document
from openfeature_litestar.evaluation import resolve

TESTBED_FLAGS = Path(__file__).parents[1] / "conformance" / "testbed" / "flags"


@dataclass(frozen=True)
class Case:
    """One tolerated problem: where it is reported and what the flag evaluates to."""

    name: str
    targeting: dict[str, Any] | None
    path: str  # the warning's path below flags.f
    value: str
    reason: str
    error: ErrorCode | None = None
    context: dict[str, Any] | None = None
    default_variant: str = "fallback"


def _if(condition: Any) -> dict[str, Any]:
    return {"if": [condition, "yes", None]}


DEFAULT = (Reason.DEFAULT.value, None)
PARSE = (Reason.ERROR.value, ErrorCode.PARSE_ERROR)

CASES = [
    # Cannot be compiled: the flag is kept and gives PARSE_ERROR with the caller's default
    # (testbed: error-targeting-flag, ref-to-nonexistent-evaluator-flag).
    Case("unknown operator", _if({"invalid": [1]}), "targeting.if.0", "caller", *PARSE),
    Case("missing $ref", _if({"$ref": "nowhere"}), "targeting.if.0.$ref", "caller", *PARSE),
    Case(
        "two operators in one object",
        _if({"==": [1, 1], "!=": [1, 2]}),
        "targeting.if.0",
        "caller",
        *PARSE,
    ),
    # Serving a variant that does not exist is GENERAL (testbed:
    # missing-variant-targeting-flag), the default variant included.
    Case(
        "defaultVariant naming no variant",
        None,
        "defaultVariant",
        "caller",
        Reason.ERROR.value,
        ErrorCode.GENERAL,
        default_variant="maybe",
    ),
    # flagd's operators give null, so the default variant is served (testbed
    # @operator-errors: *-wrong-args-flag, semver-invalid-*, fractional-zero-weights-flag,
    # and custom-ops.json's starts-ends-flag and equal-greater-lesser-version-flag).
    Case(
        "starts_with with one operand",
        _if({"starts_with": [{"var": "id"}]}),
        "targeting.if.0.starts_with",
        "fallback",
        *DEFAULT,
        context={"id": "abc"},
    ),
    Case(
        "ends_with of a number",
        _if({"ends_with": [{"var": "id"}, 3]}),
        "targeting.if.0.ends_with.1",
        "fallback",
        *DEFAULT,
        context={"id": "123"},
    ),
    Case(
        "sem_ver with two operands",
        _if({"sem_ver": [{"var": "version"}, "="]}),
        "targeting.if.0.sem_ver",
        "fallback",
        *DEFAULT,
        context={"version": "1.0.0"},
    ),
    Case(
        "unknown sem_ver operator",
        _if({"sem_ver": [{"var": "version"}, "===", "1.0.0"]}),
        "targeting.if.0.sem_ver.1",
        "fallback",
        *DEFAULT,
        context={"version": "1.0.0"},
    ),
    Case(
        "sem_ver of a four-part version",
        _if({"sem_ver": [{"var": "version"}, "=", "2.0.0.0"]}),
        "targeting.if.0.sem_ver.2",
        "fallback",
        *DEFAULT,
        context={"version": "2.0.0"},
    ),
    Case(
        "fractional weights adding up to 0",
        {"fractional": [["yes", 0], ["fallback", 0]]},
        "targeting.fractional",
        "fallback",
        *DEFAULT,
        context={"targetingKey": "any-user"},
    ),
    Case(
        "fractional bucket that is not a list",
        {"fractional": [{"var": "targetingKey"}, "yes", ["fallback", 1]]},
        "targeting.fractional.1",
        "fallback",
        *DEFAULT,
        context={"targetingKey": "any-user"},
    ),
    # Evaluated as written: a negative weight counts as 0 (testbed:
    # fractional-negative-weight-flag), an absent operand reads as null, flagd's log
    # returns its argument, an unknown $flagd property is null.
    Case(
        "negative fractional weight",
        {"fractional": [["fallback", -50], ["yes", 50]]},
        "targeting.fractional.0.1",
        "yes",
        Reason.TARGETING_MATCH.value,
        context={"targetingKey": "any-user"},
    ),
    Case(
        "fractional bucketing value that is a literal",
        {"fractional": ["same-for-all", ["yes", 1]]},
        "targeting.fractional.0",
        "yes",
        Reason.TARGETING_MATCH.value,
    ),
    Case("== with one operand", _if({"==": [1]}), "targeting.if.0.==", "fallback", *DEFAULT),
    Case(
        "log, which flagd's schema lacks",
        {"log": "yes"},
        "targeting",
        "yes",
        Reason.TARGETING_MATCH.value,
    ),
    Case(
        "unknown $flagd property",
        _if({"var": "$flagd.nope"}),
        "targeting.if.0.var",
        "fallback",
        *DEFAULT,
    ),
]


def _document(case: Case, *, strict: bool = False) -> Any:
    flag: dict[str, Any] = {
        "state": "ENABLED",
        "variants": {"yes": "yes", "fallback": "fallback"},
        "defaultVariant": case.default_variant,
    }
    if case.targeting is not None:
        flag["targeting"] = case.targeting
    return document_from_data({"flags": {"f": flag}}, strict=strict)


def _resolve(document: Any, context: dict[str, Any] | None) -> Any:
    attributes = dict(context or {})
    key = attributes.pop("targetingKey", None)
    evaluation_context = EvaluationContext(targeting_key=key, attributes=attributes)
    snapshot = Snapshot.from_document(document)
    return resolve(snapshot, "f", evaluation_context, FlagType.STRING, "caller")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_tolerated_problem_is_a_warning_and_evaluates_as_flagd(case: Case) -> None:
    document = _document(case)

    assert [warning.path for warning in document.warnings] == [f"flags.f.{case.path}"]
    assert document.flag_warnings("f") == document.warnings
    details = _resolve(document, case.context)
    assert (details.value, details.reason, details.error_code) == (
        case.value,
        case.reason,
        case.error,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_tolerated_problem_refuses_the_document_when_strict(case: Case) -> None:
    with pytest.raises(DocumentError) as caught:
        _document(case, strict=True)
    assert f"flags.f.{case.path}" in [problem.path for problem in caught.value.problems]


def test_a_document_without_problems_has_no_warnings() -> None:
    document = document_from_data(
        {"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"}}}
    )
    assert document.warnings == ()
    assert document.flag_warnings("f") == ()
    assert document.flag_warnings("absent") == ()


def test_an_evaluator_problem_is_reported_at_each_flag_that_names_it() -> None:
    shared = {"ends_with": [{"var": "email"}, 3]}
    flag = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "off"}
    document = document_from_data(
        {
            "$evaluators": {"odd": shared},
            "flags": {
                "a": {**flag, "targeting": {"if": [{"$ref": "odd"}, "on", None]}},
                "b": {**flag, "targeting": {"$ref": "odd"}},
                "c": flag,
            },
        }
    )
    assert [(w.path, w.message) for w in document.warnings] == [
        (
            "flags.a.targeting.if.0.ends_with.1",
            "in $evaluators.odd: ends_with compares strings, got 3",
        ),
        ("flags.b.targeting.ends_with.1", "in $evaluators.odd: ends_with compares strings, got 3"),
    ]


# --- the testbed's own custom-ops.json -------------------------------------------------


def test_the_testbeds_custom_ops_loads_by_default_with_its_two_warnings() -> None:
    document = load_document(TESTBED_FLAGS / "custom-ops.json")

    assert [warning.path for warning in document.warnings] == [
        "flags.starts-ends-flag.targeting.if.2.if.2.if.0.ends_with.1",
        "flags.equal-greater-lesser-version-flag.targeting.if.2.if.2.if.2.if.0.sem_ver.2",
    ]


@pytest.mark.parametrize(
    ("key", "context", "value"),
    [
        # testbed gherkin/targeting.feature, "Substring operators"
        ("starts-ends-flag", {"id": "abcdef"}, "prefix"),
        ("starts-ends-flag", {"id": "uvwxyz"}, "postfix"),
        ("starts-ends-flag", {"id": "abcxyz"}, "prefix"),
        ("starts-ends-flag", {"id": "lmnopq"}, "none"),
        ("starts-ends-flag", {"id": "3"}, "none"),
        # "Semantic version operator numeric comparison"
        ("equal-greater-lesser-version-flag", {"version": "2.0.0"}, "equal"),
        ("equal-greater-lesser-version-flag", {"version": "2.1.0"}, "greater"),
        ("equal-greater-lesser-version-flag", {"version": "1.9.0"}, "lesser"),
        ("equal-greater-lesser-version-flag", {"version": "2.0.0-alpha"}, "lesser"),
        ("equal-greater-lesser-version-flag", {"version": "2.0.0.0"}, "none"),
    ],
)
def test_the_testbeds_custom_ops_evaluates_as_the_testbed_expects(
    key: str, context: dict[str, Any], value: str
) -> None:
    snapshot = Snapshot.from_document(load_document(TESTBED_FLAGS / "custom-ops.json"))
    details = resolve(
        snapshot, key, EvaluationContext(attributes=context), FlagType.STRING, "fallback"
    )
    assert details.value == value

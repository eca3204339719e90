"""flagd-schemas' targeting test documents: how each compiles and what it evaluates to."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from openfeature_litestar._errors import DocumentError

FIXTURES = Path(__file__).parent / "fixtures" / "flagd-schemas"
# if-shorthand.json refers to an evaluator it does not define; supply one.
EVALUATORS: dict[str, Any] = {"some-ref": {"==": [{"var": "env"}, "production"]}}

POSITIVE_DATA: dict[str, Any] = {
    "targetingKey": "k",
    "$flagd": {"flagKey": "f", "timestamp": 1_750_000_000},
}
NEGATIVE_DATA: dict[str, Any] = {
    "id": "abcxyz",
    "version": "2.0.0",
    "targetingKey": "k",
    "$flagd": {"flagKey": "f"},
}

# The expected buckets were worked out from flagd's definition, not read off the engine:
# slot = (unsigned MurmurHash3 x86_32, seed 0, of the bucketing string * total weight) >> 32,
# and the bucket is the first whose running weight exceeds the slot. Without a bucketing
# value the string is flag key + targeting key, "fk" here.
#
# Three documents list their rules under "*", which multiplies them: the first rule of each
# gives a non-numeric value, parseFloat makes it NaN, so the whole document is NaN.
# POSITIVE_RULES checks those rules one by one.
POSITIVE: dict[str, Any] = {
    "basic-json-ops": math.nan,
    "custom-ops": math.nan,
    # At this timestamp the weights are on 10,000,000, off 50,000,000; "fk" takes slot
    # 33,783,739 of 60,000,000, past the "on" share.
    "fractional-dynamic-weights": "off",
    # The bucketing string is "f" (cat of the flag key and a missing email); it takes slot
    # 1,695,044 of 10,000,100, inside the "on" share of 10,000,000.
    "fractional-mixed-weights": "on",
    # Four buckets of weight 1: "fk" takes slot 2, the third bucket, whose variant is 1.
    "fractional-non-string": 1,
    "fractional-single-entry": "single-entry",
    "if-shorthand": math.nan,
}
POSITIVE_RULES: dict[str, list[Any]] = {
    "custom-ops": [
        "clubs",  # bucketing string "f" (user.name is missing): slot 16 of 100
        "tails",  # "fk": slot 1 of 2
        "hearts",  # "fk": slot 56 of 100
        "hearts",  # the same rule again: the same bucket
        None,  # no id: neither starts_with nor ends_with holds
        None,  # no version: no sem_ver comparison holds
        "none",
        "past",  # a missing time is null, which compares as 0
    ],
    # if with only a condition gives the condition; with no else branch, null.
    "if-shorthand": [False, None, False],
}
# Leniently, what flagd evaluates to null is null: a broken fractional as a whole, an
# invalid starts_with, ends_with or sem_ver (falsy, so the if takes its else branch).
NEGATIVE: dict[str, Any] = {
    "fractional-decimal-weighting": None,
    # A string first operand is the bucketing value itself: "invalid" takes slot 39 of 100.
    "fractional-invalid-bucketing": "diamonds",
    "fractional-invalid-weighting": None,
    # -25 counts as 0, so diamonds is never chosen; "fk" takes slot 42 of 75.
    "fractional-negative-weighting": "hearts",
    "invalid-ends-with-param": "prefix",
    # An unknown $flagd property reads as null, as does the missing someprop.
    "invalid-flagd-props": "yes",
    "invalid-starts-with-param": "postfix",
    "sem-ver-invalid-range-specifier": "not",
    "sem-ver-invalid-ver-expression": "not",
}


def _documents(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.json"))


def _assert_same(result: Any, expected: Any) -> None:
    """``result`` is ``expected``, NaN included, and of its type (so ``1`` is not ``True``)."""
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(result, float), result
        assert math.isnan(result), result
        return
    assert result == expected
    assert type(result) is type(expected), result


def test_fixtures_are_present() -> None:
    assert len(_documents("positive")) >= 7
    assert len(_documents("negative")) >= 9
    assert [path.stem for path in _documents("positive")] == sorted(POSITIVE)
    assert [path.stem for path in _documents("negative")] == sorted(NEGATIVE)


@pytest.mark.parametrize("document", _documents("positive"), ids=lambda p: p.stem)
def test_positive_documents_compile_strictly(document: Path) -> None:
    targeting = json.loads(document.read_text(encoding="utf-8"))
    rule = compile_targeting(targeting, evaluators=EVALUATORS, strict=True)
    _assert_same(rule(POSITIVE_DATA), POSITIVE[document.stem])


@pytest.mark.parametrize("stem", sorted(POSITIVE_RULES))
def test_the_rules_a_positive_document_lists_evaluate_one_by_one(stem: str) -> None:
    targeting = json.loads((FIXTURES / "positive" / f"{stem}.json").read_text("utf-8"))
    rules = [compile_targeting(r, evaluators=EVALUATORS, strict=True) for r in targeting["*"]]
    results = [rule(POSITIVE_DATA) for rule in rules]
    assert len(results) == len(POSITIVE_RULES[stem])
    for result, expected in zip(results, POSITIVE_RULES[stem], strict=True):
        _assert_same(result, expected)


@pytest.mark.parametrize("document", _documents("negative"), ids=lambda p: p.stem)
def test_negative_documents_are_rejected_strictly(document: Path) -> None:
    targeting = json.loads(document.read_text(encoding="utf-8"))
    with pytest.raises(DocumentError) as caught:
        compile_targeting(targeting, evaluators=EVALUATORS, strict=True, path="t")
    assert caught.value.problems
    assert all(problem.path.startswith("t.") for problem in caught.value.problems)


@pytest.mark.parametrize("document", _documents("negative"), ids=lambda p: p.stem)
def test_negative_documents_compile_leniently_and_evaluate(document: Path) -> None:
    targeting = json.loads(document.read_text(encoding="utf-8"))
    rule = compile_targeting(targeting, evaluators=EVALUATORS, strict=False)
    _assert_same(rule(NEGATIVE_DATA), NEGATIVE[document.stem])


def test_basic_json_ops_document_evaluates_like_json_logic() -> None:
    targeting = json.loads((FIXTURES / "positive" / "basic-json-ops.json").read_text("utf-8"))
    rule = compile_targeting({"merge": targeting["*"]})
    data = {"integers": [1, 2, 3, 4], "pies": [{"filling": "apple"}]}
    assert rule(data) == [
        "true", "yes", "yes", True, True, True, True, True, False, False, True, True, "a",
        True, 3, True, True, True, True, True, False, True, True, 3, 1, 6, 10, 3.14, 2, 32,
        -2, 2, 1, 2, 4, 6, 8, 1, 3, 10, True, True, True, True, 1, 2, 3, 4, 1, 2, 3, 4,
        True, True, "I love pie", "logic", "son",
    ]  # fmt: skip

"""flagd-schemas' targeting test documents: positives compile strictly, negatives do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openfeature_litestar._engine import compile_targeting
from openfeature_litestar._errors import DocumentError

FIXTURES = Path(__file__).parent / "fixtures" / "flagd-schemas"
# if-shorthand.json refers to an evaluator it does not define; supply one.
EVALUATORS: dict[str, Any] = {"some-ref": {"==": [{"var": "env"}, "production"]}}


def _documents(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.json"))


def test_fixtures_are_present() -> None:
    assert len(_documents("positive")) >= 7
    assert len(_documents("negative")) >= 9


@pytest.mark.parametrize("document", _documents("positive"), ids=lambda p: p.stem)
def test_positive_documents_compile_strictly(document: Path) -> None:
    targeting = json.loads(document.read_text(encoding="utf-8"))
    rule = compile_targeting(targeting, evaluators=EVALUATORS, strict=True)
    rule({"targetingKey": "k", "$flagd": {"flagKey": "f", "timestamp": 1_750_000_000}})


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
    rule({"id": "abcxyz", "version": "2.0.0", "targetingKey": "k", "$flagd": {"flagKey": "f"}})


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

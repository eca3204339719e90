"""ReDoS: `matches` patterns that make backtracking engines explode run in linear time.

No timing is asserted (machines are noisy): each evaluation runs in a worker thread joined
with a generous deadline, far below what exponential backtracking on these inputs would
take, and the compiled pattern is shown to be RE2's.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

import pytest
import re2
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import Reason

from openfeature_litestar import DocumentError, FlagProvider, MemoryStore, document_from_data
from openfeature_litestar._engine import compile_targeting
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEADLINE = 30.0  # seconds; backtracking on these inputs would outlast the universe

CATASTROPHIC = ["(a+)+$", "(a|aa)+$", "(.*a){20}"]
SIZES = [1_000, 10_000, 100_000]


def _document(pattern: str) -> dict[str, Any]:
    """A document of one flag, ``redos``: ``hit`` when ``text`` matches ``pattern``."""
    targeting = {"if": [{"matches": [{"var": "text"}, pattern]}, "hit", "miss"]}
    return {
        "flags": {"redos": flag("miss", variants={"hit": True, "miss": False}, targeting=targeting)}
    }


def _within_deadline(call: Callable[[], Any]) -> Any:
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(call()), daemon=True)
    worker.start()
    worker.join(DEADLINE)
    if worker.is_alive():
        pytest.fail(f"the evaluation did not finish within {DEADLINE} s")
    assert len(results) == 1
    return results[0]


def _expected(pattern: str, text: str) -> bool:
    # Python's backtracking engine agrees on short inputs; at 30 characters it already
    # takes minutes on (a+)+$ (2**30 ways to split the a's), which is the point of RE2.
    return re.search(pattern, text) is not None


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_backtracking_engine_agrees_on_short_inputs(pattern: str) -> None:
    # The expectations below come from this: "a"*n + "!" fails the two anchored
    # patterns and contains twenty a's for the third; "a"*n matches all three.
    assert _expected(pattern, "a" * 21 + "!") is (pattern == "(.*a){20}")
    assert _expected(pattern, "a" * 21) is True


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_provider_evaluates_catastrophic_patterns(domain: str, pattern: str, size: int) -> None:
    api.set_provider_and_wait(FlagProvider(MemoryStore(_document(pattern))), domain=domain)
    client = api.get_client(domain)

    def evaluate(text: str) -> tuple[bool, str | None]:
        details = client.get_boolean_details(
            "redos", False, EvaluationContext(None, {"text": text})
        )
        return details.value, details.reason

    tail_fails = pattern != "(.*a){20}"
    assert _within_deadline(lambda: evaluate("a" * size + "!")) == (
        not tail_fails,
        Reason.TARGETING_MATCH,
    )
    assert _within_deadline(lambda: evaluate("a" * size)) == (True, Reason.TARGETING_MATCH)


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_engine_rule_on_the_largest_input(pattern: str) -> None:
    rule = compile_targeting({"matches": [{"var": "text"}, pattern]})
    text = "a" * SIZES[-1] + "!"
    assert _within_deadline(lambda: rule({"text": text})) is (pattern == "(.*a){20}")


def _closure_objects(fn: Any, seen: set[int] | None = None) -> Iterator[Any]:
    seen = set() if seen is None else seen
    if id(fn) in seen:
        return
    seen.add(id(fn))
    for cell in getattr(fn, "__closure__", None) or ():
        value = cell.cell_contents
        yield value
        if callable(value):
            yield from _closure_objects(value, seen)


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_the_compiled_pattern_is_re2s(pattern: str) -> None:
    document = document_from_data(_document(pattern))
    rule = document.compiled_flags()["redos"].rule
    assert rule is not None
    searches = [
        obj
        for obj in _closure_objects(rule)
        if getattr(obj, "__name__", None) == "search" and hasattr(obj, "__self__")
    ]
    assert searches, "no compiled pattern found in the rule"
    for search in searches:
        compiled = search.__self__
        assert type(compiled).__module__ == "re2"
        assert isinstance(compiled, type(re2.compile("x")))
        assert not isinstance(compiled, re.Pattern)
        assert compiled.pattern == pattern


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"(a)\1", "backreference"),
        ("a(?=b)", "lookahead"),
        ("a(?!b)", "negative lookahead"),
        ("(?<=a)b", "lookbehind"),
    ],
)
def test_patterns_re2_rejects_are_document_errors(pattern: str, feature: str) -> None:
    with pytest.raises(DocumentError) as caught:
        document_from_data(_document(pattern), strict=True)
    paths = [problem.path for problem in caught.value.problems]
    assert paths == ["flags.redos.targeting.if.0.matches.1"], feature
    assert "RE2 rejects the pattern" in str(caught.value)
    # Read leniently (the default), the flag is kept, broken, with the same warning.
    lenient = document_from_data(_document(pattern))
    assert [warning.path for warning in lenient.warnings] == paths
    assert lenient.compiled_flags()["redos"].broken


def test_rejected_pattern_is_an_error_even_when_lenient() -> None:
    with pytest.raises(DocumentError):
        compile_targeting({"matches": [{"var": "text"}, r"(a)\1"]}, strict=False)

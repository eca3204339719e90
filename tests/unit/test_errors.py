"""Unit tests of openfeature_litestar._errors: the exception tree and its messages."""

from __future__ import annotations

import pytest

from openfeature_litestar import (
    DocumentError,
    MissingDependencyError,
    OpenFeatureLitestarError,
    Problem,
    RevisionConflict,
    StoreError,
)


def test_a_problem_renders_as_path_and_message() -> None:
    assert str(Problem("flags.a.variants", "must not be empty")) == (
        "flags.a.variants: must not be empty"
    )
    assert str(Problem("", "not valid json")) == "not valid json"


def test_problems_are_values() -> None:
    assert Problem("a", "b") == Problem("a", "b")
    assert len({Problem("a", "b"), Problem("a", "b"), Problem("a", "c")}) == 2
    with pytest.raises(AttributeError):
        Problem("a", "b").path = "c"  # type: ignore[misc]


def test_a_document_error_lists_its_problems() -> None:
    problems = [Problem("flags.a.state", "bad state"), Problem("metadata", "bad metadata")]

    error = DocumentError(iter(problems), source="flags.yaml")

    assert error.problems == tuple(problems)
    assert error.source == "flags.yaml"
    assert str(error) == (
        "invalid flag document flags.yaml (2 problems):\n"
        "  - flags.a.state: bad state\n"
        "  - metadata: bad metadata"
    )


def test_a_document_error_with_one_problem_and_no_source() -> None:
    error = DocumentError([Problem("", "not UTF-8 text")])

    assert error.source is None
    assert str(error) == "invalid flag document (1 problem):\n  - not UTF-8 text"


def test_a_document_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid flag document"):
        raise DocumentError([Problem("", "x")])


def test_a_revision_conflict_names_both_revisions() -> None:
    error = RevisionConflict(expected=3, actual=5)

    assert (error.expected, error.actual) == (3, 5)
    assert "expected revision 3" in str(error)
    assert "at 5" in str(error)
    assert isinstance(error, StoreError)


def test_a_missing_dependency_names_the_extra() -> None:
    error = MissingDependencyError("redis", "redis")

    assert isinstance(error, ImportError)
    assert (error.package, error.extra) == ("redis", "redis")
    assert 'pip install "openfeature-litestar[redis]"' in str(error)


@pytest.mark.parametrize(
    "error",
    [
        DocumentError([Problem("", "x")]),
        StoreError("unreachable"),
        RevisionConflict(1, 2),
        MissingDependencyError("redis", "redis"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_error_shares_the_root(error: Exception) -> None:
    assert isinstance(error, OpenFeatureLitestarError)

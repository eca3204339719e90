"""Regressions found in review: shared values, shared stores, non-JSON YAML, odd text."""

import io
import json
from pathlib import Path

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import (
    DocumentError,
    FlagProvider,
    MemoryStore,
    document_from_data,
    parse_document,
)
from openfeature_litestar._cli import main

OBJECT_FLAGS = {
    "flags": {
        "o": {"state": "ENABLED", "variants": {"a": {"x": 1}}, "defaultVariant": "a"},
    }
}


def test_a_caller_changing_an_object_value_changes_nothing_else(domain: str) -> None:
    store = MemoryStore(OBJECT_FLAGS)
    api.set_provider_and_wait(FlagProvider(store), domain=domain)
    client = api.get_client(domain)
    first = client.get_object_value("o", {})
    assert isinstance(first, dict)
    first["x"] = 999
    assert client.get_object_value("o", {}) == {"x": 1}
    assert store.document.dump()["flags"]["o"]["variants"]["a"] == {"x": 1}


def test_shutting_down_one_provider_keeps_another_on_the_same_store_in_sync() -> None:
    store = MemoryStore(OBJECT_FLAGS)
    first, second = FlagProvider(store), FlagProvider(store)
    first.initialize(EvaluationContext())
    second.initialize(EvaluationContext())
    try:
        first.shutdown()
        revision = store.replace({"flags": {}})
        for _ in range(200):
            if second.snapshot.revision == revision:
                break
            import time  # noqa: PLC0415 - only this polling loop needs it

            time.sleep(0.01)
        assert second.snapshot.revision == revision
        assert "o" not in second.snapshot.flags
    finally:
        second.shutdown()


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("flags:\n  f:\n    state: ENABLED\n    variants: {a: !!binary aGk=}\n", "binary"),
        ("flags: {}\n$evaluators:\n  e: {'==': [{var: d}, !!timestamp 2024-01-01]}\n", "timestamp"),
        ("? [a]\n: 1\nflags: {}\n", "key"),
    ],
)
def test_non_json_yaml_is_a_document_error(text: str, word: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(text, format="yaml")
    assert word in str(caught.value)


def test_a_yaml_date_is_a_string_as_in_yaml_1_2() -> None:
    text = "flags:\n  f:\n    state: ENABLED\n    variants: {a: 2024-01-01}\n"
    variants = parse_document(text, format="yaml").flags["f"].variants
    assert variants == {"a": "2024-01-01"}


def test_a_lone_surrogate_is_a_document_error_not_a_crash() -> None:
    with pytest.raises(DocumentError):
        parse_document("\ud800")


def test_lenient_loading_reports_only_structural_problems() -> None:
    data = {
        "flags": {
            "bad-state": {"state": "ON", "variants": {"a": 1}},
            "odd-rule": {
                "state": "ENABLED",
                "variants": {"a": 1},
                "targeting": {"starts_with": [{"var": "x"}]},
            },
        }
    }
    with pytest.raises(DocumentError) as strict:
        document_from_data(data)
    assert {p.path.split(".")[1] for p in strict.value.problems} == {"bad-state", "odd-rule"}
    with pytest.raises(DocumentError) as lenient:
        document_from_data(data, strict=False)
    assert {p.path.split(".")[1] for p in lenient.value.problems} == {"bad-state"}


def test_validate_checks_every_file_even_after_an_unreadable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(OBJECT_FLAGS), encoding="utf-8")
    out = io.StringIO()
    status = main(["validate", str(tmp_path / "missing.json"), str(good)], out=out)
    assert status == 2
    assert f"{good}: valid (1 flags)" in out.getvalue()
    assert "missing.json" in capsys.readouterr().err

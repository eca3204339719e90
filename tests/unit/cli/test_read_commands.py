"""``list``, ``get`` and ``evaluate --store``: reading a live store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

DOCUMENT: dict[str, Any] = {
    "metadata": {"flagSetId": "shop"},
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"new": True, "old": False},
            "defaultVariant": "old",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "new"]},
        },
        "greeting": {"state": "DISABLED", "variants": {"hi": "hello"}, "defaultVariant": "hi"},
        "limit": {"state": "ENABLED", "variants": {"low": 1, "high": 9}},
    },
}


@pytest.fixture(params=["sqlite", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
        if request.param == "sqlite"
        else f"file:{tmp_path / 'store.yaml'}"
    )
    source = tmp_path / "import.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    assert run_cli("import", "--store", url, str(source))[0] == 0
    return url


def test_list_shows_state_default_variant_and_type(store: str) -> None:
    status, out = run_cli("list", "--store", store)
    assert status == 0
    assert out.splitlines() == [
        "FLAG      STATE     DEFAULT  TYPE     TARGETING",
        "checkout  ENABLED   old      boolean  yes",
        "greeting  DISABLED  hi       string   no",
        "limit     ENABLED   (none)   integer  no",
        "3 flags at revision 1",
    ]


def test_list_json(store: str) -> None:
    status, out = run_cli("list", "--store", store, "--json")
    assert status == 0
    report = json.loads(out)
    assert (report["namespace"], report["revision"]) == ("default", 1)
    assert report["flags"][0] == {
        "flag": "checkout",
        "state": "ENABLED",
        "defaultVariant": "old",
        "type": "boolean",
        "variants": ["new", "old"],
        "targeting": True,
    }
    assert [(row["flag"], row["defaultVariant"]) for row in report["flags"][1:]] == [
        ("greeting", "hi"),
        ("limit", None),
    ]


def test_get_prints_the_stored_definition(store: str) -> None:
    status, out = run_cli("get", "checkout", "--store", store)
    assert status == 0
    assert json.loads(out) == DOCUMENT["flags"]["checkout"]
    status, out = run_cli("get", "limit", "--store", store, "--json")
    assert status == 0
    assert json.loads(out) == {
        "flag": "limit",
        "namespace": "default",
        "revision": 1,
        "definition": DOCUMENT["flags"]["limit"],
    }


def test_get_a_misspelt_flag_names_the_nearest(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("get", "chekout", "--store", store) == (1, "")
    err = capsys.readouterr().err
    assert "flag 'chekout' not found in namespace 'default'; did you mean 'checkout'?" in err


def test_evaluate_from_a_store(store: str) -> None:
    context = json.dumps({"targetingKey": "u", "plan": "pro"})
    status, out = run_cli("evaluate", "checkout", "--store", store, "--context", context, "--json")
    assert status == 0
    result = json.loads(out)
    assert (result["value"], result["variant"], result["reason"]) == (
        True,
        "new",
        "TARGETING_MATCH",
    )
    assert result["metadata"]["flagSetId"] == "shop"


def test_evaluate_a_misspelt_flag_from_a_store(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run_cli("evaluate", "greting", "--store", store, "--json")
    assert (status, json.loads(out)["error"]) == (1, "FLAG_NOT_FOUND")
    assert "has no flag 'greting'; did you mean 'greeting'?" in capsys.readouterr().err


def test_evaluate_compare_from_a_store(store: str) -> None:
    status, out = run_cli(
        "evaluate", "checkout", "--store", store, "--compare", "v1", "v2", "--json"
    )
    assert status == 0
    assert json.loads(out)["moved"] == 0  # no fractional rule: nobody moves


def test_evaluate_from_a_namespace_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A SQL store keeps namespaces apart (a file store is one document, whatever its label).
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    source = tmp_path / "import.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    assert run_cli("import", "--store", url, "--namespace", "staging", str(source))[0] == 0
    assert run_cli("evaluate", "checkout", "--store", url, "--namespace", "stagng") == (1, "")
    assert "namespace 'stagng'" in capsys.readouterr().err
    assert run_cli("evaluate", "checkout", "--store", url, "--namespace", "staging")[0] == 0

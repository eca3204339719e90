"""``litestar flags ...``: the store commands through Litestar's CLI, on the app's store.

Every test runs Litestar's own command group (``litestar --app ... flags ...``) with
click's ``CliRunner``, against a real application (``flags_apps.py``) whose store is a
file in ``tmp_path``, and checks what it printed and what the files hold afterwards.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from litestar.cli.main import litestar_group

from tests.unit.cli.flags_apps import APP_DIR_ENV

if TYPE_CHECKING:
    from pathlib import Path

DOCUMENT: dict[str, Any] = {
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"new": True, "old": False},
            "defaultVariant": "old",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "new"]},
        },
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
    }
}
OTHER: dict[str, Any] = {
    "flags": {"other": {"state": "ENABLED", "variants": {"a": "A"}, "defaultVariant": "a"}}
}


@pytest.fixture(autouse=True)
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "flags.json").write_text(json.dumps(DOCUMENT), encoding="utf-8")
    monkeypatch.setenv(APP_DIR_ENV, str(tmp_path))
    # The standalone command's default store must play no part.
    monkeypatch.setenv("OPENFEATURE_LITESTAR_STORE", f"file:{tmp_path / 'not-this.json'}")
    return tmp_path


def litestar(monkeypatch: pytest.MonkeyPatch, app: str, *arguments: str) -> Result:
    """Run ``litestar --app tests.unit.cli.flags_apps:APP ARGUMENTS``."""
    path = f"tests.unit.cli.flags_apps:{app}"
    # Litestar records the app it loads in LITESTAR_APP when that is unset; set it here
    # so that the variable is restored after the test.
    monkeypatch.setenv("LITESTAR_APP", path)
    return CliRunner().invoke(litestar_group, ["--app", path, *arguments], catch_exceptions=False)


def stored(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_list_shows_the_apps_store(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "FLAG      STATE    DEFAULT  TYPE     TARGETING",
        "checkout  ENABLED  old      boolean  yes",
        "banner    ENABLED  on       boolean  no",
        "2 flags at revision 1",
    ]


def test_get_prints_the_stored_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "get", "checkout")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == DOCUMENT["flags"]["checkout"]


def test_get_of_a_missing_flag_fails_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "get", "chekout")
    assert result.exit_code == 1
    assert "flag 'chekout' not found" in result.stderr
    assert "did you mean 'checkout'?" in result.stderr


def test_disable_writes_the_apps_file(monkeypatch: pytest.MonkeyPatch, app_dir: Path) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "disable", "banner", "--actor", "ops")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"banner: DISABLED (was ENABLED); namespace 'default' of "
        f"file:{app_dir / 'flags.json'} at revision 2\n"
    )
    assert stored(app_dir / "flags.json")["flags"]["banner"]["state"] == "DISABLED"
    audit = litestar(monkeypatch, "url_app", "flags", "audit", "--json")
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [(entry["flag"], entry["actor"]) for entry in entries] == [("banner", "ops")]
    assert not (app_dir / "not-this.json").exists()


def test_help_is_the_commands_own(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("usage: litestar flags [-h] [--version] COMMAND ...")
    offered = {
        line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("    ") and line[4] != " "
    }
    assert offered == {
        *("validate", "evaluate", "import", "export", "set-variant", "enable", "disable"),
        *("audit", "list", "get", "insights", "stale"),
    }
    listed = litestar(monkeypatch, "url_app", "flags", "disable", "--help")
    assert "--store URL           the store's URL (default: the application's store)" in (
        listed.stdout
    )
    assert "  litestar flags disable new-checkout --expected-revision 12" in listed.stdout


def test_litestar_lists_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "--help")
    assert result.exit_code == 0
    assert "flags" in result.stdout


def test_the_servers_are_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "url_app", "flags", "serve")
    assert result.exit_code == 2
    assert "invalid choice: 'serve'" in result.stderr


def test_a_store_url_given_explicitly_wins(monkeypatch: pytest.MonkeyPatch, app_dir: Path) -> None:
    other = app_dir / "other.json"
    other.write_text(json.dumps(OTHER), encoding="utf-8")
    url = f"file:{other}"
    listed = litestar(monkeypatch, "object_app", "flags", "list", "--store", url, "--json")
    assert [row["flag"] for row in json.loads(listed.stdout)["flags"]] == ["other"]
    result = litestar(monkeypatch, "object_app", "flags", "disable", "other", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert stored(other)["flags"]["other"]["state"] == "DISABLED"
    assert stored(app_dir / "flags.json") == DOCUMENT


def test_a_store_object_is_used_with_its_namespace(
    monkeypatch: pytest.MonkeyPatch, app_dir: Path
) -> None:
    result = litestar(monkeypatch, "object_app", "flags", "enable", "banner", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["namespace"], report["written"]) == ("prod", False)
    result = litestar(monkeypatch, "object_app", "flags", "set-variant", "banner", "off")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"banner: default variant 'off' (was 'on'); namespace 'prod' of the app's store "
        f"FileStore({str(app_dir / 'flags.json')!r}, namespace='prod', poll_interval=1.0) "
        "at revision 2\n"
    )
    assert stored(app_dir / "flags.json")["flags"]["banner"]["defaultVariant"] == "off"


def test_another_namespace_of_a_store_object_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    result = litestar(monkeypatch, "object_app", "flags", "list", "--namespace", "staging")
    assert result.exit_code == 2
    assert "serves namespace 'prod', not 'staging'; give --store URL" in result.stderr


def test_the_admin_apis_store_for_a_namespace(
    monkeypatch: pytest.MonkeyPatch, app_dir: Path
) -> None:
    (app_dir / "staging.json").write_text(json.dumps(DOCUMENT), encoding="utf-8")
    result = litestar(
        monkeypatch, "admin_app", "flags", "disable", "checkout", "--namespace", "staging"
    )
    assert result.exit_code == 0, result.stderr
    assert "namespace 'staging' of the app's store FileStore(" in result.stdout
    assert stored(app_dir / "staging.json")["flags"]["checkout"]["state"] == "DISABLED"
    assert stored(app_dir / "flags.json") == DOCUMENT
    unknown = litestar(monkeypatch, "admin_app", "flags", "list", "--namespace", "qa")
    assert unknown.exit_code == 2
    assert "(the admin API's: 'prod', 'staging')" in unknown.stderr


def test_a_read_only_store_is_read_but_not_written(
    monkeypatch: pytest.MonkeyPatch, app_dir: Path
) -> None:
    listed = litestar(monkeypatch, "read_only_app", "flags", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [row["flag"] for row in json.loads(listed.stdout)["flags"]] == ["checkout", "banner"]
    for command in (["disable", "banner"], ["audit"]):
        result = litestar(monkeypatch, "read_only_app", "flags", *command)
        assert result.exit_code == 2
        assert result.stderr == (
            f"openfeature-litestar: error: {command[0]} needs a writable store, and the app's "
            "store ReadOnlyStore() is read-only (it keeps no writes and no audit trail); "
            "give --store URL to name a writable store holding these flags\n"
        )
    assert stored(app_dir / "flags.json") == DOCUMENT


def test_evaluate_reads_the_apps_store_or_a_file(
    monkeypatch: pytest.MonkeyPatch, app_dir: Path
) -> None:
    context = json.dumps({"targetingKey": "u1", "plan": "pro"})
    result = litestar(
        monkeypatch, "object_app", "flags", "evaluate", "checkout", "--context", context, "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert (json.loads(result.stdout)["value"], json.loads(result.stdout)["variant"]) == (
        True,
        "new",
    )
    other = app_dir / "other.json"
    other.write_text(json.dumps(OTHER), encoding="utf-8")
    from_file = litestar(monkeypatch, "object_app", "flags", "evaluate", str(other), "other")
    assert from_file.exit_code == 0, from_file.stderr
    assert 'value:    "A"' in from_file.stdout.splitlines()


def test_an_app_without_a_store_of_ours_needs_store(
    monkeypatch: pytest.MonkeyPatch, app_dir: Path
) -> None:
    for app, found in (
        ("no_plugin_app", "the app has no OpenFeaturePlugin"),
        ("foreign_provider_app", "reads no flag store of openfeature-litestar"),
    ):
        result = litestar(monkeypatch, app, "flags", "list")
        assert result.exit_code == 2
        assert found in result.stderr
        assert "give --store URL" in result.stderr
    url = f"file:{app_dir / 'flags.json'}"
    given = litestar(monkeypatch, "no_plugin_app", "flags", "get", "banner", "--store", url)
    assert given.exit_code == 0, given.stderr
    assert json.loads(given.stdout)["defaultVariant"] == "on"


def test_validate_needs_no_store(monkeypatch: pytest.MonkeyPatch, app_dir: Path) -> None:
    result = litestar(
        monkeypatch, "no_plugin_app", "flags", "validate", str(app_dir / "flags.json")
    )
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("app", ["url_app", "object_app"])
def test_insights_of_an_in_process_store_say_where_the_counts_are(
    monkeypatch: pytest.MonkeyPatch, app: str
) -> None:
    result = litestar(monkeypatch, app, "flags", "insights")
    assert result.exit_code == 2
    assert "keeps usage counts only in the process that counted them" in result.stderr

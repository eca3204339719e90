"""The server commands, without starting a server: demo and serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import openfeature_litestar
from openfeature_litestar._cli import _server_commands
from openfeature_litestar._cli._parser import build_parser
from tests.support import run_cli

if TYPE_CHECKING:
    import pytest


def test_the_demo_ships_in_the_package() -> None:
    # Nothing outside the installed package is read: the app and its seed are inside it.
    module = _server_commands._demo_module()
    package = Path(openfeature_litestar.__file__).parent
    assert module.SEED_FILE.is_relative_to(package)
    assert module.SEED_FILE.is_file()
    assert callable(module.create_app)


# -- serve ----------------------------------------------------------------------------------


def test_serve_options() -> None:
    parser = build_parser()  # the options, without starting a server
    defaults = parser.parse_args(["serve"])
    assert (defaults.sanitize, defaults.cors_origins) == (None, [])  # None: the environment
    args = parser.parse_args(
        [
            "serve",
            "--no-sanitize",
            "--cors-origin",
            "https://app.example.com",
            "--cors-origin",
            "https://admin.example.com",
        ]
    )
    assert args.sanitize is False
    assert args.cors_origins == ["https://app.example.com", "https://admin.example.com"]


def test_serve_refuses_a_sanitize_setting_that_is_not_a_boolean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENFEATURE_LITESTAR_TOKENS", "read-token")
    monkeypatch.setenv("OPENFEATURE_LITESTAR_SANITIZE", "maybe")
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run_cli("serve", "--store", url, "--port", "1")[0] == 2
    assert "OPENFEATURE_LITESTAR_SANITIZE must be 1 or 0" in capsys.readouterr().err


def test_serve_takes_a_fractional_version() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).fractional is None  # the server's default, v2
    assert parser.parse_args(["serve", "--fractional", "v3"]).fractional == "v3"


def test_the_start_up_summary_of_a_store_not_reachable_yet() -> None:
    # Nothing listens on port 1: serve starts anyway and keeps trying, and says so.
    served = _server_commands._served_now("redis://127.0.0.1:1/0", "default")
    assert served.startswith("not read yet (")
    assert served.endswith("); the server keeps trying")


def test_the_start_up_summary_counts_the_flags(tmp_path: Path) -> None:
    source = tmp_path / "flags.json"
    flag = {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"}
    source.write_text(json.dumps({"flags": {"a": flag}}), encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert run_cli("import", "--store", url, str(source))[0] == 0
    assert _server_commands._served_now(url, "default") == "revision 1, 1 flag"

"""The validate command keeps going after an unreadable file (found in review)."""

import io
import json
from pathlib import Path

import pytest

from openfeature_litestar._cli import main

OBJECT_FLAGS = {
    "flags": {
        "o": {"state": "ENABLED", "variants": {"a": {"x": 1}}, "defaultVariant": "a"},
    }
}


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

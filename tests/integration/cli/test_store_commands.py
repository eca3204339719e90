"""The store commands on real Redis and PostgreSQL: what they write, and what they do not.

An import of the document a namespace already holds, an ``import --dry-run`` and a read
of a misspelt namespace write nothing: checked through the store's own API (revision and
audit trail) and, for PostgreSQL, in its tables.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from openfeature_litestar import store_from_url
from tests.support import run_cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

DOCUMENT: dict[str, Any] = {
    "flags": {
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
        },
        "theme": {
            "state": "ENABLED",
            "variants": {"light": "l", "dark": "d"},
            "defaultVariant": "dark",
        },
    }
}


@pytest.fixture(params=["redis", "postgresql"])
def store(request: pytest.FixtureRequest, unique_name: str, tmp_path: Path) -> tuple[str, str]:
    """A real store's URL and a fresh namespace in it, seeded with DOCUMENT (revision 1)."""
    fixture = "redis_url" if request.param == "redis" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    source = tmp_path / "flags.json"
    source.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    assert run_cli("import", "--store", url, "--namespace", unique_name, str(source))[0] == 0
    return url, unique_name


def revision_and_trail(url: str, namespace: str) -> tuple[int, list[int]]:
    """The namespace's revision and its audit entries' revisions, read by the store itself."""

    async def read() -> tuple[int, list[int]]:
        target = store_from_url(url, namespace=namespace)
        try:
            stored = await target.load()
            entries = await target.audit_log(limit=100)
        finally:
            await target.close()
        return stored.revision, [entry.revision for entry in entries]

    return asyncio.run(read())


def test_importing_the_same_document_writes_no_revision(
    store: tuple[str, str], tmp_path: Path
) -> None:
    url, namespace = store
    same = tmp_path / "same.yaml"  # another format, the same flags
    same.write_text(
        "flags:\n"
        "  banner: {state: ENABLED, variants: {'on': true, 'off': false}, defaultVariant: 'off'}\n"
        "  theme: {state: ENABLED, variants: {light: l, dark: d}, defaultVariant: dark}\n",
        encoding="utf-8",
    )
    status, out = run_cli("import", "--store", url, "--namespace", namespace, str(same))
    assert status == 0
    assert "nothing changed" in out
    assert revision_and_trail(url, namespace) == (1, [1, 1])


def test_import_dry_run_writes_nothing(store: tuple[str, str], tmp_path: Path) -> None:
    url, namespace = store
    changed = tmp_path / "changed.json"
    flags = {**DOCUMENT["flags"], "banner": {**DOCUMENT["flags"]["banner"], "state": "DISABLED"}}
    changed.write_text(json.dumps({"flags": flags}), encoding="utf-8")
    argv = ("import", "--store", url, "--namespace", namespace, "--dry-run", "--json")
    status, out = run_cli(*argv, str(changed))
    assert status == 0
    report = json.loads(out)
    assert (report["written"], report["revision"]) == (False, 1)
    assert [(c["flag"], c["action"]) for c in report["changes"]] == [("banner", "update")]
    assert revision_and_trail(url, namespace) == (1, [1, 1])
    # Without --dry-run the same import writes revision 2, with one audit entry.
    assert run_cli(*argv[:-2], str(changed))[0] == 0
    assert revision_and_trail(url, namespace) == (2, [2, 1, 1])


def test_reads_of_a_misspelt_namespace_say_so(
    store: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, namespace = store
    misspelt = f"{namespace}x"
    for command in (["export"], ["list"], ["get", "banner"], ["audit"]):
        assert run_cli(*command, "--store", url, "--namespace", misspelt) == (1, "")
        assert f"namespace {misspelt!r}" in capsys.readouterr().err
    assert revision_and_trail(url, misspelt) == (0, [])


def test_a_read_of_a_misspelt_namespace_adds_no_redis_key(
    redis_url: str, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for command in (["export"], ["list"], ["audit"]):
            assert run_cli(*command, "--store", redis_url, "--namespace", unique_name) == (1, "")
        assert "has never been written" in capsys.readouterr().err
        assert client.keys(f"openfeature:{unique_name}*") == []
    finally:
        client.close()


def test_a_read_of_a_misspelt_namespace_adds_no_row(
    postgres_url: str, unique_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def rows() -> int:
        engine = create_async_engine(postgres_url.replace("postgresql:", "postgresql+asyncpg:", 1))
        try:
            async with engine.connect() as connection:
                query = text("SELECT count(*) FROM openfeature_namespaces WHERE namespace = :n")
                result = await connection.execute(query, {"n": unique_name})
                return int(result.scalar_one())
        finally:
            await engine.dispose()

    assert run_cli("export", "--store", postgres_url, "--namespace", unique_name) == (1, "")
    assert "has never been written" in capsys.readouterr().err
    assert asyncio.run(rows()) == 0


def test_list_get_and_evaluate_on_a_real_store(store: tuple[str, str]) -> None:
    url, namespace = store
    where = ("--store", url, "--namespace", namespace)
    listed = json.loads(run_cli("list", *where, "--json")[1])
    assert [(row["flag"], row["type"]) for row in listed["flags"]] == [
        ("banner", "boolean"),
        ("theme", "string"),
    ]
    assert json.loads(run_cli("get", "theme", *where)[1]) == DOCUMENT["flags"]["theme"]
    status, out = run_cli("evaluate", "theme", *where, "--json")
    assert (status, json.loads(out)["value"]) == (0, "d")

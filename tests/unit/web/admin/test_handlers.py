"""The admin routes: reading and writing flags and documents, promotion, the audit trail."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any

from litestar.testing import TestClient

from openfeature_litestar import FileStore, FlagDocument, MemoryStore

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    admin_app,
    document,
    flag,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from litestar import Litestar

    from openfeature_litestar._stores import WritableFlagStore


def test_lists_the_configured_namespaces(client: TestClient[Litestar]) -> None:
    response = client.get(BASE, headers=READ_AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "namespaces": [
            {"name": "production", "revision": 1, "flag_count": 2, "served_revision": None},
            {"name": "staging", "revision": 0, "flag_count": 0, "served_revision": None},
        ]
    }


def test_lists_and_reads_flags_with_the_revision_as_etag(client: TestClient[Litestar]) -> None:
    listed = client.get(f"{BASE}/production/flags", headers=READ_AUTH)
    assert listed.status_code == 200
    assert listed.headers["etag"] == '"1"'
    assert listed.json() == {
        "namespace": "production",
        "revision": 1,
        "flags": [
            {"key": "banner", "definition": flag()},
            {"key": "greeting", "definition": document()["flags"]["greeting"]},
        ],
    }
    read = client.get(f"{BASE}/production/flags/banner", headers=READ_AUTH)
    assert read.headers["etag"] == '"1"'
    assert read.json() == {
        "namespace": "production",
        "key": "banner",
        "revision": 1,
        "definition": flag(),
    }
    document_read = client.get(f"{BASE}/production/document", headers=READ_AUTH)
    assert document_read.headers["etag"] == '"1"'
    assert document_read.json() == document()


def test_replace_with_the_current_revision(
    client: TestClient[Litestar], stores: dict[str, WritableFlagStore]
) -> None:
    response = client.put(
        f"{BASE}/production/flags/banner",
        headers={**WRITE_AUTH, "If-Match": '"1"'},
        json=flag("on"),
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json() == {
        "namespace": "production",
        "key": "banner",
        "revision": 2,
        "definition": flag("on"),
    }
    stored = asyncio.run(stores["production"].load())
    assert stored.revision == 2
    assert stored.document.flags["banner"].default_variant == "on"


def test_delete(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner"
    stale = client.delete(path, headers={**WRITE_AUTH, "If-Match": '"7"'})
    assert stale.status_code == 412
    deleted = client.delete(path, headers={**WRITE_AUTH, "If-Match": '"1"'})
    assert deleted.status_code == 200
    assert deleted.headers["etag"] == '"2"'
    assert deleted.json() == {"namespace": "production", "revision": 2}
    assert client.get(path, headers=READ_AUTH).status_code == 404
    missing = client.delete(path, headers={**WRITE_AUTH, "If-Match": '"2"'})
    assert missing.status_code == 404


def test_replace_the_whole_document(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/document"
    replacement = {"flags": {"only": flag("on")}}
    response = client.put(path, headers={**WRITE_AUTH, "If-Match": '"1"'}, json=replacement)
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert client.get(path, headers=READ_AUTH).json() == replacement
    stale = client.put(path, headers={**WRITE_AUTH, "If-Match": '"1"'}, json=document())
    assert stale.status_code == 412


def test_reading_the_document_dumps_it_off_the_loop(
    client: TestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A megabyte document takes tens of milliseconds to dump: not on the loop's time.
    threads: list[str] = []
    dump = FlagDocument.dump

    def recording_dump(self: FlagDocument) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return dump(self)

    monkeypatch.setattr(FlagDocument, "dump", recording_dump)
    response = client.get(f"{BASE}/production/document", headers=READ_AUTH)

    assert response.json() == document()
    assert threads
    assert all(name.startswith("openfeature-compile") for name in threads), threads


def test_promote_copies_a_namespace_and_audits_it(client: TestClient[Litestar]) -> None:
    response = client.post(
        f"{BASE}/staging/promote",
        headers={**WRITE_AUTH, "If-Match": '"0"'},
        json={"from": "production"},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert client.get(f"{BASE}/staging/document", headers=READ_AUTH).json() == document()
    entries = client.get(f"{BASE}/staging/audit", headers=READ_AUTH).json()["entries"]
    assert {entry["flag_key"] for entry in entries} >= {"banner", "greeting"}
    assert all("promoted from 'production'" in entry["note"] for entry in entries)
    assert all(entry["actor"] == "alice" for entry in entries)


def test_promote_needs_a_managed_source_and_the_target_revision(
    client: TestClient[Litestar],
) -> None:
    path = f"{BASE}/staging/promote"
    missing = client.post(path, headers=WRITE_AUTH, json={"from": "production"})
    assert missing.status_code == 428
    for source in ["elsewhere", "staging"]:
        response = client.post(
            path, headers={**WRITE_AUTH, "If-Match": '"0"'}, json={"from": source}
        )
        assert response.status_code == 422
        assert response.json()["extra"]["problems"][0]["path"] == "from"
    stale = client.post(
        path, headers={**WRITE_AUTH, "If-Match": '"3"'}, json={"from": "production"}
    )
    assert stale.status_code == 412


def test_audit_pages_newest_first_with_the_actor(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner"
    for revision, variant in enumerate(["on", "off", "on"], start=1):
        response = client.put(
            path, headers={**WRITE_AUTH, "If-Match": f'"{revision}"'}, json=flag(variant)
        )
        assert response.status_code == 200
    client.put(
        f"{BASE}/production/flags/other", headers={**WRITE_AUTH, "If-None-Match": "*"}, json=flag()
    )
    audit = f"{BASE}/production/audit"
    first = client.get(audit, params={"flag": "banner", "limit": 2}, headers=READ_AUTH)
    assert first.status_code == 200
    assert first.headers["etag"] == '"5"'
    page = first.json()
    assert [entry["revision"] for entry in page["entries"]] == [4, 3]
    assert page["entries"][0]["before"] == flag("off")
    assert page["entries"][0]["after"] == flag("on")
    assert {entry["actor"] for entry in page["entries"]} == {"alice"}
    assert page["next_before"] == page["entries"][-1]["id"]
    second = client.get(
        audit,
        params={"flag": "banner", "limit": 2, "before": page["next_before"]},
        headers=READ_AUTH,
    ).json()
    assert [entry["revision"] for entry in second["entries"]] == [2]
    assert second["next_before"] is None
    everything = client.get(audit, headers=READ_AUTH).json()["entries"]
    assert [entry["flag_key"] for entry in everything] == ["other", "banner", "banner", "banner"]


def test_audit_rejects_bad_queries(client: TestClient[Litestar]) -> None:
    audit = f"{BASE}/production/audit"
    assert client.get(audit, params={"limit": 0}, headers=READ_AUTH).status_code == 400
    assert client.get(audit, params={"limit": 1001}, headers=READ_AUTH).status_code == 400
    assert client.get(audit, params={"before": "no-such"}, headers=READ_AUTH).status_code == 400


def test_works_on_a_file_store(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": {}}))
    store = FileStore(path)
    with TestClient(admin_app({"default": store})) as client:
        etag = client.get(f"{BASE}/default/document", headers=READ_AUTH).headers["etag"]
        created = client.put(
            f"{BASE}/default/flags/banner", headers={**WRITE_AUTH, "If-Match": etag}, json=flag()
        )
        assert created.status_code == 201
        assert created.headers["etag"] != etag
    assert json.loads(path.read_text())["flags"]["banner"] == flag()


# --- lenient reading, strict writing -------------------------------------------------------

ODD_TARGETING = {"if": [{"ends_with": [{"var": "email"}, 3]}, "on", None]}
ODD_PATH = "targeting.if.0.ends_with.1"


def _store_with_an_odd_flag() -> dict[str, WritableFlagStore]:
    # A document flagd serves: read leniently, the odd flag is kept with a warning.
    held = document()
    held["flags"]["odd"] = {**flag(), "targeting": ODD_TARGETING}
    production = MemoryStore(held, namespace="production")
    return {"production": production}


def test_a_put_flag_with_a_problem_flagd_tolerates_is_refused_with_its_path() -> None:
    with TestClient(admin_app(_store_with_an_odd_flag())) as client:
        response = client.put(
            f"{BASE}/production/flags/banner",
            headers={**WRITE_AUTH, "If-Match": '"1"'},
            json={**flag(), "targeting": {"invalid": [1]}},
        )
        assert response.status_code == 422
        paths = [p["path"] for p in response.json()["extra"]["problems"]]
        assert paths == ["flags.banner.targeting"]
        assert "unknown operator 'invalid'" in response.text


def test_a_put_flag_is_not_refused_for_another_stored_flags_old_problem() -> None:
    stores = _store_with_an_odd_flag()
    with TestClient(admin_app(stores)) as client:
        response = client.put(
            f"{BASE}/production/flags/banner",
            headers={**WRITE_AUTH, "If-Match": '"1"'},
            json=flag("on"),
        )
        assert response.status_code == 200, response.text
        again = client.put(
            f"{BASE}/production/flags/odd",
            headers={**WRITE_AUTH, "If-Match": '"2"'},
            json={**flag("on"), "targeting": ODD_TARGETING},
        )
        assert again.status_code == 422  # writing the odd flag itself is strict
        assert [p["path"] for p in again.json()["extra"]["problems"]] == [f"flags.odd.{ODD_PATH}"]
        deleted = client.delete(
            f"{BASE}/production/flags/odd", headers={**WRITE_AUTH, "If-Match": '"2"'}
        )
        assert deleted.status_code == 200


def test_a_put_document_with_a_problem_flagd_tolerates_is_refused_with_its_path() -> None:
    stores = _store_with_an_odd_flag()
    with TestClient(admin_app(stores)) as client:
        current = client.get(f"{BASE}/production/document", headers=READ_AUTH).json()
        response = client.put(
            f"{BASE}/production/document",
            headers={**WRITE_AUTH, "If-Match": '"1"'},
            json=current,  # the stored document as it is: a whole-document write is strict
        )
        assert response.status_code == 422
        assert [p["path"] for p in response.json()["extra"]["problems"]] == [
            f"flags.odd.{ODD_PATH}"
        ]
        del current["flags"]["odd"]
        fixed = client.put(
            f"{BASE}/production/document", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=current
        )
        assert fixed.status_code == 200

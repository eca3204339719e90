"""create_server: tokens from arguments or the environment, routes, actors, stores."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import TestClient

from openfeature_litestar import ConfigurationError, MemoryStore
from openfeature_litestar.cli import DEFAULT_STORE_URL, STORE_URL_ENV
from openfeature_litestar.web.server import ADMIN_TOKENS_ENV, TOKENS_ENV, create_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from litestar import Litestar

READ = {"Authorization": "Bearer read-token"}
ADMIN_ONE = {"Authorization": "Bearer admin-one"}
ADMIN_TWO = {"Authorization": "Bearer admin-two"}


def document(variant: str = "off") -> dict[str, Any]:
    return {
        "flags": {
            "banner": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": variant,
            }
        }
    }


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TOKENS_ENV, ADMIN_TOKENS_ENV, STORE_URL_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(document())


@pytest.fixture
def client(store: MemoryStore, domain: str) -> Iterator[TestClient[Litestar]]:
    app = create_server(
        store, tokens=["read-token"], admin_tokens=["admin-one", "admin-two"], domain=domain
    )
    with TestClient(app) as test_client:
        yield test_client


def evaluate(client: TestClient[Litestar], **headers: str) -> Any:
    return client.post("/ofrep/v1/evaluate/flags/banner", json={"context": {}}, headers=headers)


def test_ofrep_needs_a_read_token(client: TestClient[Litestar]) -> None:
    assert evaluate(client).status_code == 401
    assert evaluate(client, Authorization="Bearer wrong").status_code == 401
    response = evaluate(client, **READ)
    assert response.status_code == 200
    assert response.json()["value"] is False


def test_the_admin_api_needs_an_admin_token(client: TestClient[Litestar]) -> None:
    assert client.get("/admin/v1/namespaces").status_code == 401
    assert client.get("/admin/v1/namespaces", headers=READ).status_code == 401
    listed = client.get("/admin/v1/namespaces", headers=ADMIN_ONE)
    assert listed.status_code == 200
    assert [namespace["name"] for namespace in listed.json()["namespaces"]] == ["default"]


def test_admin_writes_are_audited_by_token_position_and_served(
    client: TestClient[Litestar], store: MemoryStore
) -> None:
    response = client.put(
        "/admin/v1/namespaces/default/flags/banner",
        headers={**ADMIN_TWO, "If-Match": '"1"'},
        json=document("on")["flags"]["banner"],
    )
    assert response.status_code == 200
    entry = asyncio.run(store.audit_log(limit=1))[0]
    assert entry.actor == "admin-token-2"
    assert "admin-two" not in repr(entry)
    deadline = time.monotonic() + 10
    while evaluate(client, **READ).json()["value"] is not True:
        assert time.monotonic() < deadline, "OFREP never served the write"
        time.sleep(0.02)


def test_health_and_readiness(client: TestClient[Litestar]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "revision": 1}


def test_tokens_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, store: MemoryStore, domain: str
) -> None:
    monkeypatch.setenv(TOKENS_ENV, " read-token , other ,")
    monkeypatch.setenv(ADMIN_TOKENS_ENV, "admin-one")
    with TestClient(create_server(store, domain=domain)) as client:
        assert evaluate(client, **READ).status_code == 200
        assert evaluate(client, Authorization="Bearer other").status_code == 200
        assert client.get("/admin/v1/namespaces", headers=ADMIN_ONE).status_code == 200


def test_without_admin_tokens_there_is_no_admin_api(store: MemoryStore, domain: str) -> None:
    with TestClient(create_server(store, tokens=["read-token"], domain=domain)) as client:
        assert client.get("/admin/v1/namespaces", headers=READ).status_code == 404
        assert evaluate(client, **READ).status_code == 200


def test_refuses_to_serve_ofrep_without_tokens_unless_public(
    store: MemoryStore, domain: str
) -> None:
    with pytest.raises(ConfigurationError, match=TOKENS_ENV):
        create_server(store, domain=domain)
    with TestClient(create_server(store, public=True, domain=domain)) as client:
        assert evaluate(client).status_code == 200


def test_public_wins_over_tokens(store: MemoryStore, domain: str) -> None:
    app = create_server(store, tokens=["read-token"], public=True, domain=domain)
    with TestClient(app) as client:
        assert evaluate(client).status_code == 200


def test_a_store_of_another_namespace_is_refused(store: MemoryStore) -> None:
    with pytest.raises(ConfigurationError, match="namespace 'default', not 'staging'"):
        create_server(store, namespace="staging", tokens=["read-token"])


def test_a_store_url_and_its_namespace(tmp_path: Path, domain: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}?namespace=staging"
    app = create_server(url, tokens=["read-token"], admin_tokens=["admin-one"], domain=domain)
    with TestClient(app) as client:
        listed = client.get("/admin/v1/namespaces", headers=ADMIN_ONE).json()["namespaces"]
        assert [namespace["name"] for namespace in listed] == ["staging"]


def test_the_default_store_is_the_embedded_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, domain: str
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_server(tokens=["read-token"], admin_tokens=["admin-one"], domain=domain)
    with TestClient(app) as client:
        created = client.put(
            "/admin/v1/namespaces/default/flags/banner",
            headers={**ADMIN_ONE, "If-None-Match": "*"},
            json=document()["flags"]["banner"],
        )
        assert created.status_code == 201
    database = DEFAULT_STORE_URL.split("///", 1)[1]
    assert (tmp_path / database).is_file()

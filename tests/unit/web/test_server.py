"""create_server: tokens from arguments or the environment, routes, actors, stores."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from litestar.testing import TestClient

from openfeature_litestar import ConfigurationError, MemoryStore, document_from_data
from openfeature_litestar._stores._url import DEFAULT_STORE_URL, STORE_URL_ENV
from openfeature_litestar.web._server import (
    ADMIN_TOKENS_ENV,
    CORS_ORIGINS_ENV,
    SANITIZE_ENV,
    TOKENS_ENV,
    _listening_socket,
    create_server,
    serve,
)
from tests.support import wait_until

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
    for name in (TOKENS_ENV, ADMIN_TOKENS_ENV, STORE_URL_ENV, SANITIZE_ENV, CORS_ORIGINS_ENV):
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
    wait_until(
        lambda: evaluate(client, **READ).json()["value"] is True,
        timeout=10,
        interval=0.02,
        message="OFREP never served the write",
    )


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


# -- sanitizing, CORS and the schema ------------------------------------------------------

EMAIL_RULE: dict[str, Any] = {
    "flags": {
        "staff": {
            "state": "ENABLED",
            "variants": {"yes": True, "no": False},
            "defaultVariant": "no",
            "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "yes", "no"]},
        }
    }
}


def is_staff(client: TestClient[Litestar]) -> Any:
    response = client.post(
        "/ofrep/v1/evaluate/flags/staff",
        json={"context": {"targetingKey": "u", "email": "bob@example.com"}},
        headers=READ,
    )
    assert response.status_code == 200, response.text
    return response.json()["value"]


@pytest.mark.parametrize(
    ("sanitize", "environment", "expected"),
    [
        (None, None, False),  # redacted by default: the rule sees "[REDACTED]"
        (False, None, True),  # as sent, as flagd would evaluate it
        (None, "0", True),
        (None, "false", True),
        (None, "1", False),
        (True, "0", False),  # the argument wins over the environment
    ],
)
def test_sanitizing_ofrep_contexts_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch,
    domain: str,
    sanitize: bool | None,
    environment: str | None,
    expected: bool,
) -> None:
    if environment is not None:
        monkeypatch.setenv(SANITIZE_ENV, environment)
    app = create_server(
        MemoryStore(EMAIL_RULE), tokens=["read-token"], sanitize=sanitize, domain=domain
    )
    with TestClient(app) as client:
        assert is_staff(client) is expected


def test_the_context_limits_apply_without_the_sanitizer(store: MemoryStore, domain: str) -> None:
    app = create_server(store, tokens=["read-token"], sanitize=False, domain=domain)
    with TestClient(app) as client:
        response = client.post(
            "/ofrep/v1/evaluate/flags/banner",
            json={"context": {"name": "x" * 5000}},
            headers=READ,
        )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"


def test_a_sanitize_setting_that_is_not_a_boolean_is_refused(
    monkeypatch: pytest.MonkeyPatch, store: MemoryStore
) -> None:
    monkeypatch.setenv(SANITIZE_ENV, "maybe")
    with pytest.raises(ConfigurationError, match=SANITIZE_ENV):
        create_server(store, tokens=["read-token"])


ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, if-none-match",
}


@pytest.mark.parametrize("from_environment", [False, True])
def test_a_browser_origin_may_call_ofrep(
    monkeypatch: pytest.MonkeyPatch, store: MemoryStore, domain: str, from_environment: bool
) -> None:
    if from_environment:
        monkeypatch.setenv(CORS_ORIGINS_ENV, f"https://other.example.com, {ORIGIN}")
    origins = () if from_environment else [ORIGIN]
    app = create_server(store, tokens=["read-token"], cors_origins=origins, domain=domain)
    with TestClient(app) as client:
        # The pre-flight carries no token: it is answered before the guard.
        preflight = client.options("/ofrep/v1/evaluate/flags", headers=PREFLIGHT)
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        # GET: the event stream, which browsers open with EventSource.
        assert preflight.headers["access-control-allow-methods"] == "GET, POST"
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "if-none-match"} <= {
            name.strip() for name in allowed.split(",")
        }
        bulk = client.post("/ofrep/v1/evaluate/flags", json={}, headers={**READ, "Origin": ORIGIN})
        assert bulk.status_code == 200
        assert bulk.headers["access-control-allow-origin"] == ORIGIN
        assert bulk.headers["access-control-expose-headers"] == "ETag, OFREP-Flag-Config-ETag"
        # The token is still required.
        refused = client.post("/ofrep/v1/evaluate/flags", json={}, headers={"Origin": ORIGIN})
        assert refused.status_code == 401
        other = client.options(
            "/ofrep/v1/evaluate/flags", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


def test_without_origins_there_are_no_cors_headers(client: TestClient[Litestar]) -> None:
    preflight = client.options("/ofrep/v1/evaluate/flags", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    bulk = client.post("/ofrep/v1/evaluate/flags", json={}, headers={**READ, "Origin": ORIGIN})
    assert "access-control-allow-origin" not in bulk.headers


def test_the_schema_is_for_admin_tokens_only(client: TestClient[Litestar]) -> None:
    # It lists the namespaces the admin API manages.
    assert client.get("/schema/openapi.json").status_code == 401
    assert client.get("/schema/openapi.json", headers=READ).status_code == 401
    schema = client.get("/schema/openapi.json", headers=ADMIN_ONE)
    assert schema.status_code == 200
    assert any(path.startswith("/admin/v1/") for path in schema.json()["paths"])


def test_without_the_admin_api_there_is_no_schema(store: MemoryStore, domain: str) -> None:
    with TestClient(create_server(store, tokens=["read-token"], domain=domain)) as client:
        assert client.get("/schema/openapi.json", headers=READ).status_code == 404


def test_the_server_serves_with_its_fractional_version(domain: str) -> None:
    cards = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]
    rollout = {
        "state": "ENABLED",
        "variants": {name: name for name, _ in cards},
        "defaultVariant": "clubs",
        "targeting": {
            "fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}, *cards]
        },
    }
    store = MemoryStore(document_from_data({"flags": {"fractional-flag": rollout}}))
    app = create_server(store, public=True, sanitize=False, domain=domain, fractional="v3")
    with TestClient(app) as client:
        body = {"context": {"user": {"name": "jack"}}}
        response = client.post("/ofrep/v1/evaluate/flags/fractional-flag", json=body)
    # flagd-testbed's "Fractional operator": jack is diamonds in v3 (hearts in v2).
    assert response.json()["value"] == "diamonds"


def test_workers_share_a_socket_that_sends_without_delay() -> None:
    # uvicorn's own socket for workers leaves Nagle's algorithm on: a response written
    # in two parts waited about 40 ms for the client's delayed acknowledgement.
    config = uvicorn.Config("openfeature_litestar.web._server:_server_in_worker", port=0)
    sock = _listening_socket(config)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        sock.listen(1)  # as the workers' server does
        with socket.create_connection(sock.getsockname()[:2]) as client:
            accepted, _ = sock.accept()
            with client, accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_a_worker_count_that_is_not_positive_is_refused(workers: object) -> None:
    with pytest.raises(ConfigurationError, match="workers"):
        serve(workers=workers, public=True)  # type: ignore[arg-type]


def test_several_workers_need_options_that_are_data(store: MemoryStore) -> None:
    with pytest.raises(ConfigurationError, match="as a URL"):
        serve(workers=2, store=store, public=True)

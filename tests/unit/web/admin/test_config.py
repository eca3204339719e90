"""The admin API's configuration: mounting checks, the body limit and who the actor is."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import pytest
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.testing import TestClient

from openfeature_litestar import ConfigurationError, MemoryStore
from openfeature_litestar.web import (
    AdminConfig,
    admin_router,
)
from openfeature_litestar.web._admin import default_actor

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    WRITER,
    admin_app,
    document,
    flag,
    writers_only,
)

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import Scope

    from openfeature_litestar._stores import WritableFlagStore


def test_refuses_a_store_listed_under_another_namespace() -> None:
    store = MemoryStore(namespace="staging")
    with pytest.raises(ConfigurationError, match="holds namespace 'staging'"):
        AdminConfig(guards=[writers_only], stores={"production": store})


def test_refuses_no_namespaces_and_bad_settings() -> None:
    with pytest.raises(ConfigurationError, match="at least one namespace"):
        admin_router(AdminConfig(guards=[writers_only]), stores={})
    with pytest.raises(ConfigurationError, match="start with '/'"):
        AdminConfig(path="admin")
    with pytest.raises(ConfigurationError, match="max_body_bytes"):
        AdminConfig(max_body_bytes=0)


def test_a_body_over_the_limit_is_413(stores: dict[str, WritableFlagStore]) -> None:
    with TestClient(admin_app(stores, max_body_bytes=1024)) as client:
        big = {"flags": {f"flag-{n}": flag() for n in range(50)}}
        response = client.put(
            f"{BASE}/production/document", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=big
        )
        assert response.status_code == 413
        assert client.get(f"{BASE}/production/document", headers=READ_AUTH).json() == document()


def test_a_write_without_an_authenticated_user_is_refused(client: TestClient[Litestar]) -> None:
    response = client.put(
        f"{BASE}/production/flags/banner",
        headers={"Authorization": f"Bearer {WRITER}", "If-Match": '"1"'},
        json=flag("on"),
    )
    assert response.status_code == 403
    assert "authenticated user" in response.json()["detail"]


def test_a_configured_actor_names_the_writer(stores: dict[str, WritableFlagStore]) -> None:
    app = admin_app(stores, actor=lambda connection: f"ci:{connection.headers['x-job']}")
    with TestClient(app) as client:
        response = client.put(
            f"{BASE}/production/flags/banner",
            headers={"Authorization": f"Bearer {WRITER}", "X-Job": "42", "If-Match": '"1"'},
            json=flag("on"),
        )
        assert response.status_code == 200
    entry = asyncio.run(stores["production"].audit_log(limit=1))[0]
    assert entry.actor == "ci:42"


def test_default_actor_reads_id_then_name() -> None:
    class User:
        name = "bob"

    users: list[Any] = [{"id": 7}, User(), "carol"]
    names = [default_actor(connection({"type": "http", "user": user})) for user in users]
    assert names == ["7", "bob", "carol"]
    with pytest.raises(PermissionDeniedException):
        default_actor(connection({"type": "http"}))


def connection(scope: dict[str, Any]) -> ASGIConnection[Any, Any, Any, Any]:
    return ASGIConnection(cast("Scope", scope))

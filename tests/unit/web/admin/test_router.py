"""The admin router: guards on every route, write guards on the writes, mounted by the plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openfeature import api

from openfeature_litestar import ConfigurationError, MemoryStore
from openfeature_litestar.web import (
    AdminConfig,
    OpenFeatureConfig,
    OpenFeaturePlugin,
    admin_router,
    bearer_token_guard,
)
from tests.support import wait_until

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    WRITER,
    HeaderUser,
    document,
    flag,
)

if TYPE_CHECKING:
    from openfeature_litestar._stores import WritableFlagStore


def test_refuses_to_mount_without_guards(stores: dict[str, WritableFlagStore]) -> None:
    with pytest.raises(ConfigurationError, match="never mounts unguarded"):
        admin_router(AdminConfig(), stores=stores)


def test_every_route_needs_the_guard(client: TestClient[Litestar]) -> None:
    for method, path in [
        ("GET", BASE),
        ("GET", f"{BASE}/production/flags"),
        ("GET", f"{BASE}/production/audit"),
        ("PUT", f"{BASE}/production/flags/banner"),
        ("POST", f"{BASE}/production/flags/banner/evaluate"),
    ]:
        response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = client.request(method, path, json={}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


def test_write_guards_apply_to_writes_only(client: TestClient[Litestar]) -> None:
    assert client.get(f"{BASE}/production/flags/banner", headers=READ_AUTH).status_code == 200
    dry_run = client.post(f"{BASE}/production/flags/banner/evaluate", headers=READ_AUTH, json={})
    assert dry_run.status_code == 200
    refused = client.put(
        f"{BASE}/production/flags/banner", headers={**READ_AUTH, "If-Match": '"1"'}, json=flag()
    )
    assert refused.status_code == 403
    assert client.get(f"{BASE}/production/flags/banner", headers=READ_AUTH).json()["revision"] == 1


def test_the_plugin_mounts_it_on_its_own_store(domain: str) -> None:
    store = MemoryStore(document())
    config = OpenFeatureConfig(
        store=store,
        domain=domain,
        admin=AdminConfig(guards=[bearer_token_guard(WRITER)]),
    )
    app = Litestar([], middleware=[HeaderUser()], plugins=[OpenFeaturePlugin(config)])
    with TestClient(app) as client:
        listed = client.get(BASE, headers=WRITE_AUTH).json()["namespaces"]
        assert listed == [{"name": "default", "revision": 1, "flag_count": 2, "served_revision": 1}]
        response = client.put(
            f"{BASE}/default/flags/banner",
            headers={**WRITE_AUTH, "If-Match": '"1"'},
            json=flag("on"),
        )
        assert response.status_code == 200
        flags = api.get_client(domain)
        wait_until(
            lambda: flags.get_boolean_value("banner", default_value=False) is True,
            timeout=10,
            interval=0.02,
            message="the provider never served the write",
        )
        served = client.get(BASE, headers=WRITE_AUTH).json()["namespaces"][0]
        assert served["served_revision"] == 2

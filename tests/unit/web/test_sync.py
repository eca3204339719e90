"""serve's sync endpoint, and the plugin following an HTTP URL (in process)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from openfeature_litestar import (
    ConfigurationError,
    FlagProvider,
    HttpStore,
    MemoryStore,
    document_from_data,
    store_from_url,
)
from openfeature_litestar.web import AdminConfig, OpenFeatureConfig, OpenFeaturePlugin
from openfeature_litestar.web._auth import bearer_token_guard
from openfeature_litestar.web._server import TOKENS_ENV, create_server
from tests.support import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

READ = {"Authorization": "Bearer read-token"}


def document(variant: str = "off") -> dict[str, Any]:
    return {
        "flags": {
            "banner": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": variant,
                "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
            }
        },
        "metadata": {"team": "web"},
    }


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(document(), namespace="production")


@pytest.fixture
def client(
    store: MemoryStore, domain: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient[Litestar]]:
    monkeypatch.delenv(TOKENS_ENV, raising=False)
    with TestClient(create_server(store, tokens=["read-token"], domain=domain)) as client:
        yield client


def test_the_document_is_served_whole_with_a_strong_etag(
    client: TestClient[Litestar], store: MemoryStore
) -> None:
    answer = client.get("/sync/v1/production", headers=READ)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-cache"
    etag = answer.headers["etag"]
    assert etag == f'"{hashlib.sha256(answer.content).hexdigest()}"'  # strong: no W/
    # The flagd document the store holds, rules and metadata included, reads back equal.
    assert document_from_data(json.loads(answer.content)) == document_from_data(document())

    again = client.get("/sync/v1/production", headers={**READ, "If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)

    asyncio.run(store.replace_document(document("on"), actor="test"))
    wait_until(
        lambda: (
            client.get("/sync/v1/production", headers={**READ, "If-None-Match": etag}).status_code
            == 200
        ),
        timeout=10,
        interval=0.02,
        message="the sync endpoint did not serve the change",
    )
    changed = client.get("/sync/v1/production", headers=READ)
    assert changed.headers["etag"] != etag
    assert json.loads(changed.content)["flags"]["banner"]["defaultVariant"] == "on"


def test_it_needs_a_read_token_and_serves_only_its_namespace(
    client: TestClient[Litestar],
) -> None:
    assert client.get("/sync/v1/production").status_code == 401
    assert (
        client.get("/sync/v1/production", headers={"Authorization": "Bearer x"}).status_code == 401
    )
    assert client.get("/sync/v1/staging", headers=READ).status_code == 404


def test_a_public_server_serves_it_without_tokens(store: MemoryStore, domain: str) -> None:
    with TestClient(create_server(store, public=True, domain=domain)) as client:
        assert client.get("/sync/v1/production").status_code == 200


def test_serve_refuses_a_read_only_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKENS_ENV, raising=False)
    with pytest.raises(ConfigurationError, match=r"read-only store \(HttpStore\)"):
        create_server("https://flags.example/flags.json", tokens=["t"])


def test_the_plugin_follows_an_http_url_and_refuses_an_admin_api_on_it() -> None:
    plugin = OpenFeaturePlugin(OpenFeatureConfig(store="https://flags.example/flags.json"))
    assert isinstance(plugin.provider, FlagProvider)
    assert isinstance(plugin.provider.store, HttpStore)

    guards = [bearer_token_guard(["admin"])]
    config = OpenFeatureConfig(
        store="https://flags.example/flags.json", admin=AdminConfig(guards=guards)
    )
    with pytest.raises(ConfigurationError, match="needs a writable store"):
        Litestar(plugins=[OpenFeaturePlugin(config)])


def test_store_from_url_types_a_read_only_store_as_a_flag_store() -> None:
    # read_only=True accepts writable URLs too: a reader does not care which it gets.
    assert isinstance(store_from_url("memory://", read_only=True), MemoryStore)

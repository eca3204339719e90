"""The admin API: reads, conditional writes, promotion, audit, dry runs, guards and errors."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any, cast

import pytest
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.testing import TestClient
from openfeature import api

from openfeature_litestar import ConfigurationError, FileStore, MemoryStore, RedisStore
from openfeature_litestar.web import OpenFeatureConfig, OpenFeaturePlugin, bearer_token_guard
from openfeature_litestar.web._admin import AdminConfig, admin_router, default_actor

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from litestar.handlers import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

    from openfeature_litestar._stores import StoredDocument, WritableFlagStore

READER, WRITER = "reader-token", "writer-token"
READ_AUTH = {"Authorization": f"Bearer {READER}"}
WRITE_AUTH = {"Authorization": f"Bearer {WRITER}", "X-User": "alice"}
BASE = "/admin/v1/namespaces"


def flag(variant: str = "off", *, state: str = "ENABLED") -> dict[str, Any]:
    return {
        "state": state,
        "variants": {"on": True, "off": False},
        "defaultVariant": variant,
        "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", variant]},
    }


def document() -> dict[str, Any]:
    return {
        "flags": {
            "banner": flag(),
            "greeting": {"state": "ENABLED", "variants": {"hi": "hi"}, "defaultVariant": "hi"},
        },
        "metadata": {"flagSetId": "web"},
    }


class HeaderUser(ASGIMiddleware):
    """Demo authentication: ``X-User: <name>`` makes ``scope["user"]`` ``{"id": <name>}``."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for name, value in scope["headers"]:
            if name == b"x-user":
                scope["user"] = {"id": value.decode()}
        await next_app(scope, receive, send)


async def writers_only(
    connection: ASGIConnection[Any, Any, Any, Any],
    _handler: BaseRouteHandler,
) -> None:
    """A role guard of the application's own: only the writer token may write."""
    if connection.headers.get("authorization") != f"Bearer {WRITER}":
        raise PermissionDeniedException("read-only token")


def admin_app(stores: dict[str, WritableFlagStore], **config: Any) -> Litestar:
    config.setdefault("guards", [bearer_token_guard([READER, WRITER])])
    config.setdefault("write_guards", [writers_only])
    router = admin_router(AdminConfig(**config), stores=stores)
    return Litestar([router], middleware=[HeaderUser()])


@pytest.fixture
def stores() -> dict[str, WritableFlagStore]:
    production = MemoryStore(document(), namespace="production")
    return {"production": production, "staging": production.with_namespace("staging")}


@pytest.fixture
def client(stores: dict[str, WritableFlagStore]) -> Iterator[TestClient[Litestar]]:
    with TestClient(admin_app(stores)) as test_client:
        yield test_client


def revision_of(store: WritableFlagStore) -> int:
    return asyncio.run(store.load()).revision


# -- mounting -----------------------------------------------------------------------------


def test_refuses_to_mount_without_guards(stores: dict[str, WritableFlagStore]) -> None:
    with pytest.raises(ConfigurationError, match="never mounts unguarded"):
        admin_router(AdminConfig(), stores=stores)


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


# -- reads --------------------------------------------------------------------------------


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


def test_unknown_namespaces_and_flags_are_404(client: TestClient[Litestar]) -> None:
    for path in [
        f"{BASE}/elsewhere/flags",
        f"{BASE}/elsewhere/document",
        f"{BASE}/elsewhere/audit",
        f"{BASE}/production/flags/missing",
    ]:
        response = client.get(path, headers=READ_AUTH)
        assert response.status_code == 404, path
        assert response.json()["status_code"] == 404
    put = client.put(
        f"{BASE}/elsewhere/flags/banner", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=flag()
    )
    assert put.status_code == 404


# -- conditional writes -------------------------------------------------------------------


def test_a_write_needs_a_precondition(client: TestClient[Litestar]) -> None:
    for method, path in [
        ("PUT", f"{BASE}/production/flags/banner"),
        ("PUT", f"{BASE}/production/flags/new"),
        ("DELETE", f"{BASE}/production/flags/banner"),
        ("PUT", f"{BASE}/production/document"),
    ]:
        response = client.request(method, path, headers=WRITE_AUTH, json=document())
        assert response.status_code == 428, (method, path)
        assert "If-Match" in response.json()["detail"]


def test_malformed_preconditions_are_400(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner"
    for headers in [
        {"If-Match": "1"},
        {"If-Match": "*"},
        {"If-Match": 'W/"1"'},
        {"If-Match": '"1", "2"'},
        {"If-None-Match": '"1"'},
        {"If-Match": '"1"', "If-None-Match": "*"},
    ]:
        response = client.put(path, headers={**WRITE_AUTH, **headers}, json=flag("on"))
        assert response.status_code == 400, headers
    assert client.get(path, headers=READ_AUTH).json()["definition"] == flag()


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


def test_a_stale_revision_is_412_and_never_a_lost_update(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner"
    etag = client.get(path, headers=READ_AUTH).headers["etag"]
    first = client.put(path, headers={**WRITE_AUTH, "If-Match": etag}, json=flag("on"))
    second = client.put(
        path,
        headers={**WRITE_AUTH, "If-Match": etag},
        json=flag(state="DISABLED"),
    )
    assert first.status_code == 200
    assert second.status_code == 412
    assert second.headers["etag"] == '"2"'
    assert second.json()["extra"] == {"revision": 2}
    assert client.get(path, headers=READ_AUTH).json()["definition"] == flag("on")


def test_create_only_with_if_none_match(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/checkout"
    created = client.put(path, headers={**WRITE_AUTH, "If-None-Match": "*"}, json=flag())
    assert created.status_code == 201
    assert created.headers["etag"] == '"2"'
    assert created.json()["revision"] == 2
    again = client.put(path, headers={**WRITE_AUTH, "If-None-Match": "*"}, json=flag("on"))
    assert again.status_code == 412
    assert again.json()["extra"] == {"revision": 2}
    assert client.get(path, headers=READ_AUTH).json()["definition"] == flag()


class OvertakenStore(MemoryStore):
    """A namespace another writer keeps changing: a write to another flag lands right
    after each of the first ``overtakes`` reads, as when many clients create flags."""

    def __init__(self, overtakes: int) -> None:
        super().__init__(document(), namespace="production")
        self.overtakes = overtakes
        self.rival = self.with_namespace("production")  # a second writer on the namespace

    async def load(self) -> StoredDocument:
        stored = await super().load()
        if self.overtakes > 0:
            self.overtakes -= 1
            await self.rival.put_flag(f"rival-{self.overtakes}", flag(), actor="rival")
        return stored


def test_create_only_outlasts_concurrent_writes_to_other_flags() -> None:
    # The precondition is about the flag: other flags' writes are never a 412.
    store = OvertakenStore(overtakes=20)
    with TestClient(admin_app({"production": store})) as client:
        created = client.put(
            f"{BASE}/production/flags/checkout",
            headers={**WRITE_AUTH, "If-None-Match": "*"},
            json=flag(),
        )
    assert created.status_code == 201, created.text
    assert created.json()["revision"] == 22  # after the 20 rival writes
    assert "checkout" in store.document.flags


def test_create_only_that_never_gets_through_is_409_and_writes_nothing() -> None:
    store = OvertakenStore(overtakes=10_000)
    with TestClient(admin_app({"production": store})) as client:
        response = client.put(
            f"{BASE}/production/flags/checkout",
            headers={**WRITE_AUTH, "If-None-Match": "*"},
            json=flag(),
        )
    assert response.status_code == 409
    assert "nothing was written: retry" in response.json()["detail"]
    assert "checkout" not in store.document.flags


def test_create_with_if_match_is_201(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/checkout"
    response = client.put(path, headers={**WRITE_AUTH, "If-Match": '"1"'}, json=flag())
    assert response.status_code == 201


def test_an_invalid_flag_is_422_with_every_problem(client: TestClient[Litestar]) -> None:
    bad = {"state": "MAYBE", "variants": {"on": True}, "defaultVariant": "off", "colour": 1}
    response = client.put(
        f"{BASE}/production/flags/banner", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=bad
    )
    assert response.status_code == 422
    body = response.json()
    paths = {problem["path"] for problem in body["extra"]["problems"]}
    assert {"flags.banner.state", "flags.banner.colour"} <= paths
    assert all(problem["message"] for problem in body["extra"]["problems"])


def test_an_invalid_key_is_422(client: TestClient[Litestar]) -> None:
    response = client.put(
        f"{BASE}/production/flags/%20padded", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=flag()
    )
    assert response.status_code == 422
    assert response.json()["extra"]["problems"][0]["path"] == "flags. padded"


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


def test_an_invalid_document_is_422_with_every_problem(client: TestClient[Litestar]) -> None:
    invalid = {
        "flags": {
            "a": {"state": "MAYBE", "variants": {"x": 1}, "defaultVariant": "x"},
            "b": {"state": "ENABLED", "variants": {}},
        }
    }
    response = client.put(
        f"{BASE}/production/document", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=invalid
    )
    assert response.status_code == 422
    paths = [problem["path"] for problem in response.json()["extra"]["problems"]]
    assert any(path.startswith("flags.a") for path in paths)
    assert any(path.startswith("flags.b") for path in paths)


def test_a_body_over_the_limit_is_413(stores: dict[str, WritableFlagStore]) -> None:
    with TestClient(admin_app(stores, max_body_bytes=1024)) as client:
        big = {"flags": {f"flag-{n}": flag() for n in range(50)}}
        response = client.put(
            f"{BASE}/production/document", headers={**WRITE_AUTH, "If-Match": '"1"'}, json=big
        )
        assert response.status_code == 413
        assert client.get(f"{BASE}/production/document", headers=READ_AUTH).json() == document()


# -- promotion ----------------------------------------------------------------------------


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


# -- audit --------------------------------------------------------------------------------


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


def test_a_bad_audit_cursor_never_shows_where_the_store_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "secret-location" / "flags.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"flags": {}}))
    with TestClient(admin_app({"default": FileStore(path)})) as client:
        response = client.get(f"{BASE}/default/audit", params={"before": "9"}, headers=READ_AUTH)
    assert response.status_code == 400
    assert "next_before" in response.json()["detail"]
    assert "secret-location" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("PUT", "/production/flags/deep", {"If-None-Match": "*"}),
        ("PUT", "/production/document", {"If-Match": '"1"'}),
        ("POST", "/production/flags/banner/evaluate", {}),
    ],
)
def test_a_json_body_nested_too_deeply_is_400(
    client: TestClient[Litestar], method: str, path: str, headers: dict[str, str]
) -> None:
    # Deeper than the JSON decoder goes: Litestar raises RecursionError while decoding.
    body = '{"context": ' + '{"a": ' * 5000 + "1" + "}" * 5001
    response = client.request(
        method,
        f"{BASE}{path}",
        content=body,
        headers={**WRITE_AUTH, **headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "the JSON body is nested too deeply"


# -- actors -------------------------------------------------------------------------------


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


# -- dry runs -----------------------------------------------------------------------------


def test_evaluate_is_a_dry_run_of_the_current_document(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner/evaluate"
    pro = client.post(
        path, headers=READ_AUTH, json={"context": {"targetingKey": "u", "plan": "pro"}}
    )
    assert pro.status_code == 200
    assert pro.headers["etag"] == '"1"'
    assert pro.json() == {
        "key": "banner",
        "revision": 1,
        "value": True,
        "variant": "on",
        "reason": "TARGETING_MATCH",
        "error_code": None,
        "error_message": None,
        "metadata": {"flagSetId": "web"},
    }
    free = client.post(path, headers=READ_AUTH, json={"context": {"plan": "free"}}).json()
    assert (free["value"], free["variant"]) == (False, "off")
    missing = client.post(
        f"{BASE}/production/flags/nope/evaluate", headers=READ_AUTH, json={}
    ).json()
    assert missing["error_code"] == "FLAG_NOT_FOUND"
    assert missing["value"] is None
    assert api.get_provider_metadata().name != "openfeature-litestar-admin-dry-run"


def test_evaluate_sees_an_unserved_write_at_once(client: TestClient[Litestar]) -> None:
    client.put(
        f"{BASE}/production/flags/banner",
        headers={**WRITE_AUTH, "If-Match": '"1"'},
        json=flag("on", state="DISABLED"),
    )
    result = client.post(
        f"{BASE}/production/flags/banner/evaluate", headers=READ_AUTH, json={}
    ).json()
    assert (result["reason"], result["revision"]) == ("DISABLED", 2)


def test_evaluate_rejects_a_bad_context(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner/evaluate"
    for body in [
        {"context": {"targetingKey": 5}},
        {"context": {"deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}}},
        {"context": []},
    ]:
        response = client.post(path, headers=READ_AUTH, json=body)
        assert response.status_code == 400, body
    malformed = client.post(
        path, headers={**READ_AUTH, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert malformed.status_code == 400


# -- stores -------------------------------------------------------------------------------


def test_an_unreachable_store_is_503() -> None:
    store = RedisStore("redis://127.0.0.1:1/0", timeout=0.5)
    with TestClient(admin_app({"default": store})) as client:
        for method, path in [
            ("GET", BASE),
            ("GET", f"{BASE}/default/flags"),
            ("GET", f"{BASE}/default/audit"),
            ("PUT", f"{BASE}/default/document"),
        ]:
            response = client.request(
                method, path, headers={**WRITE_AUTH, "If-Match": '"1"'}, json=document()
            )
            assert response.status_code == 503, (method, path)
            assert "127.0.0.1" not in response.text


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


# -- mounted by the plugin ----------------------------------------------------------------


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
        deadline = time.monotonic() + 10
        while flags.get_boolean_value("banner", default_value=False) is not True:
            assert time.monotonic() < deadline, "the provider never served the write"
            time.sleep(0.02)
        served = client.get(BASE, headers=WRITE_AUTH).json()["namespaces"][0]
        assert served["served_revision"] == 2

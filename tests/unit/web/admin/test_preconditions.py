"""Conditional writes: If-Match and If-None-Match, 428, 412 and the create-only retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.testing import TestClient

from openfeature_litestar import MemoryStore

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    admin_app,
    document,
    flag,
)

if TYPE_CHECKING:
    from litestar import Litestar

    from openfeature_litestar._stores import StoredDocument


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
        {"If-Match": '"1-"'},
        {"If-Match": '"1-ab-cd"'},
        {"If-Match": '"-0123456789abcdef"'},
        {"If-None-Match": '"1"'},
        {"If-Match": '"1"', "If-None-Match": "*"},
    ]:
        response = client.put(path, headers={**WRITE_AUTH, **headers}, json=flag("on"))
        assert response.status_code == 400, headers
    assert client.get(path, headers=READ_AUTH).json()["definition"] == flag()


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

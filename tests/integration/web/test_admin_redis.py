"""The admin API on a real Redis: ETags carry the namespace's epoch, across an emptied Redis.

A Redis restarted without persistence counts its revisions from 1 again. A client that
read revision 2 before must get ``412`` when it writes after the namespace reached
revision 2 of its new history, not overwrite a document it never read.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient

from openfeature_litestar import RedisStore
from openfeature_litestar.web import AdminConfig, admin_router, bearer_token_guard
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "admin-redis-token"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FLAG = "/admin/v1/namespaces/production/flags/switch"
DOCUMENT = "/admin/v1/namespaces/production/document"


@pytest.fixture
def key(redis_url: str, unique_name: str) -> Iterator[str]:
    """The namespace's hash; every key under its prefix is deleted afterwards."""
    yield f"{unique_name}:production"
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{unique_name}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def store(redis_url: str, unique_name: str, key: str) -> RedisStore:
    del key  # requested for its clean-up
    return RedisStore(redis_url, key_prefix=f"{unique_name}:", namespace="production")


@pytest.fixture
def client(store: RedisStore) -> Iterator[TestClient[Litestar]]:
    config = AdminConfig(guards=[bearer_token_guard(TOKEN)], actor=lambda _connection: "ops")
    app = Litestar([admin_router(config, stores={"production": store})], on_shutdown=[store.close])
    with TestClient(app) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


def _write_directly(store: RedisStore, *definitions: dict[str, Any]) -> None:
    async def write() -> None:
        try:
            for definition in definitions:
                await store.put_flag("switch", definition, actor="deploy")
        finally:
            await store.close()

    asyncio.run(write())


def _tag(revision: int, epoch: str) -> str:
    return f'"{revision}-{epoch}"'


def test_etags_carry_the_epoch_and_a_tag_from_before_an_emptied_redis_is_refused(
    client: TestClient[Litestar], store: RedisStore, redis_url: str, key: str
) -> None:
    created = client.put(FLAG, json=flag("on"), headers={"If-None-Match": "*"})
    assert created.status_code == 201
    old = re.fullmatch(r'"1-([0-9a-f]{16})"', created.headers["etag"])
    assert old is not None, created.headers["etag"]
    old_epoch = old[1]
    assert client.get(FLAG).headers["etag"] == _tag(1, old_epoch)
    updated = client.put(FLAG, json=flag("off"), headers={"If-Match": _tag(1, old_epoch)})
    assert updated.status_code == 200
    assert updated.headers["etag"] == _tag(2, old_epoch)
    assert updated.json()["revision"] == 2  # the integer revision, as before

    # Redis restarts empty; a deploy writes twice: revision 2 again, another document.
    with redis.Redis.from_url(redis_url) as raw:
        raw.delete(key)
    _write_directly(store, flag("on"), flag("on", metadata={"deploy": "after the restart"}))

    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", FLAG, flag("off")),
        ("DELETE", FLAG, None),
        ("PUT", DOCUMENT, {"flags": {}}),
    ]
    for method, path, body in attempts:
        for stale in (_tag(2, old_epoch), '"2"'):
            refused = client.request(method, path, json=body, headers={"If-Match": stale})
            assert refused.status_code == 412, (method, path, stale)
            assert refused.json()["extra"] == {"revision": 2}
            new_epoch = refused.headers["etag"].strip('"').partition("-")[2]
            assert new_epoch not in {"", old_epoch}
    read = client.get(FLAG)
    assert read.json()["definition"] == flag("on", metadata={"deploy": "after the restart"})
    assert read.headers["etag"] == _tag(2, new_epoch) == refused.headers["etag"]

    # The tag of the new history is accepted.
    written = client.put(FLAG, json=flag("off"), headers={"If-Match": read.headers["etag"]})
    assert written.status_code == 200
    assert written.headers["etag"] == _tag(3, new_epoch)


def test_a_hash_without_an_epoch_keeps_plain_revision_etags(
    client: TestClient[Litestar], redis_url: str, key: str
) -> None:
    # Written by a version of the package that kept no epoch.
    with redis.Redis.from_url(redis_url) as raw:
        raw.hset(key, mapping={"document": '{"flags":{}}', "revision": "3"})
    assert client.get(DOCUMENT).headers["etag"] == '"3"'
    assert (
        client.put(FLAG, json=flag(), headers={"If-Match": '"3-0123456789abcdef"'}).status_code
        == 412
    )
    written = client.put(FLAG, json=flag(), headers={"If-Match": '"3"'})
    assert written.status_code == 201
    assert written.headers["etag"] == '"4"'

"""Every error the admin API answers, each domain error mapped once by the router."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.testing import TestClient

from openfeature_litestar import (
    DocumentError,
    FileStore,
    FlagNotFound,
    MemoryStore,
    Problem,
    RedisStore,
    RevisionConflict,
    StoreError,
)
from openfeature_litestar.web import AdminConfig, admin_router, bearer_token_guard
from tests.support import HOSTILE_JSON_BODIES

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    WRITER,
    HeaderUser,
    admin_app,
    document,
    flag,
)

if TYPE_CHECKING:
    from pathlib import Path

    from openfeature_litestar._stores import WritableFlagStore


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


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("PUT", "/production/flags/banner", {"If-Match": '"1"'}),
        ("PUT", "/production/document", {"If-Match": '"1"'}),
        ("POST", "/production/promote", {"If-Match": '"1"'}),
        ("POST", "/production/flags/banner/evaluate", {}),
    ],
)
def test_a_body_that_is_not_utf8_is_400_and_logged(
    client: TestClient[Litestar],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    # Valid JSON syntax, but a string byte that is not UTF-8: msgspec raises
    # UnicodeDecodeError (not a DecodeError), which used to be an unlogged 500.
    response = client.request(
        method,
        f"{BASE}{path}",
        content=b'{"context": {"a": "\xff"}, "state": "\xfe"}',
        headers={**WRITE_AUTH, **headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"status_code": 400, "detail": "the request body is not valid UTF-8"}
    assert "not valid UTF-8" in caplog.text


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


# -- each domain error is mapped once, by the router --------------------------------------

UNAVAILABLE = {"status_code": 503, "detail": "the flag store is unavailable; retry later"}

EVERY_ROUTE = [
    ("GET", "", {}),
    ("GET", "/default/flags", {}),
    ("GET", "/default/flags/banner", {}),
    ("GET", "/default/document", {}),
    ("GET", "/default/audit", {}),
    ("POST", "/default/flags/banner/evaluate", {}),
    ("PUT", "/default/flags/banner", {"If-Match": '"1"'}),
    ("PUT", "/default/flags/banner", {"If-None-Match": "*"}),
    ("DELETE", "/default/flags/banner", {"If-Match": '"1"'}),
    ("PUT", "/default/document", {"If-Match": '"1"'}),
    ("POST", "/default/promote", {"If-Match": '"1"'}),
]


def test_a_store_failure_is_the_same_503_on_every_route() -> None:
    # A real store that cannot be reached: its StoreError surfaces from each route.
    down = RedisStore("redis://127.0.0.1:1/0", timeout=0.5)
    source = MemoryStore(document(), namespace="source")
    with TestClient(admin_app({"default": down, "source": source})) as client:
        for method, path, headers in EVERY_ROUTE:
            bodies = {"promote": {"from": "source"}, "document": document()}
            body = bodies.get(path.rsplit("/", 1)[-1], flag())
            response = client.request(
                method, f"{BASE}{path}", headers={**WRITE_AUTH, **headers}, json=body
            )
            assert response.status_code == 503, (method, path)
            assert response.json() == UNAVAILABLE, (method, path)
            assert "127.0.0.1" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/production/flags/banner", flag("on")),
        ("PUT", "/production/flags/new", flag("on")),
        ("DELETE", "/production/flags/banner", None),
        ("PUT", "/production/document", document()),
        ("POST", "/production/promote", {"from": "staging"}),
    ],
)
def test_a_stale_revision_is_the_same_412_on_every_write(
    client: TestClient[Litestar], method: str, path: str, body: Any
) -> None:
    response = client.request(
        method, f"{BASE}{path}", headers={**WRITE_AUTH, "If-Match": '"7"'}, json=body
    )
    assert response.status_code == 412
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "status_code": 412,
        "detail": "namespace 'production' is at revision 1",
        "extra": {"revision": 1},
    }


@get("/namespaces/{namespace:str}/raises/{error:str}", sync_to_thread=False)
def raise_domain_error(request: Request[Any, Any, Any]) -> None:
    """A route of the application's own, mounted on the admin router, raising one error."""
    errors: dict[str, Exception] = {
        "document": DocumentError([Problem("flags.x.state", "bad"), Problem("", "whole")]),
        "revision": RevisionConflict(3, 9),
        "flag": FlagNotFound("x", "production"),
        "store": StoreError("redis at secret-host is down"),
        "depth": RecursionError("maximum recursion depth exceeded"),
    }
    raise errors[request.path_params["error"]]


@pytest.mark.parametrize(
    ("error", "status", "body", "etag"),
    [
        (
            "document",
            422,
            {
                "status_code": 422,
                "detail": "the flag document would be invalid",
                "extra": {
                    "problems": [
                        {"path": "flags.x.state", "message": "bad"},
                        {"path": "", "message": "whole"},
                    ]
                },
            },
            None,
        ),
        (
            "revision",
            412,
            {
                "status_code": 412,
                "detail": "namespace 'production' is at revision 9",
                "extra": {"revision": 9},
            },
            '"9"',
        ),
        (
            "flag",
            404,
            {"status_code": 404, "detail": "flag 'x' not found in namespace 'production'"},
            None,
        ),
        ("store", 503, UNAVAILABLE, None),
        ("depth", 400, {"status_code": 400, "detail": "the JSON body is nested too deeply"}, None),
    ],
)
def test_the_router_maps_each_domain_error_for_any_route_under_it(
    stores: dict[str, WritableFlagStore],
    error: str,
    status: int,
    body: dict[str, Any],
    etag: str | None,
) -> None:
    # The mapping is the router's: a route that has no error handling of its own gets
    # the same responses as the admin routes, because the router maps the errors.
    router = admin_router(AdminConfig(guards=[bearer_token_guard(WRITER)]), stores=stores)
    router.register(raise_domain_error)
    with TestClient(Litestar([router], middleware=[HeaderUser()])) as client:
        response = client.get(f"{BASE}/production/raises/{error}", headers=WRITE_AUTH)
    assert response.status_code == status
    assert response.json() == body
    assert response.headers.get("etag") == etag
    assert "secret-host" not in response.text


def problem_json(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """An application's own rendering of every HTTP error."""
    del request
    body = {"title": exc.detail, "status": exc.status_code}
    return Response(
        body,
        status_code=exc.status_code,
        headers=exc.headers,
        media_type="application/problem+json",
    )


def still_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An application's own ``503`` page."""
    del request, exc
    return Response({"down": True}, status_code=503)


def test_a_domain_error_meets_the_applications_own_error_handlers(
    stores: dict[str, WritableFlagStore],
) -> None:
    # A mapped domain error is an HTTP error like any other: the handlers the application
    # registers for a status code or for HTTPException shape it, as they shape the rest.
    down = RedisStore("redis://127.0.0.1:1/0", timeout=0.5, namespace="down")
    router = admin_router(
        AdminConfig(guards=[bearer_token_guard(WRITER)]), stores={**stores, "down": down}
    )
    app = Litestar(
        [router],
        middleware=[HeaderUser()],
        exception_handlers={HTTPException: problem_json, 503: still_down},
    )
    with TestClient(app) as client:
        stale = client.put(
            f"{BASE}/production/flags/banner",
            headers={**WRITE_AUTH, "If-Match": '"7"'},
            json=flag(),
        )
        invalid = client.put(
            f"{BASE}/production/flags/banner",
            headers={**WRITE_AUTH, "If-Match": '"1"'},
            json={"state": "MAYBE"},
        )
        missing = client.delete(
            f"{BASE}/production/flags/nope", headers={**WRITE_AUTH, "If-Match": '"1"'}
        )
        unreachable = client.get(f"{BASE}/down/flags", headers=WRITE_AUTH)
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.headers["etag"] == '"1"'
    assert stale.json() == {"title": "namespace 'production' is at revision 1", "status": 412}
    assert invalid.status_code == 422
    assert invalid.json() == {"title": "the flag document would be invalid", "status": 422}
    assert missing.status_code == 404
    assert missing.json() == {
        "title": "flag 'nope' not found in namespace 'production'",
        "status": 404,
    }
    assert unreachable.status_code == 503
    assert unreachable.json() == {"down": True}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=HOSTILE_JSON_BODIES,
    target=st.sampled_from(
        [
            ("PUT", "/production/flags/banner", {"If-Match": '"1"'}),
            ("PUT", "/production/document", {"If-Match": '"1"'}),
            ("POST", "/production/promote", {"If-Match": '"1"'}),
            ("POST", "/production/flags/banner/evaluate", {}),
        ]
    ),
)
def test_no_body_is_a_server_error(
    client: TestClient[Litestar], body: bytes, target: tuple[str, str, dict[str, str]]
) -> None:
    method, path, headers = target
    response = client.request(
        method,
        f"{BASE}{path}",
        content=body,
        headers={**WRITE_AUTH, **headers, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text

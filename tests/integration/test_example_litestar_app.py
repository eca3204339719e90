"""The example application (examples/litestar_app) against its real store, through TestClient.

Each test serves a copy of the example's own flag file from a temporary directory, so a
test that writes a flag changes nothing in the repository and nothing another test sees.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar.testing import TestClient
from openfeature import api

from examples.litestar_app.app import (
    CHECKOUT_FLAG,
    DOMAIN,
    FLAGS_FILE,
    LAYOUT_FLAG,
    REPORTS_FLAG,
    create_app,
)
from openfeature_litestar import FileStore
from openfeature_litestar.testing import Variant, override_flags
from tests.support import free_port, run_cli, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{user}"}


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    copy = tmp_path / "flags.yaml"
    shutil.copyfile(FLAGS_FILE, copy)
    return copy


@pytest.fixture
def client(flags_file: Path) -> Iterator[TestClient[Any]]:
    app = create_app(FileStore(flags_file, poll_interval=0.05))
    try:
        with TestClient(app) as test_client:
            yield test_client
    finally:
        api.clear_providers()


def test_an_anonymous_visitor_is_served_without_a_user(client: TestClient[Any]) -> None:
    assert client.get("/").json() == {"user": None}
    dashboard = client.get("/dashboard").json()
    # No user, no targeting key: the rule cannot match and the flag's default serves.
    assert dashboard["user"] is None
    assert (dashboard["variant"], dashboard["reason"]) == ("classic", "DEFAULT")


def test_a_bearer_token_signs_the_user_in(client: TestClient[Any]) -> None:
    assert client.get("/", headers=bearer("alice")).json() == {"user": "Alice"}


def test_a_client_cannot_choose_its_own_targeting_key(client: TestClient[Any]) -> None:
    # Only the authenticated user sets the targeting key: headers naming carol, whose
    # variant opens the v2 checkout, leave an anonymous request anonymous.
    claims = {"X-User": "carol", "X-Targeting-Key": "carol", "X-Device-Id": "carol"}
    assert client.get("/checkout/v2", headers=claims).status_code == 404
    assert client.get("/dashboard", headers=claims).json()["reason"] == "DEFAULT"
    assert client.get("/checkout/v2", headers={**claims, **bearer("carol")}).status_code == 200


@pytest.mark.parametrize(
    "authorization", ["Bearer token-mallory", "Basic YWxpY2U6c2VjcmV0", "Bearer ", "token-alice"]
)
def test_a_bad_authorization_header_is_refused_with_401(
    client: TestClient[Any], authorization: str
) -> None:
    response = client.get("/", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_dashboard_layout_is_the_variant_the_flag_picks_for_the_user(
    client: TestClient[Any],
) -> None:
    bob = client.get("/dashboard", headers=bearer("bob")).json()
    assert bob == {
        "user": "bob",
        "layout": "cards",
        "variant": "cards",
        "reason": "TARGETING_MATCH",
        "widgets": ["orders-card", "revenue-card", "top-products-card"],
    }
    alice = client.get("/dashboard", headers=bearer("alice")).json()
    assert (alice["layout"], alice["reason"]) == ("classic", "DEFAULT")
    assert alice["widgets"] == ["orders-table", "revenue-chart"]


def test_reports_export_needs_a_user_then_the_flag(client: TestClient[Any]) -> None:
    assert client.get("/reports/export").status_code == 401  # anonymous: sign in first
    assert client.get("/reports/export", headers=bearer("bob")).status_code == 403  # flag off
    export = client.get("/reports/export", headers=bearer("alice"))
    assert export.status_code == 200
    assert export.text.startswith("month,orders\n")


def test_the_v2_checkout_is_hidden_from_everyone_not_on_its_variant(
    client: TestClient[Any],
) -> None:
    assert client.get("/checkout/v2").status_code == 404
    assert client.get("/checkout/v2", headers=bearer("alice")).status_code == 404
    assert client.get("/checkout/v2", headers=bearer("carol")).json() == {"checkout": "v2"}
    assert client.get("/checkout", headers=bearer("alice")).json() == {"checkout": "v1"}


def test_a_flag_written_to_the_store_reaches_the_next_request(
    client: TestClient[Any], flags_file: Path
) -> None:
    assert client.get("/reports/export", headers=bearer("dave")).status_code == 403
    # A second store on the same file, as a deploy script or the CLI in another process.
    writer = FileStore(flags_file)
    everyone = {
        "state": "ENABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "on",
    }
    asyncio.run(writer.put_flag(REPORTS_FLAG, everyone, actor="test-deploy"))
    wait_until(
        lambda: client.get("/reports/export", headers=bearer("dave")).status_code == 200,
        timeout=10,
        interval=0.05,
        message="the written flag did not reach the application",
    )
    # Still a signed-in feature: the flag does not replace the authentication guard.
    assert client.get("/reports/export").status_code == 401


def test_a_disabled_flag_closes_its_route_for_everyone(
    client: TestClient[Any], flags_file: Path
) -> None:
    assert client.get("/checkout/v2", headers=bearer("carol")).status_code == 200
    writer = FileStore(flags_file)
    current = asyncio.run(writer.load()).document.flags[CHECKOUT_FLAG]
    disabled = {**current.model_dump(exclude_none=True, by_alias=True), "state": "DISABLED"}
    asyncio.run(writer.put_flag(CHECKOUT_FLAG, disabled, actor="test-deploy"))
    wait_until(
        lambda: client.get("/checkout/v2", headers=bearer("carol")).status_code == 404,
        timeout=10,
        interval=0.05,
        message="the disabled flag did not reach the application",
    )


def test_override_flags_serves_a_variant_name_to_require_variant(
    client: TestClient[Any],
) -> None:
    with override_flags({CHECKOUT_FLAG: Variant("v2")}, domain=DOMAIN):
        assert client.get("/checkout/v2", headers=bearer("alice")).status_code == 200
        assert client.get("/checkout/v2").status_code == 200  # anonymous too
    assert client.get("/checkout/v2", headers=bearer("alice")).status_code == 404


def test_override_flags_with_a_bare_value_does_not_pass_require_variant(
    client: TestClient[Any],
) -> None:
    # The guard compares variant names: a bare value resolves with variant "override".
    with override_flags({CHECKOUT_FLAG: "Checkout (one page)"}, domain=DOMAIN):
        assert client.get("/checkout/v2", headers=bearer("carol")).status_code == 404


def test_override_flags_with_a_variant_the_flag_lacks_is_refused(
    client: TestClient[Any],
) -> None:
    with (
        pytest.raises(ValueError, match=r"has no variant 'v3' \(it has 'v1', 'v2'\)"),
        override_flags({CHECKOUT_FLAG: Variant("v3")}, domain=DOMAIN),
    ):
        pass  # pragma: no cover - the override is refused before the block runs
    assert client.get("/checkout/v2", headers=bearer("carol")).status_code == 200


def test_override_flags_sets_the_dashboard_variant_and_its_value(
    client: TestClient[Any],
) -> None:
    with override_flags({LAYOUT_FLAG: Variant("cards")}, domain=DOMAIN):
        dashboard = client.get("/dashboard", headers=bearer("alice")).json()
    assert (dashboard["layout"], dashboard["variant"], dashboard["reason"]) == (
        "cards",
        "cards",
        "STATIC",
    )


def test_override_flags_opens_a_require_flag_route(client: TestClient[Any]) -> None:
    with override_flags({REPORTS_FLAG: True}, domain=DOMAIN):
        assert client.get("/reports/export", headers=bearer("bob")).status_code == 200
    assert client.get("/reports/export", headers=bearer("bob")).status_code == 403


def test_the_documented_command_serves_the_app_with_uvicorn() -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "examples.litestar_app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[0].decode()
            try:
                response = httpx.get(f"{url}/dashboard", headers=bearer("bob"), timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the example did not start in 30 s"
                time.sleep(0.1)
        assert response.json()["layout"] == "cards"
        assert httpx.get(f"{url}/reports/export", timeout=2).status_code == 401
    finally:
        server.terminate()
        server.communicate(timeout=20)


def test_the_examples_flag_file_is_valid_even_strictly() -> None:
    status, out = run_cli("validate", "--strict", str(FLAGS_FILE))
    assert status == 0, out

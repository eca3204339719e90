"""The standalone server in a process of its own: tokens from the environment, SQLite store.

OFREP answers with a read token and refuses without one; an admin write made with an
admin token reaches OFREP answers; Prometheus scrapes /metrics with a metrics token; the
server stops cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from openfeature_litestar import store_from_url
from openfeature_litestar._stores._url import STORE_URL_ENV
from openfeature_litestar.web._server import ADMIN_TOKENS_ENV, METRICS_TOKENS_ENV, TOKENS_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

DEADLINE = 20.0
READ = {"Authorization": "Bearer service-token"}
ADMIN = {"Authorization": "Bearer admin-token"}
SCRAPER = {"Authorization": "Bearer scraper-token"}
BANNER: dict[str, Any] = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def seed(url: str) -> None:
    async def write() -> None:
        store = store_from_url(url)
        try:
            await store.replace_document({"flags": {"banner": BANNER}}, actor="test-seed")
        finally:
            await store.close()

    asyncio.run(write())


def start(
    tmp_path: Path, port: int, environment: dict[str, str], *options: str
) -> subprocess.Popen[bytes]:
    # The command a user runs: `openfeature-litestar serve`.
    command = ["-m", "openfeature_litestar", "serve", "--port", str(port), *options]
    log = (tmp_path / "server.log").open("wb")
    with log:
        return subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, *command],
            cwd=tmp_path,
            env={**os.environ, **environment},
            stdout=log,
            stderr=log,
        )


def wait_until_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server was not ready within {DEADLINE} s:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    seed(url)
    port = free_port()
    environment = {
        TOKENS_ENV: "service-token",
        ADMIN_TOKENS_ENV: "admin-token",
        METRICS_TOKENS_ENV: "scraper-token",
        STORE_URL_ENV: url,
    }
    process = start(tmp_path, port, environment)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, tmp_path / "server.log")
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(DEADLINE)


def evaluate(
    base: str, context: dict[str, Any], headers: dict[str, str], key: str = "banner"
) -> httpx.Response:
    return httpx.post(
        f"{base}/ofrep/v1/evaluate/flags/{key}",
        json={"context": context},
        headers=headers,
        timeout=5,
    )


def test_serves_ofrep_with_a_token_and_admin_writes_reach_it(
    server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base, process = server
    assert evaluate(base, {"targetingKey": "u"}, {}).status_code == 401
    assert evaluate(base, {"targetingKey": "u"}, ADMIN).status_code == 401
    answer = evaluate(base, {"targetingKey": "u", "plan": "pro"}, READ)
    assert answer.status_code == 200
    assert (answer.json()["value"], answer.json()["variant"]) == (True, "on")
    assert evaluate(base, {"targetingKey": "u"}, READ).json()["value"] is False

    admin = f"{base}/admin/v1/namespaces/default"
    assert httpx.get(f"{admin}/flags/banner", headers=READ).status_code == 401
    read = httpx.get(f"{admin}/flags/banner", headers=ADMIN)
    assert read.status_code == 200
    write = httpx.put(
        f"{admin}/flags/banner",
        headers={**ADMIN, "If-Match": read.headers["etag"]},
        json={"state": "ENABLED", "variants": BANNER["variants"], "defaultVariant": "on"},
    )
    assert write.status_code == 200, write.text

    deadline = time.monotonic() + 10
    while evaluate(base, {"targetingKey": "u"}, READ).json()["value"] is not True:
        assert time.monotonic() < deadline, "OFREP never served the admin write"
        time.sleep(0.05)
    audit = httpx.get(f"{admin}/audit", params={"flag": "banner", "limit": 1}, headers=ADMIN)
    assert audit.json()["entries"][0]["actor"] == "admin-token-1"

    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.wait(DEADLINE) in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in (tmp_path / "server.log").read_text()


def test_prometheus_scrapes_exact_counts_with_a_metrics_token(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, _ = server
    for context in ({"targetingKey": "u", "plan": "pro"}, {"targetingKey": "v"}, {}):
        assert evaluate(base, context, READ).status_code == 200
    assert evaluate(base, {"targetingKey": "u"}, READ, key="missing").status_code == 404

    assert httpx.get(f"{base}/metrics").status_code == 401
    assert httpx.get(f"{base}/metrics", headers=READ).status_code == 401
    response = httpx.get(f"{base}/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    counted = {
        (
            sample.labels["feature_flag_key"],
            sample.labels["feature_flag_result_variant"],
            sample.labels["feature_flag_result_reason"],
            sample.labels["error_type"],
        ): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "openfeature_litestar_evaluations_total"
    }
    assert counted == {
        ("banner", "on", "targeting_match", ""): 1.0,
        ("banner", "off", "targeting_match", ""): 2.0,
        ("missing", "", "error", "flag_not_found"): 1.0,
    }
    status = [
        sample.labels["state"]
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "openfeature_litestar_provider_status" and sample.value == 1
    ]
    assert status == ["ready"]


def test_says_at_start_up_what_it_serves(
    server: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base, _ = server
    log = (tmp_path / "server.log").read_text()
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    assert f"openfeature-litestar serve: namespace 'default' of {url}" in log
    assert "  flags      revision 1, 1 flag; fractional v2" in log
    assert f"  OFREP      {base}/ofrep/v1  (1 bearer token from {TOKENS_ENV})" in log
    assert f"  admin API  {base}/admin/v1  (1 token from {ADMIN_TOKENS_ENV}" in log
    assert f"  metrics    {base}/metrics  (1 token from {METRICS_TOKENS_ENV})" in log
    assert "  CORS       off" in log
    assert "warning" not in log


def test_says_the_admin_api_is_off_and_warns_about_any_origin_on_every_interface(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    seed(url)
    port = free_port()
    environment = {
        TOKENS_ENV: "service-token",
        ADMIN_TOKENS_ENV: "",
        METRICS_TOKENS_ENV: "",
        STORE_URL_ENV: url,
    }
    process = start(tmp_path, port, environment, "--host", "0.0.0.0", "--cors-origin", "*")  # noqa: S104 - what the test is about
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, tmp_path / "server.log")
        log = (tmp_path / "server.log").read_text()
        assert f"  admin API  off (set {ADMIN_TOKENS_ENV} to mount it)" in log
        assert f"  metrics    off (set {METRICS_TOKENS_ENV} to mount it)" in log
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", headers=SCRAPER).status_code == 404
        assert "  CORS       *" in log
        assert "warning: --host 0.0.0.0 with --cors-origin '*'" in log
    finally:
        process.kill()
        process.wait(DEADLINE)


def test_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    environment = {STORE_URL_ENV: f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"}
    process = start(tmp_path, free_port(), {**environment, TOKENS_ENV: ""})
    assert process.wait(DEADLINE) != 0
    assert TOKENS_ENV in (tmp_path / "server.log").read_text()


def test_no_sanitize_and_a_cors_origin_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    staff = {
        "state": "ENABLED",
        "variants": {"yes": True, "no": False},
        "defaultVariant": "no",
        "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "yes", "no"]},
    }

    async def write() -> None:
        store = store_from_url(url)
        try:
            await store.replace_document({"flags": {"staff": staff}}, actor="test-seed")
        finally:
            await store.close()

    asyncio.run(write())
    port = free_port()
    origin = "https://app.example.com"
    environment = {TOKENS_ENV: "service-token", STORE_URL_ENV: url}
    process = start(tmp_path, port, environment, "--no-sanitize", "--cors-origin", origin)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, tmp_path / "server.log")
        answer = httpx.post(
            f"{base}/ofrep/v1/evaluate/flags/staff",
            json={"context": {"targetingKey": "u", "email": "bob@example.com"}},
            headers=READ,
            timeout=5,
        )
        assert answer.json()["value"] is True  # the rule saw the address, as flagd's would
        preflight = httpx.options(
            f"{base}/ofrep/v1/evaluate/flags",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, if-none-match",
            },
            timeout=5,
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin
    finally:
        process.kill()
        process.wait(DEADLINE)


def test_several_workers_share_the_port_and_each_follows_the_store(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    seed(url)
    port = free_port()
    environment = {
        TOKENS_ENV: "service-token",
        ADMIN_TOKENS_ENV: "admin-token",
        METRICS_TOKENS_ENV: "scraper-token",
        STORE_URL_ENV: url,
    }
    process = start(tmp_path, port, environment, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    try:
        wait_until_ready(base, process, log)
        admin = f"{base}/admin/v1/namespaces/default"
        read = httpx.get(f"{admin}/flags/banner", headers=ADMIN)
        write = httpx.put(
            f"{admin}/flags/banner",
            headers={**ADMIN, "If-Match": read.headers["etag"]},
            json={"state": "ENABLED", "variants": BANNER["variants"], "defaultVariant": "on"},
        )
        assert write.status_code == 200, write.text
        # Each new connection lands on either worker: all of them must serve the write.
        deadline = time.monotonic() + DEADLINE
        fresh = 0
        while fresh < 40:
            assert time.monotonic() < deadline, "a worker never served the admin write"
            served = evaluate(base, {"targetingKey": "u"}, READ).json()["value"]
            fresh = fresh + 1 if served is True else 0
        text = log.read_text()
        assert text.count("Application startup complete") == 2
        assert "; each scrape reads one worker's counts" in text
        for _ in range(4):  # whichever worker answers, it serves its own /metrics
            assert httpx.get(f"{base}/metrics", headers=SCRAPER).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(DEADLINE) in {0, -signal.SIGTERM}
        assert log.read_text().count("Application shutdown complete") == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(DEADLINE)

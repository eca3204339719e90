"""A real server: 1,200 concurrent requests from 200 users, each answered for its own user.

The application (``uvicorn_app.py``) runs under uvicorn in a subprocess on 127.0.0.1.
Half the requests go to an async handler, half to a ``sync_to_thread`` handler, some
anonymous; every answer must name the user who asked, and the fractional bucket must
match an in-process evaluation for that user.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import FlagProvider, document_from_data

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

USERS = [f"user-{number}" for number in range(200)]
REQUESTS = 1200
CONNECTIONS = 200
DEADLINE = 20.0
HERE = Path(__file__).parent


def flags() -> dict[str, Any]:
    return {
        "flags": {
            # The variant is the targeting key: an answer names the user it was for.
            "whoami": {
                "state": "ENABLED",
                "variants": {"anonymous": "anonymous", **{user: user for user in USERS}},
                "defaultVariant": "anonymous",
                "targeting": {"var": "targetingKey"},
            },
            "bucket": {
                "state": "ENABLED",
                "variants": {name: name for name in ("red", "green", "blue", "none")},
                "defaultVariant": "none",
                "targeting": {"fractional": [["red", 33], ["green", 33], ["blue", 34]]},
            },
        }
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    flags_file = tmp_path / "flags.json"
    flags_file.write_text(json.dumps(flags()))
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "uvicorn_app:app",
        "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "info", "--no-access-log", "--lifespan", "on",
    ]  # fmt: skip
    environment = {**os.environ, "FLAGS_FILE": str(flags_file)}
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)  # noqa: S603 - our own command line
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log)
        yield port, process, log
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(DEADLINE)


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server did not answer within {DEADLINE} s:\n{log.read_text()}")


def expected_buckets() -> dict[str | None, str]:
    provider = FlagProvider(document_from_data(flags()))
    provider.initialize(EvaluationContext())
    try:
        buckets: dict[str | None, str] = {
            user: provider.resolve_string_details("bucket", "error", EvaluationContext(user)).value
            for user in USERS
        }
        buckets[None] = provider.resolve_string_details("bucket", "error").value
        return buckets
    finally:
        provider.shutdown()


async def get_json(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str, headers: str
) -> Any:
    """One HTTP/1.1 request on a kept-alive connection (httpx's pool is slow at 200)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: test\r\n{headers}\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = head.split(" ", 2)[1]
    length = next(
        int(line.partition(":")[2])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length:")
    )
    body = await reader.readexactly(length)
    assert status == "200", (status, body)
    return json.loads(body)


async def fire(port: int) -> list[tuple[str | None, dict[str, Any]]]:
    """REQUESTS requests over CONNECTIONS concurrent connections, users interleaved."""
    per_connection = REQUESTS // CONNECTIONS

    async def connection(index: int) -> list[tuple[str | None, dict[str, Any]]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        try:
            for round_ in range(per_connection):
                number = round_ * CONNECTIONS + index
                user = None if number % 10 == 0 else USERS[number % len(USERS)]
                path = "/async" if (number // CONNECTIONS + number) % 2 else "/sync"
                target = f"{path}?user={user}" if user is not None else path
                headers = f"X-User: {user}\r\n" if user is not None else ""
                answers.append((user, await get_json(reader, writer, target, headers)))
        finally:
            writer.close()
        return answers

    results = await asyncio.gather(*(connection(index) for index in range(CONNECTIONS)))
    return [answer for answers in results for answer in answers]


def test_every_response_reflects_its_own_user(
    server: tuple[int, subprocess.Popen[bytes], Path],
) -> None:
    port, process, log = server
    buckets = expected_buckets()
    answers = asyncio.run(fire(port))

    assert len(answers) == REQUESTS
    crossed = [
        (user, answer)
        for user, answer in answers
        if answer["user"] != user
        or answer["targeting_key"] != user
        or answer["first"] != (user or "anonymous")
        or answer["whoami"] != (user or "anonymous")
        or answer["bucket"] != buckets[user]
    ]
    assert crossed == []
    assert len({user for user, _ in answers}) == 181  # 180 users and anonymous
    assert len(set(buckets.values())) > 1  # the bucket check compares real variety

    # A clean shutdown: the lifespan (the plugin's shutdown) completed without errors.
    # uvicorn re-raises the signal once it has shut down, so the exit status is -SIGTERM.
    process.terminate()
    assert process.wait(DEADLINE) in {0, -signal.SIGTERM}
    output = log.read_text()
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "ERROR" not in output


def test_uvicorn_defaults_do_not_let_a_client_choose_its_address(
    server: tuple[int, subprocess.Popen[bytes], Path],
) -> None:
    # uvicorn starts with proxy_headers on and trusts 127.0.0.1, so it rewrites
    # scope["client"] from X-Forwarded-For before the plugin runs: the builder must
    # notice, since no trusted_proxies were configured.
    port, _, log = server
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/ip", timeout=DEADLINE).json() == {"ip": "127.0.0.1"}
    spoofed = httpx.get(f"{base}/ip", headers={"X-Forwarded-For": "203.0.113.66"}, timeout=DEADLINE)
    assert spoofed.json() == {"ip": None}
    assert "uvicorn --no-proxy-headers" in log.read_text()

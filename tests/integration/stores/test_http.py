"""HttpStore against real HTTP servers on loopback: a static file server and ``serve``.

The static server is ``http.server`` serving one file from a directory, with an ETag and
a Last-Modified (as object storage and web servers send them), and a switch that makes
it fail in the ways a real host does: errors, a hang, a redirect, an oversized body.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally
# ruff: noqa: S106 - the tokens here are test values sent to loopback servers

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.server
import json
import logging
import shutil
import ssl
import subprocess
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.event import ProviderEvent
from openfeature.provider import ProviderStatus

from openfeature_litestar import (
    ConfigurationError,
    DocumentError,
    FlagProvider,
    HttpStore,
    MemoryStore,
    StoreError,
    store_from_url,
)
from openfeature_litestar.web import create_server
from tests.support import provider_events, run_cli, running, wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

WAIT = 10.0


def _document(value: bool) -> dict[str, Any]:
    return {
        "flags": {
            "switch": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on" if value else "off",
            }
        }
    }


class StaticServer(http.server.ThreadingHTTPServer):
    """Serves ``directory/<name>`` with ETag and Last-Modified; ``fault`` makes it fail."""

    daemon_threads = True

    def __init__(self, directory: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.directory = directory
        self.fault: str | None = None  # "500", "hang", "redirect", "chunked"
        self.requests: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.validators = "both"  # or "date" (Last-Modified only), or "none"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def write(self, name: str, content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(self.directory / name)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: StaticServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet: pytest captures nothing useful from it

    def _answer(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.server.statuses.append(status)
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Transfer-Encoding" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _failed(self) -> bool:
        """Answer as the server's fault says; ``False`` when there is none to answer."""
        fault = self.server.fault
        if fault == "500":
            self._answer(500, b"broken")
        elif fault == "hang":
            time.sleep(1.5)
            self._answer(503)
        elif fault == "redirect":
            self._answer(302, headers={"Location": "https://elsewhere.example/flags.json"})
        else:
            return False
        return True

    def do_GET(self) -> None:
        self.server.requests.append(dict(self.headers.items()))
        if self._failed():
            return
        fault = self.server.fault
        path = self.server.directory / self.path.lstrip("/")
        try:
            body = path.read_bytes()
        except OSError:
            self._answer(404)
            return
        if fault == "chunked":
            self._chunked(body)
            return
        self._with_validators(path, body)

    def _chunked(self, body: bytes) -> None:
        """Send ``body`` without a Content-Length: its size shows only while streaming."""
        self.server.statuses.append(200)
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 4096):
            chunk = body[start : start + 4096]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _with_validators(self, path: Path, body: bytes) -> None:
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        modified = path.stat().st_mtime
        headers = {"Content-Type": "application/octet-stream"}
        mode = self.server.validators
        if mode != "none":
            headers["Last-Modified"] = formatdate(modified, usegmt=True)
        if mode == "both":
            headers["ETag"] = etag
        # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
        if_none_match = self.headers.get("If-None-Match") if mode == "both" else None
        since = self.headers.get("If-Modified-Since") if mode != "none" else None
        if if_none_match is not None:
            if if_none_match == etag:
                self._answer(304, headers=headers)
                return
        elif since is not None and int(modified) <= parsedate_to_datetime(since).timestamp():
            self._answer(304, headers=headers)
            return
        self._answer(200, body, headers)


@pytest.fixture
def static(tmp_path: Path) -> Iterator[StaticServer]:
    server = StaticServer(tmp_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def _load_twice(store: HttpStore) -> tuple[int, int]:
    try:
        first = await store.load()
        second = await store.load()
        return first.revision, second.revision
    finally:
        await store.close()


# -- conditional requests ----------------------------------------------------------------


def test_an_unchanged_document_is_a_304_and_the_same_revision(static: StaticServer) -> None:
    static.write("flags.json", json.dumps(_document(True)))
    store = HttpStore(f"{static.base}/flags.json")

    assert asyncio.run(_load_twice(store)) == (1, 1)
    assert static.statuses == [200, 304]
    first, conditional = static.requests
    assert "If-None-Match" not in first
    assert conditional["If-None-Match"].startswith('"')
    assert "If-Modified-Since" in conditional


def test_if_modified_since_alone_is_enough(static: StaticServer) -> None:
    static.write("flags.yaml", "flags: {}\n")
    static.validators = "date"  # Last-Modified, no ETag
    assert asyncio.run(_load_twice(HttpStore(f"{static.base}/flags.yaml"))) == (1, 1)
    assert static.statuses == [200, 304]
    assert "If-None-Match" not in static.requests[1]


def test_without_validators_an_equal_body_is_the_same_revision(static: StaticServer) -> None:
    static.write("flags.yaml", "flags: {}\n")
    static.validators = "none"
    assert asyncio.run(_load_twice(HttpStore(f"{static.base}/flags.yaml"))) == (1, 1)
    assert static.statuses == [200, 200]


def test_a_change_is_announced_by_the_watch_and_loaded(static: StaticServer) -> None:
    static.write("flags.yaml", "flags: {}\n")
    store = HttpStore(f"{static.base}/flags.yaml", poll_interval=0.02)

    async def run() -> tuple[int, list[str]]:
        watch = store.changes()
        await anext(watch)
        first = await store.load()
        assert first.document.flags == {}
        static.write("flags.yaml", json.dumps(_document(True)))
        await asyncio.wait_for(anext(watch), WAIT)
        second = await store.load()
        await store.close()
        return second.revision, list(second.document.flags)

    assert asyncio.run(run()) == (2, ["switch"])


# -- failures keep nothing half-read --------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [("500", "answered 500"), ("redirect", "answered 302"), ("hang", "did not finish")],
)
def test_an_error_a_redirect_or_a_hang_is_a_store_error(
    static: StaticServer, fault: str, message: str
) -> None:
    static.write("flags.json", json.dumps(_document(True)))
    static.fault = fault
    store = HttpStore(f"{static.base}/flags.json", timeout=0.3)
    with pytest.raises(StoreError, match=message):
        asyncio.run(_load_twice(store))


@pytest.mark.parametrize("fault", [None, "chunked"])
def test_a_document_above_the_size_limit_is_refused_while_streaming(
    static: StaticServer, fault: str | None
) -> None:
    static.write("flags.json", json.dumps(_document(True)) + " " * 20_000)
    static.fault = fault  # with Content-Length, and without (chunked)
    store = HttpStore(f"{static.base}/flags.json", max_bytes=10_000)
    with pytest.raises(StoreError, match="at most 10000 bytes"):
        asyncio.run(_load_twice(store))


def test_an_invalid_document_is_a_document_error(static: StaticServer) -> None:
    static.write("flags.json", '{"flags": {"switch": {"state": "NEITHER"}}}')
    with pytest.raises(DocumentError):
        asyncio.run(_load_twice(HttpStore(f"{static.base}/flags.json")))


def test_the_provider_serves_the_last_good_flags_through_failures_then_follows(
    static: StaticServer, domain: str
) -> None:
    static.write("flags.json", json.dumps(_document(True)))
    store = HttpStore(f"{static.base}/flags.json", poll_interval=0.02, timeout=0.3)
    provider = FlagProvider(store, stale_after=0.2)
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    seen = provider_events(domain)
    assert seen.get(timeout=WAIT)[0] == ProviderEvent.PROVIDER_READY
    try:
        # An invalid document is bad content, not an outage: last good flags, no STALE.
        static.write("flags.json", json.dumps({"flags": {"switch": {"state": "X"}}}))
        wait_until(
            lambda: isinstance(provider.last_sync_error, DocumentError), timeout=WAIT, interval=0.02
        )
        assert client.get_provider_status() == ProviderStatus.READY
        assert client.get_boolean_value("switch", False) is True
        oversized = json.dumps(_document(False)) + " " * (store.max_bytes + 1)
        for fault in ("500", "hang"):
            static.fault = fault
            event, details = seen.get(timeout=WAIT)
            assert event == ProviderEvent.PROVIDER_STALE, (fault, event)
            assert "serving the last good flags" in (details.message or "")
            assert client.get_provider_status() == ProviderStatus.STALE
            result = client.get_boolean_details("switch", False)
            assert (result.value, result.error_code) == (True, None)
            static.write("flags.json", oversized)  # back, but too large: still an outage
            static.fault = None
            result = client.get_boolean_details("switch", False)
            assert (result.value, result.error_code) == (True, None)
            static.write("flags.json", json.dumps(_document(True)))
            assert seen.get(timeout=WAIT)[0] == ProviderEvent.PROVIDER_READY
        static.write("flags.json", json.dumps(_document(False)))
        event, details = seen.get(timeout=WAIT)
        assert event == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
        assert details.flags_changed == ["switch"]
        assert client.get_boolean_value("switch", True) is False
    finally:
        api.shutdown()


# -- security --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/f.json", "http://localhost/f.json", "http://[::1]/f.json"]
)
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    assert HttpStore(url).url == url


def test_plain_http_elsewhere_needs_allowing() -> None:
    with pytest.raises(ConfigurationError, match=r"refusing plain http:// to 'flags\.internal'"):
        HttpStore("http://flags.internal/flags.json")
    assert HttpStore("http://flags.internal/f.json", allow_insecure_http=True).poll_interval == 5.0


def test_the_bearer_token_is_sent_and_never_shown(
    static: StaticServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    static.write("flags.json", json.dumps(_document(True)))
    monkeypatch.setenv("FLAGS_TOKEN", "s3cret-token")
    store = HttpStore(f"{static.base}/flags.json", token_env="FLAGS_TOKEN")
    asyncio.run(_load_twice(store))
    assert static.requests[0]["Authorization"] == "Bearer s3cret-token"
    assert "s3cret" not in repr(store)
    assert "token=***" in repr(store)
    static.fault = "500"
    with pytest.raises(StoreError) as raised:
        asyncio.run(_load_twice(store))
    assert "s3cret" not in str(raised.value)


def test_a_password_in_the_url_is_basic_auth_and_never_logged(
    static: StaticServer, caplog: pytest.LogCaptureFixture
) -> None:
    static.write("flags.json", json.dumps(_document(True)))
    url = f"http://reader:pa%40ss@127.0.0.1:{static.server_address[1]}/flags.json"
    store = HttpStore(url)
    with caplog.at_level(logging.DEBUG):
        asyncio.run(_load_twice(store))
    expected = base64.b64encode(b"reader:pa@ss").decode()
    assert static.requests[0]["Authorization"] == f"Basic {expected}"
    assert "HTTP Request" in caplog.text  # httpx logs each request, without the password
    assert "pa%40ss" not in caplog.text
    assert "pa@ss" not in caplog.text
    assert "pa%40ss" not in repr(store)
    with pytest.raises(ConfigurationError, match="has a password and a bearer token"):
        HttpStore(url, token="t")


def test_token_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN_VARIABLE", raising=False)
    with pytest.raises(ConfigurationError, match="holds no token"):
        HttpStore("https://h/f.json", token_env="NO_SUCH_TOKEN_VARIABLE")
    with pytest.raises(ConfigurationError, match="not both"):
        HttpStore("https://h/f.json", token="a", token_env="B")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (.ci/run installs it)")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [  # noqa: S607 - openssl from PATH, as .ci/run installs it
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_is_verified_and_a_ca_bundle_can_be_trusted(
    static: StaticServer, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    static.write("flags.json", json.dumps(_document(True)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    static.socket = context.wrap_socket(static.socket, server_side=True)
    url = f"https://127.0.0.1:{static.server_address[1]}/flags.json"

    with pytest.raises(StoreError, match="ConnectError"):
        asyncio.run(_load_twice(HttpStore(url)))  # an unknown CA: refused
    assert asyncio.run(_load_twice(HttpStore(url, ca_bundle=cert))) == (1, 1)


# -- store_from_url --------------------------------------------------------------------------


def test_store_from_url_builds_it_only_for_readers() -> None:
    with pytest.raises(
        ConfigurationError, match=r"read-only store \(HttpStore\): it can be followed, not written"
    ):
        store_from_url("https://cdn.example/flags.yaml")
    store = store_from_url(
        "https://cdn.example/flags.yaml?namespace=staging&v=2", read_only=True, poll_interval=9
    )
    assert isinstance(store, HttpStore)
    assert (store.url, store.namespace, store.poll_interval) == (
        "https://cdn.example/flags.yaml?v=2",
        "staging",
        9.0,
    )
    with pytest.raises(ConfigurationError, match="plain http://"):
        store_from_url("http://cdn.example/flags.yaml", read_only=True)


def test_a_writing_command_refuses_an_http_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = tmp_path / "flags.json"
    document.write_text(json.dumps(_document(True)))
    status, _ = run_cli("import", str(document), "--store", "https://cdn.example/flags.yaml")
    assert status != 0
    assert "read-only store (HttpStore)" in capsys.readouterr().err


# -- serve's sync endpoint ------------------------------------------------------------------


def test_a_worker_follows_serve_through_its_sync_endpoint(domain: str) -> None:
    source = MemoryStore(namespace="production", document=_document(True))
    app = create_server(source, tokens=["reader-token"], domain=f"{domain}-server")
    with running(app) as base:
        url = f"{base}/sync/v1/production"
        store = HttpStore(url, token="reader-token", poll_interval=0.02)
        assert asyncio.run(_load_twice(store)) == (1, 1)

        for wrong in (HttpStore(url), HttpStore(url, token="not-it")):
            with pytest.raises(StoreError, match="answered 401"):
                asyncio.run(_load_twice(wrong))
        with pytest.raises(StoreError, match="answered 404"):
            asyncio.run(_load_twice(HttpStore(f"{base}/sync/v1/staging", token="reader-token")))

        provider = FlagProvider(store, stale_after=5)
        api.set_provider_and_wait(provider, domain)
        client = api.get_client(domain)
        seen = provider_events(domain)
        assert seen.get(timeout=WAIT)[0] == ProviderEvent.PROVIDER_READY
        assert client.get_boolean_value("switch", False) is True
        asyncio.run(source.replace_document(_document(False), actor="test"))
        event, details = seen.get(timeout=WAIT)
        assert event == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
        assert details.flags_changed == ["switch"]
        assert client.get_boolean_value("switch", True) is False
        api.shutdown()

"""End to end in a real Chromium: OpenFeature's web SDK on OFREP, on a page of another origin.

The page (tests/browser: ``@openfeature/web-sdk`` and ``@openfeature/ofrep-web-provider``
from npm, bundled with esbuild) is served from one port and the flag server
(``create_server`` on SQLite, as ``serve`` runs it) from another, so every request is
cross-origin. Polling is off: a change made with the command line must reach the page
through the event stream. The page's answers equal in-process evaluation for many
contexts.

Needs the system ``chromium``, ``node`` and ``npm`` (``.ci/run`` installs them); skips
without them, except under CI, where it fails.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import secrets
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import FlagProvider, store_from_url
from openfeature_litestar.web import create_server
from tests.support import free_port, running

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

PAGE_SOURCES = Path(__file__).resolve().parents[2] / "browser"
TOKEN = secrets.token_urlsafe(16)
BOUND_MS = 10_000  # "within a second", asserted with room for a loaded machine

DOCUMENT: dict[str, Any] = {
    "metadata": {"flagSetId": "shop"},
    "flags": {
        "banner": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
        },
        "theme": {
            "state": "ENABLED",
            "variants": {"light": "light", "dark": "dark", "blue": "blue"},
            "defaultVariant": "light",
            "targeting": {"fractional": [["light", 50], ["dark", 30], ["blue", 20]]},
        },
        "limit": {
            "state": "ENABLED",
            "variants": {"small": 5, "big": 50},
            "defaultVariant": "small",
            "targeting": {"if": [{"in": [{"var": "country"}, ["CA", "DE"]]}, "big", None]},
        },
        "layout": {
            "state": "ENABLED",
            "variants": {"grid": {"columns": 3}, "list": {"columns": 1}},
            "defaultVariant": "list",
            "targeting": {"if": [{"ends_with": [{"var": "targetingKey"}, "7"]}, "grid", None]},
        },
        "retired": {
            "state": "DISABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
    },
}
KINDS = {"banner": "boolean", "theme": "string", "limit": "number", "layout": "object"}


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"under CI the browser test must run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("no chromium on PATH (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        _unavailable("the playwright package is not installed (uv sync --all-groups)")
    return path


@pytest.fixture(scope="module")
def page_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page and its bundle (npm install and esbuild, once per run)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _unavailable("node and npm are needed to bundle the page")
    if not (PAGE_SOURCES / "node_modules" / "@openfeature" / "ofrep-web-provider").is_dir():
        subprocess.run(  # noqa: S603 - npm, fixed arguments, the locked packages
            [npm, "ci", "--no-audit", "--no-fund"], cwd=PAGE_SOURCES, check=True, timeout=600
        )
    out = tmp_path_factory.mktemp("page")
    esbuild = PAGE_SOURCES / "node_modules" / ".bin" / "esbuild"
    subprocess.run(  # noqa: S603 - the locked esbuild, fixed arguments
        [str(esbuild), "page.js", "--bundle", "--format=iife", f"--outfile={out}/page.js"],
        cwd=PAGE_SOURCES,
        check=True,
        timeout=120,
    )
    (out / "index.html").write_text(
        '<!doctype html><html><head><script src="page.js"></script></head><body>flags</body></html>'
    )
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the page server's requests out of the test output."""


@pytest.fixture
def page_origin(page_directory: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(page_directory))
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # localhost, not 127.0.0.1: another origin than the flag server's.
        yield f"http://localhost:{port}"
    finally:
        server.shutdown()
        server.server_close()


def contexts() -> list[dict[str, Any]]:
    plans, countries = ["free", "pro", "team"], ["CA", "DE", "US", "FR"]
    return [
        {
            "targetingKey": f"user-{number}",
            "plan": plans[number % 3],
            "country": countries[number % 4],
        }
        for number in range(40)
    ]


def in_process(provider: FlagProvider, context: dict[str, Any]) -> dict[str, Any]:
    """What an in-process evaluation answers for ``context``: value, variant, reason."""
    attributes = dict(context)
    evaluation = EvaluationContext(attributes.pop("targetingKey"), attributes)
    answers = {}
    for key in KINDS:
        details = provider.resolve_any_details(key, evaluation)
        reason = details.reason
        answers[key] = {
            "value": details.value,
            "variant": details.variant,
            "reason": getattr(reason, "value", reason),
        }
    return answers


def test_a_browser_sees_a_cli_change_through_the_event_stream(
    chromium: str, page_origin: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"

    async def seed() -> None:
        store = store_from_url(url)
        await store.replace_document(DOCUMENT, actor="test")
        await store.close()

    asyncio.run(seed())
    app = create_server(
        url,
        tokens=[TOKEN],
        cors_origins=[page_origin],
        sanitize=False,
        domain=f"browser-{secrets.token_hex(4)}",
    )
    with running(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            bulk_requests: list[str] = []
            page.on(
                "request",
                lambda request: (
                    bulk_requests.append(request.url)
                    if request.method == "POST" and "/evaluate/flags" in request.url
                    else None
                ),
            )
            page.goto(f"{page_origin}/index.html")
            first = contexts()[0]
            page.evaluate("([base, token, context]) => flags.start(base, token, context)",
                          [base, TOKEN, first])  # fmt: skip

            # The same answers as in process, context after context.
            provider = FlagProvider(store_from_url(url))
            provider.initialize(EvaluationContext())
            try:
                for context in contexts():
                    page.evaluate("(context) => flags.setContext(context)", context)
                    seen = page.evaluate("(kinds) => flags.details(kinds)", KINDS)
                    expected = in_process(provider, context)
                    # The web provider may answer from its cache with reason CACHED.
                    for key, answer in seen.items():
                        reason = answer.pop("reason")
                        assert reason in {"CACHED", expected[key].pop("reason")}, (key, reason)
                    assert seen == expected, context
            finally:
                provider.shutdown()

            # A change made with the command line reaches the page without polling.
            abroad = {"targetingKey": "user-us", "plan": "free", "country": "US"}
            page.evaluate("(context) => flags.setContext(context)", abroad)
            page.wait_for_timeout(1500)
            before = len(bulk_requests)
            assert page.evaluate("(kinds) => flags.details(kinds)", KINDS)["limit"]["value"] == 5
            # The command a person runs, in a process of its own.
            command = ["-m", "openfeature_litestar", "set-variant", "limit", "big",
                       "--drop-targeting", "--store", url]  # fmt: skip
            changed = subprocess.run(  # noqa: S603 - this interpreter, our own command
                [sys.executable, *command], capture_output=True, text=True, timeout=60, check=False
            )
            assert changed.returncode == 0, changed.stderr
            page.wait_for_function(
                "(kinds) => flags.details(kinds).limit.value === 50", arg=KINDS, timeout=BOUND_MS
            )
            refetches = bulk_requests[before:]
            assert refetches, "the page re-fetched nothing"
            assert all("flagConfigEtag=" in request for request in refetches), refetches
            assert page.evaluate("() => flags.changes") >= 1
            # And nothing polls while nothing changes.
            settled = len(bulk_requests)
            page.wait_for_timeout(2000)
            assert len(bulk_requests) == settled
        finally:
            browser.close()

"""The OpenFeature project's own OFREP client against our OFREP endpoints on a real server.

One uvicorn process on 127.0.0.1 serves, behind a bearer token:

* ``examples/flags.yaml`` through :class:`OpenFeaturePlugin` (``ofrep=``, the default
  sanitizer) at ``/ofrep/v1``;
* every flagd-testbed flag file (the copies under ``tests/conformance/testbed``), each
  through :func:`ofrep_router` on a :class:`FlagProvider` of its own at
  ``/<file>/ofrep/v1`` (no sanitizer, so rules see the context as sent).

For every flag and every context in :data:`CONTEXTS`, ``OFREPProvider`` (from
``openfeature-provider-ofrep``) pointed at the server must give the same value, variant,
reason and error code as our in-process :class:`FlagProvider` over the same document,
both through the OpenFeature SDK.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx
import pytest
from litestar import Litestar
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagType

from openfeature_litestar import FileStore, FlagProvider, Sanitizer, load_document
from openfeature_litestar.web import (
    OFREPConfig,
    OpenFeatureConfig,
    OpenFeaturePlugin,
    bearer_token_guard,
    ofrep_router,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagEvaluationDetails

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
EXAMPLE = ROOT / "examples" / "flags.yaml"
TESTBED = ROOT / "tests" / "conformance" / "testbed"
TESTBED_FILES = [
    *sorted((TESTBED / "flags").glob("*.json")),
    TESTBED / "evaluator" / "flags" / "testkit-flags.json",
]
BEARER_ENV = "OFREP_TEST_TOKEN"
FILES_ENV = "OFREP_TEST_FILES"
DEADLINE = 30.0

CONTEXTS: list[EvaluationContext] = [
    EvaluationContext(),
    EvaluationContext("user-1"),
    EvaluationContext(
        "jon@company.com",
        {
            "email": "ballmer@macrosoft.com",
            "version": "2.1.0",
            "appVersion": "2.5.0",
            "time": 1,
            "num": 123,
            "tier": "gold",
            "color": "yellow",
            "id": "abc-def",
            "user": {"name": "jon"},
            "hashing_input": "some-input",
            "plan": "pro",
            "country": "DE",
            "memberId": "M-17",
            "region": "eu-north",
        },
    ),
    EvaluationContext(
        "user-7",
        {
            "email": "someone@example.com",
            "version": "1.0.0",
            "appVersion": "1.9.9",
            "time": 9_999_999_999,
            "num": 7,
            "tier": "vip",
            "id": "xyz",
            "plan": "free",
            "country": "US",
        },
    ),
]

# The client (openfeature-provider-ofrep 0.3) reads "variant" unconditionally, so an answer
# that defers to the caller's default (no value, no variant: a disabled flag, or no
# variant picked) becomes a GENERAL error on its side. Those answers are checked on the
# wire instead (test_code_default_answers_on_the_wire).
_CLIENT_CANNOT_READ = "the client requires 'variant', which code-default answers omit"


# -- the server (uvicorn builds it with --factory) ------------------------------------------


def _mount_name(path: Path) -> str:
    return path.stem


def app_from_env() -> Litestar:
    """The application: the example through the plugin, the testbed files beside it."""
    guards = [bearer_token_guard(os.environ[BEARER_ENV])]
    files = [Path(name) for name in json.loads(os.environ[FILES_ENV])]
    providers = [FlagProvider(FileStore(path, strict=False)) for path in files]
    routers = [
        ofrep_router(
            OFREPConfig(path=f"/{_mount_name(path)}/ofrep/v1", guards=guards, sanitizer=None),
            provider,
        )
        for path, provider in zip(files, providers, strict=True)
    ]

    async def start() -> None:
        for provider in providers:
            await anyio.to_thread.run_sync(provider.initialize, EvaluationContext())

    async def stop() -> None:
        for provider in providers:
            await anyio.to_thread.run_sync(provider.shutdown)

    config = OpenFeatureConfig(
        store=f"file:{EXAMPLE}", domain="ofrep-example", ofrep=OFREPConfig(guards=guards)
    )
    return Litestar(
        routers,
        plugins=[OpenFeaturePlugin(config)],
        on_startup=[start],
        on_shutdown=[stop],
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(base URL, token)`` of the running server."""
    token = os.urandom(16).hex()
    port = free_port()
    log = tmp_path_factory.mktemp("ofrep") / "server.log"
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "test_ofrep_client:app_from_env",
        "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", "--lifespan", "on",
    ]  # fmt: skip
    environment = {
        **os.environ,
        BEARER_ENV: token,
        FILES_ENV: json.dumps([str(path) for path in TESTBED_FILES]),
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, our own command line
            command, env=environment, stdout=output, stderr=output, cwd=ROOT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, token, process, log)
        yield base, token
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


def wait_until_up(base: str, token: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            response = httpx.post(
                f"{base}/ofrep/v1/evaluate/flags", json={}, headers=headers, timeout=1
            )
            if response.status_code == 200 and response.json()["flags"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server did not answer within {DEADLINE} s:\n{log.read_text()}")


# -- the comparison -------------------------------------------------------------------------


def flag_type(variants: dict[str, Any]) -> FlagType | None:
    """The type a caller would ask for, from the variants' values; None when mixed."""
    kinds = {
        FlagType.BOOLEAN
        if isinstance(value, bool)
        else FlagType.INTEGER
        if isinstance(value, int)
        else FlagType.FLOAT
        if isinstance(value, float)
        else FlagType.STRING
        if isinstance(value, str)
        else FlagType.OBJECT
        for value in variants.values()
    }
    return kinds.pop() if len(kinds) == 1 else None


DEFAULTS: dict[FlagType, Any] = {
    FlagType.BOOLEAN: False,
    FlagType.STRING: "code-default",
    FlagType.INTEGER: -1,
    FlagType.FLOAT: -1.5,
    FlagType.OBJECT: {"code": "default"},
}


def details(
    client: OpenFeatureClient, kind: FlagType, key: str, context: EvaluationContext
) -> FlagEvaluationDetails[Any]:
    default = DEFAULTS[kind]
    if kind is FlagType.BOOLEAN:
        return client.get_boolean_details(key, default, context)
    if kind is FlagType.STRING:
        return client.get_string_details(key, default, context)
    if kind is FlagType.INTEGER:
        return client.get_integer_details(key, default, context)
    if kind is FlagType.FLOAT:
        return client.get_float_details(key, default, context)
    return client.get_object_details(key, default, context)


def outcome(found: FlagEvaluationDetails[Any]) -> tuple[Any, ...]:
    return found.value, found.variant, found.reason, found.error_code


DOCUMENTS = [(f"examples/{EXAMPLE.name}", EXAMPLE, ""), *(
    (f"testbed/{path.name}", path, f"/{_mount_name(path)}") for path in TESTBED_FILES
)]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "prefix"),
    [(path, prefix) for _, path, prefix in DOCUMENTS],
    ids=[name for name, _, _ in DOCUMENTS],
)
def test_the_ofrep_client_agrees_with_the_in_process_provider(
    server: tuple[str, str], source: Path, prefix: str, domain: str
) -> None:
    base, token = server
    sanitizer = Sanitizer() if source == EXAMPLE else None
    document = load_document(source, strict=False)
    local = FlagProvider(document)
    remote = OFREPProvider(
        f"{base}{prefix}", headers_factory=lambda: {"Authorization": f"Bearer {token}"}
    )
    api.set_provider_and_wait(local, f"{domain}-local")
    api.set_provider_and_wait(remote, f"{domain}-remote")
    local_client, remote_client = (
        api.get_client(f"{domain}-local"),
        api.get_client(f"{domain}-remote"),
    )
    compared: list[str] = []
    skipped: dict[str, str] = {}
    try:
        raw = load_raw(source)
        for key, definition in raw["flags"].items():
            kind = flag_type(definition.get("variants", {}))
            if kind is None:
                skipped[key] = "variants of mixed types: no single type to ask for"
                continue
            for context in CONTEXTS:
                # The plugin's OFREP sanitizes; the in-process provider gets what it would.
                seen = context
                if sanitizer is not None and context.attributes:
                    seen = EvaluationContext(
                        context.targeting_key, sanitizer.sanitize(context.attributes)
                    )
                expected = details(local_client, kind, key, seen)
                if expected.variant is None and expected.error_code is None:
                    skipped[key] = _CLIENT_CANNOT_READ
                    continue
                got = details(remote_client, kind, key, context)
                assert outcome(got) == outcome(expected), (key, context)
                if expected.error_code is None:
                    assert dict(got.flag_metadata) == dict(expected.flag_metadata), key
            compared.append(key)
        missing = details(remote_client, FlagType.BOOLEAN, "no-such-flag", CONTEXTS[1])
        assert missing.error_code is not None
        assert missing.error_code.value == "FLAG_NOT_FOUND"
    finally:
        api.clear_providers()
    assert compared, f"nothing compared in {source.name}"
    assert set(compared) | set(skipped) == set(raw["flags"])


def load_raw(source: Path) -> dict[str, Any]:
    if source.suffix == ".json":
        data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
        return data
    import yaml  # noqa: PLC0415 - only the example is YAML

    loaded: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    return loaded


def test_code_default_answers_on_the_wire(server: tuple[str, str]) -> None:
    """Disabled flags and flags without a variant: reason, no value, in single and bulk."""
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    document = load_document(TESTBED / "evaluator" / "flags" / "testkit-flags.json", strict=False)
    local = FlagProvider(document)
    local.initialize(EvaluationContext())
    try:
        _, resolved = local.resolve_all_details(EvaluationContext("user-1"))
    finally:
        local.shutdown()
    deferring = {
        key: found
        for key, found in resolved.items()
        if found.variant is None and found.error_code is None
    }
    assert {"disabled-boolean-flag", "null-default-flag"} <= set(deferring)
    url = f"{base}/testkit-flags/ofrep/v1/evaluate/flags"
    body = {"context": {"targetingKey": "user-1"}}
    bulk = httpx.post(url, json=body, headers=headers, timeout=10).json()
    items = {item["key"]: item for item in bulk["flags"]}
    for key, found in deferring.items():
        single = httpx.post(f"{url}/{key}", json=body, headers=headers, timeout=10)
        assert single.status_code == 200
        for answer in (single.json(), items[key]):
            assert answer["reason"] == getattr(found.reason, "value", found.reason)
            assert "value" not in answer
            assert "variant" not in answer


def test_bulk_etag_round_trip(server: tuple[str, str]) -> None:
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base}/ofrep/v1/evaluate/flags"
    body = {"context": {"targetingKey": "user-1", "plan": "pro"}}
    first = httpx.post(url, json=body, headers=headers, timeout=10)
    assert first.status_code == 200
    again = httpx.post(
        url, json=body, headers={**headers, "If-None-Match": first.headers["etag"]}, timeout=10
    )
    assert again.status_code == 304
    unauthorized = httpx.post(url, json=body, timeout=10)
    assert unauthorized.status_code == 401

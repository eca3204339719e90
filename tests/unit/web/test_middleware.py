"""OpenFeatureMiddleware: set-and-restore of the transaction context, sanitizing, failures."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar import get, websocket
from litestar.testing import TestClient
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

from openfeature_litestar.web import ContextBuilder, OpenFeatureClientDependency

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar.connection import WebSocket
    from litestar.types import Scope


@get("/whoami")
async def whoami(feature_flags: OpenFeatureClientDependency) -> dict[str, Any]:
    context = api.get_transaction_context()
    return {
        "targeting_key": context.targeting_key,
        "attributes": dict(context.attributes),
        "flag": await feature_flags.get_string_value_async("whoami", "error"),
    }


@get("/email")
async def email(feature_flags: OpenFeatureClientDependency) -> str:
    return await feature_flags.get_string_value_async("email-seen", "error")


def test_same_task_requests_do_not_leak_into_each_other_or_the_caller(make_app: Any) -> None:
    app, _ = make_app([whoami])
    caller_context = EvaluationContext("the-caller", {"role": "test"})

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], EvaluationContext]:
        # The app runs in this task: ASGITransport calls it directly.
        async with app.lifespan():
            api.set_transaction_context(caller_context)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                first = (await client.get("/whoami", headers={"X-User": "user-1"})).json()
                second = (await client.get("/whoami")).json()
            return first, second, api.get_transaction_context()

    first, second, after = asyncio.run(scenario())
    assert first == {"targeting_key": "user-1", "attributes": {}, "flag": "user-1"}
    assert second == {"targeting_key": None, "attributes": {}, "flag": "anonymous"}
    assert after is caller_context


def test_a_sensitive_header_never_reaches_the_provider(make_app: Any) -> None:
    builder = ContextBuilder(headers={"X-Email": "email"})
    app, _ = make_app([email], context_builder=builder)
    with TestClient(app) as client:
        assert client.get("/email", headers={"X-Email": "a@b.c"}).text == "safe"


def test_without_a_sanitizer_the_same_header_does_reach_it(make_app: Any) -> None:
    # The counterpart of the test above: the flag does see the attribute when it is
    # let through, so "safe" above is the sanitizer's doing.
    builder = ContextBuilder(headers={"X-Email": "email"})
    app, _ = make_app([email], context_builder=builder, sanitizer=None)
    with TestClient(app) as client:
        assert client.get("/email", headers={"X-Email": "a@b.c"}).text == "leak"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def web_log() -> Iterator[Records]:
    # Litestar configures logging when an app starts, which removes pytest's capture
    # handler from the root logger; a handler on our own logger stays.
    records = Records()
    logger = logging.getLogger("openfeature_litestar.web")
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


def test_a_failing_builder_gives_an_empty_context_and_logs_no_values(
    make_app: Any, web_log: Records
) -> None:
    def builder(connection: Any) -> EvaluationContext:
        raise RuntimeError(f"bad header {connection.headers['x-secret']}")

    app, _ = make_app([whoami], context_builder=builder)
    with TestClient(app) as client:
        response = client.get("/whoami", headers={"X-User": "user-1", "X-Secret": "hunter2"})
    assert response.status_code == 200
    assert response.json() == {"targeting_key": None, "attributes": {}, "flag": "anonymous"}
    assert len(web_log.messages) == 1
    assert "RuntimeError" in web_log.messages[0]
    assert "hunter2" not in web_log.messages[0]


def test_a_builder_returning_something_else_is_a_failure_too(make_app: Any) -> None:
    app, _ = make_app([whoami], context_builder=lambda _: {"targeting_key": "x"})
    with TestClient(app) as client:
        assert client.get("/whoami").json()["targeting_key"] is None


def test_the_targeting_key_is_kept_by_the_sanitizer(make_app: Any) -> None:
    # A targeting key that looks like an e-mail address is the developer's choice.
    builder = ContextBuilder(targeting_key=lambda user: f"{user['id']}@example.com")
    app, _ = make_app([whoami], context_builder=builder)
    with TestClient(app) as client:
        body = client.get("/whoami", headers={"X-User": "user-1"}).json()
    assert body["targeting_key"] == "user-1@example.com"


def test_websocket_connections_get_their_context(make_app: Any, domain: str) -> None:
    @websocket("/ws")
    async def socket(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        await socket.receive_text()
        client = api.get_client(domain)
        await socket.send_text(await client.get_string_value_async("whoami", "error"))
        await socket.close()

    app, _ = make_app([socket])
    with TestClient(app) as client:
        with client.websocket_connect("/ws", headers={"X-User": "user-3"}) as ws:
            ws.send_text("?")
            assert ws.receive_text() == "user-3"
        with client.websocket_connect("/ws") as ws:
            ws.send_text("?")
            assert ws.receive_text() == "anonymous"


def test_excluded_paths_get_no_context(make_app: Any) -> None:
    @get("/health")
    async def health(feature_flags: OpenFeatureClientDependency) -> str:
        return await feature_flags.get_string_value_async("whoami", "error")

    app, _ = make_app([health, whoami], exclude=["^/health"])
    with TestClient(app) as client:
        assert client.get("/health", headers={"X-User": "user-1"}).text == "anonymous"
        assert client.get("/whoami", headers={"X-User": "user-1"}).json()["flag"] == "user-1"


def test_the_context_is_kept_in_the_scope_state_under_the_scope_key(make_app: Any) -> None:
    @get("/state")
    async def state(scope: Scope) -> str:
        return str(scope["state"]["my.key"].targeting_key)

    app, _ = make_app([state], scope_key="my.key")
    with TestClient(app) as client:
        assert client.get("/state", headers={"X-User": "user-4"}).text == "user-4"


def test_middleware_restores_the_previous_context_when_the_handler_fails(make_app: Any) -> None:
    seen: list[str | None] = []

    @get("/boom")
    async def boom() -> None:
        seen.append(api.get_transaction_context().targeting_key)
        raise RuntimeError("boom")

    app, _ = make_app([boom])
    outer = EvaluationContext("outer")

    async def scenario() -> EvaluationContext:
        async with app.lifespan():
            api.set_transaction_context_propagator(ContextVarsTransactionContextPropagator())
            api.set_transaction_context(outer)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                assert (await client.get("/boom", headers={"X-User": "user-2"})).status_code == 500
            return api.get_transaction_context()

    assert asyncio.run(scenario()) is outer
    assert seen == ["user-2"]


@get("/address")
async def address() -> dict[str, Any]:
    return dict(api.get_transaction_context().attributes)


def test_the_client_address_and_static_attributes_pass_the_default_sanitizer(
    make_app: Any,
) -> None:
    # Server-derived attributes the developer asked for are not client input: the
    # default policy (which redacts IP addresses) must not hide them from targeting.
    builder = ContextBuilder(
        client_host="ip", static={"ip_range": "10.0.0.0/8"}, headers={"X-Email": "email"}
    )
    app, _ = make_app([address], context_builder=builder)

    async def scenario() -> dict[str, Any]:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/address", headers={"X-Email": "a@b.c"})
                return dict(response.json())

    seen = asyncio.run(scenario())
    assert seen == {"ip": "203.0.113.7", "ip_range": "10.0.0.0/8", "email": "[REDACTED]"}


def test_an_excluded_path_sees_an_empty_context_not_the_callers(make_app: Any) -> None:
    @get("/health")
    async def health() -> str:
        return str(api.get_transaction_context().targeting_key)

    app, _ = make_app([health], exclude="^/health")

    async def scenario() -> str:
        async with app.lifespan():
            api.set_transaction_context(EvaluationContext("the-caller"))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return (await client.get("/health", headers={"X-User": "user-1"})).text

    assert asyncio.run(scenario()) == "None"

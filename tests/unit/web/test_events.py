"""OFREP event streams in process: advertisement, tickets, and re-fetches after an event.

The streams themselves run under a real server: tests/integration/web/test_event_streams.py.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import ConfigurationError, FlagProvider, MemoryStore, Snapshot
from openfeature_litestar.web import (
    EventStreamConfig,
    OFREPConfig,
    bearer_token_guard,
    ofrep_router,
)
from openfeature_litestar.web._events import _Tickets, config_etag, parse_last_modified

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

TOKEN = secrets.token_urlsafe(16)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BULK = "/ofrep/v1/evaluate/flags"
CONFIG = "OFREP-Flag-Config-ETag"


def banner(variant: str) -> dict[str, Any]:
    return {
        "flags": {
            "banner": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": variant,
            }
        }
    }


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(banner("off"))


@pytest.fixture
def provider(store: MemoryStore) -> Iterator[FlagProvider]:
    flag_provider = FlagProvider(store)
    flag_provider.initialize(EvaluationContext())
    yield flag_provider
    flag_provider.shutdown()


@pytest.fixture
def make_client(provider: FlagProvider) -> Iterator[Callable[..., TestClient[Litestar]]]:
    clients: list[TestClient[Litestar]] = []

    def make(**settings: Any) -> TestClient[Litestar]:
        if not settings.get("public"):
            settings.setdefault("guards", [bearer_token_guard(TOKEN)])
        client = TestClient(Litestar([ofrep_router(OFREPConfig(**settings), provider)]))
        client.__enter__()
        client.headers.update(AUTH)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def write(store: MemoryStore, variant: str) -> None:
    import asyncio  # noqa: PLC0415

    asyncio.run(store.replace_document(banner(variant), actor="test"))


# -- the advertisement -------------------------------------------------------------------


def test_bulk_answers_advertise_the_stream_with_a_ticket(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    answer = make_client().post(BULK, json={})
    (stream,) = answer.json()["eventStreams"]
    assert stream["type"] == "sse"
    assert stream["inactivityDelaySec"] == 120
    assert set(stream) == {"type", "endpoint", "inactivityDelaySec"}  # one of url, endpoint
    uri = stream["endpoint"]["requestUri"]
    assert uri.startswith("/ofrep/v1/events?ticket=")
    # The same URL for a while, so clients keep their connection across re-fetches.
    assert make_client().post(BULK, json={}).json()["eventStreams"][0]["endpoint"]["requestUri"]


def test_a_public_stream_needs_no_ticket_and_an_origin_may_be_named(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    streams = EventStreamConfig(path="/changes", origin="https://flags.example.com/")
    answer = make_client(public=True, event_streams=streams).post(BULK, json={})
    (stream,) = answer.json()["eventStreams"]
    assert stream["endpoint"] == {
        "requestUri": "/ofrep/v1/changes",
        "origin": "https://flags.example.com",
    }


def test_without_event_streams_none_is_advertised(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    client = make_client(event_streams=None)
    assert "eventStreams" not in client.post(BULK, json={}).json()
    assert client.get("/ofrep/v1/events").status_code == 404


def test_the_answer_names_its_configuration(
    make_client: Callable[..., TestClient[Litestar]], provider: FlagProvider
) -> None:
    answer = make_client().post(BULK, json={})
    assert answer.headers[CONFIG] == config_etag(provider.snapshot)
    assert answer.headers[CONFIG] == f'"{provider.snapshot.revision}"'


# -- flagConfigEtag and flagConfigLastModified --------------------------------------------


def test_a_refetch_naming_the_served_configuration_may_be_304(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    client = make_client()
    first = client.post(BULK, json={})
    params = {"flagConfigEtag": first.headers[CONFIG]}
    headers = {"If-None-Match": first.headers["ETag"]}
    assert client.post(BULK, json={}, params=params, headers=headers).status_code == 304
    # Unquoted and weak forms name it too.
    params = {"flagConfigEtag": "W/" + first.headers[CONFIG].strip('"')}
    assert client.post(BULK, json={}, params=params, headers=headers).status_code == 304


def test_a_refetch_naming_another_configuration_is_never_304(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    client = make_client(event_streams=EventStreamConfig(refetch_wait=0.05))
    first = client.post(BULK, json={})
    headers = {"If-None-Match": first.headers["ETag"]}
    for named in ('"0"', '"999999"', '"1-another-history"'):
        again = client.post(BULK, json={}, params={"flagConfigEtag": named}, headers=headers)
        assert again.status_code == 200, named
        assert again.json()["flags"][0]["value"] is False


def test_a_tag_of_another_form_neither_grants_nor_vetoes(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    client = make_client()
    first = client.post(BULK, json={})
    params = {"flagConfigEtag": "not-ours"}
    headers = {"If-None-Match": first.headers["ETag"]}
    assert client.post(BULK, json={}, params=params, headers=headers).status_code == 304
    assert client.post(BULK, json={}, params=params).status_code == 200


def test_a_refetch_naming_a_newer_configuration_waits_for_it(
    make_client: Callable[..., TestClient[Litestar]], store: MemoryStore, provider: FlagProvider
) -> None:
    # Another worker told the client of revision n+1 before this one has it.
    client = make_client(event_streams=EventStreamConfig(refetch_wait=30))
    newer = f'"{provider.snapshot.revision + 1}"'
    writer = threading.Timer(0.3, write, (store, "on"))
    writer.start()
    try:
        answer = client.post(BULK, json={}, params={"flagConfigEtag": newer})
    finally:
        writer.join()
    assert answer.status_code == 200
    assert answer.headers[CONFIG] == newer
    assert answer.json()["flags"][0]["value"] is True


def test_a_refetch_with_a_later_last_modified_waits_for_a_change(
    make_client: Callable[..., TestClient[Litestar]], store: MemoryStore
) -> None:
    client = make_client(event_streams=EventStreamConfig(refetch_wait=30))
    client.post(BULK, json={})  # the served configuration's time is taken
    later = str(int(time.time()) + 3600)
    writer = threading.Timer(0.3, write, (store, "on"))
    writer.start()
    try:
        answer = client.post(BULK, json={}, params={"flagConfigLastModified": later})
    finally:
        writer.join()
    assert answer.json()["flags"][0]["value"] is True


# -- tickets and settings ----------------------------------------------------------------


def test_tickets_are_signed_and_expire() -> None:
    tickets = _Tickets(b"k" * 32, lifetime=60)
    ticket = tickets.issue(now=1_000_000)
    assert tickets.valid(ticket, now=1_000_000)
    assert ticket == tickets.issue(now=1_000_001)  # stable within a lifetime
    assert tickets.valid(ticket, now=1_000_000 + 61)  # valid one to two lifetimes
    assert not tickets.valid(ticket, now=1_000_000 + 200)
    assert not _Tickets(b"x" * 32, lifetime=60).valid(ticket, now=1_000_000)
    expiry, _, signature = ticket.partition(".")
    assert not tickets.valid(f"{int(expiry) + 60}.{signature}", now=1_000_000)
    for forged in ("", "nonsense", ".", "1.", "²³.abc", "9" * 40 + ".x"):
        assert not tickets.valid(forged, now=1_000_000)


def test_the_configuration_etag_names_revision_and_epoch() -> None:
    assert config_etag(Snapshot(revision=12)) == '"12"'
    assert config_etag(Snapshot(revision=12, epoch="ab")) == '"12-ab"'


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1771622898", 1771622898.0),
        ("2026-02-20T21:28:18Z", 1771622898.0),
        ("2026-02-20T21:28:18+00:00", 1771622898.0),
        ("yesterday", None),
        ("-5", None),
    ],
)
def test_last_modified_is_read_as_seconds_or_iso_8601(text: str, seconds: float | None) -> None:
    assert parse_last_modified(text) == seconds


@pytest.mark.parametrize(
    "settings",
    [
        {"path": "events"},
        {"heartbeat_interval": 0},
        {"max_connections": 0},
        {"retry_after": -1},
        {"inactivity_delay": 0},
        {"ticket_lifetime": 0},
        {"refetch_wait": -1},
        {"secret": b"short"},
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        EventStreamConfig(**settings)

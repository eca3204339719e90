"""OFREP endpoints: answers, status codes, ETags, body limits and context checks."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import (
    ConfigurationError,
    FlagProvider,
    MemoryStore,
    Sanitizer,
    Snapshot,
    document_from_data,
)
from openfeature_litestar.web import OFREPConfig, bearer_token_guard, ofrep_router
from tests.support import HOSTILE_JSON_BODIES, flag, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

TOKEN = secrets.token_urlsafe(16)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SINGLE = "/ofrep/v1/evaluate/flags"


def document() -> dict[str, Any]:
    return {
        "metadata": {"flagSetId": "shop", "version": "7"},
        "flags": {
            "dark": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "metadata": {"owner": "ui"},
            },
            "beta": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"if": [{"==": [{"var": "targetingKey"}, "user-1"]}, "on", "off"]},
            },
            "plan": {
                "state": "ENABLED",
                "variants": {"pro": "pro", "free": "free"},
                "defaultVariant": "free",
                "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "pro", None]},
            },
            "contact": {
                "state": "ENABLED",
                "variants": {"seen": "seen", "hidden": "hidden"},
                "defaultVariant": "hidden",
                "targeting": {"if": [{"var": "email"}, "seen", "hidden"]},
            },
            "limit": {
                "state": "ENABLED",
                "variants": {"small": 1, "big": 100},
                "defaultVariant": "big",
            },
            "ratio": {"state": "ENABLED", "variants": {"half": 0.5}, "defaultVariant": "half"},
            "theme": {
                "state": "ENABLED",
                "variants": {"light": {"mode": "light", "sizes": [1, 2]}},
                "defaultVariant": "light",
            },
            "gone": {
                "state": "DISABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on",
            },
            "undecided": {"state": "ENABLED", "variants": {"a": "a"}, "defaultVariant": None},
            "broken": {
                "state": "ENABLED",
                "variants": {"a": "a", "b": "b"},
                "defaultVariant": "a",
                "targeting": {"if": [True, "nonexistent", "a"]},
            },
        },
    }


@pytest.fixture
def provider() -> Iterator[FlagProvider]:
    store = MemoryStore(document())
    flag_provider = FlagProvider(store)
    flag_provider.initialize(EvaluationContext())
    yield flag_provider
    flag_provider.shutdown()


@pytest.fixture
def make_client(provider: FlagProvider) -> Iterator[Callable[..., TestClient[Litestar]]]:
    clients: list[TestClient[Litestar]] = []

    def make(**settings: Any) -> TestClient[Litestar]:
        settings.setdefault("guards", [bearer_token_guard(TOKEN)])
        app = Litestar([ofrep_router(OFREPConfig(**settings), provider)])
        client = TestClient(app)
        client.__enter__()
        client.headers.update(AUTH)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient[Litestar]]) -> TestClient[Litestar]:
    return make_client()


def evaluate(client: TestClient[Litestar], key: str, context: Any = None, **kwargs: Any) -> Any:
    body = {"context": context if context is not None else {}}
    return client.post(f"{SINGLE}/{key}", json=body, **kwargs)


# -- single-flag evaluation -------------------------------------------------------------


def test_a_static_flag_with_its_metadata(client: TestClient[Litestar]) -> None:
    response = evaluate(client, "dark")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "key": "dark",
        "reason": "STATIC",
        "variant": "off",
        "value": False,
        # Flag-set metadata is inherited; the flag's own entries win.
        "metadata": {"flagSetId": "shop", "version": "7", "owner": "ui"},
    }


def test_the_targeting_key_comes_from_the_context(client: TestClient[Litestar]) -> None:
    assert evaluate(client, "beta", {"targetingKey": "user-1"}).json()["variant"] == "on"
    assert evaluate(client, "beta", {"targetingKey": "user-2"}).json()["variant"] == "off"
    matched = evaluate(client, "beta", {"targetingKey": "user-1"}).json()
    assert (matched["value"], matched["reason"]) == (True, "TARGETING_MATCH")


@pytest.mark.parametrize(
    ("key", "value"),
    [("limit", 100), ("ratio", 0.5), ("theme", {"mode": "light", "sizes": [1, 2]})],
)
def test_values_of_every_type(client: TestClient[Litestar], key: str, value: Any) -> None:
    answer = evaluate(client, key).json()
    assert answer["value"] == value
    assert type(answer["value"]) is type(value)


def test_an_unknown_flag_is_404_flag_not_found(client: TestClient[Litestar]) -> None:
    response = evaluate(client, "nope")
    assert response.status_code == 404
    assert response.json() == {
        "key": "nope",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "flag 'nope' not found",
    }


def test_a_disabled_flag_defers_to_the_code_default(client: TestClient[Litestar]) -> None:
    response = evaluate(client, "gone")
    assert response.status_code == 200
    answer = response.json()
    assert answer["reason"] == "DISABLED"
    assert "value" not in answer
    assert "variant" not in answer


def test_no_variant_picked_defers_to_the_code_default(client: TestClient[Litestar]) -> None:
    answer = evaluate(client, "undecided").json()
    assert answer["reason"] == "DEFAULT"
    assert "value" not in answer
    assert "variant" not in answer
    # A rule that picks nothing falls back to the default variant, which is a value.
    fallback = evaluate(client, "plan", {"plan": "free"}).json()
    assert (fallback["reason"], fallback["variant"], fallback["value"]) == (
        "DEFAULT",
        "free",
        "free",
    )
    assert evaluate(client, "plan", {"plan": "pro"}).json()["value"] == "pro"


def test_a_flag_that_cannot_be_evaluated_is_400_with_its_error_code(
    client: TestClient[Litestar],
) -> None:
    response = evaluate(client, "broken")
    assert response.status_code == 400
    answer = response.json()
    assert answer["key"] == "broken"
    assert answer["errorCode"] == "GENERAL"
    assert "not one of its variants" in answer["errorDetails"]


def test_a_missing_context_or_an_empty_body_is_an_empty_context(
    client: TestClient[Litestar],
) -> None:
    assert client.post(f"{SINGLE}/dark", json={}).json()["value"] is False
    assert client.post(f"{SINGLE}/dark", content=b"").json()["value"] is False
    assert client.post(f"{SINGLE}/dark", json={"context": None}).json()["value"] is False


def test_before_the_flags_are_loaded_both_endpoints_answer_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Never "not found" or an empty flag list, which a client would take as the answer.
    unloaded = FlagProvider(MemoryStore(document()))  # not initialized: nothing loaded
    app = Litestar([ofrep_router(OFREPConfig(public=True), unloaded)])
    with TestClient(app) as client:
        single = evaluate(client, "dark")
        bulk = client.post(SINGLE, json={"context": {}}, headers={"If-None-Match": "*"})
        malformed = client.post(SINGLE, content=b"[1]")
    for response in (single, bulk):
        assert response.status_code == 500
        assert response.json() == {"errorDetails": "the flags are not loaded yet"}
        assert "etag" not in response.headers
    assert malformed.status_code == 400  # the request's own fault comes first
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_a_key_with_a_slash_is_answered_in_bulk_only(client: TestClient[Litestar]) -> None:
    store = MemoryStore({"flags": {"team/dark": document()["flags"]["dark"]}})
    provider = FlagProvider(store)
    provider.initialize(EvaluationContext())
    try:
        app = Litestar([ofrep_router(OFREPConfig(public=True), provider)])
        with TestClient(app) as slashed:
            bulk = slashed.post(SINGLE, json={}).json()
            assert [item["key"] for item in bulk["flags"]] == ["team/dark"]
            for path in ("team/dark", "team%2Fdark"):
                assert slashed.post(f"{SINGLE}/{path}", json={}).status_code == 404
    finally:
        provider.shutdown()
    assert evaluate(client, "dark").status_code == 200


# -- malformed and oversized bodies, context limits -----------------------------------


# Superscript digits (latin-1 on the wire) pass str.isdigit() but not int().
@pytest.mark.parametrize("length", [b"\xb2", b"\xb9\xb2", b"12x"])
def test_a_malformed_content_length_is_a_400_not_a_server_error(
    client: TestClient[Litestar], length: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {b"Content-Length": length}
    for path in (f"{SINGLE}/dark", SINGLE):
        response = client.post(path, content=b"{}", headers=headers)
        assert response.status_code == 400, response.text
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object with a 'context' object, not a JSON array"),
        (b'"context"', "not a JSON string"),
        (b'{"context": [1]}', "'context' must be a JSON object, not a JSON array"),
        (b'{"context": "user-1"}', "'context' must be a JSON object, not a JSON string"),
        (b'{"context": {"targetingKey": 42}}', "the targeting key is int, not a string"),
        (b"[" * 5000 + b"]" * 5000, ""),
    ],
)
def test_a_malformed_body_is_400_invalid_context(
    client: TestClient[Litestar], body: bytes, message: str
) -> None:
    headers = {"Content-Type": "application/json"}
    single = client.post(f"{SINGLE}/dark", content=body, headers=headers)
    assert single.status_code == 400
    assert single.json()["key"] == "dark"
    assert single.json()["errorCode"] == "INVALID_CONTEXT"
    assert message in single.json()["errorDetails"]
    bulk = client.post(SINGLE, content=body, headers=headers)
    assert bulk.status_code == 400
    assert bulk.json()["errorCode"] == "INVALID_CONTEXT"
    assert message in bulk.json()["errorDetails"]


def test_an_oversized_body_is_400_with_the_limit(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    client = make_client(max_body_bytes=100)
    small = {"context": {"targetingKey": "user-1"}}
    assert client.post(f"{SINGLE}/beta", json=small).status_code == 200
    big = {"context": {"targetingKey": "user-1", "padding": "x" * 200}}
    response = client.post(f"{SINGLE}/beta", json=big)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"
    assert "the limit is 100" in response.json()["errorDetails"]

    # A body streamed without a Content-Length is cut off at the limit too.
    def chunks() -> Iterator[bytes]:
        yield json.dumps(big).encode()[:60]
        yield json.dumps(big).encode()[60:]

    streamed = client.post(f"{SINGLE}/beta", content=chunks())
    assert streamed.status_code == 400
    assert "larger than the limit of 100 bytes" in streamed.json()["errorDetails"]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"name": "x" * 2000}, "attribute 'name' is a string of 2000 characters (limit 1024)"),
        ({f"a{n}": n for n in range(100)}, "has 100 entries (limit 64)"),
        ({"deep": [[[[[[[[[1]]]]]]]]]}, "nested deeper than 8 levels"),
        ({"targetingKey": "k" * 2000}, "the targeting key has 2000 characters"),
    ],
)
def test_the_context_limits_are_enforced(
    client: TestClient[Litestar], context: dict[str, Any], message: str
) -> None:
    response = evaluate(client, "dark", context)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"
    assert message in response.json()["errorDetails"]
    assert "x" * 50 not in response.json()["errorDetails"]  # never the value itself


def test_the_sanitizer_sees_the_context_before_the_rules(
    make_client: Callable[..., TestClient[Litestar]],
) -> None:
    # The default policy redacts e-mail addresses; the rule still sees *a* value.
    sanitized = make_client()
    assert evaluate(sanitized, "contact", {"email": "a@b.example"}).json()["value"] == "seen"
    dropping = make_client(sanitizer=Sanitizer(actions={"email": "drop"}))
    assert evaluate(dropping, "contact", {"email": "a@b.example"}).json()["value"] == "hidden"
    unsanitized = make_client(sanitizer=None)
    assert evaluate(unsanitized, "contact", {"email": "a@b.example"}).json()["value"] == "seen"


def test_the_limits_follow_the_sanitizer(make_client: Callable[..., TestClient[Litestar]]) -> None:
    client = make_client(sanitizer=Sanitizer(max_attributes=2))
    assert evaluate(client, "dark", {"a": 1, "b": 2}).status_code == 200
    response = evaluate(client, "dark", {"a": 1, "b": 2, "c": 3})
    assert response.status_code == 400
    assert "has 3 entries (limit 2)" in response.json()["errorDetails"]


# -- bulk evaluation and ETags ------------------------------------------------------------


def test_bulk_evaluates_every_flag_with_errors_inline(client: TestClient[Litestar]) -> None:
    response = client.post(SINGLE, json={"context": {"targetingKey": "user-1"}})
    assert response.status_code == 200
    answer = response.json()
    flags = {item["key"]: item for item in answer["flags"]}
    assert list(flags) == list(document()["flags"])  # document order, disabled included
    assert flags["beta"]["value"] is True
    assert flags["gone"] == {
        "key": "gone",
        "reason": "DISABLED",
        "metadata": {"flagSetId": "shop", "version": "7"},
    }
    assert flags["broken"]["errorCode"] == "GENERAL"
    assert "value" not in flags["broken"]
    assert answer["metadata"] == {"flagSetId": "shop", "version": "7"}
    assert response.headers["etag"].startswith('"')


def test_if_none_match_with_the_current_etag_is_304(client: TestClient[Litestar]) -> None:
    body = {"context": {"targetingKey": "user-1"}}
    etag = client.post(SINGLE, json=body).headers["etag"]
    again = client.post(SINGLE, json=body, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    for header in (f'"other", W/{etag}', "*", etag.strip('"')):
        assert client.post(SINGLE, json=body, headers={"If-None-Match": header}).status_code == 304
    stale = client.post(SINGLE, json=body, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.headers["etag"] == etag


def test_the_etag_changes_with_the_context(client: TestClient[Litestar]) -> None:
    def etag(context: dict[str, Any]) -> str:
        return str(client.post(SINGLE, json={"context": context}).headers["etag"])

    assert etag({"targetingKey": "user-1"}) == etag({"targetingKey": "user-1"})
    # Key order does not matter; any difference in the context does, even one that
    # leaves every answer the same.
    assert etag({"a": 1, "b": 2}) == etag({"b": 2, "a": 1})
    assert etag({"targetingKey": "user-1"}) != etag({"targetingKey": "user-2"})
    assert etag({"targetingKey": "user-3"}) != etag({"targetingKey": "user-4"})
    stale = etag({"targetingKey": "user-1"})
    response = client.post(
        SINGLE, json={"context": {"targetingKey": "user-2"}}, headers={"If-None-Match": stale}
    )
    assert response.status_code == 200


def test_the_etag_changes_when_the_flags_change(
    client: TestClient[Litestar], provider: FlagProvider
) -> None:
    body = {"context": {"targetingKey": "user-1"}}
    before = client.post(SINGLE, json=body).headers["etag"]
    revision = provider.snapshot.revision
    changed = document()
    changed["flags"]["dark"]["defaultVariant"] = "on"
    store = provider.store
    assert isinstance(store, MemoryStore)
    store.replace(changed)
    wait_until(lambda: provider.snapshot.revision > revision, timeout=10.0, interval=0.01)
    after = client.post(SINGLE, json=body, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before
    flags = {item["key"]: item for item in after.json()["flags"]}
    assert flags["dark"]["value"] is True


@pytest.mark.parametrize("path", ["", "/theme"], ids=["bulk", "single"])
def test_a_new_value_under_the_same_variant_and_reason_is_answered(
    client: TestClient[Litestar], provider: FlagProvider, path: str
) -> None:
    # Answers are encoded once per flag, variant and reason: a change of the variant's
    # value (same name, same reason) must still reach the next answer.
    def theme() -> Any:
        answer = client.post(f"{SINGLE}{path}", json={"context": {}}).json()
        items = answer["flags"] if not path else [answer]
        return next(item for item in items if item["key"] == "theme")

    assert theme()["value"] == {"mode": "light", "sizes": [1, 2]}
    revision = provider.snapshot.revision
    changed = document()
    changed["flags"]["theme"]["variants"]["light"] = {"mode": "dim"}
    changed["flags"]["theme"]["metadata"] = {"owner": "<new>"}
    store = provider.store
    assert isinstance(store, MemoryStore)
    store.replace(changed)
    wait_until(lambda: provider.snapshot.revision > revision, timeout=10.0, interval=0.01)
    answer = theme()
    assert (answer["variant"], answer["reason"]) == ("light", "STATIC")
    assert answer["value"] == {"mode": "dim"}
    assert answer["metadata"]["owner"] == "<new>"


# -- mounting and guards ------------------------------------------------------------------


def test_it_refuses_to_mount_without_guards(provider: FlagProvider) -> None:
    with pytest.raises(ConfigurationError, match="readable by anyone"):
        ofrep_router(OFREPConfig(), provider)


def test_public_mounts_without_guards(provider: FlagProvider) -> None:
    app = Litestar([ofrep_router(OFREPConfig(public=True), provider)])
    with TestClient(app) as client:
        assert evaluate(client, "dark").status_code == 200


def test_the_guards_apply_to_both_endpoints(client: TestClient[Litestar]) -> None:
    for path in (SINGLE, f"{SINGLE}/dark"):
        refused = client.post(path, json={}, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith('Bearer realm="')
        assert client.post(path, json={}).status_code == 200


def test_a_custom_path(make_client: Callable[..., TestClient[Litestar]]) -> None:
    client = make_client(path="/flags/ofrep/v1/")
    assert client.post("/flags/ofrep/v1/evaluate/flags/dark", json={}).status_code == 200
    assert client.post(f"{SINGLE}/dark", json={}).status_code == 404


def test_the_routes_stay_out_of_the_openapi_schema(client: TestClient[Litestar]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert not any("ofrep" in path for path in schema.get("paths", {}))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"path": "ofrep/v1"}, "must start with '/'"),
        ({"max_body_bytes": 0}, "positive integer"),
        ({"max_body_bytes": True}, "positive integer"),
    ],
)
def test_settings_that_can_never_work(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OFREPConfig(**settings)


# -- the empty targeting key ----------------------------------------------------------------


class _Fixed:
    """A snapshot source that always holds the same snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot


def test_an_empty_targeting_key_is_no_targeting_key() -> None:
    # In process the SDK's context merge turns "" into no key; OFREP must answer alike,
    # or one user gets two variants depending on the path its context took.
    document = document_from_data(
        {
            "flags": {
                "rollout": flag("off", targeting={"fractional": [["on", 50], ["off", 50]]}),
                "who": flag("off", targeting={"if": [{"var": "targetingKey"}, "on", None]}),
            }
        }
    )
    config = OFREPConfig(guards=[bearer_token_guard(TOKEN)])
    app = Litestar([ofrep_router(config, _Fixed(Snapshot.from_document(document)))])
    with TestClient(app) as client:
        client.headers.update(AUTH)
        for key in ("rollout", "who"):
            empty = client.post(f"{SINGLE}/{key}", json={"context": {"targetingKey": ""}})
            absent = client.post(f"{SINGLE}/{key}", json={"context": {}})
            assert empty.status_code == absent.status_code == 200
            assert empty.json() == absent.json()
            assert empty.json()["variant"] == "off"


@pytest.mark.parametrize("path", [f"{SINGLE}/dark", SINGLE])
def test_a_body_that_is_not_utf8_is_400(client: TestClient[Litestar], path: str) -> None:
    # Valid JSON syntax with a string byte that is not UTF-8 (msgspec's UnicodeDecodeError).
    response = client.post(
        path,
        content=b'{"context": {"a": "\xff"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=HOSTILE_JSON_BODIES,
    content_type=st.sampled_from(
        ["application/json", "text/plain", "", "application/json; charset=latin-1"]
    ),
    path=st.sampled_from([f"{SINGLE}/dark", f"{SINGLE}/theme", SINGLE]),
)
def test_no_body_or_content_type_is_a_server_error(
    client: TestClient[Litestar], body: bytes, content_type: str, path: str
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code < 500, response.text


def test_the_etag_differs_between_two_histories_of_a_store() -> None:
    # An emptied Redis written again holds revision 1 again, even the same document: a
    # client's ETag of the old history must not be taken for the new one.
    document = document_from_data({"flags": {"dark": flag("off")}})
    config = OFREPConfig(guards=[bearer_token_guard(TOKEN)])
    etags = []
    for epoch in ("", "0123456789abcdef", "fedcba9876543210"):
        source = _Fixed(Snapshot.from_document(document, 1, epoch))
        with TestClient(Litestar([ofrep_router(config, source)])) as client:
            response = client.post(SINGLE, json={"context": {}}, headers=AUTH)
            assert response.status_code == 200
            etags.append(response.headers["etag"])
    assert len(set(etags)) == 3


# -- usage counters ---------------------------------------------------------------------


def test_the_provider_counts_what_ofrep_answers(
    client: TestClient[Litestar], provider: FlagProvider
) -> None:
    before = provider.usage.evaluations
    evaluate(client, "beta")
    for n in range(50):
        evaluate(client, f"random-{n}")
    client.post(SINGLE, json={"context": {}})
    usage = provider.usage
    flags = len(document()["flags"])
    assert usage.evaluations - before == 1 + 50 + flags
    unknown = [key for key in usage.counts if key.error_code == "FLAG_NOT_FOUND"]
    assert len(unknown) == 50  # within max_unknown_keys, each its own counter

"""The dry run: the current document, evaluated as a provider would, registering nothing."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import MemoryStore, StoredDocument, document_from_data
from openfeature_litestar.web._admin._dry_run import dry_run

from .conftest import (
    BASE,
    READ_AUTH,
    WRITE_AUTH,
    document,
    flag,
)

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import TestClient


def test_evaluate_is_a_dry_run_of_the_current_document(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner/evaluate"
    pro = client.post(
        path, headers=READ_AUTH, json={"context": {"targetingKey": "u", "plan": "pro"}}
    )
    assert pro.status_code == 200
    assert pro.headers["etag"] == '"1"'
    assert pro.json() == {
        "key": "banner",
        "revision": 1,
        "value": True,
        "variant": "on",
        "reason": "TARGETING_MATCH",
        "error_code": None,
        "error_message": None,
        "metadata": {"flagSetId": "web"},
    }
    free = client.post(path, headers=READ_AUTH, json={"context": {"plan": "free"}}).json()
    assert (free["value"], free["variant"]) == (False, "off")
    missing = client.post(
        f"{BASE}/production/flags/nope/evaluate", headers=READ_AUTH, json={}
    ).json()
    assert missing["error_code"] == "FLAG_NOT_FOUND"
    assert missing["value"] is None
    assert api.get_provider_metadata().name != "openfeature-litestar-admin-dry-run"


def test_evaluate_sees_an_unserved_write_at_once(client: TestClient[Litestar]) -> None:
    client.put(
        f"{BASE}/production/flags/banner",
        headers={**WRITE_AUTH, "If-Match": '"1"'},
        json=flag("on", state="DISABLED"),
    )
    result = client.post(
        f"{BASE}/production/flags/banner/evaluate", headers=READ_AUTH, json={}
    ).json()
    assert (result["reason"], result["revision"]) == ("DISABLED", 2)


def test_evaluate_rejects_a_bad_context(client: TestClient[Litestar]) -> None:
    path = f"{BASE}/production/flags/banner/evaluate"
    for body in [
        {"context": {"targetingKey": 5}},
        {"context": {"deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}}},
        {"context": []},
    ]:
        response = client.post(path, headers=READ_AUTH, json=body)
        assert response.status_code == 400, body
    malformed = client.post(
        path, headers={**READ_AUTH, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert malformed.status_code == 400


def test_dry_run_resolves_one_flag_of_a_stored_document() -> None:
    # The one function the evaluate route calls: a stored document in, a resolution out.
    stored = asyncio.run(MemoryStore(document()).load())
    pro = dry_run(stored, "banner", EvaluationContext("u", {"plan": "pro"}))
    assert (pro.value, pro.variant, str(pro.reason)) == (True, "on", "TARGETING_MATCH")
    assert pro.error_code is None
    assert dict(pro.flag_metadata) == {"flagSetId": "web"}
    free = dry_run(stored, "banner", EvaluationContext("u", {"plan": "free"}))
    assert (free.value, free.variant) == (False, "off")
    missing = dry_run(stored, "nope", EvaluationContext())
    assert str(missing.error_code) == "FLAG_NOT_FOUND"
    assert api.get_provider_metadata().name != "openfeature-litestar-admin-dry-run"


def test_dry_run_starts_no_thread_and_no_provider() -> None:
    # It used to build and start a whole provider (a sync thread and loop) per request.
    stored = asyncio.run(MemoryStore(document()).load())
    started: list[str] = []

    def note_thread(*_: object) -> None:  # runs first thing in every new thread
        started.append(threading.current_thread().name)

    threading.settrace(note_thread)
    try:
        for _ in range(5):
            dry_run(stored, "banner", EvaluationContext("u", {"plan": "pro"}))
    finally:
        threading.settrace(None)
    assert started == []


def test_the_dry_run_buckets_with_the_version_it_is_given() -> None:
    cards = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]
    data = {
        "flags": {
            "fractional-flag": {
                "state": "ENABLED",
                "variants": {name: name for name, _ in cards},
                "defaultVariant": "clubs",
                "targeting": {
                    "fractional": [
                        {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]},
                        *cards,
                    ]
                },
            }
        }
    }
    stored = StoredDocument(document_from_data(data), 1)
    context = EvaluationContext(None, {"user": {"name": "jack"}})
    # flagd-testbed's "Fractional operator": jack is hearts in v2, diamonds in v3.
    assert dry_run(stored, "fractional-flag", context).value == "hearts"
    assert dry_run(stored, "fractional-flag", context, "v3").value == "diamonds"

"""No targeting key or attribute value in any usage counter, whatever the outcome.

Unique sentinels (plain and hostile, as in ``tests/unit/hooks/test_no_leaks.py``) are
planted as the targeting key and as attribute values at every depth; rules read them
(equality, ``in``, fractional bucketing on the targeting key, ``$flagd`` values), and
every outcome is reached: a match, no match, a disabled flag, an unknown key, a type
mismatch, a rule that fails. Then every counter the provider kept and every record its
store holds is searched for every sentinel, in every written form.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import FlagProvider, MemoryStore, UsageConfig
from tests.support import flag, written_forms


def _sentinels(*, hostile: bool) -> tuple[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:12]
    if hostile:
        key = f"CORP\\{tag}\\jsmith\n\x1b"
        email, phone = f"leak.{tag}@example.com", f"+44\n{tag}\tphone\x00"
    else:
        key, email, phone = f"tk-{tag}-user", f"leak.{tag}@example.com", f"+44-{tag}"
    attributes = {
        "email": email,
        "plan": f"plan-{tag}",
        "profile": {"phone": phone, "deep": {"deeper": {"token": f"tok-{tag}"}}},
        "tags": [f"tag-{tag}"],
    }
    return key, attributes


DOCUMENT: dict[str, Any] = {
    "flags": {
        "static": flag("on"),
        "by-email": flag(
            "off",
            targeting={"if": [{"ends_with": [{"var": "email"}, "example.com"]}, "on", "off"]},
        ),
        "by-key": flag("off", targeting={"fractional": [["on", 50], ["off", 50]]}),
        "echo": flag(
            "a", variants={"a": "a", "b": "b"}, targeting={"var": "plan"}
        ),  # a variant named by the context: no such variant, an error
        "broken": flag("on", targeting={"/": [1, {"var": "profile.phone"}]}),
        "disabled": flag("on", state="DISABLED"),
    }
}


@pytest.mark.parametrize("hostile", [False, True], ids=["plain", "hostile"])
def test_no_counter_holds_a_context_value(domain: str, *, hostile: bool) -> None:
    targeting_key, attributes = _sentinels(hostile=hostile)
    store = MemoryStore(DOCUMENT)
    provider = FlagProvider(store, usage=UsageConfig(flush_interval=3600))
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    context = EvaluationContext(targeting_key, attributes)
    for key in [*DOCUMENT["flags"], "missing"]:
        client.get_boolean_value(key, False, context)
        client.get_string_value(key, "x", context)
        client.get_object_value(key, {}, context)
    provider.resolve_all_details(context)
    provider.shutdown()

    usage = provider.usage
    assert usage.evaluations == 3 * (len(DOCUMENT["flags"]) + 1) + len(DOCUMENT["flags"])
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    stored = asyncio.run(store.read_usage(since=since))
    assert sum(record.count for record in stored) == usage.evaluations
    texts = [repr(usage), repr(stored), *(str(part) for key in usage.counts for part in key)]
    values = [targeting_key, attributes["email"], attributes["profile"]["phone"]]
    values += [
        attributes["plan"],
        attributes["tags"][0],
        attributes["profile"]["deep"]["deeper"]["token"],
    ]
    for value in values:
        for form in written_forms(value):
            assert not any(form in text for text in texts), f"{value!r} leaked as {form!r}"

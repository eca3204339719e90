"""A provider's fractional bucketing version: chosen once, compiled in, followed on reload."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.provider.no_op_provider import NoOpProvider

from openfeature_litestar import (
    ConfigurationError,
    FileStore,
    FlagProvider,
    MemoryStore,
    Snapshot,
    document_from_data,
)
from tests.support import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from openfeature.client import OpenFeatureClient

CARDS = [["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]]
CARD_VARIANTS = {name: name for name, _ in CARDS}
FLAGS: dict[str, Any] = {
    "flags": {
        "fractional-flag": {
            "state": "ENABLED",
            "variants": CARD_VARIANTS,
            "defaultVariant": "clubs",
            "targeting": {
                "fractional": [
                    {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]},
                    *CARDS,
                ]
            },
        },
        "static": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
    }
}
NAMES = ["jack", "queen", "ten", "nine", "3"]
# flagd-testbed's "Fractional operator" Examples, by version.
EXPECTED = {
    "v1": ["spades", "clubs", "diamonds", "hearts", "diamonds"],
    "v2": ["hearts", "spades", "clubs", "diamonds", "clubs"],
    "v3": ["diamonds", "diamonds", "clubs", "clubs", "spades"],
}


@pytest.fixture
def register() -> Iterator[Any]:
    domains: list[str] = []

    def register(provider: FlagProvider) -> OpenFeatureClient:
        domain = f"fractional-{uuid.uuid4()}"
        domains.append(domain)
        api.set_provider_and_wait(provider, domain=domain)
        return api.get_client(domain)

    yield register
    for domain in domains:
        api.set_provider(NoOpProvider(), domain=domain)


def _cards(client: OpenFeatureClient) -> list[str]:
    return [
        client.get_string_value(
            "fractional-flag", "", EvaluationContext(None, {"user": {"name": n}})
        )
        for n in NAMES
    ]


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_the_provider_buckets_with_its_version(register: Any, version: Any) -> None:
    provider = FlagProvider(document_from_data(FLAGS), fractional=version)
    assert provider.fractional == version
    assert _cards(register(provider)) == EXPECTED[version]


def test_the_default_is_v2(register: Any) -> None:
    provider = FlagProvider(document_from_data(FLAGS))
    assert provider.fractional == "v2"
    assert _cards(register(provider)) == EXPECTED["v2"]


def test_one_document_serves_two_providers_of_different_versions(register: Any) -> None:
    document = document_from_data(FLAGS)
    v2 = register(FlagProvider(MemoryStore(document)))
    v3 = register(FlagProvider(MemoryStore(document), fractional="v3"))
    assert (_cards(v2), _cards(v3)) == (EXPECTED["v2"], EXPECTED["v3"])


def test_a_file_store_reload_keeps_the_version(register: Any, tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS), encoding="utf-8")
    provider = FlagProvider(FileStore(path, poll_interval=0.05), fractional="v3")
    client = register(provider)
    assert _cards(client) == EXPECTED["v3"]
    changed = json.loads(json.dumps(FLAGS))
    changed["flags"]["fractional-flag"]["defaultVariant"] = "spades"
    path.write_text(json.dumps(changed), encoding="utf-8")
    wait_until(lambda: provider.snapshot.revision > 1, timeout=10, interval=0.02)
    assert _cards(client) == EXPECTED["v3"]


@pytest.mark.parametrize("version", ["v4", "2", "", None])
def test_an_unknown_version_is_a_configuration_error(version: Any) -> None:
    with pytest.raises(ConfigurationError, match="fractional must be one of 'v1', 'v2', 'v3'"):
        FlagProvider(document_from_data(FLAGS), fractional=version)
    with pytest.raises(ConfigurationError):
        Snapshot.from_document(document_from_data(FLAGS), fractional=version)


def test_a_document_compiles_each_version_once() -> None:
    document = document_from_data(FLAGS)
    v2, v3 = document.compiled_flags(), document.compiled_flags("v3")
    assert document.compiled_flags("v3") is v3
    assert document.compiled_flags("v2") is v2
    assert v3["fractional-flag"].rule is not v2["fractional-flag"].rule
    # Fingerprints tell flags that behave differently apart.
    assert v3["fractional-flag"].fingerprint != v2["fractional-flag"].fingerprint
    assert Snapshot.from_document(document).changed_keys(
        Snapshot.from_document(document, fractional="v3")
    ) == ["fractional-flag", "static"]


def test_a_flag_loaded_broken_stays_broken_in_every_version(register: Any) -> None:
    data = json.loads(json.dumps(FLAGS))
    data["flags"]["broken"] = {
        "state": "ENABLED",
        "variants": {"on": True},
        "defaultVariant": "on",
        "targeting": {"no-such-operator": [1]},
    }
    client = register(FlagProvider(document_from_data(data, strict=False), fractional="v3"))
    details = client.get_boolean_details("broken", default_value=False)
    assert details.error_code == ErrorCode.PARSE_ERROR
    assert _cards(client) == EXPECTED["v3"]

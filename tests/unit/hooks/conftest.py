"""Shared set-up for the hook tests: a flag document, providers, and a record collector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from openfeature_litestar import FlagProvider, IdentifierHasher, document_from_data

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.provider import AbstractProvider

TEST_KEY = "a-test-hashing-key-of-32-bytes!!"
FLAG_SET_ID = "checkout-service"
FLAG_SET_VERSION = "7"

# Targeting reads "email" (to pick the variant) and "is_admin"; "echo" turns a context
# value into a variant name, which makes the engine's error message quote it.
FLAGS: dict[str, Any] = {
    "metadata": {"flagSetId": FLAG_SET_ID, "version": FLAG_SET_VERSION},
    "flags": {
        "greeting": {
            "state": "ENABLED",
            "variants": {"hello": "hello", "hi": "hi"},
            "defaultVariant": "hello",
        },
        "vip": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]},
        },
        "admin-panel": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"==": [{"var": "is_admin"}, True]}, "on", "off"]},
        },
        "echo": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"var": "email"},
        },
        "seen-email": {
            "state": "ENABLED",
            "variants": {"missing": "missing", "present": "present"},
            "defaultVariant": "missing",
            "targeting": {"if": [{"var": "email"}, "present", "missing"]},
        },
        "limit": {"state": "ENABLED", "variants": {"n": 3}, "defaultVariant": "n"},
        "broken": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"no-such-operator": [{"var": "email"}]},
        },
    },
}


@pytest.fixture
def hasher() -> IdentifierHasher:
    return IdentifierHasher(TEST_KEY)


def flag_provider() -> FlagProvider:
    """Our provider over :data:`FLAGS` (loaded leniently, so "broken" is a PARSE_ERROR)."""
    return FlagProvider(document_from_data(FLAGS, strict=False))


def _vip(flag: InMemoryFlag[bool], context: EvaluationContext) -> FlagResolutionDetails[bool]:
    email = context.attributes.get("email")
    variant = "on" if isinstance(email, str) and email.endswith("@example.com") else "off"
    return FlagResolutionDetails(
        flag.variants[variant],
        variant=variant,
        reason=Reason.TARGETING_MATCH,
        flag_metadata=flag.flag_metadata,
    )


def _admin(flag: InMemoryFlag[bool], context: EvaluationContext) -> FlagResolutionDetails[bool]:
    variant = "on" if context.attributes.get("is_admin") is True else "off"
    return FlagResolutionDetails(
        flag.variants[variant],
        variant=variant,
        reason=Reason.TARGETING_MATCH,
        flag_metadata=flag.flag_metadata,
    )


def in_memory_provider() -> InMemoryProvider:
    """The SDK's own provider with the same flags, written as Python."""
    boolean = {"on": True, "off": False}
    metadata = {"flagSetId": FLAG_SET_ID, "version": FLAG_SET_VERSION}
    return InMemoryProvider(
        {
            "greeting": InMemoryFlag("hello", {"hello": "hello", "hi": "hi"}, metadata),
            "vip": InMemoryFlag("off", dict(boolean), metadata, context_evaluator=_vip),
            "admin-panel": InMemoryFlag("off", dict(boolean), metadata, context_evaluator=_admin),
            "limit": InMemoryFlag("n", {"n": 3}, metadata),
        }
    )


PROVIDERS = {"ours": flag_provider, "in-memory": in_memory_provider}


@pytest.fixture(params=sorted(PROVIDERS))
def provider_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


def bind(provider: AbstractProvider, domain: str) -> OpenFeatureClient:
    api.set_provider_and_wait(provider, domain=domain)
    return api.get_client(domain)


@pytest.fixture
def client(provider_kind: str, domain: str) -> OpenFeatureClient:
    """A client of ``domain``, served by each provider in turn."""
    return bind(PROVIDERS[provider_kind](), domain)


@pytest.fixture
def ours(domain: str) -> OpenFeatureClient:
    """A client of ``domain`` served by our provider."""
    return bind(flag_provider(), domain)

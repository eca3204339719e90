"""FlagProvider.track(): events counted by name (bounded), handed on, never raising."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.track import TrackingEventDetails

from openfeature_litestar import (
    OTHER_EVENT_NAMES,
    ConfigurationError,
    FlagProvider,
    UsageConfig,
    document_from_data,
)
from tests.support import flag

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient

DOCUMENT = document_from_data({"flags": {"beta": flag()}})


def client_of(provider: FlagProvider, domain: str) -> OpenFeatureClient:
    api.set_provider_and_wait(provider, domain=domain)
    return api.get_client(domain)


def test_events_are_counted_per_name(domain: str) -> None:
    provider = FlagProvider(DOCUMENT)
    client = client_of(provider, domain)
    for _ in range(3):
        client.track("checkout")
    client.track("signup", EvaluationContext("user-1"), TrackingEventDetails(value=1.0))
    assert dict(provider.usage.tracked) == {"checkout": 3, "signup": 1}
    # Reading does not change what is read.
    assert dict(provider.usage.tracked) == {"checkout": 3, "signup": 1}
    assert provider.usage.evaluations == 0  # tracking is no evaluation


def test_counting_is_exact_across_threads(domain: str) -> None:
    provider = FlagProvider(DOCUMENT)
    client = client_of(provider, domain)
    start = threading.Barrier(4)

    def track() -> None:
        start.wait()
        for _ in range(2_000):
            client.track("click")

    threads = [threading.Thread(target=track) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.usage.tracked["click"] == 8_000


def test_names_are_bounded(domain: str) -> None:
    provider = FlagProvider(DOCUMENT, usage=UsageConfig(max_tracked_names=2))
    client = client_of(provider, domain)
    for name in ("a", "b", "c", "d", "a"):
        client.track(name)
    assert dict(provider.usage.tracked) == {"a": 2, "b": 1, OTHER_EVENT_NAMES: 2}


@pytest.mark.parametrize(
    "name", [42, None, "", "n" * 257, "ada@example.com", ("a", "tuple")], ids=repr
)
def test_a_name_not_counted_by_itself_counts_under_other(domain: str, name: Any) -> None:
    provider = FlagProvider(DOCUMENT)
    client = client_of(provider, domain)
    client.track(name)
    assert dict(provider.usage.tracked) == {OTHER_EVENT_NAMES: 1}


def test_the_handler_gets_the_merged_context_and_the_details(domain: str) -> None:
    calls: list[tuple[Any, ...]] = []
    provider = FlagProvider(DOCUMENT, tracking=lambda *args: calls.append(args))
    client = client_of(provider, domain)
    client.context = EvaluationContext(attributes={"region": "eu"})
    details = TrackingEventDetails(value=3.0, attributes={"items": 3})
    client.track("checkout", EvaluationContext("user-7"), details)
    ((name, context, passed),) = calls
    assert name == "checkout"
    assert context.targeting_key == "user-7"
    assert context.attributes == {"region": "eu"}
    assert passed is details


def test_a_handler_that_raises_never_reaches_the_caller(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = "tk-3f9a-planted-user"

    def failing(*_args: object) -> None:
        raise ValueError(f"cannot record {user}")

    provider = FlagProvider(DOCUMENT, tracking=failing)
    client = client_of(provider, domain)
    with caplog.at_level(logging.DEBUG):
        client.track("checkout", EvaluationContext(user))
    assert provider.usage.tracked["checkout"] == 1
    assert "the tracking handler raised ValueError" in caplog.text
    assert user not in caplog.text


def test_with_usage_off_nothing_is_counted_but_events_are_handed_on(domain: str) -> None:
    calls: list[object] = []
    provider = FlagProvider(DOCUMENT, usage=False, tracking=lambda name, *_: calls.append(name))
    client_of(provider, domain).track("checkout")
    assert provider.usage.tracked == {}
    assert calls == ["checkout"]


def test_a_provider_without_a_handler_only_counts(domain: str) -> None:
    provider = FlagProvider(DOCUMENT)
    client_of(provider, domain).track("checkout", None, TrackingEventDetails(value=1.0))
    assert dict(provider.usage.tracked) == {"checkout": 1}


def test_max_tracked_names_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="max_tracked_names"):
        UsageConfig(max_tracked_names=0)

"""FlagProvider through store outages: last good answers, STALE, READY, FATAL, backoff.

The outage here is a flag file that disappears and comes back (a real FileStore); the
same behaviour against real Redis and PostgreSQL servers that go away is tested in
``tests/integration/test_outages.py``.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import json
import queue
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.provider import ProviderStatus

from openfeature_litestar import (
    ConfigurationError,
    FileStore,
    FlagProvider,
    MemoryStore,
    StoredDocument,
    StoreError,
)
from openfeature_litestar._provider._follower import retry_delay as _retry_delay
from tests.support import provider_events, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

WAIT = 10.0


def _document(value: bool) -> dict[str, Any]:
    return {
        "flags": {
            "switch": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "on" if value else "off",
            }
        }
    }


def _write(path: Path, value: bool) -> None:
    # Write-then-rename, as the FileStore docs ask of deploy tools.
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(_document(value)))
    temporary.replace(path)


def _next_event(
    seen: queue.Queue[tuple[ProviderEvent, EventDetails]],
) -> tuple[ProviderEvent, EventDetails]:
    return seen.get(timeout=WAIT)


def test_an_outage_serves_the_last_snapshot_then_stale_then_ready(
    domain: str, tmp_path: Path
) -> None:
    path = tmp_path / "flags.json"
    _write(path, True)
    provider = FlagProvider(FileStore(path, poll_interval=0.02), stale_after=0.2)
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    seen = provider_events(domain)
    # A handler added for an already-ready provider runs at once.
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY

    path.unlink()
    event, details = _next_event(seen)
    assert event == ProviderEvent.PROVIDER_STALE
    assert "serving the last good flags" in (details.message or "")
    assert client.get_provider_status() == ProviderStatus.STALE
    # Still the last good answer, with no error, during the outage.
    result = client.get_boolean_details("switch", False)
    assert (result.value, result.error_code) == (True, None)

    _write(path, False)  # back, with a change made meanwhile
    # READY first: no handler sees the new flags announced while the status is STALE.
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    changed = _next_event(seen)
    assert changed[0] == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
    assert changed[1].flags_changed == ["switch"]
    assert client.get_provider_status() == ProviderStatus.READY
    assert client.get_boolean_value("switch", True) is False


def test_a_short_outage_is_not_stale(domain: str, tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, True)
    provider = FlagProvider(FileStore(path, poll_interval=0.02), stale_after=60)
    api.set_provider_and_wait(provider, domain)
    seen = provider_events(domain)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    path.unlink()
    wait_until(lambda: provider.last_sync_error is not None, timeout=WAIT, interval=0.01)
    _write(path, True)
    wait_until(lambda: provider.last_sync_error is None, timeout=WAIT, interval=0.01)
    assert api.get_client(domain).get_provider_status() == ProviderStatus.READY
    assert seen.empty()  # neither STALE nor a READY for an outage nobody was told of


def test_a_long_outage_goes_stale_then_error_and_serves_the_last_flags_throughout(
    domain: str, tmp_path: Path
) -> None:
    path = tmp_path / "flags.json"
    _write(path, True)
    store = FileStore(path, poll_interval=0.02)
    provider = FlagProvider(store, stale_after=0.1, error_after=0.3)
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    seen = provider_events(domain)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY

    path.unlink()
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_STALE
    event, details = _next_event(seen)
    assert event == ProviderEvent.PROVIDER_ERROR
    assert details.error_code == ErrorCode.GENERAL
    assert "still serving the last good flags (revision 1)" in (details.message or "")
    assert client.get_provider_status() == ProviderStatus.ERROR
    # ERROR is the SDK's status, not a refusal: the last good answer, without an error.
    result = client.get_boolean_details("switch", False)
    assert (result.value, result.error_code) == (True, None)

    _write(path, False)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
    assert client.get_provider_status() == ProviderStatus.READY
    assert client.get_boolean_value("switch", True) is False


def test_an_outage_that_ends_between_stale_and_error_reports_no_error(
    domain: str, tmp_path: Path
) -> None:
    path = tmp_path / "flags.json"
    _write(path, True)
    provider = FlagProvider(FileStore(path, poll_interval=0.02), stale_after=0.1, error_after=1.0)
    api.set_provider_and_wait(provider, domain)
    seen = provider_events(domain)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    path.unlink()
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_STALE
    _write(path, True)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    # The ERROR timer went with the outage: nothing follows, even after error_after.
    with pytest.raises(queue.Empty):
        seen.get(timeout=1.5)


@pytest.mark.parametrize(
    ("error_after", "problem"),
    [(0, "positive"), (-1.0, "positive"), ("5", "positive"), (1.0, "above"), (0.5, "above")],
)
def test_error_after_must_be_seconds_above_stale_after(
    tmp_path: Path, error_after: Any, problem: str
) -> None:
    store = FileStore(tmp_path / "flags.json")
    with pytest.raises(ConfigurationError, match=f"error_after.*{problem}"):
        FlagProvider(store, stale_after=1.0, error_after=error_after)


class _NeverWorks:
    """A store whose configuration can never work (as a bad URL found on connect)."""

    async def load(self) -> StoredDocument:
        raise ConfigurationError("the store's URL names no database")

    async def changes(self) -> AsyncIterator[None]:
        yield None

    async def close(self) -> None:
        pass


def test_a_configuration_that_can_never_work_is_fatal(domain: str) -> None:
    provider = FlagProvider(_NeverWorks())
    api.set_provider(provider, domain)
    client = api.get_client(domain)
    wait_until(
        lambda: client.get_provider_status() != ProviderStatus.NOT_READY,
        timeout=WAIT,
        interval=0.01,
    )
    assert client.get_provider_status() == ProviderStatus.FATAL
    result = client.get_boolean_details("switch", False)
    assert (result.value, result.error_code) == (False, ErrorCode.PROVIDER_FATAL)
    assert isinstance(provider.last_sync_error, ConfigurationError)


@pytest.mark.parametrize("setting", ["init_timeout", "stale_after"])
@pytest.mark.parametrize("value", [0, -1.0])
def test_timeouts_must_be_positive(tmp_path: Path, setting: str, value: float) -> None:
    store = FileStore(tmp_path / "flags.json")
    settings = {"init_timeout": 1.0, "stale_after": 1.0, setting: value}
    with pytest.raises(ConfigurationError, match=setting):
        FlagProvider(
            store, init_timeout=settings["init_timeout"], stale_after=settings["stale_after"]
        )


def test_retry_delays_grow_are_capped_at_a_second_and_jittered() -> None:
    # The cap bounds how long a worker serves old flags once its store is back.
    first = [_retry_delay(0) for _ in range(200)]
    late = [_retry_delay(30) for _ in range(200)]
    assert all(0.25 <= delay <= 0.5 for delay in first)
    assert all(0.5 <= delay <= 1.0 for delay in late)
    assert len(set(late)) > 1  # jitter: workers don't retry in step
    assert max(_retry_delay(3) for _ in range(200)) > max(first)
    assert 0.5 <= _retry_delay(10_000) <= 1.0  # an outage of hours never overflows


class _FlakyLoads:
    """A real MemoryStore whose next ``failures`` loads fail while its watch stays up.

    Like a store whose connection pool lost its connections while the notification
    channel survived: the change was announced once and will not be announced again.
    """

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.failures = 0

    async def load(self) -> StoredDocument:
        if self.failures:
            self.failures -= 1
            raise StoreError("connection reset while loading")
        return await self.store.load()

    def changes(self) -> AsyncIterator[None]:
        return self.store.changes()

    async def close(self) -> None:
        await self.store.close()


def test_a_failed_load_after_a_change_notice_is_retried_until_it_succeeds(domain: str) -> None:
    memory = MemoryStore(_document(True))
    flaky = _FlakyLoads(memory)
    api.set_provider_and_wait(FlagProvider(flaky, stale_after=0.2), domain)
    seen = provider_events(domain)
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    flaky.failures = 3  # long enough to go STALE (0.25 + 0.5 + 0.5 s of backoff at least)
    memory.replace(_document(False))
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_STALE
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_READY
    assert _next_event(seen)[0] == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
    assert api.get_client(domain).get_boolean_value("switch", True) is False

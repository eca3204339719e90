"""The flagd-testbed's provider events and connection scenarios, for a file-backed provider.

The testbed cuts a provider off by stopping flagd for a few seconds ("the connection is
lost for 3s"). A :class:`FlagProvider` over a :class:`FileStore` loses its source the same
way when the file goes away: each step here moves the scenario's own copy of the
testbed's ``allFlags.json`` aside for that long and puts it back, while the provider
keeps serving its last good flags and reconnects in the background.

The provider's outage timers are set as the testbed's flagd providers are: ``STALE``
soon after the loss (flagd's providers go stale at once), ``ERROR`` after a grace period
(flagd's ``retryGracePeriod``) that a 3 s loss outlasts and a 1 s loss does not. Each
``Then … handler should have been executed`` waits for the *next* such event after the
ones already checked, so a chain ready → stale → error → ready is checked in order.

Bound: ``events.feature``, all four scenarios; ``connection.feature``: "Connection"
(stable), "Provider reconnection" (stable) and "Provider unavailable" (a flag file that
does not exist, ``deadlineMs`` as ``init_timeout``). Skipped, with the reason in
``conftest.SKIPPED_TAGS``: ``@customCert`` and ``@unixsocket`` (flagd's TLS and socket
transports), ``@targetURI`` (gRPC name resolution through envoy) and ``@forbidden`` (a
gRPC status code; a store configuration that can never work is FATAL here, tested in
``tests/unit/test_provider_outages.py``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
from openfeature.event import EventDetails, ProviderEvent
from pytest_bdd import given, parsers, scenarios, then, when

from openfeature_litestar import FileStore, FlagProvider

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .conftest import Evaluation

scenarios("testbed/gherkin/events.feature", "testbed/gherkin/connection.feature")

POLL_INTERVAL = 0.02
STALE_AFTER = 0.2
# Above the 1 s loss plus the longest retry delay (1 s), below the 3 s loss.
ERROR_AFTER = 2.5
WAIT = 15.0

EVENTS = {
    "ready": ProviderEvent.PROVIDER_READY,
    "error": ProviderEvent.PROVIDER_ERROR,
    "stale": ProviderEvent.PROVIDER_STALE,
    "change": ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
}


@dataclass
class Seen:
    """The events the scenario's handlers saw, in order, and how far the checks got."""

    events: list[tuple[ProviderEvent, EventDetails]] = field(default_factory=list)
    checked: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, event: ProviderEvent, details: EventDetails) -> None:
        with self.changed:
            self.events.append((event, details))
            self.changed.notify_all()

    def next_of(self, event: ProviderEvent, timeout: float = WAIT) -> EventDetails:
        """The first ``event`` after those checked so far; the checks move past it."""
        with self.changed:
            found = self.changed.wait_for(lambda: self._index_of(event) is not None, timeout)
            assert found, f"no {event} after {self.events[: self.checked]!r}: {self.events!r}"
            index = self._index_of(event)
            assert index is not None
            self.checked = index + 1
            return self.events[index][1]

    def _index_of(self, event: ProviderEvent) -> int | None:
        for index in range(self.checked, len(self.events)):
            if self.events[index][0] == event:
                return index
        return None


@dataclass
class FlagFile:
    """The scenario's own flag file, which the steps take away and change."""

    path: Path
    restorers: list[threading.Timer] = field(default_factory=list)

    def lose_for(self, seconds: float) -> None:
        """Move the file aside now, and back after ``seconds`` (without blocking)."""
        away = self.path.with_name(self.path.name + ".away")
        self.path.replace(away)
        restorer = threading.Timer(seconds, away.replace, args=(self.path,))
        restorer.start()
        self.restorers.append(restorer)

    def flip_changing_flag(self) -> None:
        """Switch ``changing-flag``'s default variant, as the testbed's flagd change does."""
        document = json.loads(self.path.read_text(encoding="utf-8"))
        flag = document["flags"]["changing-flag"]
        flag["defaultVariant"] = "bar" if flag["defaultVariant"] == "foo" else "foo"
        written = self.path.with_name(self.path.name + ".new")
        written.write_text(json.dumps(document), encoding="utf-8")
        written.replace(self.path)  # whole, as a deploy tool writes it


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def flag_file(provider_suite_files: dict[str, Path], tmp_path: Path) -> Iterator[FlagFile]:
    path = tmp_path / "allFlags.json"
    path.write_bytes(provider_suite_files["flags/allFlags.json"].read_bytes())
    flag_file = FlagFile(path)
    yield flag_file
    for restorer in flag_file.restorers:
        restorer.join()


def _provider(evaluation: Evaluation, store: FileStore) -> FlagProvider:
    init_timeout = float(evaluation.options.get("deadlineMs", "10000")) / 1000
    return FlagProvider(
        store, init_timeout=init_timeout, stale_after=STALE_AFTER, error_after=ERROR_AFTER
    )


@given("a stable flagd provider")
def given_stable_provider(evaluation: Evaluation, flag_file: FlagFile) -> None:
    store = FileStore(flag_file.path, poll_interval=POLL_INTERVAL)
    evaluation.register(_provider(evaluation, store), "conformance-events")


@given("a unavailable flagd provider")
def given_unavailable_provider(evaluation: Evaluation, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "no-such-flags.json", poll_interval=POLL_INTERVAL)
    evaluation.register(_provider(evaluation, store), "conformance-events", wait=False)


@given(parsers.re(r"an? (?P<name>ready|error|stale|change) event handler"))
def given_handler(evaluation: Evaluation, seen: Seen, name: str) -> None:
    assert evaluation.client is not None, "no provider was set up"
    event = EVENTS[name]

    def handler(details: EventDetails) -> None:
        seen.add(event, details)

    # A READY handler added to a ready provider runs at once (specification 5.3.3).
    evaluation.client.add_handler(event, handler)


@when(parsers.re(r"the connection is lost for (?P<seconds>\d+)s"))
def when_connection_lost(flag_file: FlagFile, seconds: str) -> None:
    flag_file.lose_for(int(seconds))


@when("the flag was modified")
def when_flag_modified(flag_file: FlagFile) -> None:
    flag_file.flip_changing_flag()


@when(parsers.re(r"an? (?P<name>ready|error|stale|change) event was fired"))
def when_event_fired(seen: Seen, name: str) -> None:
    seen.next_of(EVENTS[name])


@then(
    parsers.re(
        r"the (?P<name>ready|error|stale|change) event handler should have been executed"
        r"(?: within (?P<milliseconds>\d+)ms)?"
    )
)
def then_handler_ran(seen: Seen, name: str, milliseconds: str | None) -> None:
    timeout = int(milliseconds) / 1000 if milliseconds else WAIT
    seen.next_of(EVENTS[name], timeout)


@then("the flag should be part of the event payload")
def then_flag_in_payload(evaluation: Evaluation, seen: Seen) -> None:
    assert evaluation.flag is not None
    changes = [d for e, d in seen.events if e == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]
    assert changes, "no change event"
    assert evaluation.flag.key in (changes[-1].flags_changed or [])
    # And the change is served: the flag answers with the other variant now.
    assert evaluation.client is not None
    assert evaluation.client.get_string_value(evaluation.flag.key, "false") == "bar"

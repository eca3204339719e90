"""What a provider logs for its operator: what it serves, each change, and unknown keys."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent

from openfeature_litestar import FlagProvider, MemoryStore
from openfeature_litestar._provider._unknown_keys import UnknownKeys
from tests.support import flag, wait_until

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient

LOGGER = "openfeature_litestar.provider"


def _document(*keys: str) -> dict[str, Any]:
    return {"flags": {key: flag("off") for key in keys}}


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == level]


def _serve(domain: str, store: MemoryStore, **options: Any) -> OpenFeatureClient:
    api.set_provider_and_wait(FlagProvider(store, **options), domain)
    return api.get_client(domain)


def _changes(client: OpenFeatureClient) -> list[EventDetails]:
    seen: list[EventDetails] = []
    client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, seen.append)
    return seen


def test_the_first_load_says_how_many_flags_from_where_at_which_revision(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    store = MemoryStore(_document("a", "b"), namespace="staging")
    _serve(domain, store)
    (line,) = _messages(caplog, logging.INFO)
    assert line == f"serving 2 flags from {store!r} at revision 1"
    assert "namespace='staging'" in line
    assert _messages(caplog, logging.WARNING) == []


def test_each_change_applied_names_its_revision_and_the_flags_it_changed(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore(_document("a", "b"))
    client = _serve(domain, store)
    changes = _changes(client)
    caplog.set_level(logging.INFO, logger=LOGGER)
    # The first load's line may be there already (another test may have set the logger to
    # INFO, as a Litestar app's logging configuration does): only the change's is checked.
    caplog.clear()

    store.replace(_document("a", "c"))
    wait_until(lambda: len(changes) == 1, timeout=10, interval=0.01)
    (line,) = _messages(caplog, logging.INFO)
    assert line.startswith("applied revision 2 from MemoryStore(")
    assert line.endswith(": 2 flags changed (b, c)")


def test_a_change_of_many_flags_names_ten_and_counts_the_rest(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore(_document("kept"))
    client = _serve(domain, store)
    changes = _changes(client)
    caplog.set_level(logging.INFO, logger=LOGGER)
    # The first load's line may be there already (another test may have set the logger to
    # INFO, as a Litestar app's logging configuration does): only the change's is checked.
    caplog.clear()
    keys = [f"new-{n:02}" for n in range(14)]
    store.replace(_document("kept", *keys))
    wait_until(lambda: len(changes) == 1, timeout=10, interval=0.01)
    (line,) = _messages(caplog, logging.INFO)
    assert line.endswith(f": 14 flags changed ({', '.join(keys[:10])}, and 4 more)")


def test_an_empty_namespace_is_a_warning_at_start_and_when_a_change_empties_it(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    empty = MemoryStore(namespace="typo")
    _serve(domain, empty)
    (warning,) = _messages(caplog, logging.WARNING)
    assert warning.startswith(f"{empty!r} holds no flags at revision 0")
    assert "is the namespace right?" in warning

    caplog.clear()
    store = MemoryStore(_document("a"))
    client = _serve(f"{domain}-2", store)
    changes = _changes(client)
    store.replace({"flags": {}})
    wait_until(lambda: len(changes) == 1, timeout=10, interval=0.01)
    (warning,) = _messages(caplog, logging.WARNING)
    assert "holds no flags at revision 2" in warning
    api.set_provider(FlagProvider(MemoryStore()), f"{domain}-2")


@pytest.mark.parametrize("usage", [True, False], ids=["counting", "not-counting"])
def test_an_unknown_key_is_logged_the_first_time_only(
    domain: str, caplog: pytest.LogCaptureFixture, usage: bool
) -> None:
    client = _serve(domain, MemoryStore(_document("known")), usage=usage)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for _ in range(3):
        assert client.get_boolean_value("new-chekout", True) is True
        assert client.get_boolean_value("known", True) is False
    assert client.get_boolean_value("other-typo", True) is True
    assert _messages(caplog, logging.WARNING) == [
        f'code asked for flag "{key}", which MemoryStore(revision=1, flags=1) does not '
        "have: it gets its default with FLAG_NOT_FOUND (logged once per key)"
        for key in ("new-chekout", "other-typo")
    ]


def test_unknown_keys_logged_are_bounded_and_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    unknown = UnknownKeys("the store", limit=3)
    unknown.note('forged\n2026-12-04 INFO all "fine"')
    for n in range(10):
        unknown.note(f"key-{n}")
    lines = _messages(caplog, logging.WARNING)
    assert len(lines) == 4
    assert lines[0].startswith('code asked for flag "forged\\n2026-12-04 INFO all \\"fine\\"",')
    assert "\n" not in lines[0]
    assert lines[-1].startswith("code has asked for more than 3 flag keys that 'the store'")

"""FileStore: loading, revisions, and a provider following edits of a real file."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import queue
import time
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode, GeneralError
from openfeature.provider import ProviderStatus

from openfeature_litestar import (
    DocumentError,
    FileStore,
    FlagProvider,
    FlagStore,
    OpenFeatureLitestarError,
    StoreError,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from openfeature.client import OpenFeatureClient

WAIT = 10.0  # generous: only a broken store ever waits this long
POLL = 0.05


def _flags(colour: str = "red", *, extra: bool = False) -> dict[str, Any]:
    flags: dict[str, Any] = {
        "colour": {
            "state": "ENABLED",
            "variants": {"red": "red", "blue": "blue", "green": "green"},
            "defaultVariant": colour,
        },
        "enabled": {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"},
    }
    if extra:
        flags["extra"] = {"state": "ENABLED", "variants": {"n": 1}, "defaultVariant": "n"}
    return {"flags": flags}


def _write(path: Path, content: str | dict[str, Any]) -> None:
    """Replace ``path`` atomically, as editors and deploy tools should."""
    text = content if isinstance(content, str) else json.dumps(content)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _wait_until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` (set by the background sync), failing after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {WAIT} s")
        time.sleep(POLL / 5)


def _sync_error(provider: FlagProvider) -> OpenFeatureLitestarError | None:
    """The provider's last sync error, read afresh: the background sync changes it."""
    return provider.last_sync_error


class EventLog:
    """Collects one kind of provider event from a client."""

    def __init__(self, client: OpenFeatureClient, event: ProviderEvent) -> None:
        self._events: queue.Queue[EventDetails] = queue.Queue()
        client.add_handler(event, self._events.put)

    def next(self) -> EventDetails:
        try:
            return self._events.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no event within {WAIT} s")


# -- the store on its own -------------------------------------------------------------------


def test_is_a_flag_store(tmp_path: Path) -> None:
    assert isinstance(FileStore(tmp_path / "flags.json"), FlagStore)


@pytest.mark.parametrize("interval", [0, 0.0, -1])
def test_poll_interval_must_be_positive(tmp_path: Path, interval: float) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        FileStore(tmp_path / "flags.json", poll_interval=interval)


def test_repr(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    store = FileStore(path, poll_interval=0.25)
    assert repr(store) == f"FileStore({str(path)!r}, poll_interval=0.25)"
    assert store.path == path
    assert store.strict is True


def test_load_counts_revisions_by_content_change(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    store = FileStore(path, poll_interval=POLL)
    first = asyncio.run(store.load())
    assert first.revision == 1
    assert first.document.flags["colour"].default_variant == "red"
    assert asyncio.run(store.load()).revision == 1  # unchanged file, same revision
    _write(path, _flags("green", extra=True))
    second = asyncio.run(store.load())
    assert second.revision == 2
    assert second.document.flags["colour"].default_variant == "green"


def test_load_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "flags.yaml"
    _write(
        path,
        "flags:\n"
        "  switch:\n"
        "    state: ENABLED\n"
        "    variants: {on: 'on', off: 'off'}\n"
        "    defaultVariant: 'off'\n",
    )
    stored = asyncio.run(FileStore(path).load())
    assert stored.document.flags["switch"].variants == {"on": "on", "off": "off"}


def test_load_of_a_missing_file_is_a_store_error(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "absent.json")
    with pytest.raises(StoreError, match=r"absent\.json"):
        asyncio.run(store.load())


def test_load_of_an_invalid_file_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, {"flags": {"x": {"state": "ENABLED", "variants": {}}}})
    with pytest.raises(DocumentError) as caught:
        asyncio.run(FileStore(path).load())
    assert [problem.path for problem in caught.value.problems] == ["flags.x.variants"]


def test_lenient_store_keeps_a_broken_flag(tmp_path: Path, domain: str) -> None:
    path = tmp_path / "flags.json"
    broken = {"state": "ENABLED", "variants": {"a": "a"}, "targeting": {"$ref": "missing"}}
    _write(path, {"flags": {**_flags()["flags"], "broken": broken}})
    with pytest.raises(DocumentError):
        asyncio.run(FileStore(path).load())
    api.set_provider_and_wait(FlagProvider(FileStore(path, strict=False)), domain=domain)
    client = api.get_client(domain)
    details = client.get_string_details("broken", "fallback")
    assert (details.error_code, details.value) == (ErrorCode.PARSE_ERROR, "fallback")
    assert client.get_string_value("colour", "") == "red"


def test_changes_yield_on_start_then_on_each_edit_until_closed(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    store = FileStore(path, poll_interval=POLL)

    async def watch() -> None:
        changes = store.changes()
        await asyncio.wait_for(anext(changes), WAIT)  # watching has started
        edited = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        _write(path, _flags("green", extra=True))
        await asyncio.wait_for(edited, WAIT)
        assert (await store.load()).document.flags["colour"].default_variant == "green"
        deleted = asyncio.ensure_future(anext(changes))
        path.unlink()  # a vanished file is a change too
        await asyncio.wait_for(deleted, WAIT)
        after_close = asyncio.ensure_future(anext(changes))
        await asyncio.sleep(0)
        await store.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(after_close, WAIT)

    asyncio.run(watch())


# -- a provider following the file ----------------------------------------------------------


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    return path


@pytest.fixture
def served(flag_file: Path, domain: str) -> tuple[FlagProvider, OpenFeatureClient]:
    provider = FlagProvider(FileStore(flag_file, poll_interval=POLL))
    api.set_provider_and_wait(provider, domain=domain)
    return provider, api.get_client(domain)


def test_a_good_edit_swaps_the_flags(
    flag_file: Path, served: tuple[FlagProvider, OpenFeatureClient]
) -> None:
    provider, client = served
    assert client.get_string_value("colour", "") == "red"
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    _write(flag_file, _flags("blue", extra=True))
    assert changed.next().flags_changed == ["colour", "extra"]
    assert client.get_string_value("colour", "") == "blue"
    assert client.get_integer_value("extra", 0) == 1
    assert provider.snapshot.revision == 2
    assert _sync_error(provider) is None


def test_an_invalid_edit_keeps_the_last_good_flags_until_fixed(
    flag_file: Path, served: tuple[FlagProvider, OpenFeatureClient]
) -> None:
    provider, client = served
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    _write(flag_file, '{"flags": {"colour": {"state": "ENABLED", "variants": ')
    _wait_until(lambda: _sync_error(provider) is not None)
    assert isinstance(_sync_error(provider), DocumentError)
    assert client.get_string_value("colour", "") == "red"
    assert client.get_boolean_value("enabled", False) is True
    assert client.get_provider_status() == ProviderStatus.READY

    _write(flag_file, {"flags": {"colour": {"state": "ENABLED", "variants": {}}}})
    _wait_until(
        lambda: (
            _sync_error(provider) is not None
            and "flags.colour.variants" in str(_sync_error(provider))
        )
    )
    assert client.get_string_value("colour", "") == "red"

    _write(flag_file, _flags("green"))
    assert changed.next().flags_changed == ["colour"]
    assert _sync_error(provider) is None
    assert client.get_string_value("colour", "") == "green"


def test_a_missing_file_at_start_is_an_error_until_it_appears(tmp_path: Path, domain: str) -> None:
    path = tmp_path / "later.json"
    provider = FlagProvider(FileStore(path, poll_interval=POLL))
    with pytest.raises(GeneralError, match=r"later\.json"):
        api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    assert client.get_provider_status() == ProviderStatus.ERROR
    assert isinstance(_sync_error(provider), StoreError)
    assert client.get_string_details("colour", "none").value == "none"

    ready = EventLog(client, ProviderEvent.PROVIDER_READY)
    _write(path, _flags("blue"))
    assert ready.next().flags_changed == ["colour", "enabled"]
    assert client.get_provider_status() == ProviderStatus.READY
    assert _sync_error(provider) is None
    details = client.get_string_details("colour", "none")
    assert (details.value, details.error_code) == ("blue", None)


def test_shutdown_stops_watching_but_keeps_serving(
    served: tuple[FlagProvider, OpenFeatureClient],
) -> None:
    provider, client = served
    provider.shutdown()
    provider.shutdown()
    assert client.get_string_value("colour", "") == "red"


def test_reinitialize_after_shutdown_follows_the_file_again(
    flag_file: Path, served: tuple[FlagProvider, OpenFeatureClient]
) -> None:
    provider, client = served
    provider.shutdown()
    provider.initialize(EvaluationContext())
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    _write(flag_file, _flags("blue"))
    assert changed.next().flags_changed == ["colour"]
    assert client.get_string_value("colour", "") == "blue"

"""FileStore: loading, revisions, and a provider following edits of a real file."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import os
import queue
import stat
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode, GeneralError
from openfeature.provider import ProviderStatus

from openfeature_litestar import (
    ConfigurationError,
    DocumentError,
    FileStore,
    FlagProvider,
    FlagStore,
    OpenFeatureLitestarError,
    RevisionConflict,
    StoreError,
    WritableFlagStore,
    load_document,
)
from openfeature_litestar._stores import _file as file_module
from tests.support import flag, wait_until

if TYPE_CHECKING:
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
    assert store.strict is False  # read as flagd reads it, since 0.2.0


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
        asyncio.run(FileStore(path, strict=True).load())
    stored = asyncio.run(FileStore(path).load())
    assert [w.path for w in stored.document.warnings] == ["flags.broken.targeting.$ref"]
    api.set_provider_and_wait(FlagProvider(FileStore(path)), domain=domain)
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
    wait_until(lambda: _sync_error(provider) is not None, timeout=WAIT, interval=POLL / 5)
    assert isinstance(_sync_error(provider), DocumentError)
    assert client.get_string_value("colour", "") == "red"
    assert client.get_boolean_value("enabled", False) is True
    assert client.get_provider_status() == ProviderStatus.READY

    _write(flag_file, {"flags": {"colour": {"state": "ENABLED", "variants": {}}}})
    wait_until(
        lambda: (
            _sync_error(provider) is not None
            and "flags.colour.variants" in str(_sync_error(provider))
        ),
        timeout=WAIT,
        interval=POLL / 5,
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


# -- writing --------------------------------------------------------------------------------

FLAG = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"}


def test_is_a_writable_store(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "flags.json", namespace="qa")
    assert isinstance(store, WritableFlagStore)
    assert store.namespace == "qa"
    assert (
        repr(store)
        == f"FileStore({str(tmp_path / 'flags.json')!r}, namespace='qa', poll_interval=1.0)"
    )


def test_namespace_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        FileStore(tmp_path / "flags.json", namespace="../etc")


def test_the_first_write_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    store = FileStore(path)
    with pytest.raises(StoreError, match="no such file"):
        asyncio.run(store.load())
    assert asyncio.run(store.put_flag("switch", FLAG, actor="alice", expected_revision=0)) == 1
    assert json.loads(path.read_text(encoding="utf-8")) == {"flags": {"switch": FLAG}}
    assert path.read_text(encoding="utf-8").startswith('{\n  "flags"')  # indented
    assert asyncio.run(store.load()).revision == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flags.json",
        "flags.json.audit.jsonl",
        "flags.json.lock",
        "flags.json.state.json",
    ]


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_writes_keep_yaml_and_its_permissions(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"flags{suffix}"
    _write(path, "# hand-written\nflags: {}\n")
    path.chmod(0o640)
    asyncio.run(FileStore(path).put_flag("switch", FLAG, actor="alice"))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("flags:\n  switch:\n")
    assert load_document(path).flags["switch"].default_variant == "on"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_audit_trail_is_json_lines_next_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    store = FileStore(path)
    asyncio.run(store.put_flag("switch", FLAG, actor="alice"))
    asyncio.run(store.delete_flag("switch", actor="bob"))
    lines = (tmp_path / "flags.json.audit.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["flag_key"], r["action"], r["actor"], r["revision"]) for r in records] == [
        ("switch", "create", "alice", 1),
        ("switch", "delete", "bob", 2),
    ]
    assert [entry.id for entry in asyncio.run(store.audit_log())] == [
        records[1]["id"],
        records[0]["id"],
    ]


def test_a_hand_edit_is_a_revision_every_store_object_agrees_on(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    writer, reader = FileStore(path), FileStore(path)
    asyncio.run(writer.put_flag("switch", FLAG, actor="alice"))
    assert asyncio.run(reader.load()).revision == 1
    _write(path, {"flags": {"switch": {**FLAG, "defaultVariant": "off"}}})
    assert asyncio.run(reader.load()).revision == 2  # recorded by the first to see it
    assert asyncio.run(FileStore(path).load()).revision == 2
    assert asyncio.run(writer.load()).revision == 2
    with pytest.raises(RevisionConflict) as caught:
        asyncio.run(writer.put_flag("switch", FLAG, actor="alice", expected_revision=1))
    assert caught.value.actual == 2
    assert asyncio.run(writer.put_flag("switch", FLAG, actor="alice", expected_revision=2)) == 3
    [latest, first] = asyncio.run(reader.audit_log())  # the hand edit itself is not audited
    assert (latest.revision, latest.before, latest.after) == (
        3,
        {**FLAG, "defaultVariant": "off"},
        FLAG,
    )
    assert first.revision == 1


def test_a_hand_edit_not_yet_loaded_still_counts_for_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    store = FileStore(path)
    asyncio.run(store.put_flag("a", FLAG, actor="alice"))
    _write(path, {"flags": {}})
    assert asyncio.run(store.put_flag("b", FLAG, actor="alice")) == 3
    assert sorted(asyncio.run(store.load()).document.flags) == ["b"]


def test_writes_over_an_invalid_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, '{"flags": ')
    with pytest.raises(StoreError, match="invalid flag file"):
        asyncio.run(FileStore(path).put_flag("a", FLAG, actor="alice"))
    assert path.read_text(encoding="utf-8") == '{"flags": '


def test_a_write_that_stops_before_its_commit_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flags.json"
    store = FileStore(path)
    asyncio.run(store.put_flag("a", FLAG, actor="alice"))

    def crash(_self: FileStore, _state: object) -> None:
        raise OSError("simulated crash before the commit")

    with monkeypatch.context() as patch:
        patch.setattr(FileStore, "_write_state", crash)
        with pytest.raises(StoreError, match="simulated crash"):
            asyncio.run(store.put_flag("b", FLAG, actor="bob"))
    other = FileStore(path)
    stored = asyncio.run(other.load())
    assert (stored.revision, list(stored.document.flags)) == (1, ["a"])
    assert [entry.actor for entry in asyncio.run(other.audit_log())] == ["alice"]
    assert asyncio.run(other.put_flag("c", FLAG, actor="carol")) == 2
    entries = asyncio.run(other.audit_log())
    assert [(entry.actor, entry.revision) for entry in entries] == [("carol", 2), ("alice", 1)]
    assert not (tmp_path / "flags.json.pending").exists()


def test_a_write_that_stops_after_its_commit_is_completed_by_the_next_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flags.json"
    store = FileStore(path)
    asyncio.run(store.put_flag("a", FLAG, actor="alice"))

    def crash(_self: FileStore) -> None:
        raise OSError("simulated crash after the commit")

    with monkeypatch.context() as patch:
        patch.setattr(FileStore, "_publish_pending", crash)
        with pytest.raises(StoreError, match="simulated crash"):
            asyncio.run(store.put_flag("b", FLAG, actor="bob"))
    assert list(json.loads(path.read_text(encoding="utf-8"))["flags"]) == ["a"]
    other = FileStore(path)
    stored = asyncio.run(other.load())
    assert (stored.revision, list(stored.document.flags)) == (2, ["a", "b"])
    assert [entry.actor for entry in asyncio.run(other.audit_log())] == ["bob", "alice"]
    assert not (tmp_path / "flags.json.pending").exists()


def test_where_no_lock_can_be_taken_revisions_count_per_store(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    (tmp_path / "flags.json.lock").mkdir()  # cannot be opened as a file, even by root
    store = FileStore(path)
    assert asyncio.run(store.load()).revision == 1
    assert asyncio.run(store.load()).revision == 1
    _write(path, _flags("blue"))
    assert asyncio.run(store.load()).revision == 2
    with pytest.raises(StoreError, match="cannot write"):
        asyncio.run(store.put_flag("a", FLAG, actor="alice"))
    assert not (tmp_path / "flags.json.state.json").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_a_held_lock_times_out_as_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl  # noqa: PLC0415 - POSIX only

    monkeypatch.setattr(file_module, "LOCK_TIMEOUT", 0.2)
    path = tmp_path / "flags.json"
    with (tmp_path / "flags.json.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="held"):
            asyncio.run(FileStore(path).put_flag("a", FLAG, actor="alice"))
    assert asyncio.run(FileStore(path).put_flag("a", FLAG, actor="alice")) == 1


def test_a_corrupt_state_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    _write(path, _flags())
    (tmp_path / "flags.json.state.json").write_text("{", encoding="utf-8")
    with pytest.raises(StoreError, match="corrupt"):
        asyncio.run(FileStore(path).load())


_WRITER = """
import asyncio, sys
from openfeature_litestar import FileStore
flag = {"state": "ENABLED", "variants": {"on": True}, "defaultVariant": "on"}
store = FileStore(sys.argv[1])
for n in range(int(sys.argv[3])):
    asyncio.run(store.put_flag(f"{sys.argv[2]}-{n}", flag, actor=sys.argv[2]))
"""


@pytest.mark.integration
def test_writers_in_separate_processes_lose_no_update(tmp_path: Path) -> None:
    path, processes, writes = tmp_path / "flags.yaml", 4, 5
    children = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), f"p{n}", str(writes)])  # noqa: S603 - our own script
        for n in range(processes)
    ]
    assert [child.wait(WAIT * 6) for child in children] == [0] * processes
    stored = asyncio.run(FileStore(path).load())
    assert stored.revision == processes * writes
    assert len(stored.document.flags) == processes * writes
    entries = asyncio.run(FileStore(path).audit_log(limit=1000))
    assert sorted(entry.revision for entry in entries) == list(range(1, processes * writes + 1))


def test_reading_leaves_no_files_behind(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": {}}))
    store = FileStore(path)
    stored = asyncio.run(store.load())
    path.write_text(json.dumps({"flags": {}, "metadata": {"version": "2"}}))
    edited = asyncio.run(store.load())
    assert (stored.revision, edited.revision) == (1, 2)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["flags.json"]


def test_a_fifo_or_a_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "flags.json"
    os.mkfifo(fifo)  # no writer ever opens it: a blocking open would wait for ever
    with pytest.raises(StoreError, match="not a regular file"):
        asyncio.run(asyncio.wait_for(FileStore(fifo).load(), WAIT))
    with pytest.raises(StoreError, match="not a regular file"):
        asyncio.run(asyncio.wait_for(FileStore(tmp_path).load(), WAIT))


def test_a_fifo_in_place_of_the_file_makes_the_provider_stale_until_a_file_is_back(
    tmp_path: Path, domain: str
) -> None:
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    provider = FlagProvider(FileStore(path, poll_interval=POLL), stale_after=POLL * 2)
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    stale = EventLog(client, ProviderEvent.PROVIDER_STALE)
    path.unlink()
    os.mkfifo(path)
    stale.next()
    assert client.get_string_value("colour", "") == "red"  # the last good flags
    assert isinstance(_sync_error(provider), StoreError)

    ready = EventLog(client, ProviderEvent.PROVIDER_READY)
    path.unlink()
    _write(path, _flags("green"))
    ready.next()
    wait_until(
        lambda: client.get_string_value("colour", "") == "green", timeout=WAIT, interval=POLL
    )


def test_load_timeout_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="load_timeout"):
        FileStore(tmp_path / "flags.json", load_timeout=0)


def test_a_read_that_hangs_is_a_store_error_after_load_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hung network mount cannot be made here: the read itself is made to hang.
    path = tmp_path / "flags.json"
    _write(path, _flags("red"))
    store = FileStore(path, load_timeout=0.1)
    read = store._read_document

    def hanging_read() -> bytes | None:
        time.sleep(1.0)
        return read()

    monkeypatch.setattr(store, "_read_document", hanging_read)
    with pytest.raises(StoreError, match=r"did not finish in 0\.1 s"):
        asyncio.run(store.load())


def test_the_load_timeout_bounds_reading_not_parsing(tmp_path: Path) -> None:
    # Validating and compiling a large document takes seconds (paced, on the compile
    # pool): only the read, which a hung mount can block for ever, is timed.
    flags = {
        f"flag-{n}": flag(targeting={"in": [{"var": "id"}, list(range(50))]}) for n in range(2000)
    }
    path = tmp_path / "flags.json"
    path.write_text(json.dumps({"flags": flags}))
    store = FileStore(path, load_timeout=0.05)
    assert len(asyncio.run(store.load()).document.flags) == 2000

"""A store that reads one JSON or YAML file, watches it for edits, and writes it safely.

The first write creates three small files next to the document ``flags.yaml`` (reading
a file no store has written creates none):

* ``flags.yaml.state.json`` records the committed revision, the SHA-256 of the document
  it belongs to, and how many bytes of the audit trail are committed. Replacing it (by
  rename) is the single step that commits a write.
* ``flags.yaml.audit.jsonl`` is the audit trail, one JSON object per line.
* ``flags.yaml.lock`` is locked (``flock``) by every writer, serialising writers across
  processes.

A write, under the lock: write the new document to ``flags.yaml.pending`` (fsync);
append its audit entries (fsync); commit the state; rename the pending file over the
document. A crash before the commit leaves the document, its revision and the visible
trail as they were (the uncommitted trail tail is cut off by the next write); a crash
after it is completed by the next reader or writer, which finds the pending file
matching the committed state and renames it. So no write is ever visible without its
audit entries, and no entry without its write.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from openfeature_litestar._document import MAX_DOCUMENT_BYTES, dump_document, parse_document
from openfeature_litestar._errors import DocumentError, StoreError
from openfeature_litestar._validation import positive_seconds

from ._base import AuditEntry, StoredDocument
from ._names import check_namespace
from ._offload import off_loop
from ._usage import InProcessUsage
from ._writes import (
    DocumentWrites,
    Expected,
    changes_between,
    check_actor,
    check_audit_limit,
    empty_document,
    utc_now,
)

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from openfeature_litestar._document import DocumentFormat, FlagDocument

    from ._usage import UsageBatch, UsageRecord

__all__ = ["FileStore"]

_FileVersion = tuple[int, int, int, int]

LOCK_TIMEOUT = 10.0
"""Seconds a write (or a reader recording a hand edit) waits for the lock."""

_LOCK_RETRY = 0.005

# Writers in one process also take a thread lock per file: flock() on some network file
# systems is emulated with per-process record locks, which would not exclude threads.
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class _State:
    """The committed state of a document file (what ``<file>.state.json`` holds)."""

    revision: int
    sha256: str  # of the document's bytes; "" for no file
    audit_bytes: int


_NEVER_WRITTEN = _State(0, "", 0)


def _digest(data: bytes | None) -> str:
    return "" if data is None else hashlib.sha256(data).hexdigest()


class FileStore(DocumentWrites):
    """A flag store backed by one flag-document file (JSON or YAML): watched, writable.

    **Reading.** The file is polled with :func:`os.stat` rather than watched with
    inotify: polling works the same on every OS and file system (network mounts,
    container volumes) and sees the symlink swap with which Kubernetes updates a mounted
    ConfigMap, at the cost of one ``stat`` per ``poll_interval``. Editors and deploy
    tools should replace the file atomically (write a temporary file, then rename it
    over); a file read while half-written fails validation and the provider keeps its
    last good snapshot until the next, complete version. A missing file is a
    :class:`~openfeature_litestar.StoreError` for readers (a wrong path must not look
    like an empty flag set); the first write creates it.

    **Writing** (see the module documentation for the files it keeps): each write is
    atomic, validated, audited in ``<file>.audit.jsonl``, and serialised across
    processes with ``flock`` on ``<file>.lock`` (POSIX; where ``fcntl`` is missing, only
    writers within one process are serialised). A write rewrites the file in the format
    of its suffix (indented JSON for ``.json``, YAML for ``.yaml``/``.yml``, else JSON),
    so comments and layout of a hand-written file are not kept, and a symlink is
    replaced by a regular file. Reading is lenient (by default) and writing strict: a
    write is refused for the problems of the flags it writes (see
    :meth:`FlagDocument.with_flags <openfeature_litestar.FlagDocument.with_flags>`),
    never for another flag's.

    **Revisions** of a file that a store has written are the same in every process:
    the revision of the last write, plus one for a hand edit, which the first process
    to see it records (unaudited) in ``<file>.state.json``. Reading a file no store has
    written creates no file: it is revision 1 when first read and counts its edits per
    store object, as it does where the state cannot be written (a read-only volume); the
    first write creates the side files and continues from there.

    Args:
        path: The document's path; ``.json`` is read as JSON, ``.yaml``/``.yml`` as YAML.
        namespace: The name this file's flags go by in audit entries and errors (the
            file is the namespace: use one file per environment).
        poll_interval: Seconds between checks for a changed file.
        strict: Load as flagd does (the default, problems in
            :attr:`~openfeature_litestar.FlagDocument.warnings`) or strictly, refusing a
            file with such problems; see :func:`~openfeature_litestar.parse_document`.
        load_timeout: Seconds a read may take before it counts as a failure (a hung
            network mount); the provider then serves its last good flags and goes STALE.

    Raises:
        ConfigurationError: ``poll_interval`` or ``load_timeout`` is not a positive number
            of seconds.
        ValueError: ``namespace`` is invalid.

    .. versionchanged:: 0.2.0
       ``strict`` is ``False`` by default: the file is read as flagd reads it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "default",
        poll_interval: float = 1.0,
        strict: bool = False,
        load_timeout: float = 10.0,
    ) -> None:
        """Create the store for the file at ``path`` (nothing is read yet)."""
        poll_interval = positive_seconds("poll_interval", poll_interval)
        self.load_timeout = positive_seconds("load_timeout", load_timeout)
        self.path = Path(path)
        self.namespace = check_namespace(namespace)
        self.poll_interval = poll_interval
        self.strict = strict
        name = self.path.name
        self._state_path = self.path.with_name(f"{name}.state.json")
        self._audit_path = self.path.with_name(f"{name}.audit.jsonl")
        self._lock_path = self.path.with_name(f"{name}.lock")
        self._pending_path = self.path.with_name(f"{name}.pending")
        suffix = self.path.suffix.lower()
        self._format: Literal["json", "yaml"] = "yaml" if suffix in {".yaml", ".yml"} else "json"
        self._read_format: DocumentFormat = (
            "json" if suffix == ".json" else "yaml" if suffix in {".yaml", ".yml"} else "auto"
        )
        self._unrecorded_guard = threading.Lock()
        self._unrecorded: tuple[str, int] | None = None
        # Closing is per event loop: one provider's shutdown must not end the watch of
        # another provider that shares this store.
        self._closed_loops: set[asyncio.AbstractEventLoop] = set()
        self._usage = InProcessUsage()

    # -- usage counters -----------------------------------------------------------------------

    async def record_usage(self, batch: UsageBatch) -> None:
        """Add a provider's usage counts to this store object's, in this process only.

        The file store writes no counts to disk: each process keeps its own. See
        :class:`~openfeature_litestar.UsageStore`.

        .. versionadded:: 0.2.0
        """
        await self._usage.record_usage(batch)

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        """This process's usage counts per hour, as :class:`~openfeature_litestar.UsageStore`.

        .. versionadded:: 0.2.0
        """
        return await self._usage.read_usage(since=since, until=until)

    # -- reading ----------------------------------------------------------------------------

    async def load(self) -> StoredDocument:
        """Read and validate the file.

        Raises:
            DocumentError: The file is not a valid flag document.
            StoreError: The file (or its state) cannot be read, does not exist, is not a
                regular file, or reading it took longer than ``load_timeout``.
        """
        try:
            # A hung network mount blocks the reading thread; the wait is bounded so the
            # provider sees an outage (and goes STALE) instead of waiting for ever.
            data, revision = await asyncio.wait_for(
                asyncio.to_thread(self._read_stored), self.load_timeout
            )
        except asyncio.TimeoutError:
            raise StoreError(
                f"reading flag file {str(self.path)!r} did not finish in {self.load_timeout} s"
            ) from None
        # Parsed on the compile pool (paced, see ``_offload``), outside the read's time
        # limit: a large document takes seconds to validate and compile.
        document = await off_loop(
            parse_document,
            data,
            format=self._read_format,
            strict=self.strict,
            source=str(self.path),
        )
        return StoredDocument(document, revision)

    def _read_stored(self) -> tuple[bytes, int]:
        """The file's content and its revision (recording a hand edit, if it can)."""
        data, state = self._read_document(), self._read_state()
        if data is not None and _digest(data) == state.sha256:
            revision = state.revision
        elif not self._state_path.exists():
            # Never written by a store: reading leaves no files behind (a provider on a
            # file in a repository or a mounted volume must not litter it).
            revision = self._unrecorded_revision(state, data)
        else:
            try:
                revision, data = self._settle_revision()
            except OSError:  # no lock or state file can be written here (read-only volume)
                data, state = self._read_document(), self._read_state()
                revision = self._unrecorded_revision(state, data)
        if data is None:
            raise StoreError(f"cannot read flag file {str(self.path)!r}: no such file")
        return data, revision

    def _settle_revision(self) -> tuple[int, bytes | None]:
        """Under the lock: finish a crashed write, record a hand edit; return the revision."""
        with self._locked():
            self._recover()
            data, state = self._read_document(), self._read_state()
            digest = _digest(data)
            if data is None or digest == state.sha256:
                return state.revision, data
            state = _State(state.revision + 1, digest, state.audit_bytes)
            self._write_state(state)
            return state.revision, data

    def _unrecorded_revision(self, state: _State, data: bytes | None) -> int:
        digest = _digest(data)
        if digest == state.sha256:
            return state.revision
        with self._unrecorded_guard:
            last = self._unrecorded
            if last is not None and last[0] == digest and last[1] > state.revision:
                return last[1]
            revision = max(state.revision, last[1] if last else 0) + 1
            self._unrecorded = (digest, revision)
            return revision

    async def audit_log(
        self, *, flag_key: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[AuditEntry]:
        """The file's audit trail (``<file>.audit.jsonl``), newest first.

        Every call reads the whole trail: it is meant for the change rates of flags
        edited by people, not for millions of writes.

        Args:
            flag_key: Only the entries of this flag.
            limit: At most this many entries (1-1000).
            before: Only entries older than the entry with this id.

        Raises:
            ValueError: ``limit`` is out of range, or ``before`` is no entry's id.
            StoreError: The trail cannot be read or is corrupt.
        """
        check_audit_limit(limit)
        entries = await asyncio.to_thread(self._read_audit)
        entries.reverse()
        if before is not None:
            position = next((i for i, e in enumerate(entries) if e.id == before), None)
            if position is None:
                raise ValueError(f"no audit entry {before!r} in {str(self.path)!r}")
            entries = entries[position + 1 :]
        if flag_key is not None:
            entries = [entry for entry in entries if entry.flag_key == flag_key]
        return entries[:limit]

    def _read_audit(self) -> list[AuditEntry]:
        committed = self._read_state().audit_bytes
        try:
            with self._audit_path.open("rb") as stream:
                text = stream.read(committed)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"cannot read audit trail {str(self._audit_path)!r}: {exc}") from exc
        try:
            return [_entry_from_json(json.loads(line)) for line in text.splitlines()]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"corrupt audit trail {str(self._audit_path)!r}: {exc}") from None

    async def changes(self) -> AsyncIterator[None]:
        """Yield once when watching starts, then whenever the file changes.

        A change is a new size, modification time or inode (every write through a store
        renames a new file into place). Watching again after :meth:`close` reopens the
        store.
        """
        loop = asyncio.get_running_loop()
        self._closed_loops.discard(loop)
        seen = self._version_or_none()
        yield None
        while loop not in self._closed_loops:
            await asyncio.sleep(self.poll_interval)
            current = self._version_or_none()
            if current != seen and loop not in self._closed_loops:
                seen = current
                yield None

    async def close(self) -> None:
        """Stop watching the file on the calling event loop; safe to call twice."""
        self._closed_loops.add(asyncio.get_running_loop())

    # -- writing ----------------------------------------------------------------------------

    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        check_actor(actor)
        return await asyncio.to_thread(self._write_locked, build, actor, expected, note)

    def _write_locked(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        actor: str,
        expected: Expected | None,
        note: str | None,
    ) -> int:
        """Read, build and commit under the lock (see the module documentation)."""
        try:
            with self._locked():
                self._recover()
                data, state = self._read_document(), self._read_state()
                # A hand edit since the last write is a change of its own.
                current = state.revision if _digest(data) == state.sha256 else state.revision + 1
                if expected is not None:
                    expected.check(current)  # a file keeps no epoch
                before = self._current_document(data)
                after = build(before)
                text = dump_document(after, format=self._format).encode("utf-8")
                revision = current + 1
                lines = self._audit_lines(before, after, revision, actor, note)
                self._write_pending(text)
                audit_bytes = self._append_audit(state.audit_bytes, lines)
                self._write_state(_State(revision, _digest(text), audit_bytes))
                self._publish_pending()
                return revision
        except OSError as exc:
            raise StoreError(f"cannot write flag file {str(self.path)!r}: {exc}") from exc

    def _current_document(self, data: bytes | None) -> FlagDocument:
        if data is None:
            return empty_document()
        try:
            return parse_document(
                data, format=self._read_format, strict=self.strict, source=str(self.path)
            )
        except DocumentError as exc:
            # Not the writer's mistake, so not a DocumentError: the file must be fixed.
            raise StoreError(f"cannot write over an invalid flag file: {exc}") from exc

    def _audit_lines(
        self,
        before: FlagDocument,
        after: FlagDocument,
        revision: int,
        actor: str,
        note: str | None,
    ) -> bytes:
        at = utc_now().isoformat()
        records = [
            {
                "id": f"{revision}.{index}",
                "namespace": self.namespace,
                "revision": revision,
                "flag_key": change.flag_key,
                "action": change.action,
                "actor": actor,
                "at": at,
                "before": change.before,
                "after": change.after,
                "note": note,
            }
            for index, change in enumerate(changes_between(before, after), start=1)
        ]
        return b"".join(
            json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            for record in records
        )

    # -- the files, under the lock ------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the in-process lock and the cross-process ``flock`` of this file.

        Raises:
            StoreError: The lock was not free within :data:`LOCK_TIMEOUT` seconds.
            OSError: The lock file cannot be created or opened.
        """
        deadline = time.monotonic() + LOCK_TIMEOUT
        thread_lock = _thread_lock(self._lock_path)
        if not thread_lock.acquire(timeout=LOCK_TIMEOUT):
            raise self._lock_timeout()
        try:
            if sys.platform == "win32":
                yield
            else:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
                try:
                    while True:
                        try:
                            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            break
                        except BlockingIOError:
                            if time.monotonic() > deadline:
                                raise self._lock_timeout() from None
                            time.sleep(_LOCK_RETRY)
                    yield
                finally:
                    os.close(fd)  # closing the descriptor releases the flock
        finally:
            thread_lock.release()

    def _lock_timeout(self) -> StoreError:
        return StoreError(
            f"another writer held {str(self._lock_path)!r} for more than {LOCK_TIMEOUT} s"
        )

    def _read_document(self) -> bytes | None:
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
            # forever; on a regular file it changes nothing.
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read flag file {str(self.path)!r}: {exc.strerror}") from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StoreError(
                f"cannot read flag file {str(self.path)!r}: not a regular file "
                "(a FIFO, a device or a directory)"
            )
        with os.fdopen(fd, "rb") as stream:
            try:
                return stream.read(MAX_DOCUMENT_BYTES + 1)
            except OSError as exc:
                raise StoreError(
                    f"cannot read flag file {str(self.path)!r}: {exc.strerror}"
                ) from exc

    def _read_state(self) -> _State:
        try:
            text = self._state_path.read_bytes()
        except FileNotFoundError:
            return _NEVER_WRITTEN
        except OSError as exc:
            raise StoreError(f"cannot read {str(self._state_path)!r}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
            state = _State(int(data["revision"]), str(data["sha256"]), int(data["audit_bytes"]))
        except (ValueError, KeyError, TypeError):
            raise StoreError(
                f"{str(self._state_path)!r} is corrupt; it is written only by this store"
            ) from None
        return state

    def _write_state(self, state: _State) -> None:
        data = {
            "revision": state.revision,
            "sha256": state.sha256,
            "audit_bytes": state.audit_bytes,
        }
        temporary = self._state_path.with_name(f"{self._state_path.name}.tmp")
        _write_durably(temporary, json.dumps(data).encode("utf-8") + b"\n", mode=0o666)
        temporary.replace(self._state_path)
        _sync_directory(self.path.parent)

    def _write_pending(self, text: bytes) -> None:
        try:
            mode: int | None = stat.S_IMODE(self.path.stat().st_mode)
        except FileNotFoundError:
            mode = None
        _write_durably(self._pending_path, text, mode=0o666 if mode is None else mode)
        if mode is not None:  # keep the permissions of the file being replaced, umask aside
            self._pending_path.chmod(mode)

    def _publish_pending(self) -> None:
        self._pending_path.replace(self.path)
        _sync_directory(self.path.parent)

    def _append_audit(self, committed: int, lines: bytes) -> int:
        """Append ``lines`` after the committed part of the trail; return its new length."""
        if not lines:
            return committed
        fd = os.open(self._audit_path, os.O_RDWR | os.O_CREAT, 0o666)
        with os.fdopen(fd, "r+b") as stream:
            # Bytes past the committed length belong to a write that crashed uncommitted.
            start = min(committed, stream.seek(0, os.SEEK_END))
            stream.seek(start)
            stream.truncate()
            stream.write(lines)
            stream.flush()
            os.fsync(stream.fileno())
        return start + len(lines)

    def _recover(self) -> None:
        """Finish or discard a write that stopped between its pending file and its rename."""
        try:
            pending = self._pending_path.read_bytes()
        except FileNotFoundError:
            return
        if _digest(pending) == self._read_state().sha256:
            self._publish_pending()  # committed: finish it
        else:
            self._pending_path.unlink()  # never committed: drop it

    # -- watching -------------------------------------------------------------------------

    def _version(self) -> _FileVersion:
        try:
            stat_result = self.path.stat()
        except OSError as exc:
            raise StoreError(f"cannot read flag file {str(self.path)!r}: {exc.strerror}") from exc
        return (
            stat_result.st_ino,
            stat_result.st_size,
            stat_result.st_mtime_ns,
            stat_result.st_ctime_ns,
        )

    def _version_or_none(self) -> _FileVersion | None:
        try:
            return self._version()
        except StoreError:
            return None

    def __repr__(self) -> str:
        """Show the path, the namespace (unless the default) and the poll interval."""
        namespace = "" if self.namespace == "default" else f", namespace={self.namespace!r}"
        return f"FileStore({str(self.path)!r}{namespace}, poll_interval={self.poll_interval})"


def _thread_lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)  # noqa: PTH100 - no symlink resolution: the lock file's own path
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())


def _write_durably(path: Path, data: bytes, *, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _sync_directory(directory: Path) -> None:
    # A rename is durable once its directory is; Windows cannot open a directory.
    if sys.platform != "win32":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _entry_from_json(data: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=str(data["id"]),
        namespace=str(data["namespace"]),
        revision=int(data["revision"]),
        flag_key=data["flag_key"],
        action=data["action"],
        actor=str(data["actor"]),
        at=datetime.fromisoformat(data["at"]),
        before=data["before"],
        after=data["after"],
        note=data.get("note"),
    )

"""A shared flag store in Redis: atomic, versioned, audited writes and pushed changes.

Keys, for namespace ``production`` and the default prefix ``openfeature:``:

``openfeature:production`` (hash)
    ``document``, the namespace's document as compact JSON, and ``revision``.
``openfeature:production:audit`` (stream)
    One entry per changed flag, trimmed to the newest ``audit_max_length`` entries.
``openfeature:production:changes`` (pub/sub channel)
    Every write publishes the new revision here.

Every write runs one Lua script that checks the revision read, stores the next document
and revision, appends the audit entries and publishes, so a write is all or nothing and a
concurrent writer can never be overwritten unnoticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

from openfeature_litestar._document import FlagDocument, document_from_data
from openfeature_litestar._errors import (
    ConfigurationError,
    DocumentError,
    MissingDependencyError,
    Problem,
    RevisionConflict,
    StoreError,
)
from openfeature_litestar._masking import mask_secrets, mask_url

from ._base import AuditEntry, StoredDocument
from ._names import check_namespace, check_prefix
from ._writes import (
    Change,
    DocumentWrites,
    changes_between,
    check_actor,
    check_audit_limit,
    empty_document,
    utc_now,
)

try:
    from redis.asyncio import ConnectionPool, Redis
    from redis.asyncio.connection import Connection, parse_url
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
except ImportError:
    raise MissingDependencyError("redis", "redis") from None

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Iterator, Mapping

    from redis.asyncio.client import PubSub
    from redis.commands.core import AsyncScript

    from ._base import AuditAction

__all__ = ["RedisStore"]

_WRITE_ATTEMPTS = 10
"""The fewest tries of a write without ``expected_revision`` that keeps losing races.

It keeps trying for ``timeout`` seconds after that; only then does it give up, with a
:class:`StoreError` (a write that names no revision never reports a conflict)."""

_AUDIT_BATCH = 500
"""Stream entries read per round trip while filtering the audit trail by flag."""

_MAX_DRAINED = 1000
"""The most queued notifications folded into one wake-up."""

_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")

# Connection settings that belong to one pool (handlers bound to it, values it derived),
# not to the server: a client for another event loop gets fresh ones from its own pool.
_POOL_BOUND_SETTINGS = frozenset(
    {
        "event_dispatcher",
        "himport_registry",
        "maint_notifications_pool_handler",
        "orig_host_address",
        "orig_socket_connect_timeout",
        "orig_socket_timeout",
        "oss_cluster_maint_notifications_handler",
    }
)

# KEYS: the namespace's hash, its audit stream.
# ARGV: the revision read, the next document, the stream's maximum length, the channel,
# then per audit entry its field count followed by its field/value pairs.
# Returns {1, new revision} or, when the revision read is no longer current,
# {0, current revision} having changed nothing.
_WRITE_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
local revision = current + 1
redis.call('HSET', KEYS[1], 'document', ARGV[2], 'revision', revision)
local i = 5
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local fields = {}
  for j = 1, count * 2 do
    fields[j] = ARGV[i + j]
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '=', ARGV[3], '*', unpack(fields))
  i = i + 1 + count * 2
end
redis.call('PUBLISH', ARGV[4], revision)
return {1, revision}
"""


@dataclass(eq=False)
class _LoopClient:
    """The store's connections for one event loop; redis-py's belong to the loop that made them."""

    client: Redis
    write_script: AsyncScript
    closing: asyncio.Event = field(default_factory=asyncio.Event)


class RedisStore(DocumentWrites):
    """A flag store in Redis, shared by every process that points at the same server.

    Writes are atomic and conditional on the revision (one Lua script), each recorded in
    a bounded audit stream and published, so watching providers in other processes
    reload at once; a periodic revision check catches a notification that was missed
    (a dropped connection, a failover).

    The store keeps one connection pool per event loop that uses it, so one store may
    serve a provider's background loop and an application's loop at the same time.
    ``timeout`` bounds connecting and every command; an unreachable server raises
    :class:`~openfeature_litestar.StoreError` instead of hanging.

    Args:
        url_or_client: A ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL, or an
            existing :class:`redis.asyncio.Redis` client whose connection settings
            (host, credentials, TLS, database) the store copies; the store opens its own
            connections with them and never closes the client.
        namespace: The namespace to read and write (1-64 of ``A-Za-z0-9_.-``).
        key_prefix: Prepended to every key and channel name (0-64 of ``A-Za-z0-9_.:-``).
        audit_max_length: The audit stream keeps this many newest entries.
        poll_interval: Seconds between revision checks while watching.
        timeout: Seconds allowed for connecting and for each command.

    Raises:
        ConfigurationError: The URL is not a Redis URL redis-py understands.
        TypeError: ``url_or_client`` is neither a URL nor a ``redis.asyncio.Redis``.
        ValueError: A name or a number is out of range.
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        namespace: str = "default",
        key_prefix: str = "openfeature:",
        audit_max_length: int = 10_000,
        poll_interval: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        """Create the store; nothing is connected until it is first used."""
        self.namespace = check_namespace(namespace)
        self.key_prefix = check_prefix(key_prefix)
        self.audit_max_length = _positive_int("audit_max_length", audit_max_length)
        self.poll_interval = _positive_number("poll_interval", poll_interval)
        self.timeout = _positive_number("timeout", timeout)
        self._connection_class, settings, self._target = _connection_settings(url_or_client)
        self._settings = {**settings, **self._own_settings()}
        self._key = f"{self.key_prefix}{self.namespace}"
        self._audit_key = f"{self._key}:audit"
        self._channel = f"{self._key}:changes"
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, _LoopClient] = {}

    def _own_settings(self) -> dict[str, Any]:
        # The store parses what it reads itself, so replies are text whatever the source
        # client decodes. One immediate retry on a connection error reconnects a pooled
        # connection the server dropped; a timeout is not retried, so no operation takes
        # much longer than ``timeout``.
        return {
            "socket_connect_timeout": self.timeout,
            "socket_timeout": self.timeout,
            "decode_responses": True,
            "encoding": "utf-8",
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            "retry_on_error": [],
        }

    async def load(self) -> StoredDocument:
        """Return the namespace's document and revision (empty at revision 0 if never written).

        Raises:
            DocumentError: The stored document is not valid (it was written around the store).
            StoreError: Redis cannot be reached or read.
        """
        return await self._read(self._loop_client())

    async def audit_log(
        self, *, flag_key: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[AuditEntry]:
        """The namespace's audit trail, newest first.

        Args:
            flag_key: Only the entries of this flag.
            limit: At most this many entries (1-1000).
            before: Only entries older than the entry with this id (the last ``id`` of
                the previous page).

        Raises:
            ValueError: ``limit`` is out of range, or ``before`` is no entry's id.
            StoreError: Redis cannot be reached or read.
        """
        check_audit_limit(limit)
        state = self._loop_client()
        upper = "+"
        if before is not None:
            await self._check_entry_exists(state, before)
            upper = f"({before}"
        batch_size = limit if flag_key is None else max(limit, _AUDIT_BATCH)
        entries: list[AuditEntry] = []
        while len(entries) < limit:
            with self._store_errors("reading the audit trail"):
                batch = await state.client.xrevrange(
                    self._audit_key, max=upper, min="-", count=batch_size
                )
            batch = batch or []
            for entry_id, fields in batch:
                entry = self._audit_entry(_text(entry_id), fields)
                if flag_key is None or entry.flag_key == flag_key:
                    entries.append(entry)
                    if len(entries) == limit:
                        break
            if len(batch) < batch_size:
                break
            upper = f"({_text(batch[-1][0])}"
        return entries

    async def changes(self) -> AsyncGenerator[None, None]:
        """Yield once subscribed to the namespace's changes, then whenever it may have changed.

        Wakes on each published write, and every ``poll_interval`` seconds compares the
        revision, so a missed notification is caught. Ends when :meth:`close` is called
        on the same event loop; watching again afterwards reopens the store.

        Raises:
            StoreError: Redis cannot be reached, or the subscription was lost. Nothing is
                retried here: the provider watches again with a backoff.
        """
        state = self._loop_client()
        loop = asyncio.get_running_loop()
        pubsub = state.client.pubsub()
        try:
            with self._store_errors("subscribing to changes"):
                await pubsub.subscribe(self._channel)
                await self._confirm_subscription(pubsub)
                seen = await self._read_revision(state)
            yield None
            next_check = loop.time() + self.poll_interval
            while not state.closing.is_set():
                with self._store_errors("watching for changes"):
                    announced = await self._wait_for_notice(
                        pubsub, state.closing, max(0.0, next_check - loop.time())
                    )
                if state.closing.is_set():
                    return
                if announced is not None:
                    seen = max(seen, announced)
                    yield None
                    continue
                next_check = loop.time() + self.poll_interval
                with self._store_errors("checking the revision"):
                    revision = await self._read_revision(state)
                if revision != seen:
                    seen = revision
                    yield None
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def close(self) -> None:
        """Close the calling event loop's connections and end its watches; keeps all data.

        Safe to call twice. A client passed to the constructor is not closed.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._clients.pop(loop, None)
        if state is None:
            return
        state.closing.set()
        with contextlib.suppress(RedisError, OSError):
            await state.client.aclose()

    def __repr__(self) -> str:
        """Show the server (without its password), the namespace and the key prefix."""
        return (
            f"RedisStore({self._target!r}, namespace={self.namespace!r}, "
            f"key_prefix={self.key_prefix!r})"
        )

    def _loop_client(self) -> _LoopClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._clients.get(loop)
            if state is None:
                self._forget_closed_loops()
                pool = ConnectionPool(connection_class=self._connection_class, **self._settings)
                client = Redis.from_pool(pool)
                state = _LoopClient(client, client.register_script(_WRITE_SCRIPT))
                self._clients[loop] = state
        return state

    def _forget_closed_loops(self) -> None:
        # A loop that ended without close() left its clients behind; they can never run
        # again, so drop them rather than keep the dead loop alive.
        for loop in [loop for loop in self._clients if loop.is_closed()]:
            del self._clients[loop]

    @contextlib.contextmanager
    def _store_errors(self, action: str) -> Iterator[None]:
        # redis-py's messages name the host and port, never the credentials; they are
        # masked anyway, and the original stays chained for debugging.
        try:
            yield
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            detail = mask_secrets(str(exc)) or type(exc).__name__
            raise StoreError(f"Redis at {self._target}: {action} failed: {detail}") from exc

    async def _read(self, state: _LoopClient) -> StoredDocument:
        with self._store_errors("reading the document"):
            text, revision = await state.client.hmget(self._key, ["document", "revision"])
        revision_number = _as_revision(_text(revision), self._target)
        if text is None:
            return StoredDocument(empty_document(), revision_number)
        return StoredDocument(self._decode(_text(text)), revision_number)

    async def _read_revision(self, state: _LoopClient) -> int:
        revision = await state.client.hget(self._key, "revision")
        return _as_revision(_text(revision), self._target)

    def _decode(self, text: str) -> FlagDocument:
        source = f"in Redis key {self._key!r}"
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise DocumentError([Problem("", f"not valid JSON: {exc}")], source=source) from None
        return document_from_data(data, source=source)

    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected_revision: int | None,
        note: str | None = None,
    ) -> int:
        check_actor(actor)
        state = self._loop_client()
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while attempt < _WRITE_ATTEMPTS or time.monotonic() < deadline:
            if attempt:
                await _pause_after_lost_race(attempt)
            current = await self._read(state)
            if expected_revision is not None and expected_revision != current.revision:
                raise RevisionConflict(expected_revision, current.revision)
            document = build(current.document)
            changes = changes_between(current.document, document)
            committed, actual = await self._commit(
                state, current.revision, document, changes, actor=actor, note=note
            )
            if committed:
                return actual
            if expected_revision is not None:
                raise RevisionConflict(expected_revision, actual)
            attempt += 1
        raise StoreError(
            f"a write to namespace {self.namespace!r} lost {attempt} races with other "
            f"writers in {self.timeout} s; try again"
        )

    async def _commit(
        self,
        state: _LoopClient,
        revision: int,
        document: FlagDocument,
        changes: list[Change],
        *,
        actor: str,
        note: str | None,
    ) -> tuple[bool, int]:
        """Run the write script; return whether it committed, and the revision it saw or made."""
        args: list[str | int] = [revision, _compact(document.dump()), self.audit_max_length]
        args.append(self._channel)
        at = utc_now().isoformat()
        for change in changes:
            fields = _entry_fields(change, revision + 1, actor=actor, at=at, note=note)
            args.append(len(fields))
            for name, value in fields.items():
                args.extend((name, value))
        with self._store_errors("writing the document"):
            committed, actual = await state.write_script(
                keys=[self._key, self._audit_key], args=args
            )
        return bool(committed), int(actual)

    async def _check_entry_exists(self, state: _LoopClient, entry_id: str) -> None:
        if not isinstance(entry_id, str) or _ENTRY_ID.fullmatch(entry_id) is None:
            raise ValueError(f"before must be an audit entry id, not {entry_id!r}")
        with self._store_errors("reading the audit trail"):
            found = await state.client.xrange(self._audit_key, entry_id, entry_id, count=1)
        if not found:
            raise ValueError(
                f"no audit entry {entry_id!r} in namespace {self.namespace!r} "
                "(unknown, or trimmed from the trail)"
            )

    def _audit_entry(
        self, entry_id: str | None, raw_fields: Mapping[bytes | str, bytes | str] | None
    ) -> AuditEntry:
        fields = {_text(name): _text(value) for name, value in (raw_fields or {}).items()}
        try:
            if entry_id is None:
                raise KeyError("id")  # noqa: TRY301 - reported with the other missing parts
            return AuditEntry(
                id=entry_id,
                namespace=self.namespace,
                revision=int(fields["revision"]),
                flag_key=fields.get("flag_key"),
                action=_as_action(fields["action"]),
                actor=fields["actor"],
                at=datetime.fromisoformat(fields["at"]),
                before=_json_or_none(fields.get("before")),
                after=_json_or_none(fields.get("after")),
                note=fields.get("note"),
            )
        except (KeyError, ValueError) as exc:
            raise StoreError(
                f"Redis at {self._target}: audit entry {entry_id!r} in {self._audit_key!r} "
                f"is unreadable ({type(exc).__name__}: {exc})"
            ) from None

    async def _confirm_subscription(self, pubsub: PubSub) -> None:
        message = await pubsub.get_message(timeout=self.timeout)
        if message is None or message.get("type") != "subscribe":
            raise StoreError(
                f"Redis at {self._target}: no confirmation of the subscription to "
                f"{self._channel!r} within {self.timeout} s"
            )

    async def _wait_for_notice(
        self, pubsub: PubSub, closing: asyncio.Event, timeout: float
    ) -> int | None:
        """Wait up to ``timeout`` for notices; return the newest revision announced.

        ``None`` if none came (or the store is closing). Notices already queued are
        folded into one. A ``subscribe`` message after the first means redis-py
        reconnected and resubscribed: notices may have been lost meanwhile, so it counts
        as a notice of an unknown revision (-1).
        """
        reading = asyncio.ensure_future(pubsub.get_message(timeout=timeout))
        closed = asyncio.ensure_future(closing.wait())
        try:
            await asyncio.wait({reading, closed}, return_when=asyncio.FIRST_COMPLETED)
            message = None if closing.is_set() else reading.result()
            if message is None:
                return None
            newest = _announced_revision(message)
            for _ in range(_MAX_DRAINED):
                message = await pubsub.get_message(timeout=0.0)
                if message is None:
                    break
                newest = max(newest, _announced_revision(message))
            return newest
        finally:
            closed.cancel()
            if not reading.done():
                reading.cancel()
            elif not reading.cancelled():
                reading.exception()  # retrieved, so asyncio does not log it as lost


def _connection_settings(url_or_client: str | Redis) -> tuple[type[Any], dict[str, Any], str]:
    """The connection class and settings to build clients with, and a safe description."""
    if isinstance(url_or_client, str):
        try:
            settings: dict[str, Any] = dict(parse_url(url_or_client))
        except ValueError:
            # redis-py's message may quote the URL, password and all.
            raise ConfigurationError(
                f"not a Redis URL redis-py accepts: {mask_url(url_or_client)!r} "
                "(use redis://, rediss:// or unix://)"
            ) from None
        connection_class = settings.pop("connection_class", Connection)
        return connection_class, settings, mask_url(url_or_client)
    if isinstance(url_or_client, Redis):
        pool = url_or_client.connection_pool
        settings = {
            name: value
            for name, value in pool.connection_kwargs.items()
            if name not in _POOL_BOUND_SETTINGS
        }
        return pool.connection_class, settings, _describe(settings)
    raise TypeError(
        "url_or_client must be a Redis URL or a redis.asyncio.Redis client, "
        f"not {type(url_or_client).__name__}"
    )


def _describe(settings: Mapping[str, Any]) -> str:
    if "path" in settings:
        return f"unix:{settings['path']}?db={settings.get('db', 0)}"
    host, port = settings.get("host", "localhost"), settings.get("port", 6379)
    return f"{host}:{port}/{settings.get('db', 0)}"


def _entry_fields(
    change: Change, revision: int, *, actor: str, at: str, note: str | None
) -> dict[str, str]:
    """One audit entry as stream fields; absent fields stand for ``None``."""
    fields = {"revision": str(revision), "action": change.action, "actor": actor, "at": at}
    if change.flag_key is not None:
        fields["flag_key"] = change.flag_key
    if change.before is not None:
        fields["before"] = _compact(change.before)
    if change.after is not None:
        fields["after"] = _compact(change.after)
    if note is not None:
        fields["note"] = note
    return fields


@overload
def _text(value: bytes | str) -> str: ...
@overload
def _text(value: bytes | str | None) -> str | None: ...
def _text(value: bytes | str | None) -> str | None:
    # The store's own clients decode replies; this keeps the types honest either way.
    return value.decode() if isinstance(value, bytes) else value


def _announced_revision(message: Mapping[str, Any]) -> int:
    """The revision a change notice announces; -1 when it does not say."""
    if message.get("type") != "message":
        return -1
    try:
        return int(message["data"])
    except (KeyError, TypeError, ValueError):
        return -1


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _json_or_none(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a flag definition is a JSON object")  # noqa: TRY004 - reported as unreadable
    return data


def _as_action(text: str) -> AuditAction:
    if text == "create":
        return "create"
    if text == "update":
        return "update"
    if text == "delete":
        return "delete"
    raise ValueError(f"unknown action {text!r}")


def _as_revision(text: str | None, target: str) -> int:
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        raise StoreError(
            f"Redis at {target}: the stored revision {text!r} is not a number"
        ) from None


async def _pause_after_lost_race(attempt: int) -> None:
    # Writers that collided would collide again if they retried in step.
    await asyncio.sleep(random.uniform(0, 0.005 * min(attempt, 20)))  # noqa: S311 - jitter, not security


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def _positive_number(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)

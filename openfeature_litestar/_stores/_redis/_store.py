"""RedisStore: a shared flag store in Redis, with atomic, versioned, audited writes.

The store composes the package's parts: per-loop clients (``_client``), the key layout
and encodings (``_codec``), the write script (``_scripts``) and the watch (``_watch``).
What is left here is what a store does with them: read, retry a write that lost a race,
page through the audit trail.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from openfeature_litestar._errors import RevisionConflict, StoreError
from openfeature_litestar._stores._base import AuditEntry, StoredDocument
from openfeature_litestar._stores._names import check_namespace, check_prefix
from openfeature_litestar._stores._offload import off_loop
from openfeature_litestar._stores._recent import RecentDocument
from openfeature_litestar._stores._usage import hours_between
from openfeature_litestar._stores._writes import (
    Change,
    DocumentWrites,
    Expected,
    check_actor,
    check_audit_limit,
    empty_document,
    next_document,
    pause_after_lost_race,
    utc_now,
)
from openfeature_litestar._validation import positive_int, positive_seconds

from ._client import LoopClient, LoopClients
from ._codec import (
    Keys,
    audit_entry,
    decode_document,
    is_entry_id,
    new_epoch,
    parse_epoch,
    parse_revision,
    text,
)
from ._scripts import (
    DOCUMENT_ARGUMENT,
    SHARDED_WRITE_SCRIPT,
    WRITE_SCRIPT,
    write_arguments,
    write_keys,
)
from ._usage import USAGE_SCRIPT, hour_keys, usage_arguments, usage_records_of
from ._watch import watch

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable

    from redis.asyncio import Redis, RedisCluster

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores._usage import UsageBatch, UsageRecord

    from ._watch import Version

__all__ = ["RedisStore"]

_WRITE_ATTEMPTS = 10
"""The fewest tries of a write without ``expected_revision`` that keeps losing races.

It keeps trying for ``timeout`` seconds after that; only then does it give up, with a
:class:`StoreError` (a write that names no revision never reports a conflict)."""

_AUDIT_BATCH = 500
"""Stream entries read per round trip while filtering the audit trail by flag."""


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
        usage_retention_days: Days an hour's usage counters are kept after their last
            write (see :meth:`record_usage`).

    Raises:
        ConfigurationError: The URL is not a Redis URL redis-py understands.
        TypeError: ``url_or_client`` is neither a URL nor a ``redis.asyncio.Redis``.
        ValueError: A name or a number is out of range.
    """

    def __init__(
        self,
        url_or_client: str | Redis | RedisCluster,
        *,
        namespace: str = "default",
        key_prefix: str = "openfeature:",
        audit_max_length: int = 10_000,
        poll_interval: float = 5.0,
        timeout: float = 5.0,
        usage_retention_days: int = 35,
    ) -> None:
        """Create the store; nothing is connected until it is first used."""
        self.namespace = check_namespace(namespace)
        self.key_prefix = check_prefix(key_prefix)
        self.audit_max_length = positive_int("audit_max_length", audit_max_length)
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.timeout = positive_seconds("timeout", timeout)
        self.usage_retention_days = positive_int("usage_retention_days", usage_retention_days)
        self._clients = LoopClients(url_or_client, timeout=self.timeout)
        self._target = self._clients.target
        self._keys = Keys.of(
            self.key_prefix, self.namespace, tagged=self._clients.kind == "cluster"
        )
        self._write_script = (
            SHARDED_WRITE_SCRIPT if self._clients.kind == "cluster" else WRITE_SCRIPT
        )
        self._recent = RecentDocument()

    async def load(self) -> StoredDocument:
        """Return the namespace's document, revision and epoch.

        A namespace never written (or emptied) loads as an empty document at revision 0
        with the epoch ``""``; its next write starts a new history, with a new epoch.

        Raises:
            DocumentError: The stored document is not valid (it was written around the store).
            StoreError: Redis cannot be reached or read.
        """
        return await self._read(self._clients.this_loop())

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
        state = self._clients.this_loop()
        upper = "+"
        if before is not None:
            await self._check_entry_exists(state, before)
            upper = f"({before}"
        batch_size = limit if flag_key is None else max(limit, _AUDIT_BATCH)
        entries: list[AuditEntry] = []
        while len(entries) < limit:
            with self._clients.store_errors("reading the audit trail"):
                batch = await state.client.xrevrange(
                    self._keys.audit, max=upper, min="-", count=batch_size
                )
            batch = batch or []
            for entry_id, fields in batch:
                entry = audit_entry(
                    text(entry_id),
                    fields,
                    namespace=self.namespace,
                    audit_key=self._keys.audit,
                    target=self._target,
                )
                if flag_key is None or entry.flag_key == flag_key:
                    entries.append(entry)
                    if len(entries) == limit:
                        break
            if len(batch) < batch_size:
                break
            upper = f"({text(batch[-1][0])}"
        return entries

    async def record_usage(self, batch: UsageBatch) -> None:
        """Add a provider's usage counts to the namespace's, for every process to read.

        One script adds them (``HINCRBY`` into one hash per hour, under the store's key
        prefix), so a batch is added whole or not at all, and at most once: the
        script remembers the last batch of each provider run it added.

        Raises:
            StoreError: Redis cannot be reached or written (the batch may be sent again).
        """
        if not batch.counts:
            return
        retention = self.usage_retention_days * 24 * 3600
        keys, args = usage_arguments(self._keys, batch, retention_seconds=retention)
        state = self._clients.this_loop()
        with self._clients.store_errors("adding usage counters"):
            await state.script(USAGE_SCRIPT)(keys=keys, args=args)

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        """The namespace's usage counts per hour, every process's added up.

        Hours older than ``usage_retention_days`` are not read (they have expired).
        See :meth:`~openfeature_litestar.UsageStore.read_usage`.

        Raises:
            StoreError: Redis cannot be reached or read.
            ValueError: ``since`` or ``until`` is a naive datetime.
        """
        first, last = hours_between(since, until)
        kept_since = datetime.now(timezone.utc) - timedelta(days=self.usage_retention_days + 1)
        hours = hour_keys(
            self._keys, max(first, kept_since.replace(minute=0, second=0, microsecond=0)), last
        )
        if not hours:
            return []
        state = self._clients.this_loop()
        with self._clients.store_errors("reading usage counters"):
            async with state.client.pipeline(transaction=False) as pipe:
                for _, key in hours:
                    pipe.hgetall(key)
                replies = await pipe.execute()
        return await off_loop(
            usage_records_of,
            [(hour, key, fields) for (hour, key), fields in zip(hours, replies, strict=True)],
        )

    def changes(self) -> AsyncGenerator[None, None]:
        """Yield once subscribed to the namespace's changes, then whenever it may have changed.

        Wakes on each published write, and every ``poll_interval`` seconds compares the
        revision, so a missed notification is caught. Ends when :meth:`close` is called
        on the same event loop; watching again afterwards reopens the store.

        Raises:
            StoreError: Redis cannot be reached, or the subscription was lost. Nothing is
                retried here: the provider watches again with a backoff.
        """
        # The watch itself is the generator, so closing it closes the subscription at once.
        return watch(
            self._clients,
            self._keys.channel,
            read_version=self._read_version,
            poll_interval=self.poll_interval,
            sharded=self._clients.kind == "cluster",
        )

    async def close(self) -> None:
        """Close the calling event loop's connections and end its watches; keeps all data.

        Safe to call twice. A client passed to the constructor is not closed.
        """
        await self._clients.close_this_loop()

    def __repr__(self) -> str:
        """Show the server (without its password), the namespace and the key prefix."""
        return (
            f"RedisStore({self._target!r}, namespace={self.namespace!r}, "
            f"key_prefix={self.key_prefix!r})"
        )

    async def _read(self, state: LoopClient, *, compiled: bool = True) -> StoredDocument:
        """The stored document: the one this store kept, while the hash holds its text.

        Otherwise the text read is decoded and validated (and compiled, unless a write
        only builds on it). The kept one is the document this store last compiled or
        wrote, with the text, revision and epoch it was stored at.
        """
        with self._clients.store_errors("reading the document"):
            stored, revision, epoch = await state.client.hmget(
                self._keys.document, ["document", "revision", "epoch"]
            )
        revision_number = parse_revision(text(revision), self._target)
        epoch_token = parse_epoch(text(epoch), self._target)
        if stored is None:
            return StoredDocument(empty_document(), revision_number, epoch_token)
        version = (revision_number, epoch_token, text(stored))
        known = self._recent.at(version)
        if known is not None:
            return known
        document = await off_loop(
            decode_document, version[2], self._keys.document, compiled=compiled
        )
        read = StoredDocument(document, revision_number, epoch_token)
        if compiled:
            self._recent.keep(version, read)
        return read

    async def _read_version(self, state: LoopClient) -> Version:
        revision, epoch = await state.client.hmget(self._keys.document, ["revision", "epoch"])
        return parse_revision(text(revision), self._target), parse_epoch(text(epoch), self._target)

    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        check_actor(actor)
        state = self._clients.this_loop()
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while attempt < _WRITE_ATTEMPTS or time.monotonic() < deadline:
            if attempt:
                await pause_after_lost_race(attempt)
            current = await self._read(state, compiled=False)
            if expected is not None:
                expected.check(current.revision, current.epoch)
            document, changes = await off_loop(next_document, build, current.document)
            committed, actual, epoch, written = await self._commit(
                state, current, document, changes, actor=actor, note=note
            )
            if committed:
                # While the hash holds what was written, the provider's reload after this
                # write and the next write use ``document`` instead of decoding,
                # validating and compiling it again.
                kept = StoredDocument(document, actual, epoch)
                self._recent.keep((actual, epoch, written), kept)
                return actual
            if expected is not None:
                raise RevisionConflict(expected.revision, actual, epoch=epoch)
            attempt += 1
        raise StoreError(
            f"a write to namespace {self.namespace!r} lost {attempt} races with other "
            f"writers in {self.timeout} s; try again"
        )

    async def _commit(
        self,
        state: LoopClient,
        current: StoredDocument,
        document: FlagDocument,
        changes: list[Change],
        *,
        actor: str,
        note: str | None,
    ) -> tuple[bool, int, str, str]:
        """Run the write script over ``current``.

        Returns:
            Whether it committed, the revision and epoch it made or found instead, and
            the document's text it wrote (or would have).
        """
        args = await off_loop(
            write_arguments,
            self._keys,
            current.revision,
            document,
            changes,
            epoch=current.epoch,
            new_epoch=new_epoch(),
            audit_max_length=self.audit_max_length,
            actor=actor,
            at=utc_now().isoformat(),
            note=note,
        )
        with self._clients.store_errors("writing the document"):
            committed, actual, epoch = await state.script(self._write_script)(
                keys=write_keys(self._keys), args=args
            )
        return bool(committed), int(actual), text(epoch), str(args[DOCUMENT_ARGUMENT])

    async def _check_entry_exists(self, state: LoopClient, entry_id: str) -> None:
        if not is_entry_id(entry_id):
            raise ValueError(f"before must be an audit entry id, not {entry_id!r}")
        with self._clients.store_errors("reading the audit trail"):
            found = await state.client.xrange(self._keys.audit, entry_id, entry_id, count=1)
        if not found:
            raise ValueError(
                f"no audit entry {entry_id!r} in namespace {self.namespace!r} "
                "(unknown, or trimmed from the trail)"
            )

"""SQLAlchemyStore: flags in SQL tables, with versioned, audited writes and live changes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import threading
import time
import weakref
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from openfeature_litestar._errors import ConfigurationError, StoreError
from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores._base import AuditEntry, StoredDocument
from openfeature_litestar._stores._names import check_namespace, check_prefix
from openfeature_litestar._stores._offload import off_loop
from openfeature_litestar._stores._recent import RecentDocument
from openfeature_litestar._stores._usage import hours_between
from openfeature_litestar._stores._writes import (
    DocumentWrites,
    Expected,
    check_actor,
    check_audit_limit,
    next_document,
    pause_after_lost_race,
    utc_now,
)
from openfeature_litestar._validation import positive_int, positive_seconds

from ._engines import (
    DRIVER_ERRORS,
    POOLERS,
    STORE_PARAMETERS,
    WRITE_OPTION,
    LoopEngines,
    backend_of,
    engine_factory,
    parse_url,
    store_error,
    take_store_parameters,
)
from ._rows import (
    Commit,
    Rows,
    advance,
    append_audit,
    audit_page,
    document_of,
    parse_entry_id,
    read_revision,
    read_rows,
    write_flags,
)
from ._schema import Tables, check_schema, create_schema
from ._usage import UsageTables, add_batch, ensure_usage_tables, prune
from ._usage import read as read_usage_rows
from ._usage import read_bands as read_usage_band_rows
from ._watch import Watch, discard_connection, listen

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores._usage import UsageBatch, UsageRecord
    from openfeature_litestar._stores._writes import Change

__all__ = ["SQLAlchemyStore"]

_T = TypeVar("_T")

logger = logging.getLogger("openfeature_litestar.stores")

# Unquoted-identifier characters only, so that a schema name reads the same in a URL,
# in SQL and in PostgreSQL's catalogs; 63 bytes is PostgreSQL's identifier limit.
_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

_MAX_WRITE_ATTEMPTS = 10
_PRUNE_EVERY_SECONDS = 3600  # old usage rows are deleted by about one flush an hour


class _LostRaceError(Exception):
    """Another writer created the namespace first; read again and retry."""


class SQLAlchemyStore(DocumentWrites):
    r"""A shared, writable flag store in SQL tables: PostgreSQL (asyncpg) or SQLite (aiosqlite).

    Each namespace (an environment such as ``production``) is one row of
    ``{table_prefix}namespaces`` with its revision, plus one row per flag in
    ``{table_prefix}flags``; every write also appends to ``{table_prefix}audit``. A write
    is validated whole before anything is written and commits in one transaction, only
    if the namespace is still at the revision it read.

    Changes reach watchers through PostgreSQL's ``LISTEN``/``NOTIFY`` (sent inside the
    writing transaction, so delivered on commit) and, as a fallback that also catches
    changes made by hand, a check of the revision every ``poll_interval`` seconds, which
    is SQLite's only mechanism between processes.

    The store keeps one engine per running event loop. Given an engine, it copies that
    engine's configuration (URL, connect arguments, pool settings) into pools of its own
    and never uses or disposes the given one.

    Args:
        url_or_engine: A database URL (``postgresql+asyncpg://user@host/db``,
            ``sqlite+aiosqlite:///flags.db``; ``postgresql://`` and ``sqlite://`` mean
            those drivers) or an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` to copy.
        namespace: The namespace read and written (1-64 of ``A-Z a-z 0-9 _ . -``).
        table_prefix: Prepended to the four table names (at most 53 characters).
        poll_interval: Seconds between revision checks while watching.
        timeout: Seconds one database operation (connecting, a query, waiting for
            another writer's lock) may take before it fails with :class:`StoreError`.
        create_schema: Create or upgrade the tables on first use (needs the CREATE
            privilege). With ``False`` the tables must exist at this code's version.
        usage_retention_days: Days the usage counters of an hour are kept (older rows
            are deleted by the flushes).
        schema: The PostgreSQL schema holding the tables (it must exist); ``None``
            means the connection's ``search_path`` (normally ``public``). Also the URL
            parameter ``?schema=``.
        pooler: ``"transaction"`` when the URL reaches PostgreSQL through a pooler in
            transaction mode (PgBouncer's ``pool_mode=transaction``): prepared-statement
            caching is turned off, and changes are followed through ``listen_url`` or,
            without one, by polling. ``"session"`` (or ``None``) is a direct or
            session-pooled connection. Also the URL parameter ``?pooler=``.
        listen_url: A direct PostgreSQL URL (bypassing the pooler) for the connection
            that ``LISTEN``\ s for changes; the pool still uses ``url_or_engine``. Also
            the URL parameter ``?listen_url=`` (percent-encoded).

    Raises:
        ConfigurationError: The URL is malformed or names an unsupported database, or
            ``schema``, ``pooler`` or ``listen_url`` is invalid, given twice, or given
            for SQLite.
        MissingDependencyError: The database's driver is not installed.
        ValueError: A name, interval or timeout is out of range.
        TypeError: ``url_or_engine`` is neither a string nor an ``AsyncEngine``.
    """

    def __init__(
        self,
        url_or_engine: str | AsyncEngine,
        *,
        namespace: str = "default",
        table_prefix: str = "openfeature_",
        poll_interval: float = 1.0,
        timeout: float = 5.0,
        create_schema: bool = True,
        usage_retention_days: int = 35,
        schema: str | None = None,
        pooler: str | None = None,
        listen_url: str | None = None,
    ) -> None:
        """Create the store (nothing is connected until first use)."""
        self.namespace = check_namespace(namespace)
        self.table_prefix = check_prefix(table_prefix)
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.timeout = positive_seconds("timeout", timeout)
        self.create_schema = create_schema
        self.usage_retention_days = positive_int("usage_retention_days", usage_retention_days)
        self._usage_ready = False
        self._usage_pruned = float("-inf")
        given = {"schema": schema, "pooler": pooler, "listen_url": listen_url}
        source: object = url_or_engine  # callers without type checking may pass anything
        if isinstance(source, str):
            url, in_url = take_store_parameters(parse_url(source))
            self._backend = url.get_backend_name()
            self._shown = mask_url(source)
            settings = _merge_settings(given, in_url, self._shown)
            self.pooler = _check_pooler(settings["pooler"], self._backend)
            self._engines = LoopEngines(engine_factory(url, timeout=timeout, pooler=self.pooler))
        elif isinstance(source, AsyncEngine):
            self._backend = backend_of(source)
            self._shown = mask_url(source.url.render_as_string(hide_password=False))
            settings = given
            # A given engine keeps its own connect arguments: for a pooler, configure them.
            self.pooler = _check_pooler(settings["pooler"], self._backend)
            self._engines = LoopEngines(engine_factory(source, timeout=timeout))
        else:
            kind = type(source).__name__
            raise TypeError(f"url_or_engine must be a URL string or an AsyncEngine, not {kind}")
        self.schema = _check_schema_name(settings["schema"], self._backend)
        self._listen_engines = _listen_engines(settings["listen_url"], self._backend, timeout)
        self.listen_url = (
            None if settings["listen_url"] is None else mask_url(settings["listen_url"])
        )
        self._tables = Tables.with_prefix(table_prefix, self.schema)
        self._usage_tables = UsageTables.with_prefix(table_prefix, self.schema)
        # One channel per table prefix; the payload names the namespace (qualified by the
        # schema when one is chosen, so that equal prefixes in two schemas stay apart; the
        # channel name itself has no room for it) and its revision.
        self._channel = f"{table_prefix}changes"
        self._announced = namespace if self.schema is None else f"{self.schema}.{namespace}"
        self._polling_said = False
        self._source = f"namespace {namespace!r} of {self._tables.namespaces.fullname}"
        self._schema_ready = False
        self._lock = threading.Lock()
        self._watches: set[Watch] = set()
        # Closing is per event loop: one provider's shutdown must not end the watch of
        # another provider (or an admin endpoint's writes) sharing this store.
        # Weak: a store used from many short-lived loops must not keep them all alive.
        self._closed_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._recent = RecentDocument()

    async def load(self) -> StoredDocument:
        """Return the namespace's document and revision (an empty document at 0 if new).

        Raises:
            DocumentError: The stored rows do not make a valid document (edited by hand).
            StoreError: The database cannot be reached or read in time.
        """

        async def read(engine: AsyncEngine) -> Rows:
            async with self._transaction(engine, snapshot=True) as connection:
                return await self._read_rows(connection)

        return await self._document_of(await self._run("load the flags", read))

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
            StoreError: The database cannot be reached or read in time.
        """
        check_audit_limit(limit)
        before_id = None if before is None else parse_entry_id(before)

        async def read(engine: AsyncEngine) -> list[AuditEntry]:
            async with self._transaction(engine) as connection:
                return await audit_page(
                    connection,
                    self._tables,
                    self.namespace,
                    flag_key=flag_key,
                    limit=limit,
                    before=before_id,
                )

        return await self._run("read the audit trail", read)

    async def record_usage(self, batch: UsageBatch) -> None:
        """Add a provider's usage counts to the namespace's, for every process to read.

        One transaction upserts a row per hour and counter into ``{table_prefix}usage``
        and records the batch in ``{table_prefix}usage_seq``, so a batch is added whole
        and at most once. About once an hour it also deletes the namespace's rows older
        than ``usage_retention_days``.

        Raises:
            StoreError: The database cannot be reached or written in time (nothing was
                added).
            ConfigurationError: The usage tables do not exist and ``create_schema`` is
                false.
        """
        if not batch.counts:
            return
        prune_now = time.monotonic() - self._usage_pruned > _PRUNE_EVERY_SECONDS

        async def write(engine: AsyncEngine) -> None:
            async with self._transaction(engine, writes=True) as connection:
                await add_batch(connection, self._usage_tables, self.namespace, batch)
                if prune_now:
                    retention = timedelta(days=self.usage_retention_days)
                    await prune(connection, self._usage_tables, self.namespace, retention=retention)

        await self._run_usage("add usage counters", write)
        if prune_now:
            self._usage_pruned = time.monotonic()

    async def read_usage(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[UsageRecord]:
        """The namespace's usage counts per hour, every process's added up.

        See :meth:`~openfeature_litestar.UsageStore.read_usage`.

        Raises:
            StoreError: The database cannot be reached or read in time.
            ConfigurationError: The usage tables do not exist and ``create_schema`` is
                false.
            ValueError: ``since`` or ``until`` is a naive datetime.
        """
        first, last = hours_between(since, until)

        async def read(engine: AsyncEngine) -> list[UsageRecord]:
            async with self._transaction(engine) as connection:
                return await read_usage_rows(
                    connection, self._usage_tables, self.namespace, first=first, last=last
                )

        return await self._run_usage("read usage counters", read)

    async def read_usage_bands(
        self, *, since: datetime, until: datetime | None, bounds: Sequence[datetime]
    ) -> list[UsageRecord]:
        """The namespace's usage counts summed per counter and band of hours, in SQL.

        What :func:`~openfeature_litestar.read_insights` reads: the database adds the
        hours up (``GROUP BY``), so a report on 10,000 flags reads one row per counter
        and band rather than one per hour.

        Raises:
            StoreError: The database cannot be reached or read in time.
            ConfigurationError: The usage tables do not exist and ``create_schema`` is
                false.
            ValueError: ``since`` or ``until`` is a naive datetime.
        """
        first, last = hours_between(since, until)
        edges = tuple(bounds)

        async def read(engine: AsyncEngine) -> list[UsageRecord]:
            async with self._transaction(engine) as connection:
                return await read_usage_band_rows(
                    connection,
                    self._usage_tables,
                    self.namespace,
                    first=first,
                    last=last,
                    bounds=edges,
                )

        return await self._run_usage("read usage counters", read)

    async def _run_usage(self, action: str, work: Callable[[AsyncEngine], Awaitable[_T]]) -> _T:
        async def ready_then_work(engine: AsyncEngine) -> _T:
            if not self._usage_ready:
                async with self._transaction(engine, writes=self.create_schema) as connection:
                    await connection.run_sync(
                        ensure_usage_tables,
                        self._tables,
                        self._usage_tables,
                        create=self.create_schema,
                    )
                self._usage_ready = True
            return await work(engine)

        return await self._run(action, ready_then_work)

    async def changes(self) -> AsyncGenerator[None, None]:
        """Yield once when watching starts, then whenever the namespace may have changed.

        On PostgreSQL a connection of its own listens for the writers' notifications; on
        every database the revision is also checked every ``poll_interval`` seconds.
        Watching again after :meth:`close` reopens the store.

        Raises:
            StoreError: The database cannot be reached, or the listening connection was
                lost; the caller retries by iterating again.
        """
        loop = asyncio.get_running_loop()
        watch = Watch(loop)
        with self._lock:
            self._closed_loops.discard(loop)
            self._watches.add(watch)
        listener: AsyncConnection | None = None
        try:
            if self._listens():
                engine = (self._listen_engines or self._engines).get()
                listening = listen(engine, self._channel, self._announced, watch)
                listener = await self._bounded("listen for changes", listening)
            seen = await self._run("read the revision", self._read_revision)
            yield None
            while True:
                woke = await watch.wait(self.poll_interval)
                if loop in self._closed_loops:
                    return
                if watch.lost:
                    raise StoreError(f"lost the connection listening for changes at {self._shown}")
                current = watch.take_revision() if woke else await self._check(listener)
                if current is not None and current != seen:
                    seen = current
                    yield None
        finally:
            with self._lock:
                self._watches.discard(watch)
            if listener is not None:
                await discard_connection(listener)

    async def close(self) -> None:
        """End the calling event loop's watches and release its connections.

        Never deletes data; safe to call twice. Other loops' watches go on.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            self._closed_loops.add(loop)
            watches = [watch for watch in self._watches if watch.loop is loop]
        for watch in watches:
            watch.event.set()
        for engines in (self._engines, self._listen_engines):
            engine = None if engines is None else engines.pop()
            if engine is not None:
                # A dead server must not make closing hang or fail: nothing to release.
                with contextlib.suppress(asyncio.TimeoutError, *DRIVER_ERRORS):
                    await asyncio.wait_for(engine.dispose(), self.timeout)

    def __repr__(self) -> str:
        """Show the database (password masked), the namespace and the table prefix."""
        return (
            f"SQLAlchemyStore({self._shown!r}, namespace={self.namespace!r}, "
            f"table_prefix={self.table_prefix!r})"
        )

    def _listens(self) -> bool:
        """Whether watching LISTENs (else it polls), saying once why it does not."""
        if self._backend != "postgresql":
            return False
        if self.pooler != "transaction" or self._listen_engines is not None:
            return True
        if not self._polling_said:
            self._polling_said = True
            # A LISTEN through transaction pooling subscribes a server connection that
            # goes back to the pool at once: notifications would be lost, silently.
            logger.info(
                "SQL store %s is behind a pooler in transaction mode and has no listen_url: "
                "LISTEN cannot work there, so changes to namespace %r are followed by "
                "reading the revision every %s s",
                self._shown,
                self.namespace,
                self.poll_interval,
            )
        return False

    async def _run(self, action: str, work: Callable[[AsyncEngine], Awaitable[_T]]) -> _T:
        """Run ``work`` with the loop's engine, the tables ready, bounded in time."""
        engine = self._engines.get()

        async def ready_then_work() -> _T:
            if not self._schema_ready:
                await self._prepare_schema(engine)
            return await work(engine)

        return await self._bounded(action, ready_then_work())

    async def _bounded(self, action: str, operation: Awaitable[_T]) -> _T:
        # Driver messages can quote the connection URL: they are masked, and the original
        # exception is not chained (its message would travel with it).
        try:
            return await asyncio.wait_for(operation, self.timeout)
        except asyncio.TimeoutError:
            raise StoreError(
                f"cannot {action} at {self._shown}: no answer within {self.timeout} s"
            ) from None
        except DRIVER_ERRORS as exc:
            raise store_error(action, exc, self._shown) from None

    async def _prepare_schema(self, engine: AsyncEngine) -> None:
        prepare = create_schema if self.create_schema else check_schema
        async with self._transaction(engine, writes=self.create_schema) as connection:
            await connection.run_sync(prepare, self._tables)
        self._schema_ready = True

    @contextlib.asynccontextmanager
    async def _transaction(
        self, engine: AsyncEngine, *, writes: bool = False, snapshot: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed at the end (rolled back on error).

        ``writes`` takes SQLite's write lock at once; ``snapshot`` reads every statement
        from one PostgreSQL snapshot (a SQLite transaction always does).
        """
        async with engine.connect() as connection:
            if writes and self._backend == "sqlite":
                await connection.execution_options(**{WRITE_OPTION: True})
            if snapshot and self._backend == "postgresql":
                await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection

    async def _read_rows(self, connection: AsyncConnection) -> Rows:
        return await read_rows(connection, self._tables, self.namespace)

    async def _document_of(self, rows: Rows, *, compiled: bool = True) -> StoredDocument:
        """The document ``rows`` hold: the one kept from them, or decoded and validated."""
        known = self._recent.at(rows)
        if known is not None:
            return known
        document = await off_loop(document_of, rows, source=self._source, compiled=compiled)
        stored = StoredDocument(document, rows.revision)
        if compiled:
            self._recent.keep(rows, stored)
        return stored

    async def _read_revision(self, engine: AsyncEngine) -> int:
        async with self._transaction(engine) as connection:
            return await read_revision(connection, self._tables, self.namespace)

    async def _check(self, listener: AsyncConnection | None) -> int:
        if listener is None:
            return await self._run("read the revision", self._read_revision)

        # On PostgreSQL the periodic check runs on the listening connection: one that no
        # longer answers fails the check, instead of waiting for notifications forever.
        async def on_listener(_engine: AsyncEngine) -> int:
            async with listener.begin():
                return await read_revision(listener, self._tables, self.namespace)

        return await self._run("check the revision", on_listener)

    async def _write(
        self,
        build: Callable[[FlagDocument], FlagDocument],
        *,
        actor: str,
        expected: Expected | None,
        note: str | None = None,
    ) -> int:
        """Read, build the next document, then commit it if the namespace did not move.

        The next document is built between two transactions, outside the time limit:
        validating and compiling a large one takes seconds (paced, see ``_pacing``),
        which no row lock and no I/O deadline should wait for. The commit is
        conditional on the revision read (``advance``), so a writer that lost the race
        reads again and builds on the winner's document.
        """
        check_actor(actor)
        # Each lost race is another writer's success; under contention a writer keeps
        # trying for its time limit, however many rounds that takes.
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while attempt < _MAX_WRITE_ATTEMPTS or time.monotonic() < deadline:
            if attempt:
                await pause_after_lost_race(attempt)
            attempt += 1
            rows = await self._run("read the flags", self._read_current)
            if expected is not None:
                expected.check(rows.revision)  # the SQL store keeps no epoch
            before = (await self._document_of(rows, compiled=False)).document
            after, changes = await off_loop(next_document, build, before)

            commit = functools.partial(
                self._commit, rows=rows, after=after, changes=changes, actor=actor, note=note
            )
            try:
                revision = await self._run("write the flags", commit)
            except _LostRaceError:
                continue  # the next attempt reads the winner's revision (and may conflict)
            self._announce_locally(revision)
            return revision
        raise StoreError(
            f"a write to namespace {self.namespace!r} lost {attempt} races with other "
            f"writers in {self.timeout} s; try again"
        )

    async def _read_current(self, engine: AsyncEngine) -> Rows:
        async with self._transaction(engine, snapshot=True) as connection:
            return await self._read_rows(connection)

    async def _commit(  # noqa: PLR0917 - one write's parts, from one caller
        self,
        engine: AsyncEngine,
        rows: Rows,
        after: FlagDocument,
        changes: list[Change],
        actor: str,
        note: str | None,
    ) -> int:
        """Write ``after`` over ``rows``, if the namespace is still at their revision."""
        commit = Commit(self._tables, self.namespace, rows.revision + 1, utc_now(), actor)
        try:
            async with self._transaction(engine, writes=True) as connection:
                if not await advance(connection, rows, after, commit):
                    raise _LostRaceError
                changed = {change.flag_key for change in changes if change.flag_key is not None}
                await write_flags(connection, rows.positions, after, changed, commit)
                await append_audit(connection, changes, commit, note)
                # Read back as the next load will read them: while the rows stay so, the
                # provider's reload after this write and the next write use ``after``
                # instead of decoding, validating and compiling it again.
                written = await self._read_rows(connection)
                if self._backend == "postgresql":
                    # Delivered to the listeners when, and only if, the transaction commits.
                    payload = f"{self._announced} {commit.revision}"
                    await connection.execute(select(func.pg_notify(self._channel, payload)))
        except IntegrityError:
            # Two first writes both inserted the namespace row; the loser starts over.
            raise _LostRaceError from None
        self._recent.keep(written, StoredDocument(after, commit.revision))
        return commit.revision

    def _announce_locally(self, revision: int) -> None:
        # Watchers of this very store object learn of its own writes at once: PostgreSQL
        # notifies them anyway; on SQLite this saves them up to a poll interval.
        if self._backend == "postgresql":
            return
        with self._lock:
            watches = list(self._watches)
        for watch in watches:
            watch.announce_threadsafe(revision)


def _merge_settings(
    given: dict[str, str | None], in_url: dict[str, str], shown: str
) -> dict[str, str | None]:
    """The store settings given as arguments or as URL parameters (not both, unless equal)."""
    merged = dict(given)
    for name, value in in_url.items():
        if given[name] is not None and given[name] != value:
            raise ConfigurationError(
                f"the database URL {shown!r} gives {name} as a query parameter and the "
                f"{name} argument differs; give it once"
            )
        merged[name] = value
    return merged


def _check_pooler(pooler: str | None, backend: str) -> str | None:
    if pooler is None:
        return None
    if pooler not in POOLERS:
        raise ConfigurationError(
            f"pooler must be one of {', '.join(sorted(POOLERS))} (PgBouncer's pool modes), "
            f"not {pooler!r}"
        )
    if backend != "postgresql":
        raise ConfigurationError("pooler applies to PostgreSQL only, not to SQLite")
    return pooler


def _check_schema_name(schema: str | None, backend: str) -> str | None:
    if schema is None:
        return None
    if backend != "postgresql":
        raise ConfigurationError("schema applies to PostgreSQL only, not to SQLite")
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ConfigurationError(
            f"schema must be 1-63 of A-Z a-z 0-9 _, not starting with a digit, not {schema!r}"
        )
    return schema


def _listen_engines(listen_url: str | None, backend: str, timeout: float) -> LoopEngines | None:
    if listen_url is None:
        return None
    if backend != "postgresql":
        raise ConfigurationError("listen_url applies to PostgreSQL only, not to SQLite")
    url = parse_url(listen_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"listen_url must be a PostgreSQL URL, not {mask_url(listen_url)!r}"
        )
    extra = [name for name in STORE_PARAMETERS if name in url.query]
    if extra:
        raise ConfigurationError(
            f"listen_url {mask_url(listen_url)!r} takes driver parameters only, not "
            f"{', '.join(extra)} (give them to the store's URL)"
        )
    return LoopEngines(engine_factory(url, timeout=timeout))

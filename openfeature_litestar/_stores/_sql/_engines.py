"""Engines for the SQL store: which URLs it accepts, and one engine per running event loop.

asyncpg's and aiosqlite's connections belong to the event loop that opened them, while a
store is used from the provider's background loop and from the application's loops at
once. So the store never shares an engine between loops: it keeps one per loop, made on
first use there, either from a URL or as a copy of a given engine's configuration.
"""

from __future__ import annotations

import asyncio
import difflib
import importlib
import importlib.util
import inspect
import sqlite3
import threading
import uuid
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from openfeature_litestar._errors import ConfigurationError, MissingDependencyError, StoreError
from openfeature_litestar._masking import mask_secrets, mask_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection
    from sqlalchemy.engine import URL
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "DRIVER_ERRORS",
    "POOLERS",
    "STORE_PARAMETERS",
    "WRITE_OPTION",
    "LoopEngines",
    "backend_of",
    "engine_factory",
    "parse_url",
    "store_error",
    "take_store_parameters",
]

_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
_ALIASES = {"postgres": "postgresql"}

WRITE_OPTION = "openfeature_litestar_write"
"""Execution option marking a connection whose next transaction writes (SQLite: take the
write lock at ``BEGIN``, so two writers queue instead of failing to upgrade their locks)."""


POOLERS: Final = frozenset({"session", "transaction"})
"""The connection poolers' modes the store knows (``pooler=``): PgBouncer's names."""

STORE_PARAMETERS: Final = ("schema", "pooler", "listen_url")
"""Query parameters of a PostgreSQL URL that configure the store, not the driver."""


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [SQLAlchemyError, OSError, sqlite3.Error]
    try:
        # Optional (a SQLite-only install may lack it), and untyped: imported by name.
        asyncpg = importlib.import_module("asyncpg")
    except ImportError:
        pass
    else:
        errors.extend([asyncpg.PostgresError, asyncpg.InterfaceError])
    return tuple(errors)


DRIVER_ERRORS = _driver_errors()
"""The exceptions a database driver raises for an unreachable or failing database."""


def parse_url(url: str) -> URL:
    """Parse and check a database URL, naming the async driver the store uses.

    ``postgresql://`` (and ``postgres://``) means asyncpg, ``sqlite://`` aiosqlite; a
    libpq-style ``sslmode`` query parameter becomes asyncpg's ``ssl``.

    Raises:
        ConfigurationError: The URL is malformed, names another database or driver, or
            is an in-memory SQLite database (private to one connection, so a store's
            loops would each see a different one).
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigurationError(f"invalid database URL {mask_url(url)!r}") from None
    backend, _, driver = parsed.drivername.partition("+")
    backend = _ALIASES.get(backend, backend)
    _check_driver(backend, driver, mask_url(url))
    parsed = parsed.set(drivername=f"{backend}+{_DRIVERS[backend]}")
    if backend == "sqlite" and _is_memory(parsed):
        raise ConfigurationError(
            f"{mask_url(url)!r} is an in-memory SQLite database, which each connection sees "
            "separately; use a file (sqlite+aiosqlite:///path/to/flags.db)"
        )
    if backend == "postgresql" and "sslmode" in parsed.query and "ssl" not in parsed.query:
        sslmode = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": sslmode})
    unknown = _unknown_query_parameters(backend, parsed)
    if unknown:
        raise ConfigurationError(
            f"the database URL {mask_url(url)!r} has query parameters the {backend} driver "
            f"does not take: {', '.join(unknown)}"
        )
    return parsed


# SQLAlchemy's asyncpg dialect takes these from the URL itself; the rest go to
# asyncpg.connect(), which fails on an unknown one only at the first connection.
_ASYNCPG_DIALECT_PARAMETERS: Final = frozenset({"prepared_statement_cache_size"})
_SQLITE_DIALECT_PARAMETERS: Final = frozenset(
    {"uri", "timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}
)
_SQLITE_URI_PARAMETERS: Final = frozenset(
    {"vfs", "mode", "cache", "psow", "nolock", "immutable", "modeof"}
)


def take_store_parameters(url: URL) -> tuple[URL, dict[str, str]]:
    """Split the store's own query parameters (:data:`STORE_PARAMETERS`) off a parsed URL.

    Raises:
        ConfigurationError: One of them is given twice.
    """
    found: dict[str, str] = {}
    for name in STORE_PARAMETERS:
        value = url.query.get(name)
        if value is None:
            continue
        if not isinstance(value, str):  # ?schema=a&schema=b
            shown = mask_url(url.render_as_string(hide_password=False))
            raise ConfigurationError(f"the database URL {shown!r} gives {name} more than once")
        found[name] = value
    return url.difference_update_query(list(found)), found


def _unknown_query_parameters(backend: str, url: URL) -> list[str]:
    """The query parameters the driver would reject or (SQLite) silently ignore, hinted."""
    if backend == "postgresql":
        # _check_driver made sure it is installed; asyncpg ships no type hints.
        connect = importlib.import_module("asyncpg").connect
        accepted = {
            *inspect.signature(connect).parameters,
            *_ASYNCPG_DIALECT_PARAMETERS,
            *STORE_PARAMETERS,  # the store takes them out (take_store_parameters)
        }
        names = [name for name in url.query if name not in accepted]
    else:
        # What SQLAlchemy's SQLite dialect reads from the URL (the rest it drops, with a
        # warning in 2.1 and silently in 2.0); with uri=true the rest goes to SQLite's
        # own URI, which takes the names listed here.
        accepted = set(_SQLITE_DIALECT_PARAMETERS)
        if str(url.query.get("uri", "")).lower() in {"true", "yes", "on", "y", "t", "1"}:
            accepted |= _SQLITE_URI_PARAMETERS
        names = [name for name in url.query if name not in accepted]
    hinted = []
    for name in names:
        close = difflib.get_close_matches(name, [*accepted, "namespace", *STORE_PARAMETERS], n=1)
        hinted.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return hinted


def backend_of(engine: AsyncEngine) -> str:
    """The backend (``postgresql`` or ``sqlite``) of a given engine.

    Raises:
        ConfigurationError: The engine uses another database or driver.
    """
    backend, driver = engine.dialect.name, engine.dialect.driver
    _check_driver(backend, driver, mask_url(engine.url.render_as_string(hide_password=False)))
    return backend


def _check_driver(backend: str, driver: str, shown: str) -> None:
    if backend not in _DRIVERS or driver not in {"", _DRIVERS[backend]}:
        raise ConfigurationError(
            f"unsupported database {shown!r}: use postgresql+asyncpg://user@host/database "
            "or sqlite+aiosqlite:///path/to/flags.db"
        )
    if importlib.util.find_spec(_DRIVERS[backend]) is None:
        raise MissingDependencyError(_DRIVERS[backend], "sqlalchemy")


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in {"", ":memory:"} or url.query.get("mode") == "memory"


def engine_factory(
    source: URL | AsyncEngine, *, timeout: float, pooler: str | None = None
) -> Callable[[], AsyncEngine]:
    """A function that makes a fresh engine for the running loop.

    From a URL: an engine with ``timeout`` as the connect and command timeout (SQLite:
    as the time to wait for another writer's lock) and pre-ping, so that a connection
    broken by an outage is replaced instead of failing the next operation. With
    ``pooler="transaction"`` (PgBouncer's transaction pooling) asyncpg's and SQLAlchemy's
    prepared-statement caches are off and each statement gets a unique name: consecutive
    transactions of one client connection may run on different server connections, where
    a cached statement does not exist (or another client's has the same name).

    From an engine: a new engine with the given one's dialect, connect arguments (TLS
    context and all) and pool settings but its own pool, via
    :meth:`sqlalchemy.pool.Pool.recreate`, as :meth:`~sqlalchemy.Engine.dispose` does;
    the given engine itself is never used or disposed.
    """
    if isinstance(source, AsyncEngine):
        template = source.sync_engine

        def copy() -> AsyncEngine:
            engine = AsyncEngine(
                Engine(
                    template.pool.recreate(),
                    template.dialect,
                    template.url,
                    logging_name=getattr(template, "logging_name", None),
                    echo=template.echo,
                    hide_parameters=template.hide_parameters,
                )
            )
            return _prepared(engine)

        return copy
    url = source
    connect_args: dict[str, Any] = {"timeout": timeout}
    if url.get_backend_name() == "postgresql":
        connect_args["command_timeout"] = timeout
        if pooler == "transaction":
            # SQLAlchemy's documented settings for PgBouncer's transaction pooling.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = _unique_statement_name
            url = url.update_query_dict({"prepared_statement_cache_size": "0"})

    def create() -> AsyncEngine:
        return _prepared(create_async_engine(url, connect_args=connect_args, pool_pre_ping=True))

    return create


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _prepared(engine: AsyncEngine) -> AsyncEngine:
    if engine.dialect.name == "sqlite":
        # SQLAlchemy's documented recipe: let it emit BEGIN itself, so that a transaction
        # covers reads and DDL too (Python's sqlite3 only begins before data changes).
        event.listen(engine.sync_engine, "connect", _no_implicit_transactions)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def _no_implicit_transactions(
    dbapi_connection: Any,
    connection_record: ConnectionPoolEntry,  # noqa: ARG001 - the event's signature
) -> None:
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


class LoopEngines:
    """One engine per running event loop, made on first use there."""

    def __init__(self, make: Callable[[], AsyncEngine]) -> None:
        """Create the registry; ``make`` builds an engine for the running loop."""
        self._make = make
        self._lock = threading.Lock()
        self._engines: dict[asyncio.AbstractEventLoop, AsyncEngine] = {}

    def get(self) -> AsyncEngine:
        """The running loop's engine, made now if it has none."""
        loop = asyncio.get_running_loop()
        with self._lock:
            engine = self._engines.get(loop)
            if engine is None:
                # Forget loops that ended without closing the store: their connections
                # died with them, and the loop objects should not be kept alive.
                for ended in [known for known in self._engines if known.is_closed()]:
                    del self._engines[ended]
                engine = self._engines[loop] = self._make()
            return engine

    def pop(self) -> AsyncEngine | None:
        """Remove and return the running loop's engine, if it has one."""
        loop = asyncio.get_running_loop()
        with self._lock:
            return self._engines.pop(loop, None)


def store_error(action: str, exc: BaseException, where: str) -> StoreError:
    """A :class:`StoreError` for a driver's exception, with any secret masked.

    Args:
        action: What failed, as a verb phrase (``"load the flags"``).
        exc: The driver's (or SQLAlchemy's) exception.
        where: The store, as shown to people (its masked URL).
    """
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, BaseException):
        cause = exc.orig  # the driver's own message, without SQLAlchemy's SQL dump
    detail = str(cause).strip() or "no details"
    return StoreError(mask_secrets(f"cannot {action} at {where}: {type(cause).__name__}: {detail}"))

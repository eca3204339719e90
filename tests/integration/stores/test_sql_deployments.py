"""The SQL store as deployed: behind a real PgBouncer, in its own schema, with least privilege.

The PgBouncer tests start their own ``pgbouncer`` (Debian's package; ``.ci/run`` installs
it) on a free loopback port, in transaction pooling mode with one server connection per
database, so that every client's transactions share it: what breaks under transaction
pooling (prepared statements, LISTEN) breaks here too. Without the binary they skip with
the reason, except under CI, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.pgbouncer import running_pgbouncer
from openfeature_litestar import (
    ConfigurationError,
    RevisionConflict,
    SQLAlchemyStore,
    StoreError,
    WritableFlagStore,
    store_from_url,
)
from openfeature_litestar._stores._sql._engines import parse_url
from tests.support import SQL_TABLES, flag, run_cli

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator


WAIT = 10.0  # seconds: only ever a bound on waiting for something that should happen
DOCS = Path(__file__).resolve().parents[3] / "docs" / "stores" / "sql.rst"


async def _sql(url: str, *statements: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = None
            for statement in statements:
                result = await connection.execute(text(statement))
            return list(result.all()) if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


async def _next(changes: AsyncIterator[None]) -> None:
    await asyncio.wait_for(changes.__anext__(), WAIT)


def _run(*stores: WritableFlagStore, work: Callable[[], Awaitable[Any]]) -> Any:
    async def once() -> Any:
        try:
            return await work()
        finally:
            for store in stores:
                await store.close()

    return asyncio.run(once())


def _drop_tables(url: str, prefix: str, schema: str = "public") -> None:
    names = ", ".join(f'"{schema}"."{prefix}{name}"' for name in SQL_TABLES)
    asyncio.run(_sql(url, f"DROP TABLE IF EXISTS {names}"))


# -- PgBouncer ---------------------------------------------------------------------------


def _pgbouncer_binary() -> str:
    # Debian installs it in /usr/sbin, which an unprivileged user's PATH may lack.
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")
    if found is None:
        reason = "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"under CI the PgBouncer tests must run: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def pgbouncer(postgres_url: str) -> Iterator[str]:
    """The test database through PgBouncer with one server connection, shared by all clients."""
    with running_pgbouncer(
        _pgbouncer_binary(), postgres_url, max_client_conn=50, pool_size=1
    ) as url:
        yield url


@pytest.fixture
def prefix(postgres_url: str, unique_name: str) -> Iterator[str]:
    """A fresh table prefix in the test database, its tables dropped afterwards."""
    yield f"{unique_name}_"
    _drop_tables(postgres_url, f"{unique_name}_")


@pytest.mark.parametrize("pooler", [None, "transaction"])
def test_pooler_transaction_survives_a_change_of_server_connection(
    postgres_url: str, prefix: str, pooler: str | None
) -> None:
    # Why pooler=transaction exists. A client's next transaction may run on another
    # server connection, where the statements asyncpg prepared and cached on the first
    # one do not exist. A fresh PgBouncer makes it happen every time: the store's first
    # load opens server connection 1; a blocker then holds 1 in a transaction, so the
    # second load runs on a new server connection 2.
    asyncpg = importlib.import_module("asyncpg")  # the driver ships no type hints

    with running_pgbouncer(
        _pgbouncer_binary(), postgres_url, max_client_conn=50, pool_size=2
    ) as url:
        store = SQLAlchemyStore(url, table_prefix=prefix, pooler=pooler)
        server = parse_url(url)

        async def work() -> None:
            await store.put_flag("a", flag(), actor="alice")
            blocker = await asyncpg.connect(
                host=server.host,
                port=server.port,
                user=server.username,
                database=server.database,
                statement_cache_size=0,
            )
            try:
                async with blocker.transaction():
                    await blocker.execute("SELECT 1")
                    assert list((await store.load()).document.flags) == ["a"]
            finally:
                await blocker.close()

        if pooler is None:
            with pytest.raises(StoreError, match=r"prepared statement .* does not exist"):
                _run(store, work=work)
        else:
            _run(store, work=work)


def test_writes_reads_versions_and_conflicts_through_pgbouncer(pgbouncer: str, prefix: str) -> None:
    url = f"{pgbouncer}?pooler=transaction"
    # Two store objects, so that two clients' transactions share the one server connection.
    first, second = (SQLAlchemyStore(url, table_prefix=prefix) for _ in range(2))
    assert first.pooler == "transaction"

    async def work() -> None:
        await asyncio.gather(first.load(), second.load())  # both migrate, under the lock
        await asyncio.gather(
            *(
                store.put_flag(f"{store is first}-{index}", flag(), actor="alice")
                for index in range(5)
                for store in (first, second)
            )
        )
        loaded = await second.load()
        assert loaded.revision == 10  # every concurrent write kept
        assert len(loaded.document.flags) == 10
        with pytest.raises(RevisionConflict):
            await first.put_flag("late", flag(), actor="bob", expected_revision=9)
        assert await first.put_flag("late", flag(), actor="bob", expected_revision=10) == 11
        assert len(await second.audit_log(limit=100)) == 11

    _run(first, second, work=work)


def test_listen_url_follows_changes_on_a_direct_connection(
    pgbouncer: str, postgres_url: str, prefix: str
) -> None:
    direct = quote(postgres_url, safe="")
    url = f"{pgbouncer}?pooler=transaction&listen_url={direct}"
    # An hour between revision checks: only a notification can wake the watcher in time.
    watcher = store_from_url(url, table_prefix=prefix, poll_interval=3600)
    writer = SQLAlchemyStore(pgbouncer, pooler="transaction", table_prefix=prefix)
    assert isinstance(watcher, SQLAlchemyStore)
    assert watcher.listen_url == postgres_url

    async def work() -> None:
        changes = watcher.changes()
        try:
            await _next(changes)
            await writer.put_flag("a", flag(), actor="alice")
            await _next(changes)
            assert list((await watcher.load()).document.flags) == ["a"]
        finally:
            await changes.aclose()

    _run(watcher, writer, work=work)


def test_without_listen_url_it_polls_and_says_so_once(
    pgbouncer: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = SQLAlchemyStore(
        pgbouncer, pooler="transaction", table_prefix=prefix, poll_interval=0.1
    )
    writer = SQLAlchemyStore(pgbouncer, pooler="transaction", table_prefix=prefix)

    async def work() -> None:
        for round_ in range(2):  # a provider watches again after a failure: no second line
            changes = watcher.changes()
            try:
                await _next(changes)
                await writer.put_flag(f"a{round_}", flag(), actor="alice")
                await _next(changes)
            finally:
                await changes.aclose()

    with caplog.at_level(logging.INFO, logger="openfeature_litestar.stores"):
        _run(watcher, writer, work=work)
    said = [record for record in caplog.records if "LISTEN cannot work" in record.getMessage()]
    assert len(said) == 1
    assert "every 0.1 s" in said[0].getMessage()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pooler": "statement"}, "pooler must be one of session, transaction"),
        ({"schema": "1bad"}, "schema must be"),
        ({"schema": "a;drop"}, "schema must be"),
        ({"listen_url": "sqlite+aiosqlite:///flags.db"}, "listen_url must be a PostgreSQL URL"),
        ({"listen_url": "postgresql://h/db?pooler=session"}, "takes driver parameters only"),
        ({"listen_url": "postgresql://h/db?bogus=1"}, "bogus"),
    ],
)
def test_invalid_deployment_settings_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        SQLAlchemyStore("postgresql://postgres@127.0.0.1/test", **options)


@pytest.mark.parametrize("name", ["pooler", "schema", "listen_url"])
def test_deployment_settings_are_postgresql_only(name: str, tmp_path: Path) -> None:
    value = {"pooler": "transaction", "schema": "flags", "listen_url": "postgresql://h/db"}[name]
    options: dict[str, Any] = {name: value}
    with pytest.raises(ConfigurationError, match="PostgreSQL only"):
        SQLAlchemyStore(f"sqlite+aiosqlite:///{tmp_path}/flags.db", **options)
    # In a SQLite URL they are parameters the driver does not take.
    with pytest.raises(ConfigurationError, match=name):
        store_from_url(f"sqlite:///{tmp_path}/flags.db?{name}={quote(value, safe='')}")


def test_a_setting_in_the_url_and_a_different_argument_is_an_error() -> None:
    url = "postgresql://postgres@127.0.0.1/test?schema=flags"
    with pytest.raises(ConfigurationError, match="give it once"):
        SQLAlchemyStore(url, schema="other")
    assert SQLAlchemyStore(url, schema="flags").schema == "flags"  # the same twice is fine
    with pytest.raises(ConfigurationError, match="more than once"):
        SQLAlchemyStore(f"{url}&schema=other")


# -- a schema of its own, and least-privilege roles -----------------------------------------

# The statements docs/stores/sql.rst gives, with its names; the test substitutes fresh ones.
GRANTS = [
    "CREATE SCHEMA flags",
    "CREATE ROLE flags_writer LOGIN",
    "CREATE ROLE flags_reader LOGIN",
    "GRANT USAGE ON SCHEMA flags TO flags_writer, flags_reader",
    (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON flags.openfeature_namespaces, "
        "flags.openfeature_flags, flags.openfeature_audit, flags.openfeature_schema "
        "TO flags_writer"
    ),
    "GRANT USAGE ON SEQUENCE flags.openfeature_audit_id_seq TO flags_writer",
    (
        "GRANT SELECT ON flags.openfeature_namespaces, flags.openfeature_flags, "
        "flags.openfeature_schema TO flags_reader"
    ),
    (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON flags.openfeature_usage, "
        "flags.openfeature_usage_seq TO flags_writer, flags_reader"
    ),
]


def _normalised(sql: str) -> str:
    return " ".join(sql.replace(";", " ").split())


def test_the_documented_grants_are_the_tested_ones() -> None:
    documented = _normalised(DOCS.read_text())
    for statement in GRANTS:
        assert _normalised(statement) in documented


@dataclass(frozen=True)
class Roles:
    """A fresh schema with the flag tables, and the URLs of its writer and reader roles."""

    schema: str
    writer: str
    reader: str


@pytest.fixture
def roles(postgres_url: str, unique_name: str) -> Iterator[Roles]:
    """The documented schema and roles under fresh names; all dropped afterwards."""
    schema, writer, reader = unique_name, f"{unique_name}_writer", f"{unique_name}_reader"
    names = {"flags_writer": writer, "flags_reader": reader, "flags": schema}
    pattern = re.compile(r"\b(flags_writer|flags_reader|flags)\b")
    statements = [pattern.sub(lambda found: names[found[1]], grant) for grant in GRANTS]
    server = parse_url(postgres_url)
    port = server.port or 5432

    def url(role: str) -> str:
        return f"postgresql+asyncpg://{role}@{server.host}:{port}/{server.database}?schema={schema}"

    async def set_up() -> None:
        await _sql(postgres_url, statements[0])  # CREATE SCHEMA, as the owner
        owner = SQLAlchemyStore(postgres_url, schema=schema)
        try:
            await owner.load()  # the owner creates the tables (create_schema=True)
            await owner.read_usage(since=datetime.now(timezone.utc))  # and the usage tables
        finally:
            await owner.close()
        await _sql(postgres_url, *statements[1:])

    try:
        asyncio.run(set_up())
        yield Roles(schema, url(writer), url(reader))
    finally:
        cleanup = [f'DROP SCHEMA IF EXISTS "{schema}" CASCADE']
        for role in (writer, reader):
            cleanup += [f'DROP OWNED BY "{role}"', f'DROP ROLE IF EXISTS "{role}"']
        for statement in cleanup:
            with contextlib.suppress(Exception):  # a role a failed set-up did not create
                asyncio.run(_sql(postgres_url, statement))


def test_the_tables_live_in_the_chosen_schema(roles: Roles, postgres_url: str) -> None:
    located = asyncio.run(
        _sql(
            postgres_url,
            "SELECT table_schema, table_name FROM information_schema.tables "  # noqa: S608 - our own name
            f"WHERE table_name LIKE 'openfeature_%' AND table_schema = '{roles.schema}' "
            "ORDER BY table_name",
        )
    )
    assert [row[1] for row in located] == [f"openfeature_{name}" for name in sorted(SQL_TABLES)]


def test_the_reader_follows_and_cannot_write_the_writer_writes(roles: Roles) -> None:
    writing = store_from_url(roles.writer, create_schema=False)
    reading = store_from_url(roles.reader, create_schema=False, poll_interval=3600)
    assert isinstance(reading, SQLAlchemyStore)
    assert reading.schema == roles.schema

    async def work() -> None:
        changes = reading.changes()
        try:
            await _next(changes)
            await writing.put_flag("a", flag(), actor="alice")
            await _next(changes)  # woken by the notification: an hour between checks
            assert list((await reading.load()).document.flags) == ["a"]
            with pytest.raises(StoreError, match="permission denied"):
                await reading.put_flag("b", flag(), actor="mallory")
            assert (await reading.load()).revision == 1
        finally:
            await changes.aclose()

    assert isinstance(writing, SQLAlchemyStore)
    _run(writing, reading, work=work)


def test_the_cli_as_the_reader_fails_in_one_line(
    roles: Roles, capsys: pytest.CaptureFixture[str]
) -> None:
    writing = store_from_url(roles.writer)
    _run(writing, work=lambda: writing.put_flag("a", flag(), actor="alice"))
    capsys.readouterr()
    status, _ = run_cli("set-variant", "a", "off", "--store", roles.reader)
    error = capsys.readouterr().err
    assert status == 2  # the CLI's status for a store error
    assert "permission denied" in error
    assert "Traceback" not in error
    assert len(error.strip().splitlines()) == 1
    assert run_cli("get", "a", "--store", roles.reader)[0] == 0  # reading is allowed
    assert run_cli("set-variant", "a", "off", "--store", roles.writer)[0] == 0


def test_a_schema_that_does_not_exist_is_a_store_error(postgres_url: str, unique_name: str) -> None:
    # The store never creates a schema (that is the database owner's decision): it says so.
    store = SQLAlchemyStore(postgres_url, schema=unique_name)
    with pytest.raises(StoreError, match=rf'schema "{unique_name}" does not exist'):
        _run(store, work=store.load)
    reader = SQLAlchemyStore(postgres_url, schema=unique_name, create_schema=False)
    with pytest.raises(StoreError, match="do not exist"):
        _run(reader, work=reader.load)

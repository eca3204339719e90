"""store_from_url: every URL form, the namespace parameter, and masked errors.

resolve_store_url: the URL given, else the environment's, else the embedded database.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import ConfigurationError, FileStore, MemoryStore, WritableFlagStore
from openfeature_litestar._stores._url import (
    DEFAULT_STORE_URL,
    STORE_URL_ENV,
    resolve_store_url,
    store_from_url,
)
from tests.support import SQL_TABLES

if TYPE_CHECKING:
    from pathlib import Path

FLAG = {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"}


async def _round_trip(store: WritableFlagStore) -> int:
    """Write one flag and read it back through the store; return the loaded revision."""
    try:
        await store.put_flag("switch", FLAG, actor="test")
        stored = await store.load()
        assert list(stored.document.flags) == ["switch"]
        return stored.revision
    finally:
        await store.close()


# -- memory and file ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["memory://", "memory:", "MEMORY://"])
def test_memory_urls(url: str) -> None:
    store = store_from_url(url)
    assert isinstance(store, MemoryStore)
    assert store.namespace == "default"
    assert asyncio.run(_round_trip(store)) == 1


def test_memory_url_with_namespace_and_options() -> None:
    store = store_from_url("memory://?namespace=staging", audit_max_length=1)
    assert isinstance(store, MemoryStore)
    assert store.namespace == "staging"
    asyncio.run(store.put_flag("a", FLAG, actor="test"))
    asyncio.run(store.put_flag("b", FLAG, actor="test"))
    assert [entry.flag_key for entry in asyncio.run(store.audit_log())] == ["b"]


def test_namespace_keyword() -> None:
    assert store_from_url("memory://", namespace="prod").namespace == "prod"
    assert store_from_url("memory://?namespace=prod", namespace="prod").namespace == "prod"


def test_absolute_file_url(tmp_path: Path) -> None:
    path = tmp_path / "dir with space" / "flags.yaml"
    path.parent.mkdir()
    url = "file://" + str(path).replace(" ", "%20") + "?namespace=qa"
    store = store_from_url(url, poll_interval=0.5)
    assert isinstance(store, FileStore)
    assert (store.path, store.namespace, store.poll_interval) == (path, "qa", 0.5)
    asyncio.run(_round_trip(store))
    assert path.read_text(encoding="utf-8").startswith("flags:")  # YAML, by the suffix


def test_localhost_file_url(tmp_path: Path) -> None:
    store = store_from_url(f"file://localhost{tmp_path}/flags.json")
    assert isinstance(store, FileStore)
    assert store.path == tmp_path / "flags.json"


def test_relative_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = store_from_url("file:conf/flags.json")
    assert isinstance(store, FileStore)
    assert str(store.path) == "conf/flags.json"
    (tmp_path / "conf").mkdir()
    asyncio.run(_round_trip(store))
    assert (tmp_path / "conf" / "flags.json").is_file()


# -- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "unknown store URL scheme ''"),
        ("flags.yaml", "unknown store URL scheme ''"),
        ("mysql://user:hunter2@db/flags", "unknown store URL scheme 'mysql'"),
        ("postgresql+psycopg://user:hunter2@db/flags", "unknown store URL scheme"),
        ("memory://somewhere", "malformed store URL"),
        ("memory://?size=3", "does not take: size"),
        ("file://flags.yaml", "names a host"),
        ("file:", "names no file"),
        ("file:///", "names no file"),
        ("file:///x.json?poll=1", "does not take: poll"),
        ("file:///x.json#top", "malformed store URL"),
        ("memory://?namespace=a&namespace=b", "more than one namespace"),
        ("memory://?namespace=a%20b", "invalid namespace"),
        ("memory://?namespace=", "invalid namespace"),
        ("redis://[::1:6379/0", "malformed store URL"),
    ],
)
def test_bad_urls_are_configuration_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        store_from_url(url)


def test_a_second_namespace_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="names namespace 'a' but 'b' was passed"):
        store_from_url("memory://?namespace=a", namespace="b")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://admin:hunter2@db.internal/flags",
        "redis://:hunter2@[::1/0",
        "redis://admin:hunter2@cache/0?namespace=no%20spaces",
        "postgresql://admin:hunter2@db/flags?namespace=a&namespace=b",
    ],
)
def test_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store_from_url(url)
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)


def test_unknown_options_are_type_errors() -> None:
    with pytest.raises(TypeError):
        store_from_url("memory://", colour="red")


def test_an_invalid_keyword_namespace_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        store_from_url("memory://", namespace="no spaces")


# -- Redis and SQL: the URL reaches the driver without the namespace --------------------------


def test_sqlite_relative_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openfeature_litestar._stores._sql import SQLAlchemyStore  # noqa: PLC0415 - optional

    monkeypatch.chdir(tmp_path)
    store = store_from_url("sqlite+aiosqlite:///flags.db?namespace=qa", poll_interval=0.5)
    assert isinstance(store, SQLAlchemyStore)
    assert store.namespace == "qa"
    assert asyncio.run(_round_trip(store)) == 1
    assert (tmp_path / "flags.db").is_file()


@pytest.mark.parametrize("scheme", ["sqlite", "sqlite+aiosqlite", "SQLite"])
def test_sqlite_absolute_url(tmp_path: Path, scheme: str) -> None:
    from openfeature_litestar._stores._sql import SQLAlchemyStore  # noqa: PLC0415 - optional

    path = tmp_path / "abs.db"
    store = store_from_url(f"{scheme}:///{path}")
    assert isinstance(store, SQLAlchemyStore)
    asyncio.run(_round_trip(store))
    assert path.is_file()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+asyncpg"])
def test_postgres_urls(postgres_url: str, unique_name: str, scheme: str) -> None:
    from openfeature_litestar._stores._sql import SQLAlchemyStore  # noqa: PLC0415 - optional

    rest = postgres_url.partition("://")[2]
    url = f"{scheme}://{rest}?namespace={unique_name}"
    prefix = f"{unique_name}_"
    store = store_from_url(url, table_prefix=prefix)
    assert isinstance(store, SQLAlchemyStore)
    assert store.namespace == unique_name
    try:
        assert asyncio.run(_round_trip(store)) == 1
    finally:
        asyncio.run(_drop_tables(postgres_url, prefix))


async def _drop_tables(postgres_url: str, prefix: str) -> None:
    from sqlalchemy import text  # noqa: PLC0415 - optional dependency
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415

    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            for table in SQL_TABLES:
                await connection.execute(text(f'DROP TABLE IF EXISTS "{prefix}{table}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("query", ["?namespace={ns}", "?namespace={ns}&health_check_interval=10"])
def test_redis_url(redis_url: str, unique_name: str, query: str) -> None:
    from openfeature_litestar._stores._redis import RedisStore  # noqa: PLC0415 - optional

    prefix = f"{unique_name}:"
    query = query.format(ns=unique_name)
    url = redis_url + (query.replace("?", "&", 1) if "?" in redis_url else query)
    store = store_from_url(url, key_prefix=prefix, timeout=5.0)
    assert isinstance(store, RedisStore)
    assert store.namespace == unique_name
    try:
        assert asyncio.run(_round_trip(store)) == 1
    finally:
        asyncio.run(_delete_keys(redis_url, prefix))


async def _delete_keys(redis_url: str, prefix: str) -> None:
    import redis.asyncio  # noqa: PLC0415 - optional dependency

    client: Any = redis.asyncio.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


def test_rediss_url_is_a_redis_store() -> None:
    from openfeature_litestar._stores._redis import RedisStore  # noqa: PLC0415 - optional

    store = store_from_url("rediss://:hunter2@cache.example:6380/1?namespace=prod")
    assert isinstance(store, RedisStore)
    assert store.namespace == "prod"
    assert "hunter2" not in repr(store)


# -- resolve_store_url ----------------------------------------------------------------------


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no store in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STORE_URL_ENV, raising=False)
    return tmp_path


def test_the_given_url_wins_over_the_environment(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_URL_ENV, "redis://127.0.0.1:6379/0")
    assert resolve_store_url("memory://") == "memory://"
    assert not (elsewhere / ".openfeature-litestar").exists()


def test_the_environment_names_the_store_when_none_is_given(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_URL_ENV, "file:flags.yaml")
    assert resolve_store_url() == "file:flags.yaml"
    assert resolve_store_url(None) == "file:flags.yaml"
    assert not (elsewhere / ".openfeature-litestar").exists()


def test_the_default_is_the_embedded_database_and_its_folder_is_created(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_URL_ENV, "")  # empty counts as unset
    assert resolve_store_url("") == DEFAULT_STORE_URL
    assert (elsewhere / ".openfeature-litestar").is_dir()
    assert resolve_store_url() == DEFAULT_STORE_URL  # the folder already exists: no error
    store = store_from_url(DEFAULT_STORE_URL)
    assert asyncio.run(_round_trip(store)) == 1
    assert (elsewhere / ".openfeature-litestar" / "flags.db").is_file()


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("redis://127.0.0.1:6379/0?nmespace=staging", "nmespace (did you mean namespace?)"),
        (
            "redis://:pw@127.0.0.1:6379/0?socket_timout=1",
            "socket_timout (did you mean socket_timeout?)",
        ),
        # TLS settings on a plain connection: redis-py would fail at the first connect.
        ("redis://127.0.0.1:6379/0?ssl_cert_reqs=required", "ssl_cert_reqs"),
    ],
)
def test_a_redis_url_with_an_unknown_query_parameter_is_refused_up_front(
    url: str, hint: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store_from_url(url)
    message = str(caught.value)
    assert hint in message
    assert "\n" not in message
    assert "pw@" not in message


def test_a_redis_url_with_the_client_s_own_parameters_is_accepted() -> None:
    store = store_from_url("rediss://127.0.0.1:6380/0?ssl_cert_reqs=required&socket_timeout=5")
    assert store.namespace == "default"


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        # SQLite's dialect would ignore it silently, so the namespace would be "default".
        ("sqlite+aiosqlite:///flags.db?nmespace=staging", "nmespace (did you mean namespace?)"),
        (
            "postgresql://u:pw@127.0.0.1/test?comand_timeout=3",
            "comand_timeout (did you mean command_timeout?)",
        ),
        ("postgresql://u:pw@127.0.0.1/test?bogus=1", "bogus"),
        ("sqlite+aiosqlite:///flags.db?mode=ro", "mode"),  # SQLite URI names need uri=true
    ],
)
def test_a_sql_url_with_an_unknown_query_parameter_is_refused_up_front(url: str, hint: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store_from_url(url)
    message = str(caught.value)
    assert hint in message
    assert "pw@" not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///flags.db?timeout=5",
        "sqlite+aiosqlite:///flags.db?uri=true&mode=ro",
        "postgresql://u@127.0.0.1/test?sslmode=require&command_timeout=3",
        "postgresql+asyncpg://u@127.0.0.1/test?prepared_statement_cache_size=0",
    ],
)
def test_a_sql_url_with_the_driver_s_own_parameters_is_accepted(url: str) -> None:
    assert store_from_url(url, namespace="ns").namespace == "ns"

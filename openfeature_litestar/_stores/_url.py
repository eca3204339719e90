"""Build a store from one URL, so that deployments configure flags with a single setting.

:func:`store_from_url` turns a URL into a store; :func:`resolve_store_url` chooses the
URL when a command or server is given none: the environment variable
:data:`STORE_URL_ENV`, else the embedded SQLite database :data:`DEFAULT_STORE_URL`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import unquote, unquote_plus, urlsplit

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._masking import mask_url

from ._file import FileStore
from ._memory import MemoryStore
from ._names import check_namespace

if TYPE_CHECKING:
    from ._base import FlagStore, WritableFlagStore

__all__ = ["DEFAULT_STORE_URL", "STORE_URL_ENV", "resolve_store_url", "store_from_url"]

STORE_URL_ENV = "OPENFEATURE_LITESTAR_STORE"
"""The environment variable naming the store the store commands and the demo use."""

DEFAULT_STORE_URL = "sqlite+aiosqlite:///.openfeature-litestar/flags.db"
"""The store used when neither ``--store`` nor :data:`STORE_URL_ENV` names one: an
embedded SQLite database in ``.openfeature-litestar/`` under the working directory."""

_DEFAULT_STORE_DIRECTORY = ".openfeature-litestar"

# Only the asynchronous drivers the [sqlalchemy] extra installs; the plain scheme names
# (what most tools and platforms hand out) map to them.
_SQL_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_REDIS_SCHEMES = frozenset(
    {"redis", "rediss", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel"}
)
# Read-only stores: built only when the caller says it will not write (read_only=True).
_HTTP_SCHEMES = frozenset({"http", "https"})
_FILE_HOSTS = frozenset({"", "localhost"})


def resolve_store_url(url: str | None = None) -> str:
    """The store URL the commands and the demo use.

    ``url`` if given, else the environment variable :data:`STORE_URL_ENV` (an empty value
    counts as unset), else :data:`DEFAULT_STORE_URL`. For the default, its directory
    (``.openfeature-litestar`` in the working directory) is created: SQLite creates a
    database file but not the folder it goes in.

    Args:
        url: The URL given on the command line or to the app, if any.

    Returns:
        The URL to pass to :func:`~openfeature_litestar.store_from_url`.
    """
    chosen = url or os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL
    if chosen == DEFAULT_STORE_URL:
        Path(_DEFAULT_STORE_DIRECTORY).mkdir(exist_ok=True)
    return chosen


@overload
def store_from_url(
    url: str, *, namespace: str | None = None, read_only: Literal[False] = False, **options: Any
) -> WritableFlagStore: ...


@overload
def store_from_url(
    url: str, *, namespace: str | None = None, read_only: bool, **options: Any
) -> FlagStore: ...


def store_from_url(
    url: str, *, namespace: str | None = None, read_only: bool = False, **options: Any
) -> FlagStore:
    """Create the store a URL names.

    ===================================================  =====================================
    URL                                                  Store
    ===================================================  =====================================
    ``memory://``                                        :class:`MemoryStore` (empty)
    ``file:///abs/path/flags.yaml``                      :class:`FileStore` (absolute path)
    ``file:relative/flags.yaml``                         :class:`FileStore` (relative to the
                                                         working directory)
    ``redis://[user:password@]host:6379/0``,             :class:`RedisStore`
    ``rediss://…`` (TLS)
    ``redis+cluster://h1:7000,h2:7001/``;                :class:`RedisStore` on a Redis Cluster
    ``rediss+cluster://…`` (TLS)
    ``redis+sentinel://h1:26379,h2:26379/service/0``;    :class:`RedisStore` on the primary
    ``rediss+sentinel://…`` (TLS)                        Sentinel names
    ``sqlite+aiosqlite:///flags.db`` (relative),         :class:`SQLAlchemyStore` on SQLite
    ``sqlite+aiosqlite:////abs/flags.db``; ``sqlite:``
    means the same
    ``postgresql+asyncpg://user:password@host/db``;      :class:`SQLAlchemyStore` on PostgreSQL
    ``postgresql://`` and ``postgres://`` mean the same
    ``https://host/path/flags.yaml``; ``http://`` for    :class:`HttpStore` (read-only: only
    loopback hosts (or ``allow_insecure_http=True``)     with ``read_only=True``)
    ===================================================  =====================================

    Every URL may carry a ``namespace`` query parameter (``redis://host/0?namespace=staging``);
    it is taken out before the URL reaches the driver. Other query parameters of Redis and
    SQL URLs are the driver's (``?ssl_cert_reqs=required``), checked against what the
    driver takes, so a misspelt one fails here; those of HTTP URLs are sent to the server.
    Memory and file URLs take none.
    Percent-encode reserved characters in passwords and paths.

    Args:
        url: The store's URL.
        namespace: The namespace, unless the URL names it (naming two different ones is an
            error). Default ``"default"``.
        read_only: The caller only reads (a provider): read-only stores (HTTP) are
            allowed, and the store is typed as a :class:`FlagStore`. Without it a
            read-only URL is refused, so commands that write fail before they start.
        **options: Passed on to the store's constructor (``poll_interval``, ``timeout``,
            ``key_prefix``, ``table_prefix``, ``token_env``, ...).

    Returns:
        The store; nothing is connected or read yet.

    Raises:
        ConfigurationError: The scheme is unknown, the URL is malformed or names an
            invalid or a second namespace, or it names a read-only store and
            ``read_only`` is not set. The message shows the URL with its password masked.

    .. versionchanged:: 0.2.0
       ``http(s)://`` URLs and ``read_only``.
        MissingDependencyError: The store's driver is not installed.
        TypeError: ``options`` has an option the store does not take.
    """
    masked = mask_url(url)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # an unbalanced IPv6 bracket in the host
        raise ConfigurationError(f"malformed store URL {masked!r}") from None
    base, query, fragment = _split(url)
    url_namespace, driver_query = _take_namespace(query, masked)
    chosen = _choose_namespace(namespace, url_namespace, masked)
    if scheme == "memory":
        _refuse_extras(base.lower() not in {"memory:", "memory://"}, driver_query, masked)
        return MemoryStore(namespace=chosen, **options)
    if scheme == "file":
        _refuse_extras(fragment is not None, driver_query, masked)
        return FileStore(_file_path(base, masked), namespace=chosen, **options)
    driver_url = _join(base, driver_query, fragment)
    if scheme in _REDIS_SCHEMES:
        from ._redis import RedisStore  # noqa: PLC0415 - the driver is an optional extra

        return RedisStore(driver_url, namespace=chosen, **options)
    if scheme in _SQL_SCHEMES:
        from ._sql import SQLAlchemyStore  # noqa: PLC0415 - the driver is an optional extra

        driver_url = _SQL_SCHEMES[scheme] + driver_url[len(scheme) :]
        return SQLAlchemyStore(driver_url, namespace=chosen, **options)
    if scheme in _HTTP_SCHEMES:
        if not read_only:
            raise ConfigurationError(
                f"{masked!r} is a read-only store (HttpStore): it can be followed, not written"
            )
        from ._http import HttpStore  # noqa: PLC0415 - the driver is an optional extra

        return HttpStore(driver_url, namespace=chosen, **options)
    known = ", ".join(sorted({"memory", "file", *_REDIS_SCHEMES, *_SQL_SCHEMES, *_HTTP_SCHEMES}))
    raise ConfigurationError(
        f"unknown store URL scheme {scheme!r} in {masked!r}; use one of: {known}"
    )


def _split(url: str) -> tuple[str, list[str], str | None]:
    """Split ``url`` into the part before ``?``, its query pairs (raw) and its fragment.

    The text is split rather than parsed and re-assembled: :func:`urllib.parse.urlunsplit`
    drops the empty authority of ``sqlite:////abs/flags.db``, changing the path.
    """
    rest, hash_mark, fragment = url.partition("#")
    base, _, query = rest.partition("?")
    pairs = [pair for pair in query.split("&") if pair]
    return base, pairs, fragment if hash_mark else None


def _join(base: str, pairs: list[str], fragment: str | None) -> str:
    query = f"?{'&'.join(pairs)}" if pairs else ""
    return f"{base}{query}{'' if fragment is None else f'#{fragment}'}"


def _take_namespace(pairs: list[str], masked: str) -> tuple[str | None, list[str]]:
    """The ``namespace`` query parameter's value, and the other pairs untouched."""
    values = [
        unquote_plus(pair.partition("=")[2])
        for pair in pairs
        if unquote_plus(pair.partition("=")[0]) == "namespace"
    ]
    if len(values) > 1:
        raise ConfigurationError(f"the store URL {masked!r} names more than one namespace")
    others = [pair for pair in pairs if unquote_plus(pair.partition("=")[0]) != "namespace"]
    if not values:
        return None, others
    try:
        return check_namespace(values[0]), others
    except ValueError as exc:
        raise ConfigurationError(f"{exc} (in the store URL {masked!r})") from None


def _choose_namespace(given: str | None, in_url: str | None, masked: str) -> str:
    if given is not None and in_url is not None and given != in_url:
        raise ConfigurationError(
            f"the store URL {masked!r} names namespace {in_url!r} but {given!r} was passed"
        )
    return in_url or given or "default"


def _refuse_extras(malformed: bool, pairs: list[str], masked: str) -> None:
    if malformed:
        raise ConfigurationError(f"malformed store URL {masked!r}")
    if pairs:
        names = ", ".join(sorted({unquote_plus(pair.partition("=")[0]) for pair in pairs}))
        raise ConfigurationError(
            f"the store URL {masked!r} has query parameters this store does not take: "
            f"{names} (only namespace)"
        )


def _file_path(base: str, masked: str) -> str:
    """The path of a ``file:`` URL: ``file:///abs``, ``file://localhost/abs``, ``file:rel``."""
    rest = base[len("file:") :]
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host.lower() not in _FILE_HOSTS:
            raise ConfigurationError(
                f"the file URL {masked!r} names a host ({host!r}); write file:///absolute/path "
                "or file:relative/path"
            )
        path = slash + path
    else:
        path = rest
    if not path or path == "/":
        raise ConfigurationError(f"the file URL {masked!r} names no file")
    return unquote(path)

"""Connections to Redis: which URLs and clients the store accepts, and one client per event loop.

redis-py's asyncio connections belong to the event loop that opened them, while one store
serves a provider's background loop and an application's loops at once. So the store
never shares a client between loops: :class:`LoopClients` keeps one per loop, made on
first use there from the settings of a URL or of a given client, with the store's own
timeouts. It also turns driver failures into :class:`StoreError` with the server named
and its password masked. Nothing here knows about keys or documents, so another kind of
connection (a cluster, a sentinel) can replace this module alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import inspect
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.asyncio.connection import Connection, parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from openfeature_litestar._errors import ConfigurationError, StoreError
from openfeature_litestar._masking import mask_secrets, mask_url

from ._topology import (
    CLUSTER_SCHEMES,
    SENTINEL_SCHEMES,
    ClusterSettings,
    SentinelSettings,
    cluster_from_client,
    parse_cluster_url,
    parse_sentinel_url,
    sentinel_from_client,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from redis.commands.core import AsyncScript

__all__ = ["Kind", "LoopClient", "LoopClients"]

Kind = Literal["server", "cluster", "sentinel"]
"""What the store talks to: one server, a Redis Cluster, or a Sentinel-managed primary."""

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


@dataclass(eq=False)
class LoopClient:
    """The store's connections for one event loop; redis-py's belong to the loop that made them.

    Attributes:
        client: The loop's client, over its own connection pool.
        closing: Set when the store is closed on this loop, to end its watches.
    """

    client: Redis | RedisCluster
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _scripts: dict[str, AsyncScript] = field(default_factory=dict)

    def script(self, source: str) -> AsyncScript:
        """The Lua script ``source`` registered with this loop's client (once per loop)."""
        registered = self._scripts.get(source)
        if registered is None:
            registered = self._scripts[source] = self.client.register_script(source)
        return registered


class LoopClients:
    """One Redis client per event loop, all with the same connection settings.

    Args:
        url_or_client: A ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL, a
            ``redis+cluster://`` or ``redis+sentinel://`` URL (``rediss+`` with TLS), or a
            :class:`redis.asyncio.Redis` or :class:`redis.asyncio.RedisCluster` client
            whose connection settings are copied (the client itself is never used or
            closed).
        timeout: Seconds allowed for connecting and for each command.

    Attributes:
        target: The server, safe to show: a URL's password is masked.
        timeout: Seconds allowed for connecting and for each command.
        kind: One server, a cluster, or a Sentinel-managed primary.

    Raises:
        ConfigurationError: The URL is not a Redis URL redis-py understands.
        TypeError: ``url_or_client`` is neither a URL nor a ``redis.asyncio.Redis``.
    """

    def __init__(self, url_or_client: str | Redis | RedisCluster, *, timeout: float) -> None:
        """Take the connection settings; nothing is connected until a loop asks."""
        self.timeout = timeout
        self._deployment: ClusterSettings | SentinelSettings | None = None
        self.kind: Kind = "server"
        self._connection_class: type[Any] = Connection
        self._settings: dict[str, Any] = {}
        if isinstance(url_or_client, RedisCluster):
            self._deployment = cluster_from_client(url_or_client)
        elif isinstance(url_or_client, Redis) and isinstance(
            url_or_client.connection_pool, SentinelConnectionPool
        ):
            self._deployment = sentinel_from_client(url_or_client)
        elif isinstance(url_or_client, str) and _scheme(url_or_client) in CLUSTER_SCHEMES:
            self._deployment = parse_cluster_url(url_or_client)
        elif isinstance(url_or_client, str) and _scheme(url_or_client) in SENTINEL_SCHEMES:
            self._deployment = parse_sentinel_url(url_or_client)
        if isinstance(self._deployment, ClusterSettings):
            self.kind, self.target = "cluster", self._deployment.target
        elif isinstance(self._deployment, SentinelSettings):
            self.kind, self.target = "sentinel", self._deployment.target
        else:
            self._connection_class, settings, self.target = _connection_settings(url_or_client)
            self._settings = {**settings, **self._own_settings()}
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, LoopClient] = {}

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

    def this_loop(self) -> LoopClient:
        """The running event loop's client, made on the loop's first call."""
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._clients.get(loop)
            if state is None:
                self._forget_closed_loops()
                state = LoopClient(self._new_client())
                self._clients[loop] = state
        return state

    def _new_client(self) -> Redis | RedisCluster:
        if self._deployment is not None:
            return self._deployment.client(self._own_settings())
        pool = ConnectionPool(connection_class=self._connection_class, **self._settings)
        return Redis.from_pool(pool)

    async def close_this_loop(self) -> None:
        """Close the running loop's client and end its watches; safe to call twice."""
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._clients.pop(loop, None)
        if state is None:
            return
        state.closing.set()
        with contextlib.suppress(RedisError, OSError):
            await state.client.aclose()
        pool = getattr(state.client, "connection_pool", None)
        if isinstance(pool, SentinelConnectionPool):
            # The primary's client does not own the connections to the sentinels.
            for sentinel in pool.sentinel_manager.sentinels:
                with contextlib.suppress(RedisError, OSError):
                    await sentinel.aclose()

    def _forget_closed_loops(self) -> None:
        # A loop that ended without close() left its clients behind; they can never run
        # again, so drop them rather than keep the dead loop alive.
        for loop in [loop for loop in self._clients if loop.is_closed()]:
            del self._clients[loop]

    @contextlib.contextmanager
    def store_errors(self, action: str) -> Iterator[None]:
        """Raise what Redis or the network raises inside as a :class:`StoreError`.

        Args:
            action: What was being done, for the message ("reading the document").
        """
        # redis-py's messages name the host and port, never the credentials; they are
        # masked anyway, and the original stays chained for debugging.
        try:
            yield
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            detail = mask_secrets(str(exc)) or type(exc).__name__
            raise StoreError(f"Redis at {self.target}: {action} failed: {detail}") from exc


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower()


def _connection_settings(
    url_or_client: str | Redis | RedisCluster,
) -> tuple[type[Any], dict[str, Any], str]:
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
        _refuse_unknown_options(connection_class, settings, url_or_client)
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
        "url_or_client must be a Redis URL, a redis.asyncio.Redis or RedisCluster client, "
        f"not {type(url_or_client).__name__}"
    )


def _accepted_options(connection_class: type[Any]) -> frozenset[str]:
    """The keyword arguments the connections (and their pool) take."""
    names = {"max_connections"}
    for cls in connection_class.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        names.update(
            parameter.name
            for parameter in inspect.signature(init).parameters.values()
            if parameter.kind in {parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY}
        )
    names.discard("self")
    return frozenset(names)


def _refuse_unknown_options(
    connection_class: type[Any], settings: Mapping[str, Any], url: str
) -> None:
    # redis-py passes every query parameter on as a keyword argument and fails with a
    # TypeError at the first connection, so a typo would only show up as retries.
    accepted = _accepted_options(connection_class)
    unknown = sorted(name for name in settings if name not in accepted)
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, [*accepted, "namespace"], n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    raise ConfigurationError(
        f"the Redis URL {mask_url(url)!r} has query parameters the Redis client does not "
        f"take: {', '.join(hints)}"
    )


def _describe(settings: Mapping[str, Any]) -> str:
    if "path" in settings:
        return f"unix:{settings['path']}?db={settings.get('db', 0)}"
    host, port = settings.get("host", "localhost"), settings.get("port", 6379)
    return f"{host}:{port}/{settings.get('db', 0)}"

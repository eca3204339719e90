"""Cluster and Sentinel deployments: their URLs, and how a loop's client is made for each.

``redis+cluster://h1:p1,h2:p2/?options`` (``rediss+cluster://`` with TLS) names some
nodes of a Redis Cluster; redis-py's :class:`~redis.asyncio.RedisCluster` finds the rest
and follows slot moves and failovers. ``redis+sentinel://h1:p1,h2:p2/service/db?options``
(``rediss+sentinel://``) names the sentinels and the service; redis-py's
:class:`~redis.asyncio.sentinel.Sentinel` asks them for the primary before each new
connection, so a failover is followed by reconnecting.

Both are parsed up front: the hosts, the path and every query option are checked here,
and an option neither client takes is refused in one line, as for ``redis://``.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import Connection, SSLConnection, parse_url, to_bool
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._masking import mask_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "CLUSTER_SCHEMES",
    "SENTINEL_SCHEMES",
    "ClusterSettings",
    "SentinelSettings",
    "cluster_from_client",
    "parse_cluster_url",
    "parse_sentinel_url",
    "sentinel_from_client",
]

CLUSTER_SCHEMES = frozenset({"redis+cluster", "rediss+cluster"})
SENTINEL_SCHEMES = frozenset({"redis+sentinel", "rediss+sentinel"})

# Set by the store or by the URL's form, never by a query option.
_CLUSTER_FIXED = frozenset(
    {
        "host", "port", "startup_nodes", "db", "path", "retry", "retry_on_error",
        "cluster_error_retry_attempts", "decode_responses", "encoding", "event_dispatcher",
        "policy_resolver", "address_remap", "maint_notifications_config", "ssl",
        "credential_provider", "load_balancing_strategy", "driver_info",
    }
)  # fmt: skip
_SENTINEL_OWN = ("sentinel_username", "sentinel_password")
# The store's own: never copied from a given client, never taken from a URL's options.
_OWN_SETTINGS = frozenset(
    {"decode_responses", "encoding", "retry", "retry_on_error", "connection_pool"}
)

# A failover makes commands fail until the replica is promoted; redis-py's cluster client
# retries them, refreshing its slot map in between, so short pauses let it follow soon.
_CLUSTER_RETRIES = 3
# redis-py's URL parser types the connection options; these are the cluster client's own.
_CLUSTER_PARSERS: dict[str, Callable[[str], Any]] = {
    "read_from_replicas": to_bool,
    "require_full_coverage": to_bool,
    "dynamic_startup_nodes": to_bool,
    "reinitialize_steps": int,
}
_SERVICE_AND_DB = 2  # the most parts a Sentinel URL's path has


@dataclass(frozen=True)
class ClusterSettings:
    """How to reach a Redis Cluster.

    Attributes:
        nodes: Some of its nodes (host, port); the client discovers the rest.
        options: Keyword arguments for :class:`~redis.asyncio.RedisCluster`.
        target: The nodes, safe to show.
    """

    nodes: tuple[tuple[str, int], ...]
    options: Mapping[str, Any]
    target: str

    def client(self, own: Mapping[str, Any]) -> RedisCluster:
        """A new cluster client with these settings and the store's ``own`` ones."""
        timeout = own["socket_timeout"]
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in self.nodes],
            **self.options,
            socket_timeout=timeout,
            socket_connect_timeout=own["socket_connect_timeout"],
            decode_responses=True,
            encoding="utf-8",
            retry=Retry(
                ExponentialBackoff(cap=min(1.0, timeout), base=0.05),
                _CLUSTER_RETRIES,
                supported_errors=(RedisConnectionError, RedisTimeoutError),
            ),
        )


@dataclass(frozen=True)
class SentinelSettings:
    """How to reach a Sentinel-managed primary.

    Attributes:
        sentinels: The sentinels (host, port).
        service: The name the sentinels know the primary by.
        options: Keyword arguments for the primary's connections.
        sentinel_options: Keyword arguments for the connections to the sentinels.
        target: The sentinels and service, safe to show.
    """

    sentinels: tuple[tuple[str, int], ...]
    service: str
    options: Mapping[str, Any]
    sentinel_options: Mapping[str, Any]
    target: str

    def client(self, own: Mapping[str, Any]) -> Redis:
        """A client of the current primary, following failovers, with the store's settings."""
        timeouts = {name: own[name] for name in ("socket_timeout", "socket_connect_timeout")}
        manager = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            list(self.sentinels),
            sentinel_kwargs={**self.sentinel_options, **timeouts},
            **self.options,
            **own,
        )
        client: Redis = manager.master_for(
            self.service, redis_class=Redis, connection_pool_class=SentinelConnectionPool
        )
        return client


def parse_cluster_url(url: str) -> ClusterSettings:
    """The settings a ``redis+cluster://`` or ``rediss+cluster://`` URL names.

    Raises:
        ConfigurationError: The URL names no node, a database other than 0, or an
            option the cluster client does not take.
    """
    masked = mask_url(url)
    scheme, userinfo, nodes, path, query = _split(url, masked)
    if path.strip("/") not in {"", "0"}:
        raise ConfigurationError(
            f"the cluster URL {masked!r} names a database ({path.strip('/')!r}); "
            "a Redis Cluster has only database 0"
        )
    options = _typed_options(scheme, userinfo, query, masked)
    options.pop("db", None)
    for name, parse in _CLUSTER_PARSERS.items():
        if isinstance(options.get(name), str):
            try:
                options[name] = parse(options[name])
            except ValueError:
                raise ConfigurationError(
                    f"the cluster URL {masked!r} has an invalid {name}: {options[name]!r}"
                ) from None
    _refuse_unknown(options, _cluster_options(), masked, "the Redis Cluster client")
    if scheme.startswith("rediss"):
        options["ssl"] = True
    target = f"{scheme}://" + ",".join(f"{host}:{port}" for host, port in nodes)
    return ClusterSettings(nodes, options, target)


def parse_sentinel_url(url: str) -> SentinelSettings:
    """The settings a ``redis+sentinel://`` or ``rediss+sentinel://`` URL names.

    The user and password are the primary's; ``sentinel_username`` and
    ``sentinel_password`` query options authenticate to the sentinels.

    Raises:
        ConfigurationError: The URL names no sentinel or service, a database that is no
            number, or an option the client does not take.
    """
    masked = mask_url(url)
    scheme, userinfo, sentinels, path, query = _split(url, masked)
    parts = [unquote(part) for part in path.strip("/").split("/") if part]
    if not parts or len(parts) > _SERVICE_AND_DB:
        raise ConfigurationError(
            f"the Sentinel URL {masked!r} must name the service and optionally the "
            "database: redis+sentinel://host:26379,host:26380/service/0"
        )
    service = parts[0]
    db = parts[1] if len(parts) == _SERVICE_AND_DB else "0"
    if not db.isdigit():
        raise ConfigurationError(f"the Sentinel URL {masked!r} names a database that is no number")
    sentinel_options: dict[str, Any] = {}
    rest = []
    for pair in query:
        name, _, value = pair.partition("=")
        if unquote(name) in _SENTINEL_OWN:
            sentinel_options[unquote(name).removeprefix("sentinel_")] = unquote(value)
        else:
            rest.append(pair)
    options = _typed_options(scheme, userinfo, rest, masked)
    options["db"] = int(db)
    connection_class = SSLConnection if scheme.startswith("rediss") else Connection
    _refuse_unknown(
        options, _accepted(connection_class.__mro__), masked, "the Redis client", _SENTINEL_OWN
    )
    if scheme.startswith("rediss"):
        options["ssl"] = True
    target = (
        f"{scheme}://" + ",".join(f"{host}:{port}" for host, port in sentinels) + f"/{service}/{db}"
    )
    return SentinelSettings(sentinels, service, options, sentinel_options, target)


def cluster_from_client(client: RedisCluster) -> ClusterSettings:
    """The settings of a cluster client: its startup nodes, credentials and TLS options."""
    manager = client.nodes_manager
    nodes = tuple((node.host, int(node.port)) for node in manager.startup_nodes.values())
    accepted = _cluster_options()
    options = {name: value for name, value in manager.connection_kwargs.items() if name in accepted}
    if issubclass(manager.connection_kwargs.get("connection_class", Connection), SSLConnection):
        options["ssl"] = True
    target = "redis+cluster://" + ",".join(f"{host}:{port}" for host, port in nodes)
    return ClusterSettings(nodes, options, target)


def sentinel_from_client(client: Redis) -> SentinelSettings:
    """The settings of a Sentinel-managed client: its sentinels, service and credentials."""
    pool = client.connection_pool
    if not isinstance(pool, SentinelConnectionPool):
        raise TypeError("not a Sentinel-managed client (master_for)")
    manager = pool.sentinel_manager
    sentinels = tuple(
        (sentinel.connection_pool.connection_kwargs["host"],
         int(sentinel.connection_pool.connection_kwargs["port"]))
        for sentinel in manager.sentinels
    )  # fmt: skip
    accepted = _accepted(SSLConnection.__mro__)
    options = {
        name: value
        for name, value in pool.connection_kwargs.items()
        if name in accepted and not name.startswith("socket_") and name not in _OWN_SETTINGS
    }
    if issubclass(pool.connection_class, SSLConnection):
        options["ssl"] = True
    sentinel_options = {
        name: value for name, value in manager.sentinel_kwargs.items() if name in accepted
    }
    db = int(options.get("db", 0))
    target = (
        "redis+sentinel://"
        + ",".join(f"{host}:{port}" for host, port in sentinels)
        + f"/{pool.service_name}/{db}"
    )
    return SentinelSettings(sentinels, pool.service_name, options, sentinel_options, target)


def _split(url: str, masked: str) -> tuple[str, str, tuple[tuple[str, int], ...], str, list[str]]:
    """The scheme, user information, hosts, path and raw query pairs of ``url``."""
    scheme, _, rest = url.partition("://")
    rest, _, _fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    nodes = []
    for host in hosts.split(","):
        try:
            parsed = urlsplit(f"//{host}")
            name, port = parsed.hostname, parsed.port or 6379
        except ValueError:
            name, port = None, 0
        if not name:
            raise ConfigurationError(
                f"the store URL {masked!r} has an invalid host {host!r}; "
                "list them as host:port,host:port"
            )
        nodes.append((name, port))
    pairs = [pair for pair in query.split("&") if pair]
    return scheme.lower(), userinfo if at else "", tuple(nodes), slash + path, pairs


def _typed_options(scheme: str, userinfo: str, pairs: Iterable[str], masked: str) -> dict[str, Any]:
    """The query options with redis-py's types, and the user and password, by parse_url."""
    single = "rediss" if scheme.startswith("rediss") else "redis"
    credentials = f"{userinfo}@" if userinfo else ""
    query = "&".join(pairs)
    try:
        options = dict(parse_url(f"{single}://{credentials}localhost/0?{query}"))
    except ValueError:
        raise ConfigurationError(f"the store URL {masked!r} has an invalid query option") from None
    for name in ("host", "port", "connection_class"):
        options.pop(name, None)
    return options


def _cluster_options() -> frozenset[str]:
    parameters = inspect.signature(RedisCluster.__init__).parameters
    return frozenset(parameters) - _CLUSTER_FIXED - {"self"}


def _accepted(classes: Iterable[type[Any]]) -> frozenset[str]:
    names = {"max_connections"}
    for cls in classes:
        init = cls.__dict__.get("__init__")
        if init is not None:
            names.update(inspect.signature(init).parameters)
    return frozenset(names - {"self", "args", "kwargs"})


def _refuse_unknown(
    options: Mapping[str, Any],
    accepted: frozenset[str],
    masked: str,
    client: str,
    extra: Iterable[str] = (),
) -> None:
    unknown = sorted(name for name in options if name not in accepted)
    if not unknown:
        return
    known = [*accepted, *extra, "namespace"]
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    raise ConfigurationError(
        f"the Redis URL {masked!r} has query parameters {client} does not take: {', '.join(hints)}"
    )

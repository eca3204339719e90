r"""A standalone flag server: OFREP and the admin API on any store, like a small flagd.

::

    OPENFEATURE_LITESTAR_TOKENS=read-token \\
    OPENFEATURE_LITESTAR_ADMIN_TOKENS=admin-token \\
    OPENFEATURE_LITESTAR_METRICS_TOKENS=scraper-token \\
    openfeature-litestar serve --store redis://flags.internal:6379/0

Services in any language read flags with an OFREP provider pointed at the server
(``Authorization: Bearer <token>``); people and pipelines change them through the admin
API with an admin token; Prometheus scrapes ``/metrics`` with a metrics token. Tokens
come from the environment (comma-separated), never
from the command line, where other users of the machine could read them.

Browser apps on other origins are allowed with ``cors_origins`` (``--cors-origin``,
:data:`CORS_ORIGINS_ENV`); OFREP contexts go through the default
:class:`~openfeature_litestar.Sanitizer` unless ``sanitize=False`` (``--no-sanitize``,
:data:`SANITIZE_ENV`), for rules that target on e-mail addresses and the like as flagd
would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
from typing import TYPE_CHECKING, Any, Final

from litestar import Litestar, Router, get
from litestar.config.cors import CORSConfig
from litestar.exceptions import ServiceUnavailableException
from litestar.openapi.config import OpenAPIConfig

from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._errors import ConfigurationError, MissingDependencyError
from openfeature_litestar._privacy._sanitizer import Sanitizer
from openfeature_litestar._provider import FlagProvider
from openfeature_litestar._stores import WritableFlagStore, store_from_url
from openfeature_litestar._stores._url import resolve_store_url
from openfeature_litestar._validation import positive_int

from ._admin import ActorCallable, AdminConfig
from ._auth import bearer_token_guard
from ._config import OpenFeatureConfig
from ._events import EventStreamConfig, close_event_streams
from ._metrics import MetricsConfig
from ._ofrep import OFREPConfig
from ._plugin import OpenFeaturePlugin
from ._sync import sync_route

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

    from litestar.connection import ASGIConnection
    from litestar.types import Guard

    from openfeature_litestar._engine import FractionalVersion

__all__ = [
    "ADMIN_TOKENS_ENV",
    "CORS_ORIGINS_ENV",
    "METRICS_TOKENS_ENV",
    "SANITIZE_ENV",
    "TOKENS_ENV",
    "create_server",
    "serve",
]

TOKENS_ENV: Final = "OPENFEATURE_LITESTAR_TOKENS"
"""The environment variable with the OFREP bearer tokens, comma-separated."""

ADMIN_TOKENS_ENV: Final = "OPENFEATURE_LITESTAR_ADMIN_TOKENS"
"""The environment variable with the admin API's bearer tokens, comma-separated."""

METRICS_TOKENS_ENV: Final = "OPENFEATURE_LITESTAR_METRICS_TOKENS"
"""The environment variable with the bearer tokens of ``/metrics``, comma-separated."""

CORS_ORIGINS_ENV: Final = "OPENFEATURE_LITESTAR_CORS_ORIGINS"
"""The environment variable with the browser origins allowed to call OFREP, comma-separated."""

SANITIZE_ENV: Final = "OPENFEATURE_LITESTAR_SANITIZE"
"""The environment variable that turns the OFREP context sanitizer off with ``0``."""

_BEARER: Final = "bearer"
_OFF: Final = frozenset({"0", "false", "no", "off"})
_ON: Final = frozenset({"1", "true", "yes", "on", ""})


def _tokens(given: Sequence[str], env: str) -> tuple[str, ...]:
    """``given``, else the comma-separated values of the environment variable ``env``."""
    if isinstance(given, str):
        given = (given,)
    if given:
        return tuple(given)
    return tuple(token.strip() for token in os.environ.get(env, "").split(",") if token.strip())


def _sanitize(given: bool | None) -> bool:
    """``given``, else whether :data:`SANITIZE_ENV` leaves the sanitizer on (the default)."""
    if given is not None:
        return given
    value = os.environ.get(SANITIZE_ENV, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ConfigurationError(f"{SANITIZE_ENV} must be 1 or 0 (true or false), not {value!r}")


def _cors(origins: tuple[str, ...]) -> CORSConfig | None:
    """What browsers on ``origins`` may do: OFREP's POSTs, with the ETag readable."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],  # GET: the event stream
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "Last-Event-ID"],
        expose_headers=["ETag", "OFREP-Flag-Config-ETag"],
    )


def _ticket_secret(tokens: Sequence[str]) -> bytes:
    """The event stream tickets' key, the same in every worker given the same tokens.

    A ticket proves that its holder was answered by a request with one of the tokens;
    the key is derived from all of them, so changing the tokens revokes the tickets.
    """
    material = "\0".join(sorted(tokens)).encode("utf-8", "surrogatepass")
    return hmac.new(b"openfeature-litestar event stream tickets", material, "sha256").digest()


def _openapi(admin_guards: Sequence[Guard]) -> OpenAPIConfig | None:
    """The admin API's schema, for admin tokens only; none without the admin API.

    The schema lists the namespaces the admin API manages: it is no one else's business.
    """
    if not admin_guards:
        return None
    return OpenAPIConfig(
        title="openfeature-litestar flag server",
        version="1",
        openapi_router=Router(path="/schema", route_handlers=[], guards=list(admin_guards)),
    )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _token_actor(tokens: Sequence[str]) -> ActorCallable:
    """Name the writer by the position of their admin token: ``admin-token-2``.

    The guard has already admitted the token; this only finds which one it was,
    comparing with every token (no early exit) so that the answer's timing says nothing.
    A token itself never reaches the audit trail.
    """
    digests = [_digest(token) for token in tokens]

    def actor(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        scheme, _, presented = connection.headers.get("authorization", "").strip().partition(" ")
        presented_digest = _digest(presented.strip()) if scheme.lower() == _BEARER else b""
        position = 0
        for number, digest in enumerate(digests, start=1):
            if hmac.compare_digest(presented_digest, digest):
                position = number
        return f"admin-token-{position}" if position else "admin-token-unknown"

    return actor


def _store(store: str | WritableFlagStore | None, namespace: str | None) -> WritableFlagStore:
    if store is None or isinstance(store, str):
        return store_from_url(resolve_store_url(store), namespace=namespace)
    if namespace is not None and store.namespace != namespace:
        raise ConfigurationError(
            f"the store holds namespace {store.namespace!r}, not {namespace!r}: "
            "leave namespace out, or give a store of that namespace"
        )
    return store


def _health_routes(plugin: OpenFeaturePlugin) -> list[Any]:
    @get("/healthz", summary="Liveness", include_in_schema=False, sync_to_thread=False)
    def healthz() -> dict[str, str]:
        """Always ``ok`` while the process serves requests."""
        return {"status": "ok"}

    @get("/readyz", summary="Readiness", include_in_schema=False, sync_to_thread=False)
    def readyz() -> dict[str, Any]:
        """``ok`` with the served revision once flags are loaded; ``503`` before."""
        provider = plugin.provider
        if not isinstance(provider, FlagProvider) or provider.snapshot.document is None:
            raise ServiceUnavailableException(detail="the flags are not loaded yet")
        return {"status": "ok", "revision": provider.snapshot.revision}

    return [healthz, readyz]


def create_server(
    store: str | WritableFlagStore | None = None,
    *,
    namespace: str | None = None,
    tokens: Sequence[str] = (),
    admin_tokens: Sequence[str] = (),
    metrics_tokens: Sequence[str] = (),
    public: bool = False,
    domain: str | None = None,
    sanitize: bool | None = None,
    cors_origins: Sequence[str] = (),
    fractional: FractionalVersion = DEFAULT_FRACTIONAL,
) -> Litestar:
    """A Litestar application serving one namespace of a store over OFREP and the admin API.

    Routes: OFREP at ``/ofrep/v1`` (bearer ``tokens``, or public), the admin API at
    ``/admin/v1`` (only with ``admin_tokens``, and only for them; writes are audited as
    ``admin-token-<n>``, the token's position in the list), ``/healthz`` (liveness),
    ``/readyz`` (``503`` until the flags are loaded), the namespace's whole document at
    ``/sync/v1/<namespace>`` for :class:`~openfeature_litestar.HttpStore` followers
    (with the OFREP tokens; strong ETag, ``304`` when unchanged), with the admin API its OpenAPI
    schema at ``/schema`` (for admin tokens only), and Prometheus metrics at ``/metrics``
    (only with ``metrics_tokens``, and only for them; see
    :class:`~openfeature_litestar.web.MetricsConfig`). Each application reports through
    a collector registry of its own, so several servers in one process do not clash.

    Args:
        store: A writable store, or a store URL for
            :func:`~openfeature_litestar.store_from_url`; ``None`` uses the environment
            variable ``OPENFEATURE_LITESTAR_STORE``, else the embedded SQLite database
            the command line uses (see :doc:`/cli`).
        namespace: The namespace to serve; ``None`` takes the URL's ``?namespace=``, else
            ``default``.
        tokens: The bearer tokens OFREP clients present; empty reads
            :data:`TOKENS_ENV`.
        admin_tokens: The bearer tokens of the admin API; empty reads
            :data:`ADMIN_TOKENS_ENV`; none at all leaves the admin API unmounted.
        metrics_tokens: The bearer tokens a Prometheus scraper presents at ``/metrics``;
            empty reads :data:`METRICS_TOKENS_ENV`; none at all leaves ``/metrics``
            unmounted.
        public: Serve OFREP without tokens, even when ``tokens`` are given (flags and
            their metadata are then readable by anyone who reaches the server).
        domain: The OpenFeature domain to register the server's provider for (``None``:
            the default provider); set it to run several servers in one process.
        sanitize: Pass OFREP contexts through the default
            :class:`~openfeature_litestar.Sanitizer` before the rules see them (it
            redacts e-mail addresses and the like); ``False`` evaluates them as sent,
            as flagd does. ``None`` reads :data:`SANITIZE_ENV` (``0`` turns it off; on
            by default). The context limits apply either way.
        cors_origins: Browser origins (``https://app.example.com``, or ``*``) allowed to
            call OFREP from another origin; empty reads :data:`CORS_ORIGINS_ENV`; none
            at all sends no CORS headers. Tokens are still required.
        fractional: The ``fractional`` bucketing version the flags are served with
            (``"v2"``, flagd's current, by default; see
            :data:`~openfeature_litestar.FractionalVersion`).

    Returns:
        The application, for uvicorn or any ASGI server.

    Raises:
        ConfigurationError: No OFREP tokens and not ``public``, an empty token, a bad
            store URL, a store of another namespace than ``namespace``, or a
            :data:`SANITIZE_ENV` that is not a boolean, or an unknown ``fractional``.

    .. versionchanged:: 0.2.0
       The ``fractional`` and ``metrics_tokens`` options, and ``/sync/v1/<namespace>``.
    """
    read_tokens = _tokens(tokens, TOKENS_ENV)
    write_tokens = _tokens(admin_tokens, ADMIN_TOKENS_ENV)
    scrape_tokens = _tokens(metrics_tokens, METRICS_TOKENS_ENV)
    origins = _tokens(cors_origins, CORS_ORIGINS_ENV)
    sanitizer = Sanitizer() if _sanitize(sanitize) else None
    if not read_tokens and not public:
        raise ConfigurationError(
            f"the flag server needs OFREP tokens: set {TOKENS_ENV} (comma-separated), "
            "or serve OFREP publicly on purpose (public=True, --public)"
        )
    flag_store = _store(store, namespace)
    # Public means public: tokens (perhaps set for the whole environment) are not asked for.
    guards = () if public else (bearer_token_guard(read_tokens),)
    streams = EventStreamConfig(secret=_ticket_secret(read_tokens) if read_tokens else None)
    ofrep = OFREPConfig(guards=guards, public=public, sanitizer=sanitizer, event_streams=streams)
    admin = None
    admin_guards: list[Guard] = []
    if write_tokens:
        admin_guards = [bearer_token_guard(write_tokens, realm="openfeature-litestar-admin")]
        admin = AdminConfig(guards=admin_guards, actor=_token_actor(write_tokens))
    metrics = MetricsConfig(tokens=scrape_tokens) if scrape_tokens else None
    config = OpenFeatureConfig(
        store=flag_store,
        domain=domain,
        ofrep=ofrep,
        admin=admin,
        fractional=fractional,
        metrics=metrics,
    )
    plugin = OpenFeaturePlugin(config)

    async def close_store() -> None:
        # The admin API used the store on this loop; the provider closes its own loop's.
        await flag_store.close()

    return Litestar(
        route_handlers=[*_health_routes(plugin), sync_route(plugin, flag_store.namespace, guards)],
        plugins=[plugin],
        on_shutdown=[close_store],
        openapi_config=_openapi(admin_guards),
        # CORS pre-flights are answered by Litestar's middleware, before any route's
        # guard: a browser sends them without the Authorization header.
        cors_config=_cors(origins),
    )


def serve(
    host: str = "127.0.0.1", port: int = 8013, *, workers: int = 1, **create_server_kwargs: Any
) -> None:
    """Run :func:`create_server` under uvicorn until interrupted.

    Args:
        host: The interface to listen on; the default accepts local connections only
            (put a TLS-terminating reverse proxy in front to serve others).
        port: The port (8013, flagd's OFREP port, by default).
        workers: Worker processes sharing the port, each with its own provider following
            the store. Above 1 the options are handed to the workers as JSON, so the
            store must be given as a URL (or by the environment), not as an object.
        **create_server_kwargs: Passed to :func:`create_server`.

    Raises:
        MissingDependencyError: uvicorn is not installed.
        ConfigurationError: As :func:`create_server`; ``workers`` is not a positive
            integer, or above 1 with options that are not JSON data.

    .. versionchanged:: 0.2.0
       The ``workers`` option.
    """
    try:
        import uvicorn  # noqa: PLC0415 - only the standalone server needs it
    except ImportError:
        raise MissingDependencyError("uvicorn", "server") from None
    if positive_int("workers", workers) == 1:
        app = create_server(**create_server_kwargs)
        # proxy_headers off: uvicorn would otherwise rewrite the client address from
        # X-Forwarded-For for local peers, which the context builder must not trust.
        config = uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False)
        uvicorn_server(config).run()
        return
    _serve_in_workers(uvicorn, host, port, workers, create_server_kwargs)


_WORKER_OPTIONS_ENV: Final = "_OPENFEATURE_LITESTAR_SERVE_OPTIONS"
# How serve() hands its options to worker processes: they start afresh (spawned), so
# the application is built in each from this variable, set by the parent.
_WORKER_FACTORY: Final = "openfeature_litestar.web._server:_server_in_worker"
_WORKER_GRACE_SECONDS: Final = 5


def _serve_in_workers(
    uvicorn: ModuleType, host: str, port: int, workers: int, options: dict[str, Any]
) -> None:
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415 - uvicorn is optional

    try:
        os.environ[_WORKER_OPTIONS_ENV] = json.dumps(options)
    except TypeError:
        raise ConfigurationError(
            "serve(workers=N) builds the server in each worker from the same options: "
            "give the store as a URL (or in OPENFEATURE_LITESTAR_STORE), not as an object"
        ) from None
    create_server(**options)  # a bad option fails here, once, not in every worker
    config = uvicorn.Config(
        _WORKER_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        # Each worker runs uvicorn's own server, which waits for open responses before
        # the application's shutdown closes the event streams: cut them after this long.
        timeout_graceful_shutdown=_WORKER_GRACE_SECONDS,
    )
    Multiprocess(config, sockets=[_listening_socket(config)]).run()


def _server_in_worker() -> Litestar:
    """One worker's application: :func:`create_server` with the parent's options."""
    return create_server(**json.loads(os.environ[_WORKER_OPTIONS_ENV]))


def _listening_socket(config: Any) -> socket.socket:
    """The socket uvicorn's workers share, bound for ``config``, with ``TCP_NODELAY`` set.

    uvicorn binds a socket made without naming TCP (protocol 0) for its workers, and
    asyncio then leaves Nagle's algorithm on for the connections it accepts: a response
    written in two parts waited for the client's delayed acknowledgement, about 40 ms
    a request. Set on the listening socket, the option is inherited by every accepted
    connection (Linux, macOS).
    """
    sock: socket.socket = config.bind_socket()
    if sock.family in {socket.AF_INET, socket.AF_INET6}:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def uvicorn_server(config: Any) -> Any:
    """A ``uvicorn.Server`` for ``config`` that ends the OFREP event streams as it shuts down.

    uvicorn waits for open responses before it shuts the application down, and an event
    stream never ends by itself: without this, a server with streams open would not stop.
    """
    import uvicorn  # noqa: PLC0415 - only the standalone server needs it

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            close_event_streams()
            await super().shutdown(sockets)

    return _Server(config)

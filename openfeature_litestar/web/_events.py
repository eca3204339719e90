"""OFREP event streams: ``refetchEvaluation`` to every connected client when the flags change.

Bulk evaluation answers advertise one Server-Sent Events stream (OFREP 0.3, ADR-0008)::

    "eventStreams": [{"type": "sse", "inactivityDelaySec": 120,
                      "endpoint": {"requestUri": "/ofrep/v1/events?ticket=..."}}]

The ``endpoint`` form without ``origin`` makes clients connect to the origin of their
configured OFREP base URL (so a proxy in front needs no setting here);
:attr:`EventStreamConfig.origin` adds an origin when the stream is served elsewhere.

How it works, in one process:

* **One change feed, fanned out.** A :class:`StreamHub` per OFREP router follows the
  router's :class:`~openfeature_litestar.SnapshotSource`: the provider's
  ``PROVIDER_CONFIGURATION_CHANGED`` (and ``PROVIDER_READY``) events, which the SDK runs on
  its handler threads, are handed to the application's event loop with
  ``loop.call_soon_threadsafe``; there the hub compares the served snapshot with the last
  one it announced and, when it differs, wakes every stream at once (one
  :class:`asyncio.Event` replaced on each change). No stream reads the store. While
  streams are open, one timer per hub also compares the snapshot (in memory) once a
  second, so a provider whose events reach no handler is still followed.
* **Events.** ``id: <config ETag>``, ``event: message`` and
  ``data: {"type": "refetchEvaluation", "etag": <config ETag>, "lastModified": <Unix s>}``.
  The *configuration* ETag names the served flag configuration (revision and epoch of the
  store, ``"12"`` or ``"12-<epoch>"``, the admin API's form), the same in every process that
  serves it; ``lastModified`` is when this process started serving it. A client that
  connects is sent the current configuration at once unless its ``Last-Event-ID`` already
  names it, so a change between its bulk fetch and its connection is never lost.
* **Heartbeats**: a comment line (``: heartbeat``) every
  :attr:`EventStreamConfig.heartbeat_interval` seconds, so proxies keep the connection.
* **Limits**: at most :attr:`EventStreamConfig.max_connections` open streams per router
  (that is, per process); one more is answered ``503`` with ``Retry-After``.
* **Shutdown**: :func:`close_event_streams` (called by ``serve`` as uvicorn begins to
  shut down, and by the plugin's lifespan) ends every stream, so the server does not wait
  for clients that never hang up. Under any other server, the first stream chains a
  handler in front of the server's own ``SIGINT``/``SIGTERM`` handlers that ends the
  streams before the server begins its graceful shutdown.
* **Authentication**: browsers' ``EventSource`` sends no ``Authorization`` header, so the
  advertised URL carries a *ticket*: an HMAC, with :attr:`EventStreamConfig.secret`, of
  its expiry time, issued only to requests that passed the OFREP guards. A stream request
  passes with a valid ticket, or else with the OFREP guards themselves (a client that
  sends its token). The ticket grants nothing but the stream.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import inspect
import logging
import math
import secrets
import signal
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import msgspec
from litestar.background_tasks import BackgroundTask
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from openfeature import api
from openfeature.event import ProviderEvent

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._validation import positive_int, positive_seconds

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence
    from types import FrameType

    _SignalHandler: TypeAlias = Callable[[int, FrameType | None], Any]

    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import Guard
    from openfeature.event import EventDetails

    from openfeature_litestar._snapshot import Snapshot, SnapshotSource

__all__ = ["EventStreamConfig", "close_event_streams"]

logger = logging.getLogger("openfeature_litestar.web")

TICKET_PARAMETER: Final = "ticket"
_HEARTBEAT: Final = ServerSentEventMessage(data=None, comment="heartbeat")
_WAKING_EVENTS: Final = (ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, ProviderEvent.PROVIDER_READY)
_BACKSTOP_SECONDS: Final = 0.05
_TICK_SECONDS: Final = 1.0
_encode = msgspec.json.Encoder().encode


@dataclass
class EventStreamConfig:
    """The OFREP event stream (Server-Sent Events) that tells clients when flags change.

    Attributes:
        path: Where the stream is served, under the OFREP path
            (``/ofrep/v1/events`` by default).
        heartbeat_interval: Seconds between heartbeats (SSE comment lines) on an idle
            stream; they keep proxies and load balancers from closing it.
        max_connections: The most streams open at once in this router (per process); one
            more is refused with ``503 Service Unavailable`` and ``Retry-After``.
        retry_after: Seconds a refused client is told to wait (``Retry-After``).
        inactivity_delay: ``inactivityDelaySec`` advertised to clients: seconds a hidden
            browser tab keeps its stream before closing it (it re-fetches on return).
        origin: The scheme, host and port clients connect to for the stream
            (``https://flags.example.com``), when not the origin of their OFREP base URL.
        secret: The key that signs stream tickets. ``None`` draws a random one per
            process, which is enough with one worker; with several workers (or
            processes behind one balancer) give them all the same secret, or a ticket
            issued by one is refused by the others. ``serve`` derives one from the OFREP
            tokens.
        ticket_lifetime: Seconds a ticket admits new stream connections. The advertised
            URL stays the same for about this long, so clients keep their connection
            across re-fetches; a client whose ticket expired gets ``401`` on reconnect,
            fetches its flags again and connects with the new one.
        refetch_wait: Seconds a re-fetch that names a newer configuration
            (``flagConfigEtag``) than this process serves waits for it to arrive before
            answering with what it has (another worker may have told the client first).

    Raises:
        ConfigurationError: A setting is out of range, ``path`` does not start with
            ``/``, or ``secret`` is shorter than 16 bytes.
    """

    path: str = "/events"
    heartbeat_interval: float = 15.0
    max_connections: int = 10_000
    retry_after: int = 5
    inactivity_delay: int = 120
    origin: str | None = None
    secret: bytes | None = None
    ticket_lifetime: float = 3600.0
    refetch_wait: float = 2.0

    def __post_init__(self) -> None:
        """Check the settings that can never work."""
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ConfigurationError(
                f"EventStreamConfig.path must start with '/', not {self.path!r}"
            )
        positive_seconds("EventStreamConfig.heartbeat_interval", self.heartbeat_interval)
        positive_int("EventStreamConfig.max_connections", self.max_connections)
        positive_int("EventStreamConfig.retry_after", self.retry_after)
        positive_int("EventStreamConfig.inactivity_delay", self.inactivity_delay)
        positive_seconds("EventStreamConfig.ticket_lifetime", self.ticket_lifetime)
        positive_seconds("EventStreamConfig.refetch_wait", self.refetch_wait)
        if self.secret is not None and len(self.secret) < 16:  # noqa: PLR2004 - 128 bits
            raise ConfigurationError("EventStreamConfig.secret must be at least 16 bytes")
        if self.origin is not None:
            self.origin = self.origin.rstrip("/")


def config_etag(snapshot: Snapshot) -> str:
    """The configuration ETag of ``snapshot``: ``"<revision>"`` or ``"<revision>-<epoch>"``."""
    if snapshot.epoch:
        return f'"{snapshot.revision}-{snapshot.epoch}"'
    return f'"{snapshot.revision}"'


def _bare(tag: str) -> str:
    return tag.strip().removeprefix("W/").strip('"')


def _order(tag: str) -> tuple[int, str] | None:
    """A bare configuration ETag's (revision, epoch), or ``None`` if it is not one."""
    revision, _, epoch = tag.partition("-")
    if not (revision.isascii() and revision.isdigit()):
        return None
    return int(revision), epoch


def parse_last_modified(value: str) -> float | None:
    """``flagConfigLastModified`` as Unix seconds (integer or ISO 8601), else ``None``."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class _Tickets:
    """Signs and checks stream tickets: ``<expiry>.<HMAC-SHA256 of it>``."""

    __slots__ = ("_key", "_lifetime")

    def __init__(self, secret: bytes | None, lifetime: float) -> None:
        self._key = secret if secret is not None else secrets.token_bytes(32)
        self._lifetime = lifetime

    def _sign(self, expiry: int) -> str:
        mac = hmac.new(self._key, f"ofrep-events:{expiry}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode()

    def issue(self, now: float | None = None) -> str:
        """A ticket valid for one to two lifetimes; the same one within a lifetime."""
        now = time.time() if now is None else now
        expiry = int((math.floor(now / self._lifetime) + 2) * self._lifetime)
        return f"{expiry}.{self._sign(expiry)}"

    def valid(self, ticket: str | None, now: float | None = None) -> bool:
        """Whether ``ticket`` was issued with this key and has not expired."""
        if not ticket:
            return False
        expiry_text, _, signature = ticket.partition(".")
        if not (expiry_text.isascii() and expiry_text.isdigit()) or len(expiry_text) > 12:  # noqa: PLR2004
            return False
        expiry = int(expiry_text)
        now = time.time() if now is None else now
        return expiry > now and hmac.compare_digest(signature, self._sign(expiry))


@dataclass(frozen=True, slots=True)
class _Served:
    """A snapshot as the streams announce it."""

    snapshot: Snapshot
    etag: str
    last_modified: int

    def message(self) -> ServerSentEventMessage:
        data = {"type": "refetchEvaluation", "etag": self.etag, "lastModified": self.last_modified}
        return ServerSentEventMessage(
            data=_encode(data).decode(), event="message", id=_bare(self.etag)
        )


class _Lease:
    """One open stream's place under the connection limit; released once."""

    __slots__ = ("_hub", "_released")

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._hub._open -= 1  # noqa: SLF001 - the hub's own bookkeeping


_hubs: weakref.WeakSet[StreamHub] = weakref.WeakSet()


class StreamHub:
    """Fans the source's changes out to every open stream of one router (on one loop)."""

    def __init__(self, config: EventStreamConfig, source: SnapshotSource) -> None:
        self.config = config
        self.tickets = _Tickets(config.secret, config.ticket_lifetime)
        self._source = source
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._served: _Served | None = None
        self._open = 0
        self._closed = False
        self._subscribed = False
        self._ticking = False
        _hubs.add(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> StreamHub:
        """The hub itself: Litestar copies route options, and a hub is one per router."""
        return self

    @property
    def open_streams(self) -> int:
        """How many streams are open now."""
        return self._open

    # -- following the source -----------------------------------------------------------

    def _attach(self) -> None:
        """Bind to the running loop (a new loop, as after a restart, starts afresh)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._wakeup, self._closed, self._open = loop, asyncio.Event(), False, 0
            self._ticking = False
            _end_streams_on_exit_signals()
        if not self._subscribed:
            self._subscribed = True
            for event in _WAKING_EVENTS:
                api.add_handler(event, self._on_provider_event)

    def _detach(self) -> None:
        if self._subscribed:
            self._subscribed = False
            for event in _WAKING_EVENTS:
                # ValueError: the SDK's handlers were cleared meanwhile.
                with contextlib.suppress(ValueError):
                    api.remove_handler(event, self._on_provider_event)

    def _on_provider_event(self, details: EventDetails) -> None:  # noqa: ARG002 - SDK signature
        # On one of the SDK's handler threads: hand over to the loop, and nothing more.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed between the check and the call.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.current)

    def _tick(self) -> None:
        """The backstop: compare the snapshot once a second while streams are open.

        One timer per hub (not per stream), reading memory only; it matters when the
        source's changes reach no event handler (a provider the SDK does not know).
        """
        if self._closed or self._open <= 0 or self._loop is None:
            self._ticking = False
            return
        self.current()
        self._loop.call_later(_TICK_SECONDS, self._tick)

    def current(self) -> _Served | None:
        """The served configuration (``None`` before the flags load); wakes streams on change.

        Runs on the loop.
        """
        snapshot = self._source.snapshot
        served = self._served
        if served is not None and served.snapshot is snapshot:
            return served
        if snapshot.document is None:
            return served
        self._served = _Served(snapshot, config_etag(snapshot), int(time.time()))
        if served is not None:
            wake, self._wakeup = self._wakeup, asyncio.Event()
            wake.set()
        return self._served

    async def wait_for_newer(self, named: str | None, after: float | None) -> None:
        """Wait, at most ``refetch_wait``, for the configuration a re-fetch names.

        Returns once the served configuration is not older than the one named by the
        re-fetch's ``flagConfigEtag`` (or its ``flagConfigLastModified``, without one).
        """
        self._attach()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.refetch_wait
        first = self.current()
        while (remaining := deadline - loop.time()) > 0:
            wake = self._wakeup
            served = self.current()
            if served is not None and not _older(served, named, after):
                return
            if named is None and served is not first:
                return  # a time is compared loosely: any change since is the one named
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), min(remaining, _BACKSTOP_SECONDS))

    def advertisement(self, base_path: str, guarded: bool) -> dict[str, Any]:
        """The ``eventStreams`` entry of a bulk answer (with a ticket when ``guarded``)."""
        request_uri = f"{base_path}{self.config.path}"
        if guarded:
            request_uri += f"?{TICKET_PARAMETER}={self.tickets.issue()}"
        endpoint: dict[str, str] = {"requestUri": request_uri}
        if self.config.origin is not None:
            endpoint["origin"] = self.config.origin
        return {
            "type": "sse",
            "endpoint": endpoint,
            "inactivityDelaySec": self.config.inactivity_delay,
        }

    # -- streams --------------------------------------------------------------------------

    def lease(self) -> _Lease | None:
        """A place for one more stream, or ``None`` at the limit (or while closing)."""
        self._attach()
        if self._closed or self._open >= self.config.max_connections:
            return None
        self._open += 1
        if not self._ticking and self._loop is not None:
            self._ticking = True
            self._loop.call_later(_TICK_SECONDS, self._tick)
        return _Lease(self)

    async def stream(
        self, lease: _Lease, last_event_id: str | None
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The stream's messages until the client leaves or the hub closes."""
        try:
            served = self.current()
            if served is not None and last_event_id != _bare(served.etag):
                yield served.message()
            heartbeat = self.config.heartbeat_interval
            while not self._closed:
                wake = self._wakeup
                latest = self.current()
                if latest is not served and latest is not None:
                    served = latest
                    yield served.message()
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), heartbeat)
                except asyncio.TimeoutError:
                    if not self._closed and self.current() is served:
                        yield _HEARTBEAT
        finally:
            lease.release()

    def close(self) -> None:
        """End every open stream (each sends what it has and finishes its response)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._detach()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._close_now()
        else:
            loop.call_soon_threadsafe(self._close_now)

    def close_soon(self) -> None:
        """End every open stream from the loop's next callback (safe in a signal handler)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed between the check and the call.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._close_now)

    def _close_now(self) -> None:
        self._closed = True
        self._detach()
        wake, self._wakeup = self._wakeup, asyncio.Event()
        wake.set()


def _older(served: _Served, named: str | None, after: float | None) -> bool:
    """Whether ``served`` is older than the configuration a re-fetch names."""
    if named is not None:
        wanted, have = _order(_bare(named)), _order(_bare(served.etag))
        if wanted is None or have is None or wanted == have:
            return False
        # Another history (epoch) cannot be ordered: it may be the one this process is
        # about to see, so it is waited for too (at most refetch_wait).
        return wanted[1] != have[1] or wanted[0] > have[0]
    return after is not None and after > served.last_modified


def vetoes_not_modified(named: str | None, snapshot: Snapshot) -> bool:
    """Whether a re-fetch's ``flagConfigEtag`` forbids answering ``304``.

    It does when it names another configuration than the one answered: the client was
    told of a change, and ``304`` would keep its old answers. A tag in a form this server
    never issues neither grants nor vetoes anything.
    """
    if named is None:
        return False
    wanted, have = _order(_bare(named)), _order(_bare(config_etag(snapshot)))
    return wanted is not None and have is not None and wanted != have


_EXIT_SIGNALS: Final = ("SIGINT", "SIGTERM")
_CHAINED_MARK: Final = "_openfeature_litestar_ends_event_streams"


def _end_streams_on_exit_signals() -> None:
    """Chain a handler that ends the streams before the server's own exit handlers.

    A server waits for open responses before it shuts the application down, and only
    ``serve`` tells the hubs when it begins: under ``uvicorn app:app`` (or gunicorn's
    uvicorn workers), a process with a stream open would never stop. Servers handle
    ``SIGINT``/``SIGTERM`` with a Python handler in the main thread while they run, and
    put the previous ones back when they stop, which drops this one with theirs. The
    interpreter's own handlers (``KeyboardInterrupt``, the default action) are left
    alone: nothing is waiting for a graceful shutdown there.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in _EXIT_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        previous = signal.getsignal(number)
        if (
            not callable(previous)
            or previous is signal.default_int_handler
            or getattr(previous, _CHAINED_MARK, False)
        ):
            continue
        signal.signal(number, _chained(previous))


def _chained(previous: _SignalHandler) -> _SignalHandler:
    def end_streams_then(signum: int, frame: FrameType | None) -> Any:
        _close_streams_soon()
        return previous(signum, frame)

    setattr(end_streams_then, _CHAINED_MARK, True)
    return end_streams_then


def _close_streams_soon() -> None:
    """From a signal handler: have each hub's loop end its streams (never inline there).

    The handler may have interrupted the loop itself, so the hubs are closed by a
    callback the loop runs next, as from another thread.
    """
    for hub in list(_hubs):
        hub.close_soon()


def close_event_streams() -> None:
    """End every OFREP event stream open in this process.

    ASGI servers wait for open responses to finish before they run the application's
    shutdown, and an event stream never finishes by itself: this is called when the
    server begins to shut down. ``openfeature-litestar serve`` calls it; under another
    server (``uvicorn app:app``, gunicorn with uvicorn workers) the streams end as the
    server's ``SIGINT`` or ``SIGTERM`` handler runs. Call it yourself when a server stops
    some other way (run in a thread, stopped from code). The streams' clients reconnect
    (to another instance) as browsers do.

    .. versionadded:: 0.2.0
    """
    for hub in list(_hubs):
        hub.close()


def stream_guard(hub: StreamHub, guards: Sequence[Guard]) -> Guard:
    """A guard that admits a valid stream ticket, or else what ``guards`` admit."""

    async def event_stream_guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if hub.tickets.valid(connection.query_params.get(TICKET_PARAMETER)):
            return
        if not guards:
            return
        for guard in guards:
            outcome = guard(connection, handler)
            if inspect.isawaitable(outcome):
                await outcome

    return event_stream_guard


def stream_response(hub: StreamHub, lease: _Lease, last_event_id: str | None) -> ServerSentEvent:
    """The SSE response for one stream."""
    return ServerSentEvent(
        hub.stream(lease, last_event_id),
        headers={"Cache-Control": "no-store"},
        # The stream gives its place back as it ends; this covers a response whose
        # body never started (the lease is released once either way).
        background=BackgroundTask(lease.release),
    )

"""The OpenFeature Remote Evaluation Protocol (OFREP) server side, as a Litestar router.

OFREP lets clients that are not in this process (browser and mobile apps, services in
other languages) evaluate the same flags through OpenFeature's own remote providers:

* ``POST {path}/evaluate/flags/{key}``: one flag, for a context sent with every request
  (server-side providers);
* ``POST {path}/evaluate/flags``: every flag at once for one context (client-side
  providers, which cache the answers and poll with ``If-None-Match``).

Both read the request body ``{"context": {"targetingKey": ..., ...}}`` and evaluate
with :func:`~openfeature_litestar.evaluation.resolve` and
:func:`~openfeature_litestar.evaluation.resolve_all` on the current snapshot of a
:class:`~openfeature_litestar.SnapshotSource` (a provider, or anything else that keeps
one): no I/O, one snapshot per request. Decisions this implementation makes where the
protocol leaves room:

* **Context.** ``targetingKey`` is optional (flags without targeting do not need one); a
  body without ``context``, or an empty body, evaluates with an empty context. The body
  is refused with ``400 INVALID_CONTEXT`` and a message that says why when it is larger
  than ``max_body_bytes``, is not a JSON object, has a ``context`` that is not an
  object, or breaks the context limits (entries per object, string length, nesting,
  values in all: those of :class:`~openfeature_litestar.hooks.SanitizingHook` with the
  configured sanitizer's limits). The context's attributes then go through the
  sanitizer before any rule sees them.
* **Disabled flags** answer ``200`` with ``reason: DISABLED`` and no ``value`` or
  ``variant`` (the protocol's "use the code default"), in single and bulk evaluation
  alike: the same answer an in-process evaluation gives. (flagd answers ``404`` for a
  single disabled flag and leaves it out of bulk results.)
* A flag whose rules pick no variant answers its reason (``DEFAULT``) without a value
  either: the caller's default applies.
* **Reason ``DEFAULT``** (a flag that served its default variant) is not among the
  reasons the protocol's schema lists. It is the reason flagd sends, and the one an
  in-process evaluation gives, so it is kept on purpose: OFREP clients pass reasons
  through as text.
* **ETag** (bulk only, as the protocol says): a hash of the snapshot's revision and
  epoch, the request's context (canonical JSON) and the response body, so it changes when the
  flags change, when the context changes, and when anything else changes an answer
  (a rule that reads ``$flagd.timestamp``). ``If-None-Match`` with the current ETag (or
  ``*``) answers ``304 Not Modified``.
* Errors: ``404 FLAG_NOT_FOUND`` for an unknown key; ``400`` with the provider's error
  code (``PARSE_ERROR``, ``GENERAL``) when a flag cannot be evaluated; in bulk results,
  a flag that cannot be evaluated is an inline ``{key, errorCode, errorDetails}`` item.
  Until the provider has loaded its flags, both endpoints answer ``500`` with the
  protocol's general error body (``{"errorDetails": "the flags are not loaded yet"}``)
  and no ETag, never "not found" or an empty flag list that a client would cache.
* **Keys with "/"** cannot be evaluated singly (a path segment cannot hold one, even
  percent-encoded); bulk evaluation answers them.

The routes are left out of the application's OpenAPI schema: the protocol has its own
published one.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, InvalidContextError

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._privacy._sanitizer import Sanitizer
from openfeature_litestar._validation import positive_int
from openfeature_litestar.evaluation import resolve, resolve_all
from openfeature_litestar.hooks._context import SanitizingHook

from ._events import (
    EventStreamConfig,
    StreamHub,
    config_etag,
    parse_last_modified,
    stream_guard,
    stream_response,
    vetoes_not_modified,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from litestar.types import Guard
    from openfeature.flag_evaluation import FlagResolutionDetails

    from openfeature_litestar._snapshot import Snapshot, SnapshotSource

__all__ = ["OFREPConfig", "ofrep_router"]

logger = logging.getLogger("openfeature_litestar.web")

_JSON: Final = MediaType.JSON
_OK: Final = 200
_NOT_MODIFIED: Final = 304
_BAD_REQUEST: Final = 400
_NOT_FOUND: Final = 404
_SERVER_ERROR: Final = 500
_UNAVAILABLE: Final = 503
_TARGETING_KEY: Final = "targetingKey"
# The configuration ETag the answer was evaluated from: what a stream's refetchEvaluation
# names (the ETag header names the answer, which depends on the context too).
_CONFIG_ETAG_HEADER: Final = "OFREP-Flag-Config-ETag"
_NOT_LOADED: Final = "the flags are not loaded yet"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@dataclass
class OFREPConfig:
    """Where and how the OFREP endpoints are mounted.

    Attributes:
        path: The protocol's base path; the endpoints are ``{path}/evaluate/flags`` and
            ``{path}/evaluate/flags/{key}``. OFREP clients append ``/ofrep/v1`` to their
            base URL, so keep the default unless a proxy rewrites paths.
        guards: Litestar guards every request must pass (for example
            :func:`~openfeature_litestar.web.bearer_token_guard`). Required unless
            :attr:`public` is set.
        public: Serve without any guard. Flags and their metadata are then readable by
            anyone who can reach the application: say so explicitly.
        max_body_bytes: The largest request body accepted; a larger one gets ``400``.
        sanitizer: Applied to the context's attributes before evaluation (the targeting
            key is kept); its limits are also the context limits. ``None`` evaluates
            the attributes as sent (the limits are then the default policy's). The
            default policy redacts e-mail addresses and similar data: rules that target
            on them need ``None`` or a policy of your own.
        event_streams: The event stream that tells clients when the flags change
            (advertised in bulk answers as ``eventStreams``; see
            :class:`~openfeature_litestar.web.EventStreamConfig`); ``None`` serves none,
            and clients poll.

            .. versionadded:: 0.2.0

    Raises:
        ConfigurationError: ``path`` does not start with ``/`` or ``max_body_bytes`` is
            not a positive integer.
    """

    path: str = "/ofrep/v1"
    guards: Sequence[Guard] = ()
    public: bool = False
    max_body_bytes: int = 65_536
    sanitizer: Sanitizer | None = field(default_factory=Sanitizer)
    event_streams: EventStreamConfig | None = field(default_factory=EventStreamConfig)

    def __post_init__(self) -> None:
        """Check the settings that can never work."""
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ConfigurationError(f"OFREPConfig.path must start with '/', not {self.path!r}")
        self.path = self.path.rstrip("/") or "/"
        positive_int("OFREPConfig.max_body_bytes", self.max_body_bytes)
        self.guards = tuple(self.guards)


class _BadRequest(Exception):  # noqa: N818 - internal signal, turned into a 400 answer
    """The request cannot be evaluated; the message says why (never quoting its data)."""


def _json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    return Response(_encode(payload), status_code=status, media_type=_JSON, headers=headers)


async def _read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes without reading further."""
    announced = (request.headers.get("content-length") or "").strip()
    # ASCII digits only: str.isdigit() also accepts digits int() cannot read ("²").
    if announced.isascii() and announced.isdigit() and int(announced) > limit:
        raise _BadRequest(f"the request body is {int(announced)} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BadRequest(f"the request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_context(body: bytes) -> dict[str, Any]:
    """The ``context`` object of a request body (empty when the body has none)."""
    if not body.strip():
        return {}
    try:
        document = _decode(body)
    except (msgspec.DecodeError, RecursionError):
        raise _BadRequest("the request body is not valid JSON") from None
    except UnicodeDecodeError:  # msgspec's error for a string that is not UTF-8
        raise _BadRequest("the request body is not valid UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise _BadRequest(
            f"the request body must be a JSON object with a 'context' object, "
            f"not a JSON {_json_type(document)}"
        )
    context = document.get("context")
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise _BadRequest(f"'context' must be a JSON object, not a JSON {_json_type(context)}")
    return context


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else "value"


def _success(key: str, details: FlagResolutionDetails[Any]) -> dict[str, Any]:
    reason = details.reason
    item: dict[str, Any] = {
        "key": key,
        "reason": reason.value if isinstance(reason, enum.Enum) else reason or "UNKNOWN",
        "metadata": dict(details.flag_metadata),
    }
    # No variant means the flag defers to the caller's default (disabled, or no rule
    # picked a variant): the protocol says so by leaving out the value.
    if details.variant is not None:
        item["variant"] = details.variant
        item["value"] = details.value
    return item


# A document's flags can answer in only so many ways (variant and reason per flag), so
# each answer's JSON is encoded once per snapshot and joined into bulk bodies after that;
# past this many distinct answers, the rest are encoded each time.
_MAX_CACHED_ANSWERS: Final = 65_536


class _EncodedAnswers:
    """The JSON of successful answers, per flag, variant and reason, for one snapshot.

    A variant's value and a flag's metadata are the snapshot's, so an answer is the same
    bytes for every context that gets that variant for that reason. Built on one event
    loop, never shared between threads; a new snapshot starts a new cache.
    """

    __slots__ = ("_answers", "_snapshot")

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._answers: dict[tuple[str, str | None, str], bytes] = {}

    def of(self, snapshot: Snapshot, key: str, details: FlagResolutionDetails[Any]) -> bytes:
        """The encoded :func:`_success` item of ``details``, an answer from ``snapshot``."""
        if snapshot is not self._snapshot:
            self._snapshot, self._answers = snapshot, {}
        reason = details.reason
        reason_text = reason.value if isinstance(reason, enum.Enum) else reason or "UNKNOWN"
        slot = (key, details.variant, reason_text)
        answer = self._answers.get(slot)
        if answer is None:
            answer = _encode(_success(key, details))
            if len(self._answers) < _MAX_CACHED_ANSWERS:
                self._answers[slot] = answer
        return answer


def _failure(key: str, details: FlagResolutionDetails[Any]) -> dict[str, Any]:
    code = details.error_code
    item: dict[str, Any] = {
        "key": key,
        "errorCode": str(code.value if isinstance(code, ErrorCode) else code),
        "errorDetails": details.error_message or f"flag {key!r} could not be evaluated",
    }
    if details.flag_metadata:
        item["metadata"] = dict(details.flag_metadata)
    return item


def _etag(snapshot: Snapshot, context: Mapping[str, Any], body: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str(snapshot.revision).encode("ascii"))
    if snapshot.epoch:  # an emptied store written again counts its revisions from 1 again
        digest.update(f":{snapshot.epoch}".encode())
    digest.update(b"\0")
    digest.update(msgspec.json.encode(context, order="sorted"))
    digest.update(b"\0")
    digest.update(body)
    return f'"{digest.hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, or ``*``)."""
    if if_none_match is None:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/")
        if tag in {etag, etag.strip('"')}:  # some clients send the tag unquoted
            return True
    return False


class _Evaluator:
    """Turns request bodies into evaluation contexts and answers into OFREP bodies."""

    __slots__ = ("_answers", "_config", "_count", "_hub", "_limits", "_source")

    def __init__(self, config: OFREPConfig, source: SnapshotSource, hub: StreamHub | None) -> None:
        self._config = config
        self._source = source
        # A provider counts what OFREP answers from its snapshot (usage counters).
        count = getattr(source, "count_usage", None)
        self._count: Callable[[str, FlagResolutionDetails[Any]], None] = (
            count if callable(count) else _count_nothing
        )
        self._hub = hub
        self._limits = SanitizingHook(sanitizer=config.sanitizer)
        self._answers = _EncodedAnswers()

    async def context(self, request: Request[Any, Any, Any]) -> tuple[dict[str, Any], Any]:
        """The request's raw context object and its checked, sanitized evaluation context."""
        raw = _parse_context(await _read_body(request, self._config.max_body_bytes))
        attributes = dict(raw)
        # "" is no targeting key, as in process (the SDK's context merge drops it).
        targeting_key = attributes.pop(_TARGETING_KEY, None)
        if targeting_key == "":
            targeting_key = None
        context = EvaluationContext(targeting_key, attributes)
        try:
            self._limits.validate(context)
        except InvalidContextError as exc:
            raise _BadRequest(str(exc.error_message)) from None
        sanitizer = self._config.sanitizer
        if sanitizer is not None and attributes:
            context = EvaluationContext(targeting_key, sanitizer.sanitize(attributes))
        return raw, context

    async def one(self, request: Request[Any, Any, Any], key: str) -> Response[bytes]:
        try:
            _, context = await self.context(request)
        except _BadRequest as exc:
            return _json_response(
                _BAD_REQUEST,
                {
                    "key": key,
                    "errorCode": ErrorCode.INVALID_CONTEXT.value,
                    "errorDetails": str(exc),
                },
            )
        snapshot = self._source.snapshot
        if snapshot.document is None:
            return _not_loaded()
        details = resolve(snapshot, key, context, None, None)
        self._count(key, details)
        if details.error_code is None:
            answer = self._answers.of(snapshot, key, details)
            return Response(answer, status_code=_OK, media_type=_JSON)
        status = _NOT_FOUND if details.error_code == ErrorCode.FLAG_NOT_FOUND else _BAD_REQUEST
        return _json_response(status, _failure(key, details))

    async def all(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            raw, context = await self.context(request)
        except _BadRequest as exc:
            return _json_response(
                _BAD_REQUEST,
                {"errorCode": ErrorCode.INVALID_CONTEXT.value, "errorDetails": str(exc)},
            )
        hub, query = self._hub, request.query_params
        named = query.get("flagConfigEtag") or None
        if hub is not None:
            after_text = query.get("flagConfigLastModified")
            after = parse_last_modified(after_text) if after_text else None
            if named is not None or after is not None:
                # Told of a change by a stream (perhaps another worker's): wait a moment
                # for it here rather than answer with what the client already has.
                await hub.wait_for_newer(named, after)
        snapshot = self._source.snapshot
        document = snapshot.document
        if document is None:
            return _not_loaded()
        results = resolve_all(snapshot, context)
        count, answers = self._count, self._answers
        items: list[bytes] = []
        for key, details in results.items():
            count(key, details)
            if details.error_code is None:
                items.append(answers.of(snapshot, key, details))
            else:
                items.append(_encode(_failure(key, details)))
        # {"flags": [...], "metadata": {...}, "eventStreams": [...]}, each item as encoded.
        parts = [b'{"flags":[', b",".join(items), b"]"]
        if document.metadata:  # the flag set's metadata, of the same snapshot
            parts += (b',"metadata":', _encode(dict(document.metadata)))
        if hub is not None:
            base = f"{request.scope.get('root_path', '')}{self._config.path}".replace("//", "/")
            advertised = [hub.advertisement(base, guarded=not self._config.public)]
            parts += (b',"eventStreams":', _encode(advertised))
        parts.append(b"}")
        body = b"".join(parts)
        etag = _etag(snapshot, raw, body)
        headers = {"ETag": etag, _CONFIG_ETAG_HEADER: config_etag(snapshot)}
        if not vetoes_not_modified(named, snapshot) and _matches(
            request.headers.get("if-none-match"), etag
        ):
            return Response(b"", status_code=_NOT_MODIFIED, headers=headers)
        return Response(body, status_code=_OK, media_type=_JSON, headers=headers)


def _count_nothing(_key: str, _details: FlagResolutionDetails[Any]) -> None:
    pass


def _not_loaded() -> Response[bytes]:
    # Not "flag not found" nor an empty list: a client would take (and cache) those as
    # the answer. The protocol's only status for "could not evaluate" is 500.
    return _json_response(_SERVER_ERROR, {"errorDetails": _NOT_LOADED})


def _internal_error(exc: Exception) -> Response[bytes]:
    # The type only: an exception's text could quote the request's context.
    logger.error("an OFREP evaluation failed: %s", type(exc).__name__)
    return _json_response(_SERVER_ERROR, {"errorDetails": "the flags could not be evaluated"})


def ofrep_router(config: OFREPConfig, provider: SnapshotSource) -> Router:
    """The OFREP endpoints for ``provider``'s flags, as a router to mount in an application.

    :class:`~openfeature_litestar.web.OpenFeaturePlugin` mounts it when its
    configuration has ``ofrep=OFREPConfig(...)``; mount it yourself to serve a provider
    the plugin does not own (its lifecycle is then yours)::

        app = Litestar([ofrep_router(OFREPConfig(guards=[guard]), provider)])

    Args:
        config: The path, guards and limits.
        provider: Where the flags come from: a
            :class:`~openfeature_litestar.FlagProvider`, or anything with a current
            ``snapshot`` (a :class:`~openfeature_litestar.SnapshotSource`); each request
            is answered from the snapshot it holds then.

    Returns:
        The router, with ``config.guards`` on every route.

    Raises:
        ConfigurationError: ``config.guards`` is empty and ``config.public`` is not set.
    """
    if not config.guards and not config.public:
        raise ConfigurationError(
            "the OFREP endpoints would be readable by anyone: give OFREPConfig(guards=[...]) "
            "(for example bearer_token_guard(tokens)) or, to serve them without "
            "authorization on purpose, OFREPConfig(public=True)"
        )
    hub = StreamHub(config.event_streams, provider) if config.event_streams else None
    evaluator = _Evaluator(config, provider, hub)

    @post(
        "/evaluate/flags/{key:str}",
        status_code=_OK,
        include_in_schema=False,
        request_max_body_size=None,  # the evaluator enforces its own limit, with a 400
        name="ofrep-evaluate-flag",
        guards=list(config.guards),
    )
    async def evaluate_flag(request: Request[Any, Any, Any]) -> Response[bytes]:
        """OFREP single-flag evaluation."""
        try:
            # Read from the path rather than declared, so the handler's signature is the
            # same across Litestar's parameter styles.
            return await evaluator.one(request, str(request.path_params["key"]))
        except HTTPException:
            raise  # Litestar's own answer to a bad request (a malformed Content-Length)
        except Exception as exc:
            return _internal_error(exc)

    @post(
        "/evaluate/flags",
        status_code=_OK,
        include_in_schema=False,
        request_max_body_size=None,
        name="ofrep-evaluate-flags",
        guards=list(config.guards),
    )
    async def evaluate_flags(request: Request[Any, Any, Any]) -> Response[bytes]:
        """OFREP bulk evaluation."""
        try:
            return await evaluator.all(request)
        except HTTPException:
            raise
        except Exception as exc:
            return _internal_error(exc)

    handlers: list[Any] = [evaluate_flag, evaluate_flags]
    if hub is not None:
        handlers.append(_event_stream_handler(hub, config))
    return Router(
        path=config.path,
        route_handlers=handlers,
        signature_namespace={"Request": Request, "Response": Response},
        opt={_HUB_KEY: hub},
    )


_HUB_KEY: Final = "openfeature_litestar.event_stream_hub"


def event_stream_hub(router: Router) -> StreamHub | None:
    """The event stream hub of a router :func:`ofrep_router` built (``None``: no streams)."""
    hub = router.opt.get(_HUB_KEY)
    return hub if isinstance(hub, StreamHub) else None


def _event_stream_handler(hub: StreamHub, config: OFREPConfig) -> Any:
    streams = hub.config

    @get(
        streams.path,
        include_in_schema=False,
        guards=[stream_guard(hub, config.guards)],
        name="ofrep-event-stream",
        sync_to_thread=False,
    )
    def event_stream(request: Request[Any, Any, Any]) -> Response[Any]:
        """OFREP event stream (Server-Sent Events)."""
        lease = hub.lease()
        if lease is None:
            return _json_response(
                _UNAVAILABLE,
                {"errorDetails": "too many event streams are open; retry later"},
                headers={"Retry-After": str(streams.retry_after)},
            )
        return stream_response(hub, lease, request.headers.get("last-event-id"))

    return event_stream

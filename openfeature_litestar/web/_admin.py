"""The admin API: read, write, promote and audit flags over HTTP, with revisions and guards.

Every write is validated (``422`` with every problem and its path), conditional on the
namespace's revision (``If-Match``; ``412`` when it is stale, so an update is never
lost) and recorded in the store's audit trail with the actor taken from the
authenticated user. Every response that reads or writes a namespace carries its
revision as the ``ETag`` (``"<revision>"``).

The router refuses to mount without guards; ``write_guards`` are added to the writing
routes only, so that one token (or role) may read and another may write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - msgspec resolves AuditRecord's annotations at run time
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import anyio.to_thread
import msgspec
from litestar import Request, Response, Router, delete, get, post, put
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import (
    Body,
    FromPath,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_428_PRECONDITION_REQUIRED,
)
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import InvalidContextError

from openfeature_litestar._document import MAX_DOCUMENT_BYTES, FlagDefinition
from openfeature_litestar._errors import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    Problem,
    RevisionConflict,
    StoreError,
)
from openfeature_litestar._provider import FlagProvider
from openfeature_litestar._stores import StoredDocument, WritableFlagStore, copy_namespace
from openfeature_litestar._stores._writes import MAX_AUDIT_PAGE, check_actor, definition_data
from openfeature_litestar.hooks._context import SanitizingHook

if TYPE_CHECKING:
    from litestar.types import Guard
    from openfeature.flag_evaluation import FlagResolutionDetails

    from openfeature_litestar._stores import AuditEntry

__all__ = [
    "ActorCallable",
    "AdminConfig",
    "AuditPage",
    "AuditRecord",
    "ConflictError",
    "DocumentProblems",
    "EvaluateRequest",
    "EvaluationResult",
    "FlagEntry",
    "FlagList",
    "FlagResource",
    "InvalidDocumentError",
    "NamespaceInfo",
    "NamespaceList",
    "ProblemBody",
    "PromoteRequest",
    "RevisionBody",
    "WriteResult",
    "admin_router",
    "default_actor",
]

logger = logging.getLogger("openfeature_litestar.web.admin")

ActorCallable: TypeAlias = Callable[[ASGIConnection[Any, Any, Any, Any]], str]
"""Names who makes a write, from the connection (see :func:`default_actor`)."""

# A create-only write retries while other writes move the namespace on: every lost
# race is another writer's success, so even many concurrent creates settle well
# within this many attempts.
_CREATE_ATTEMPTS = 64


# -- configuration ------------------------------------------------------------------------


def default_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The authenticated user of ``connection``, as the audit trail names them.

    The user is ``scope["user"]`` (set by the application's authentication middleware):
    its ``id`` attribute or key, else its ``name``, else the user itself as text.

    Args:
        connection: The request.

    Returns:
        The actor's name.

    Raises:
        PermissionDeniedException: The connection has no authenticated user: the admin
            API never records an anonymous write (set :attr:`AdminConfig.actor` when
            the guard itself authenticates, as a bearer token guard does).
    """
    user = connection.scope.get("user")
    if user is None:
        raise PermissionDeniedException(
            "the admin API records who writes, and this connection has no authenticated "
            "user; authenticate it, or set AdminConfig.actor"
        )
    for field_name in ("id", "name"):
        value = (
            user.get(field_name) if isinstance(user, Mapping) else getattr(user, field_name, None)
        )
        if value is not None:
            return str(value)
    return str(user)


@dataclass
class AdminConfig:
    """Where the admin API is mounted, who may use it, and which namespaces it reaches.

    Attributes:
        path: The path the API is mounted under.
        guards: Guards for every route (reads and writes). At least one is required: the
            admin API never mounts unguarded.
        write_guards: Further guards for the routes that write (and the dry-run
            evaluation reads only, so it is not one of them). Use them to give one role
            read-only access and another write access.
        stores: Namespace name to writable store: only these namespaces are reachable.
            ``None`` serves the plugin's own store under its namespace.
        actor: Names who makes a write, from the connection; ``None`` uses
            :func:`default_actor` (the authenticated user; writes without one are
            refused with ``403``).
        max_body_bytes: The largest request body accepted; a larger one gets ``413``.

    Raises:
        ConfigurationError: ``path`` does not start with ``/``, ``max_body_bytes`` is not
            positive, or a key of ``stores`` differs from its store's namespace.
    """

    path: str = "/admin/v1"
    guards: Sequence[Guard] = ()
    write_guards: Sequence[Guard] = ()
    stores: Mapping[str, WritableFlagStore] | None = None
    actor: ActorCallable | None = None
    max_body_bytes: int = MAX_DOCUMENT_BYTES

    def __post_init__(self) -> None:
        """Check the settings that can never work, so that the application fails early."""
        if not self.path.startswith("/"):
            raise ConfigurationError(f"AdminConfig.path must start with '/', not {self.path!r}")
        if isinstance(self.max_body_bytes, bool) or not self.max_body_bytes > 0:
            raise ConfigurationError(
                f"AdminConfig.max_body_bytes must be positive, not {self.max_body_bytes!r}"
            )
        if self.stores is not None:
            _check_stores(self.stores)


def _check_stores(stores: Mapping[str, WritableFlagStore]) -> None:
    for name, store in stores.items():
        if not isinstance(store, WritableFlagStore):
            raise ConfigurationError(
                f"the admin API writes flags: the store for namespace {name!r} "
                f"({type(store).__name__}) is not a WritableFlagStore"
            )
        if store.namespace != name:
            raise ConfigurationError(
                f"the admin store listed as namespace {name!r} holds namespace "
                f"{store.namespace!r}; list it under its own namespace"
            )


# -- the wire format ----------------------------------------------------------------------


class NamespaceInfo(msgspec.Struct, frozen=True):
    """One namespace the admin API reaches.

    Attributes:
        name: The namespace.
        revision: Its store's current revision.
        flag_count: How many flags it holds.
        served_revision: The revision the application's provider serves, when the
            provider serves this namespace (``null`` otherwise); it trails
            ``revision`` until the provider has loaded the latest write.
    """

    name: str
    revision: int
    flag_count: int
    served_revision: int | None


class NamespaceList(msgspec.Struct, frozen=True):
    """The namespaces the admin API reaches, in configuration order."""

    namespaces: list[NamespaceInfo]


class FlagEntry(msgspec.Struct, frozen=True):
    """One flag: its key and its definition as flagd JSON."""

    key: str
    definition: dict[str, Any]


class FlagList(msgspec.Struct, frozen=True):
    """Every flag of a namespace at one revision, in document order."""

    namespace: str
    revision: int
    flags: list[FlagEntry]


class FlagResource(msgspec.Struct, frozen=True):
    """One flag of a namespace at one revision."""

    namespace: str
    key: str
    revision: int
    definition: dict[str, Any]


class WriteResult(msgspec.Struct, frozen=True):
    """The namespace's revision after a write."""

    namespace: str
    revision: int


class PromoteRequest(msgspec.Struct, frozen=True):
    """Copy the whole document of the namespace ``from`` into the target namespace."""

    source: str = msgspec.field(name="from")


class EvaluateRequest(msgspec.Struct, frozen=True):
    """The evaluation context of a dry run; ``targetingKey`` is its targeting key."""

    context: dict[str, Any] = msgspec.field(default_factory=dict)


class EvaluationResult(msgspec.Struct, frozen=True):
    """What the flag resolves to for the context, as a provider would resolve it.

    Attributes:
        key: The flag key.
        revision: The namespace's revision that was evaluated.
        value: The resolved value; ``null`` on an error.
        variant: The resolved variant, if any.
        reason: The OpenFeature reason (``STATIC``, ``TARGETING_MATCH``, ``ERROR``, ...).
        error_code: The OpenFeature error code, if the evaluation failed.
        error_message: Why it failed.
        metadata: The flag's metadata (flag-set metadata included).
    """

    key: str
    revision: int
    value: Any
    variant: str | None
    reason: str | None
    error_code: str | None
    error_message: str | None
    metadata: dict[str, Any]


class AuditRecord(msgspec.Struct, frozen=True):
    """One audited change (see :class:`~openfeature_litestar._stores.AuditEntry`)."""

    id: str
    namespace: str
    revision: int
    flag_key: str | None
    action: Literal["create", "update", "delete"]
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


class AuditPage(msgspec.Struct, frozen=True):
    """One page of a namespace's audit trail, newest first.

    Attributes:
        namespace: The namespace.
        entries: The entries of this page.
        next_before: Pass it as ``before`` to read the next (older) page; ``null`` when
            this page is the last.
    """

    namespace: str
    entries: list[AuditRecord]
    next_before: str | None


class ProblemBody(msgspec.Struct, frozen=True):
    """One problem of an invalid document: where (dotted path) and what."""

    path: str
    message: str


class DocumentProblems(msgspec.Struct, frozen=True):
    """Every problem of a rejected write."""

    problems: list[ProblemBody]


class InvalidDocumentError(msgspec.Struct, frozen=True):
    """``422``: the write would make the document invalid; nothing was written."""

    status_code: int
    detail: str
    extra: DocumentProblems


class RevisionBody(msgspec.Struct, frozen=True):
    """The namespace's current revision."""

    revision: int


class ConflictError(msgspec.Struct, frozen=True):
    """``412``: the precondition failed; ``extra.revision`` is the current revision."""

    status_code: int
    detail: str
    extra: RevisionBody


# -- errors -------------------------------------------------------------------------------


class _PreconditionRequired(ClientException):
    status_code = HTTP_428_PRECONDITION_REQUIRED


class _PreconditionFailed(ClientException):
    status_code = HTTP_412_PRECONDITION_FAILED


class _Unprocessable(ClientException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class _Conflict(ClientException):
    status_code = HTTP_409_CONFLICT


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """``400`` for a JSON body nested deeper than the decoder can go (not a server error)."""
    del request, exc
    return Response(
        {"status_code": HTTP_400_BAD_REQUEST, "detail": "the JSON body is nested too deeply"},
        status_code=HTTP_400_BAD_REQUEST,
    )


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _conflict(current: int, detail: str) -> _PreconditionFailed:
    return _PreconditionFailed(
        detail=detail, extra={"revision": current}, headers={"ETag": _etag(current)}
    )


def _unprocessable(problems: Sequence[Problem], detail: str) -> _Unprocessable:
    listed = [{"path": problem.path, "message": problem.message} for problem in problems]
    return _Unprocessable(detail=detail, extra={"problems": listed})


def _store_unavailable(exc: StoreError) -> ServiceUnavailableException:
    # The store's message may name hosts; it goes to the log, not to the client.
    logger.warning("admin API: the flag store failed: %s", exc)
    return ServiceUnavailableException(detail="the flag store is unavailable; retry later")


@dataclass(frozen=True)
class _StoreErrors:
    """Turns the store's exceptions into HTTP errors (a context manager per request)."""

    namespace: str

    def __enter__(self) -> None:
        """Nothing to set up."""

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        """Raise the HTTP error for a store exception; let everything else pass."""
        if isinstance(exc, DocumentError):
            raise _unprocessable(exc.problems, "the flag document would be invalid") from None
        if isinstance(exc, RevisionConflict):
            raise _conflict(
                exc.actual, f"namespace {self.namespace!r} is at revision {exc.actual}"
            ) from None
        if isinstance(exc, FlagNotFound):
            raise NotFoundException(detail=str(exc)) from None
        if isinstance(exc, StoreError):
            raise _store_unavailable(exc) from None


# -- preconditions ------------------------------------------------------------------------


def _parse_if_match(value: str | None) -> int | None:
    """The revision an ``If-Match`` header names, or ``None`` without the header.

    Raises:
        ClientException: The header is not one strong entity tag of a revision.
    """
    if value is None:
        return None
    text = value.strip()
    digits = text[1:-1] if len(text) > 2 and text[0] == text[-1] == '"' else ""  # noqa: PLR2004 - the two quotes
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:  # noqa: PLR2004 - fits in int64
        raise ClientException(
            detail='If-Match must be one revision ETag as the API returns it, such as "12"'
        )
    return int(digits)


def _parse_if_none_match(value: str | None) -> bool:
    """Whether ``If-None-Match: *`` (create only) was given.

    Raises:
        ClientException: The header is present with another value.
    """
    if value is None:
        return False
    if value.strip() != "*":
        raise ClientException(detail="If-None-Match is only accepted as '*' (create only)")
    return True


def _required_revision(if_match: str | None, what: str) -> int:
    revision = _parse_if_match(if_match)
    if revision is None:
        raise _PreconditionRequired(
            detail=f'{what} needs If-Match: "<revision>" (the ETag of your last read)'
        )
    return revision


# -- the API's state ----------------------------------------------------------------------


class _Admin:
    """What the handlers share: the namespaces, the provider, how to name the actor."""

    def __init__(
        self,
        stores: Mapping[str, WritableFlagStore],
        provider: FlagProvider | None,
        actor: ActorCallable,
    ) -> None:
        self.stores = dict(stores)
        self.provider = provider
        self._actor = actor

    def store(self, namespace: str) -> WritableFlagStore:
        """The store of ``namespace``.

        Raises:
            NotFoundException: The namespace is not one the API reaches.
        """
        store = self.stores.get(namespace)
        if store is None:
            raise NotFoundException(detail=f"namespace {namespace!r} is not managed here")
        return store

    def actor(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """Who makes this write.

        Raises:
            PermissionDeniedException: No actor can be named for the connection.
        """
        name = self._actor(connection)
        try:
            return check_actor(name)
        except (TypeError, ValueError):
            raise PermissionDeniedException(
                detail="the authenticated user cannot be named in the audit trail"
            ) from None

    async def load(self, namespace: str) -> StoredDocument:
        """The namespace's current document.

        Raises:
            NotFoundException: The namespace is not one the API reaches.
            ServiceUnavailableException: The store cannot be read.
        """
        store = self.store(namespace)
        try:
            return await store.load()
        except StoreError as exc:
            raise _store_unavailable(exc) from None
        except DocumentError as exc:
            # Only a store edited behind its back (a file) can hold an invalid document.
            logger.error("admin API: namespace %r holds an invalid document: %s", namespace, exc)  # noqa: TRY400 - the problems say it all
            raise ServiceUnavailableException(
                detail=f"namespace {namespace!r} holds an invalid document; fix it at its source"
            ) from None

    def served_revision(self, store: WritableFlagStore) -> int | None:
        """The revision the provider serves, if it serves ``store``."""
        provider = self.provider
        if provider is None or provider.store is not store:
            return None
        return provider.snapshot.revision


# Handlers receive the router's state as the dependency named ``admin``.
_AdminDependency: TypeAlias = NamedDependency[_Admin]

# A namespace in a path. Each router resolves the handlers' annotations with its own
# definition of this name (see ``admin_router``), which lists its namespaces, so that
# the OpenAPI schema names the namespaces that exist.
_NamespacePath: TypeAlias = FromPath[str]

_FlagKeyPath: TypeAlias = Annotated[
    str, PathParameter(description="The flag key (a key with '/' is reached through /document)")
]

_EXAMPLE_FLAG: dict[str, Any] = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
}

_IfMatch: TypeAlias = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The revision the write is based on: the ETag of your last read, "12"',
        examples=[Example(summary="revision 1", value='"1"')],
    ),
]

_FlagBody: TypeAlias = Annotated[
    dict[str, Any],
    Body(
        media_type=RequestEncodingType.JSON,
        description="The flag's definition as flagd JSON",
        examples=[Example(summary="a boolean flag with targeting", value=_EXAMPLE_FLAG)],
    ),
]

_DocumentBody: TypeAlias = Annotated[
    dict[str, Any],
    Body(
        media_type=RequestEncodingType.JSON,
        description="The whole flag document as flagd JSON",
        examples=[Example(summary="one flag", value={"flags": {"banner": _EXAMPLE_FLAG}})],
    ),
]

_ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        description="The namespace's revision as a strong entity tag",
        documentation_only=True,
    )
]


def _flag_definition(stored: StoredDocument, key: str, namespace: str) -> dict[str, Any]:
    definition = definition_data(stored.document, key)
    if definition is None:
        raise NotFoundException(detail=f"flag {key!r} not found in namespace {namespace!r}")
    return definition


def _with_etag(content: Any, revision: int, status_code: int = HTTP_200_OK) -> Response[Any]:
    return Response(content, status_code=status_code, headers={"ETag": _etag(revision)})


# -- read handlers ------------------------------------------------------------------------

_READ_ERRORS: list[type[HTTPException]] = [
    NotAuthorizedException,
    PermissionDeniedException,
    NotFoundException,
    ServiceUnavailableException,
]
_WRITE_ERRORS: list[type[HTTPException]] = [
    *_READ_ERRORS,
    _PreconditionRequired,
]
_PUT_FLAG_ERRORS: list[type[HTTPException]] = [*_WRITE_ERRORS, _Conflict]
_WRITE_RESPONSES: dict[int, ResponseSpec] = {
    HTTP_412_PRECONDITION_FAILED: ResponseSpec(
        data_container=ConflictError,
        description="If-Match names a revision that is no longer current (or "
        "If-None-Match: * and the flag exists); the ETag is the current revision",
        generate_examples=False,
    ),
    HTTP_422_UNPROCESSABLE_ENTITY: ResponseSpec(
        data_container=InvalidDocumentError,
        description="The write would make the document invalid; every problem with its path",
        generate_examples=False,
    ),
}


@get(
    "/namespaces",
    summary="List the namespaces",
    raises=[NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException],
)
async def list_namespaces(admin: _AdminDependency) -> NamespaceList:
    """The namespaces this API manages, with their revisions and flag counts."""
    namespaces = []
    for name, store in admin.stores.items():
        stored = await admin.load(name)
        namespaces.append(
            NamespaceInfo(
                name=name,
                revision=stored.revision,
                flag_count=len(stored.document.flags),
                served_revision=admin.served_revision(store),
            )
        )
    return NamespaceList(namespaces)


@get(
    "/namespaces/{namespace:str}/flags",
    response_headers=_ETAG_HEADER,
    summary="List a namespace's flags",
    raises=_READ_ERRORS,
)
async def list_flags(admin: _AdminDependency, namespace: _NamespacePath) -> Response[FlagList]:
    """Every flag of the namespace with its definition; the ETag is the revision."""
    stored = await admin.load(namespace)
    flags = [
        FlagEntry(key, _flag_definition(stored, key, namespace)) for key in stored.document.flags
    ]
    return _with_etag(FlagList(namespace, stored.revision, flags), stored.revision)


@get(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=_ETAG_HEADER,
    summary="Read a flag",
    raises=_READ_ERRORS,
)
async def read_flag(
    admin: _AdminDependency, namespace: _NamespacePath, key: _FlagKeyPath
) -> Response[FlagResource]:
    """One flag's definition; the ETag is the namespace's revision."""
    stored = await admin.load(namespace)
    definition = _flag_definition(stored, key, namespace)
    return _with_etag(FlagResource(namespace, key, stored.revision, definition), stored.revision)


@get(
    "/namespaces/{namespace:str}/document",
    response_headers=_ETAG_HEADER,
    summary="Read a namespace's whole document",
    raises=_READ_ERRORS,
)
async def read_document(
    admin: _AdminDependency, namespace: _NamespacePath
) -> Response[dict[str, Any]]:
    """The namespace's flag document as flagd JSON; the ETag is its revision."""
    stored = await admin.load(namespace)
    return _with_etag(stored.document.dump(), stored.revision)


def _audit_record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=entry.id,
        namespace=entry.namespace,
        revision=entry.revision,
        flag_key=entry.flag_key,
        action=entry.action,
        actor=entry.actor,
        at=entry.at,
        before=None if entry.before is None else dict(entry.before),
        after=None if entry.after is None else dict(entry.after),
        note=entry.note,
    )


@get(
    "/namespaces/{namespace:str}/audit",
    response_headers=_ETAG_HEADER,
    summary="Read a namespace's audit trail",
    raises=_READ_ERRORS,
)
async def read_audit(
    admin: _AdminDependency,
    namespace: _NamespacePath,
    flag: Annotated[
        str | None, QueryParameter(name="flag", description="Only this flag's entries")
    ] = None,
    limit: Annotated[
        int, QueryParameter(name="limit", ge=1, le=MAX_AUDIT_PAGE, description="Page size")
    ] = 50,
    before: Annotated[
        str | None,
        QueryParameter(name="before", description="The next_before of the previous page"),
    ] = None,
) -> Response[AuditPage]:
    """The namespace's audit trail, newest first, one page at a time.

    The ETag is the namespace's revision when the page was read; the page holds every
    entry up to it.
    """
    store = admin.store(namespace)
    revision = (await admin.load(namespace)).revision
    try:
        entries = await store.audit_log(flag_key=flag, limit=limit, before=before)
    except StoreError as exc:
        raise _store_unavailable(exc) from None
    except ValueError:  # a `before` that is no entry id of this store
        # A fixed message: a store's names its file or keys, which are not the client's.
        raise ClientException(
            detail="invalid audit query: before is not the id of an entry of this "
            "namespace's audit trail (pass the next_before of the previous page)"
        ) from None
    records = [_audit_record(entry) for entry in entries]
    next_before = records[-1].id if len(records) == limit else None
    return _with_etag(AuditPage(namespace, records, next_before), revision)


def _evaluation_context(context: Mapping[str, Any]) -> EvaluationContext:
    attributes = dict(context)
    targeting_key = attributes.pop("targetingKey", None)
    if targeting_key is not None and not isinstance(targeting_key, str):
        raise ClientException(detail="context.targetingKey must be a string")
    evaluation_context = EvaluationContext(targeting_key=targeting_key, attributes=attributes)
    try:
        SanitizingHook().validate(evaluation_context)
    except InvalidContextError as exc:
        raise ClientException(detail=str(exc.error_message)) from None
    return evaluation_context


def _dry_run(
    stored: StoredDocument, key: str, context: EvaluationContext
) -> FlagResolutionDetails[Any]:
    """Evaluate ``key`` exactly as a provider serving ``stored`` would; registers nothing.

    A throwaway provider (its own memory store, never given to the SDK) keeps the
    semantics identical to the served ones, down to ``$flagd`` and flag-set metadata.
    """
    provider = FlagProvider(stored.document, name="openfeature-litestar-admin-dry-run")
    try:
        provider.initialize(EvaluationContext())
        return provider.resolve_any_details(key, context)
    finally:
        provider.shutdown()


@post(
    "/namespaces/{namespace:str}/flags/{key:str}/evaluate",
    response_headers=_ETAG_HEADER,
    summary="Evaluate a flag for a context (dry run)",
    raises=[*_READ_ERRORS, RequestEntityTooLarge],
    status_code=HTTP_200_OK,
)
async def evaluate_flag(
    admin: _AdminDependency,
    namespace: _NamespacePath,
    key: _FlagKeyPath,
    data: JSONBody[EvaluateRequest],
) -> Response[EvaluationResult]:
    """Evaluate the flag of the namespace's current document, as its provider would.

    Nothing is registered or changed; a flag the document lacks resolves with the
    ``FLAG_NOT_FOUND`` error code, as it would for an application.
    """
    context = _evaluation_context(data.context)
    stored = await admin.load(namespace)
    details = await anyio.to_thread.run_sync(_dry_run, stored, key, context)
    result = EvaluationResult(
        key=key,
        revision=stored.revision,
        value=details.value,
        variant=details.variant,
        reason=None if details.reason is None else str(details.reason),
        error_code=None if details.error_code is None else str(details.error_code),
        error_message=details.error_message,
        metadata=dict(details.flag_metadata),
    )
    return _with_etag(result, stored.revision)


# -- write handlers -----------------------------------------------------------------------


async def _create_flag(
    store: WritableFlagStore, key: str, definition: Mapping[str, Any], actor: str
) -> int:
    """Create ``key`` only if it is absent (``If-None-Match: *``); return the revision.

    The write is conditional on the revision at which the flag was seen absent; a
    concurrent write to another flag only means looking again, since the precondition
    is about the flag, not the namespace's revision.

    Raises:
        _PreconditionFailed: The flag exists.
        _Conflict: Other writes moved the namespace on at every attempt (``409``; the
            flag still does not exist, so the same request may be retried).
    """
    for _ in range(_CREATE_ATTEMPTS):
        stored = await store.load()
        if key in stored.document.flags:
            raise _conflict(stored.revision, f"flag {key!r} already exists")
        try:
            return await store.put_flag(
                key, definition, actor=actor, expected_revision=stored.revision
            )
        except RevisionConflict:
            continue
    raise _Conflict(
        detail=f"namespace {store.namespace!r} changed during each of {_CREATE_ATTEMPTS} "
        f"attempts to create flag {key!r}; nothing was written: retry"
    )


async def _replace_flag(
    store: WritableFlagStore,
    key: str,
    definition: Mapping[str, Any],
    actor: str,
    expected: int,
) -> tuple[int, bool]:
    """Create or replace ``key`` at revision ``expected``; return it and whether it is new.

    Raises:
        RevisionConflict: The namespace is not at ``expected``.
    """
    stored = await store.load()
    if stored.revision != expected:
        raise RevisionConflict(expected, stored.revision)
    created = key not in stored.document.flags
    revision = await store.put_flag(key, definition, actor=actor, expected_revision=expected)
    return revision, created


@put(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=_ETAG_HEADER,
    summary="Create or replace a flag",
    raises=_PUT_FLAG_ERRORS,
    responses={
        HTTP_201_CREATED: ResponseSpec(
            data_container=FlagResource, description="The flag was created"
        ),
        **_WRITE_RESPONSES,
    },
    status_code=HTTP_200_OK,
)
async def put_flag(  # noqa: PLR0917 - Litestar passes every parameter by name
    admin: _AdminDependency,
    request: Request[Any, Any, Any],
    namespace: _NamespacePath,
    key: _FlagKeyPath,
    data: _FlagBody,
    if_match: _IfMatch = None,
    if_none_match: Annotated[
        str | None,
        HeaderParameter(name="If-None-Match", description="'*': create only, never replace"),
    ] = None,
) -> Response[FlagResource]:
    """Create or replace one flag.

    Give ``If-Match: "<revision>"`` (the ETag of your last read) to write based on that
    revision, or ``If-None-Match: *`` to create a flag that must not exist yet; one of
    them is required (``428`` otherwise). ``201`` when the flag was created. A create
    that other writes keep overtaking gets ``409`` (nothing written; retry it).
    """
    store = admin.store(namespace)
    expected = _parse_if_match(if_match)
    create_only = _parse_if_none_match(if_none_match)
    if expected is None and not create_only:
        raise _PreconditionRequired(
            detail='writing a flag needs If-Match: "<revision>" (the ETag of your last read), '
            "or If-None-Match: * to create a new one"
        )
    if expected is not None and create_only:
        raise ClientException(detail="give either If-Match or If-None-Match, not both")
    actor = admin.actor(request)
    with _StoreErrors(namespace):
        if expected is None:
            revision, created = await _create_flag(store, key, data, actor), True
        else:
            revision, created = await _replace_flag(store, key, data, actor, expected)
    # The write succeeded, so the definition is valid: show it as the store keeps it.
    definition = FlagDefinition.model_validate(data).model_dump(
        mode="json", by_alias=True, exclude_unset=True
    )
    resource = FlagResource(namespace, key, revision, definition)
    return _with_etag(resource, revision, HTTP_201_CREATED if created else HTTP_200_OK)


@delete(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=_ETAG_HEADER,
    summary="Delete a flag",
    raises=_WRITE_ERRORS,
    responses=_WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def delete_flag(
    admin: _AdminDependency,
    request: Request[Any, Any, Any],
    namespace: _NamespacePath,
    key: _FlagKeyPath,
    if_match: _IfMatch = None,
) -> Response[WriteResult]:
    """Delete one flag; ``If-Match: "<revision>"`` is required."""
    store = admin.store(namespace)
    expected = _required_revision(if_match, "deleting a flag")
    actor = admin.actor(request)
    with _StoreErrors(namespace):
        revision = await store.delete_flag(key, actor=actor, expected_revision=expected)
    return _with_etag(WriteResult(namespace, revision), revision)


@put(
    "/namespaces/{namespace:str}/document",
    response_headers=_ETAG_HEADER,
    summary="Replace a namespace's whole document",
    raises=_WRITE_ERRORS,
    responses=_WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def replace_document(
    admin: _AdminDependency,
    request: Request[Any, Any, Any],
    namespace: _NamespacePath,
    data: _DocumentBody,
    if_match: _IfMatch = None,
) -> Response[WriteResult]:
    """Replace the namespace's document; ``If-Match: "<revision>"`` is required."""
    store = admin.store(namespace)
    expected = _required_revision(if_match, "replacing a document")
    actor = admin.actor(request)
    with _StoreErrors(namespace):
        revision = await store.replace_document(data, actor=actor, expected_revision=expected)
    return _with_etag(WriteResult(namespace, revision), revision)


@post(
    "/namespaces/{namespace:str}/promote",
    response_headers=_ETAG_HEADER,
    summary="Promote another namespace's document into this one",
    raises=_WRITE_ERRORS,
    responses=_WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def promote(
    admin: _AdminDependency,
    request: Request[Any, Any, Any],
    namespace: _NamespacePath,
    data: JSONBody[PromoteRequest],
    if_match: _IfMatch = None,
) -> Response[WriteResult]:
    """Copy the whole document of namespace ``from`` into this one, atomically and audited.

    ``If-Match`` names this (the target) namespace's revision and is required.
    """
    target = admin.store(namespace)
    expected = _required_revision(if_match, "promoting into a namespace")
    source = admin.stores.get(data.source)
    if source is None or source is target:
        reason = "is the target itself" if source is target else "is not managed here"
        message = f"namespace {data.source!r} {reason}"
        raise _unprocessable([Problem("from", message)], "nothing to promote from")
    actor = admin.actor(request)
    with _StoreErrors(namespace):
        revision = await copy_namespace(source, target, actor=actor, expected_revision=expected)
    return _with_etag(WriteResult(namespace, revision), revision)


# -- the router ---------------------------------------------------------------------------

_READ_HANDLERS = (list_namespaces, list_flags, read_flag, read_document, read_audit, evaluate_flag)
_WRITE_HANDLERS = (put_flag, delete_flag, replace_document, promote)


def _namespace_path(names: list[str]) -> Any:
    return Annotated[str, PathParameter(enum=names, description="A namespace this API manages")]


def admin_router(
    config: AdminConfig,
    *,
    stores: Mapping[str, WritableFlagStore],
    provider: FlagProvider | None = None,
) -> Router:
    """The admin API's routes, under ``config.path``, guarded by ``config.guards``.

    Args:
        config: The API's configuration (``config.stores`` is not read here: pass the
            namespaces to serve as ``stores``).
        stores: Namespace name to writable store; only these namespaces are reachable.
        provider: The application's provider, if it is a
            :class:`~openfeature_litestar.FlagProvider`: the namespace list then shows
            the revision it serves.

    Returns:
        A router for the application's ``route_handlers``.

    Raises:
        ConfigurationError: ``config.guards`` is empty (the admin API never mounts
            unguarded), ``stores`` is empty, or a store is not writable or is listed
            under another namespace's name.
    """
    if not config.guards:
        raise ConfigurationError(
            "the admin API never mounts unguarded: give AdminConfig.guards (for example "
            "bearer_token_guard(...)) that admit only the people who may manage flags"
        )
    if not stores:
        raise ConfigurationError("the admin API needs at least one namespace to manage")
    _check_stores(stores)
    state = _Admin(stores, provider, config.actor or default_actor)

    def provide_admin() -> _Admin:
        return state

    # The writing routes sit in a router of their own, so that its guards add to the
    # read guards for them alone.
    writes = Router(
        path="/", route_handlers=list(_WRITE_HANDLERS), guards=list(config.write_guards)
    )
    return Router(
        path=config.path,
        route_handlers=[*_READ_HANDLERS, writes],
        guards=list(config.guards),
        dependencies={"admin": Provide(provide_admin, sync_to_thread=False)},
        signature_namespace={
            "_Admin": _Admin,
            "_AdminDependency": _AdminDependency,
            "_NamespacePath": _namespace_path(list(stores)),
        },
        request_max_body_size=config.max_body_bytes,
        # Litestar decodes JSON bodies before a handler runs; one nested past the
        # decoder's depth raises RecursionError, which is the client's doing.
        exception_handlers={RecursionError: _too_deep},
        tags=["admin"],
    )

"""The admin API's route handlers: read, write, promote, audit and dry-run flags.

A handler lets the store's exceptions propagate: the router maps each to its one HTTP
response (see ``_errors``). Every response that reads or writes a namespace carries
its revision (with its epoch, where the store keeps them) as the ``ETag``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from litestar import Request, Response, delete, get, post, put
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import InvalidContextError

from openfeature_litestar._document import FlagDefinition
from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._errors import Problem, RevisionConflict
from openfeature_litestar._stores import copy_namespace
from openfeature_litestar._stores._offload import off_loop
from openfeature_litestar._stores._writes import MAX_AUDIT_PAGE, Expected, definition_data
from openfeature_litestar.hooks._context import SanitizingHook

from ._dry_run import dry_run
from ._errors import (
    PUT_FLAG_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    WRITE_RESPONSES,
    _Conflict,
    _PreconditionRequired,
    conflict,
    unprocessable,
)
from ._preconditions import parse_if_match, parse_if_none_match, required_revision
from ._schemas import (
    ETAG_HEADER,
    AuditPage,
    AuditRecord,
    DocumentBody,
    EvaluateRequest,
    EvaluationResult,
    FlagBody,
    FlagEntry,
    FlagKeyPath,
    FlagList,
    FlagResource,
    IfMatch,
    IfNoneMatch,
    NamespaceInfo,
    NamespaceList,
    NamespacePath,
    PromoteRequest,
    WriteResult,
    etag,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature_litestar._stores import AuditEntry, StoredDocument, WritableFlagStore

    # The router resolves this name (and NamespacePath) with its own signature namespace.
    from ._state import AdminDependency

__all__ = ["READ_HANDLERS", "WRITE_HANDLERS"]

# A create-only write retries while other writes move the namespace on: every lost
# race is another writer's success, so even many concurrent creates settle well
# within this many attempts.
_CREATE_ATTEMPTS = 64


def _flag_definition(stored: StoredDocument, key: str, namespace: str) -> dict[str, Any]:
    definition = definition_data(stored.document, key)
    if definition is None:
        raise NotFoundException(detail=f"flag {key!r} not found in namespace {namespace!r}")
    return definition


def _with_etag(
    content: Any, revision: int, epoch: str, status_code: int = HTTP_200_OK
) -> Response[Any]:
    return Response(content, status_code=status_code, headers={"ETag": etag(revision, epoch)})


async def _epoch_written(store: WritableFlagStore, before: Expected) -> str:
    """The epoch of the revision a write made on ``before`` (which the write checked)."""
    if before.revision > 0:
        return before.epoch or ""
    # The write began the namespace's history, in an epoch the store chose: read it. If
    # that read fails the client gets 503 for a write that was made; its retry then gets
    # 412 with the current tag, so nothing is written twice.
    return (await store.load()).epoch


# -- read handlers ------------------------------------------------------------------------


@get(
    "/namespaces",
    summary="List the namespaces",
    raises=[NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException],
)
async def list_namespaces(admin: AdminDependency) -> NamespaceList:
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
    response_headers=ETAG_HEADER,
    summary="List a namespace's flags",
    raises=READ_ERRORS,
)
async def list_flags(admin: AdminDependency, namespace: NamespacePath) -> Response[FlagList]:
    """Every flag of the namespace with its definition; the ETag is the revision."""
    stored = await admin.load(namespace)
    flags = [
        FlagEntry(key, _flag_definition(stored, key, namespace)) for key in stored.document.flags
    ]
    return _with_etag(FlagList(namespace, stored.revision, flags), stored.revision, stored.epoch)


@get(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=ETAG_HEADER,
    summary="Read a flag",
    raises=READ_ERRORS,
)
async def read_flag(
    admin: AdminDependency, namespace: NamespacePath, key: FlagKeyPath
) -> Response[FlagResource]:
    """One flag's definition; the ETag is the namespace's revision."""
    stored = await admin.load(namespace)
    definition = _flag_definition(stored, key, namespace)
    resource = FlagResource(namespace, key, stored.revision, definition)
    return _with_etag(resource, stored.revision, stored.epoch)


@get(
    "/namespaces/{namespace:str}/document",
    response_headers=ETAG_HEADER,
    summary="Read a namespace's whole document",
    raises=READ_ERRORS,
)
async def read_document(
    admin: AdminDependency, namespace: NamespacePath
) -> Response[dict[str, Any]]:
    """The namespace's flag document as flagd JSON; the ETag is its revision."""
    stored = await admin.load(namespace)
    # A megabyte document takes tens of milliseconds to dump, which the loop would
    # spend away from every other request.
    return _with_etag(await off_loop(stored.document.dump), stored.revision, stored.epoch)


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
    response_headers=ETAG_HEADER,
    summary="Read a namespace's audit trail",
    raises=READ_ERRORS,
)
async def read_audit(
    admin: AdminDependency,
    namespace: NamespacePath,
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
    stored = await admin.load(namespace)
    try:
        entries = await store.audit_log(flag_key=flag, limit=limit, before=before)
    except ValueError:  # a `before` that is no entry id of this store
        # A fixed message: a store's names its file or keys, which are not the client's.
        raise ClientException(
            detail="invalid audit query: before is not the id of an entry of this "
            "namespace's audit trail (pass the next_before of the previous page)"
        ) from None
    records = [_audit_record(entry) for entry in entries]
    next_before = records[-1].id if len(records) == limit else None
    return _with_etag(AuditPage(namespace, records, next_before), stored.revision, stored.epoch)


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


@post(
    "/namespaces/{namespace:str}/flags/{key:str}/evaluate",
    response_headers=ETAG_HEADER,
    summary="Evaluate a flag for a context (dry run)",
    raises=[*READ_ERRORS, RequestEntityTooLarge],
    status_code=HTTP_200_OK,
)
async def evaluate_flag(
    admin: AdminDependency,
    namespace: NamespacePath,
    key: FlagKeyPath,
    data: JSONBody[EvaluateRequest],
) -> Response[EvaluationResult]:
    """Evaluate the flag of the namespace's current document, as its provider would.

    Nothing is registered or changed; a flag the document lacks resolves with the
    ``FLAG_NOT_FOUND`` error code, as it would for an application.
    """
    context = _evaluation_context(data.context)
    stored = await admin.load(namespace)
    fractional = admin.provider.fractional if admin.provider is not None else DEFAULT_FRACTIONAL
    details = await anyio.to_thread.run_sync(dry_run, stored, key, context, fractional)
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
    return _with_etag(result, stored.revision, stored.epoch)


# -- write handlers -----------------------------------------------------------------------


async def _create_flag(
    store: WritableFlagStore, key: str, definition: Mapping[str, Any], actor: str
) -> tuple[int, str]:
    """Create ``key`` only if it is absent (``If-None-Match: *``).

    The write is conditional on the revision at which the flag was seen absent; a
    concurrent write to another flag only means looking again, since the precondition
    is about the flag, not the namespace's revision.

    Returns:
        The revision the write made, and its epoch.

    Raises:
        _PreconditionFailed: The flag exists.
        _Conflict: Other writes moved the namespace on at every attempt (``409``; the
            flag still does not exist, so the same request may be retried).
    """
    for _ in range(_CREATE_ATTEMPTS):
        stored = await store.load()
        if key in stored.document.flags:
            raise conflict(stored.revision, stored.epoch, f"flag {key!r} already exists")
        seen = Expected(stored.revision, stored.epoch)
        try:
            revision = await store.put_flag(
                key,
                definition,
                actor=actor,
                expected_revision=seen.revision,
                expected_epoch=seen.epoch,
            )
        except RevisionConflict:
            continue
        return revision, await _epoch_written(store, seen)
    raise _Conflict(
        detail=f"namespace {store.namespace!r} changed during each of {_CREATE_ATTEMPTS} "
        f"attempts to create flag {key!r}; nothing was written: retry"
    )


async def _replace_flag(
    store: WritableFlagStore,
    key: str,
    definition: Mapping[str, Any],
    actor: str,
    expected: Expected,
) -> tuple[int, str, bool]:
    """Create or replace ``key`` at revision ``expected``.

    Returns:
        The revision the write made, its epoch, and whether the flag is new.

    Raises:
        RevisionConflict: The namespace is not at ``expected``.
    """
    stored = await store.load()
    expected.check(stored.revision, stored.epoch)
    created = key not in stored.document.flags
    revision = await store.put_flag(
        key,
        definition,
        actor=actor,
        expected_revision=expected.revision,
        expected_epoch=expected.epoch,
    )
    return revision, await _epoch_written(store, expected), created


@put(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=ETAG_HEADER,
    summary="Create or replace a flag",
    raises=PUT_FLAG_ERRORS,
    responses={
        HTTP_201_CREATED: ResponseSpec(
            data_container=FlagResource, description="The flag was created"
        ),
        **WRITE_RESPONSES,
    },
    status_code=HTTP_200_OK,
)
async def put_flag(  # noqa: PLR0917 - Litestar passes every parameter by name
    admin: AdminDependency,
    request: Request[Any, Any, Any],
    namespace: NamespacePath,
    key: FlagKeyPath,
    data: FlagBody,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Response[FlagResource]:
    """Create or replace one flag.

    Give ``If-Match: "<revision>"`` (the ETag of your last read) to write based on that
    revision, or ``If-None-Match: *`` to create a flag that must not exist yet; one of
    them is required (``428`` otherwise). ``201`` when the flag was created. A create
    that other writes keep overtaking gets ``409`` (nothing written; retry it).
    """
    store = admin.store(namespace)
    expected = parse_if_match(if_match)
    create_only = parse_if_none_match(if_none_match)
    if expected is None and not create_only:
        raise _PreconditionRequired(
            detail='writing a flag needs If-Match: "<revision>" (the ETag of your last read), '
            "or If-None-Match: * to create a new one"
        )
    if expected is not None and create_only:
        raise ClientException(detail="give either If-Match or If-None-Match, not both")
    actor = admin.actor(request)
    if expected is None:
        (revision, epoch), created = await _create_flag(store, key, data, actor), True
    else:
        revision, epoch, created = await _replace_flag(store, key, data, actor, expected)
    # The write succeeded, so the definition is valid: show it as the store keeps it.
    definition = FlagDefinition.model_validate(data).dump()
    resource = FlagResource(namespace, key, revision, definition)
    return _with_etag(resource, revision, epoch, HTTP_201_CREATED if created else HTTP_200_OK)


@delete(
    "/namespaces/{namespace:str}/flags/{key:str}",
    response_headers=ETAG_HEADER,
    summary="Delete a flag",
    raises=WRITE_ERRORS,
    responses=WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def delete_flag(
    admin: AdminDependency,
    request: Request[Any, Any, Any],
    namespace: NamespacePath,
    key: FlagKeyPath,
    if_match: IfMatch = None,
) -> Response[WriteResult]:
    """Delete one flag; ``If-Match: "<revision>"`` is required."""
    store = admin.store(namespace)
    expected = required_revision(if_match, "deleting a flag")
    actor = admin.actor(request)
    revision = await store.delete_flag(
        key, actor=actor, expected_revision=expected.revision, expected_epoch=expected.epoch
    )
    epoch = await _epoch_written(store, expected)
    return _with_etag(WriteResult(namespace, revision), revision, epoch)


@put(
    "/namespaces/{namespace:str}/document",
    response_headers=ETAG_HEADER,
    summary="Replace a namespace's whole document",
    raises=WRITE_ERRORS,
    responses=WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def replace_document(
    admin: AdminDependency,
    request: Request[Any, Any, Any],
    namespace: NamespacePath,
    data: DocumentBody,
    if_match: IfMatch = None,
) -> Response[WriteResult]:
    """Replace the namespace's document; ``If-Match: "<revision>"`` is required."""
    store = admin.store(namespace)
    expected = required_revision(if_match, "replacing a document")
    actor = admin.actor(request)
    revision = await store.replace_document(
        data, actor=actor, expected_revision=expected.revision, expected_epoch=expected.epoch
    )
    epoch = await _epoch_written(store, expected)
    return _with_etag(WriteResult(namespace, revision), revision, epoch)


@post(
    "/namespaces/{namespace:str}/promote",
    response_headers=ETAG_HEADER,
    summary="Promote another namespace's document into this one",
    raises=WRITE_ERRORS,
    responses=WRITE_RESPONSES,
    status_code=HTTP_200_OK,
)
async def promote(
    admin: AdminDependency,
    request: Request[Any, Any, Any],
    namespace: NamespacePath,
    data: JSONBody[PromoteRequest],
    if_match: IfMatch = None,
) -> Response[WriteResult]:
    """Copy the whole document of namespace ``from`` into this one, atomically and audited.

    ``If-Match`` names this (the target) namespace's revision and is required.
    """
    target = admin.store(namespace)
    expected = required_revision(if_match, "promoting into a namespace")
    source = admin.stores.get(data.source)
    if source is None or source is target:
        reason = "is the target itself" if source is target else "is not managed here"
        message = f"namespace {data.source!r} {reason}"
        raise unprocessable([Problem("from", message)], "nothing to promote from")
    actor = admin.actor(request)
    revision = await copy_namespace(
        source,
        target,
        actor=actor,
        expected_revision=expected.revision,
        expected_epoch=expected.epoch,
    )
    epoch = await _epoch_written(target, expected)
    return _with_etag(WriteResult(namespace, revision), revision, epoch)


READ_HANDLERS = (list_namespaces, list_flags, read_flag, read_document, read_audit, evaluate_flag)
"""The routes that only read (the dry run among them): ``AdminConfig.guards`` guard them."""
WRITE_HANDLERS = (put_flag, delete_flag, replace_document, promote)
"""The routes that write: ``AdminConfig.write_guards`` guard them as well."""

"""How the admin API fails: every error response, and the domain errors mapped to them once.

The store's exceptions are the admin API's domain errors. The router registers
:data:`EXCEPTION_HANDLERS`, so a handler lets them propagate and each becomes the same
response wherever it is raised:

- :class:`~openfeature_litestar.DocumentError`: ``422`` with every problem and its path;
- :class:`~openfeature_litestar.RevisionConflict`: ``412`` with the current revision in
  the body and the ``ETag``;
- :class:`~openfeature_litestar.FlagNotFound`: ``404``;
- any other :class:`~openfeature_litestar.StoreError`: ``503`` (the details go to the
  log, not to the client);
- a JSON body nested deeper than the decoder goes (``RecursionError``): ``400``.

The lists of exceptions and response specifications below document these responses in
the OpenAPI schema, route by route.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.exceptions.responses import create_exception_response
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_428_PRECONDITION_REQUIRED,
)

from openfeature_litestar._errors import DocumentError, FlagNotFound, RevisionConflict, StoreError

from ._schemas import ConflictError, InvalidDocumentError, etag

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar.types import ExceptionHandlersMap

    from openfeature_litestar._errors import Problem

__all__ = [
    "EXCEPTION_HANDLERS",
    "PUT_FLAG_ERRORS",
    "READ_ERRORS",
    "WRITE_ERRORS",
    "WRITE_RESPONSES",
    "_Conflict",
    "_PreconditionFailed",
    "_PreconditionRequired",
    "_Unprocessable",
    "conflict",
    "invalid_stored_document",
    "unprocessable",
]

logger = logging.getLogger("openfeature_litestar.web.admin")

# -- the HTTP errors ----------------------------------------------------------------------
# Litestar describes an error response in the OpenAPI schema by its exception's class
# name, so these keep the names the schema has always shown.


class _PreconditionRequired(ClientException):
    status_code = HTTP_428_PRECONDITION_REQUIRED


class _PreconditionFailed(ClientException):
    status_code = HTTP_412_PRECONDITION_FAILED


class _Unprocessable(ClientException):
    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class _Conflict(ClientException):
    status_code = HTTP_409_CONFLICT


def conflict(current: int, epoch: str, detail: str) -> _PreconditionFailed:
    """``412``, naming the namespace's ``current`` revision in the body and the ``ETag``."""
    return _PreconditionFailed(
        detail=detail, extra={"revision": current}, headers={"ETag": etag(current, epoch)}
    )


def unprocessable(problems: Sequence[Problem], detail: str) -> _Unprocessable:
    """``422``, listing every problem with its path."""
    listed = [{"path": problem.path, "message": problem.message} for problem in problems]
    return _Unprocessable(detail=detail, extra={"problems": listed})


def invalid_stored_document(namespace: str, exc: DocumentError) -> ServiceUnavailableException:
    """``503`` for a namespace whose stored document is invalid: the server's fault.

    Only a store edited behind its back (a file) can hold one; a write that would make
    a document invalid is the client's (``422``, see :data:`EXCEPTION_HANDLERS`).
    """
    logger.error("admin API: namespace %r holds an invalid document: %s", namespace, exc)
    return ServiceUnavailableException(
        detail=f"namespace {namespace!r} holds an invalid document; fix it at its source"
    )


# -- the domain errors, mapped once -------------------------------------------------------


def _respond(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """The response Litestar gives ``exc`` when a handler raises it.

    That is the application's own exception handler for its status code or class, if
    there is one (so the admin API's errors look like the application's), else
    Litestar's default body.
    """
    handlers = request.route_handler.resolve_exception_handlers()
    # Litestar's order: the status code first, then the exception's classes.
    keys: list[int | type[Exception]] = [exc.status_code]
    keys += [cls for cls in type(exc).__mro__ if issubclass(cls, Exception)]
    for key in keys:
        handler = handlers.get(key)
        if handler is not None:
            response: Response[Any] = handler(request, exc)
            return response
    return create_exception_response(request, exc)


def _invalid_write(request: Request[Any, Any, Any], exc: DocumentError) -> Response[Any]:
    return _respond(request, unprocessable(exc.problems, "the flag document would be invalid"))


def _stale_revision(request: Request[Any, Any, Any], exc: RevisionConflict) -> Response[Any]:
    # Every route that writes names its namespace in the path.
    namespace = request.path_params.get("namespace")
    detail = f"namespace {namespace!r} is at revision {exc.actual}"
    if exc.actual == exc.expected:
        detail += " of another history (it was emptied and written again)"
    return _respond(request, conflict(exc.actual, exc.epoch, detail))


def _missing_flag(request: Request[Any, Any, Any], exc: FlagNotFound) -> Response[Any]:
    return _respond(request, NotFoundException(detail=str(exc)))


def _store_failed(request: Request[Any, Any, Any], exc: StoreError) -> Response[Any]:
    # The store's message may name hosts; it goes to the log, not to the client.
    logger.warning("admin API: the flag store failed: %s", exc)
    unavailable = ServiceUnavailableException(detail="the flag store is unavailable; retry later")
    return _respond(request, unavailable)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """``400`` for a JSON body nested deeper than the decoder can go (not a server error)."""
    del request, exc
    return Response(
        {"status_code": HTTP_400_BAD_REQUEST, "detail": "the JSON body is nested too deeply"},
        status_code=HTTP_400_BAD_REQUEST,
    )


def _not_utf8(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """``400`` for a body whose JSON strings are not UTF-8, logged.

    msgspec raises ``UnicodeDecodeError`` for it, not a ``DecodeError``, so without this
    handler it would be an unlogged ``500``.
    """
    logger.warning(
        "admin API: %s %s: the request body is not valid UTF-8 (byte %d)",
        request.method,
        request.url.path,
        exc.start,
    )
    return Response(
        {"status_code": HTTP_400_BAD_REQUEST, "detail": "the request body is not valid UTF-8"},
        status_code=HTTP_400_BAD_REQUEST,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DocumentError: _invalid_write,
    RevisionConflict: _stale_revision,
    FlagNotFound: _missing_flag,
    StoreError: _store_failed,
    # Litestar decodes JSON bodies before a handler runs; one nested past the decoder's
    # depth raises RecursionError, which is the client's doing.
    RecursionError: _too_deep,
    UnicodeDecodeError: _not_utf8,
}
"""The admin router's exception handlers: each domain error's one HTTP response."""

# -- the error responses in the OpenAPI schema --------------------------------------------

READ_ERRORS: list[type[HTTPException]] = [
    NotAuthorizedException,
    PermissionDeniedException,
    NotFoundException,
    ServiceUnavailableException,
]
WRITE_ERRORS: list[type[HTTPException]] = [*READ_ERRORS, _PreconditionRequired]
PUT_FLAG_ERRORS: list[type[HTTPException]] = [*WRITE_ERRORS, _Conflict]
WRITE_RESPONSES: dict[int, ResponseSpec] = {
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

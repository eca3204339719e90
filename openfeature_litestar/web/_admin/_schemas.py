"""The admin API's wire format: request and response bodies, headers and path parameters.

These are what the OpenAPI schema shows, so that the schema is the truth about the API.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 - msgspec resolves AuditRecord's annotations at run time
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
from litestar.datastructures import ResponseHeader
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, HeaderParameter, PathParameter

__all__ = [
    "ETAG_HEADER",
    "AuditPage",
    "AuditRecord",
    "ConflictError",
    "DocumentBody",
    "DocumentProblems",
    "EvaluateRequest",
    "EvaluationResult",
    "FlagBody",
    "FlagEntry",
    "FlagKeyPath",
    "FlagList",
    "FlagResource",
    "IfMatch",
    "IfNoneMatch",
    "InvalidDocumentError",
    "NamespaceInfo",
    "NamespaceList",
    "NamespacePath",
    "ProblemBody",
    "PromoteRequest",
    "RevisionBody",
    "WriteResult",
    "etag",
    "namespace_path",
]


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


# -- parameters ---------------------------------------------------------------------------

# A namespace in a path. Each router resolves the handlers' annotations with its own
# definition of this name (see ``namespace_path``), which lists its namespaces, so that
# the OpenAPI schema names the namespaces that exist.
NamespacePath: TypeAlias = FromPath[str]


def namespace_path(names: list[str]) -> Any:
    """The path parameter of a namespace, documented as one of ``names``."""
    return Annotated[str, PathParameter(enum=names, description="A namespace this API manages")]


FlagKeyPath: TypeAlias = Annotated[
    str, PathParameter(description="The flag key (a key with '/' is reached through /document)")
]

_EXAMPLE_FLAG: dict[str, Any] = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
}

IfMatch: TypeAlias = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description="The revision the write is based on: the ETag of your last read, "
        '"12" (or "12-3f9a1c0d5e7b2a46" where the store keeps epochs)',
        examples=[Example(summary="revision 1", value='"1"')],
    ),
]

IfNoneMatch: TypeAlias = Annotated[
    str | None,
    HeaderParameter(name="If-None-Match", description="'*': create only, never replace"),
]

FlagBody: TypeAlias = Annotated[
    dict[str, Any],
    Body(
        media_type=RequestEncodingType.JSON,
        description="The flag's definition as flagd JSON",
        examples=[Example(summary="a boolean flag with targeting", value=_EXAMPLE_FLAG)],
    ),
]

DocumentBody: TypeAlias = Annotated[
    dict[str, Any],
    Body(
        media_type=RequestEncodingType.JSON,
        description="The whole flag document as flagd JSON",
        examples=[Example(summary="one flag", value={"flags": {"banner": _EXAMPLE_FLAG}})],
    ),
]

ETAG_HEADER = [
    ResponseHeader(
        name="ETag",
        description="The namespace's revision as a strong entity tag, with its epoch "
        "where the store keeps them",
        documentation_only=True,
    )
]


def etag(revision: int, epoch: str = "") -> str:
    """The ``ETag`` of a namespace's revision: a strong entity tag, ``"12"``.

    A store that keeps epochs adds the revision's (``"12-3f9a1c0d5e7b2a46"``): an emptied
    namespace written again counts from 1 again, and its revisions must not match the
    tags clients kept of the old ones.
    """
    return f'"{revision}-{epoch}"' if epoch else f'"{revision}"'

"""The admin API's insights routes: a namespace's usage report and its stale flags.

Read-only, behind the read guards like every other read. The report is built from the
counts providers flushed to the namespace's store (see :doc:`/insights`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Response, get
from litestar.exceptions import ClientException, HTTPException
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_501_NOT_IMPLEMENTED

from openfeature_litestar._errors import ConfigurationError, DocumentError
from openfeature_litestar._insights import Insights, StaleThresholds, read_insights

from ._errors import READ_ERRORS, invalid_stored_document
from ._schemas import ETAG_HEADER, NamespacePath, etag

if TYPE_CHECKING:
    # The router resolves this name (and NamespacePath) with its own signature namespace.
    from ._state import AdminDependency

__all__ = ["INSIGHTS_HANDLERS"]

_DEFAULTS = StaleThresholds()
_UnusedDays = Annotated[
    float,
    QueryParameter(
        name="unused_days",
        gt=0,
        le=365,
        description="Days without an evaluation after which a flag is unused",
    ),
]
_SingleVariantDays = Annotated[
    float,
    QueryParameter(
        name="single_variant_days",
        gt=0,
        le=365,
        description="Days of every evaluation serving one variant after which a flag "
        "is single-variant",
    ),
]
_MinEvaluations = Annotated[
    int,
    QueryParameter(
        name="min_evaluations",
        ge=1,
        description="The fewest evaluations for the single-variant judgement",
    ),
]


class _NoUsage(HTTPException):
    status_code = HTTP_501_NOT_IMPLEMENTED


async def _report(
    admin: AdminDependency,
    namespace: str,
    unused_days: float,
    single_variant_days: float,
    min_evaluations: int,
) -> Insights:
    store = admin.store(namespace)
    try:
        thresholds = StaleThresholds(
            timedelta(days=unused_days), timedelta(days=single_variant_days), min_evaluations
        )
    except ConfigurationError as exc:
        raise ClientException(detail=f"invalid stale thresholds: {exc}") from None
    try:
        return await read_insights(store, thresholds=thresholds)
    except DocumentError as exc:
        raise invalid_stored_document(namespace, exc) from None
    except ConfigurationError:
        raise _NoUsage(
            detail=f"the store of namespace {namespace!r} keeps no usage counts"
        ) from None


@get(
    "/namespaces/{namespace:str}/insights",
    response_headers=ETAG_HEADER,
    summary="Read a namespace's usage insights",
    raises=[*READ_ERRORS, _NoUsage],
)
async def read_namespace_insights(
    admin: AdminDependency,
    namespace: NamespacePath,
    unused_days: _UnusedDays = _DEFAULTS.unused_after / timedelta(days=1),
    single_variant_days: _SingleVariantDays = _DEFAULTS.single_variant_after / timedelta(days=1),
    min_evaluations: _MinEvaluations = _DEFAULTS.min_evaluations,
) -> Response[dict[str, Any]]:
    """Every flag's evaluations in the last hour, day and week, unknown keys, stale flags.

    The body is :meth:`Insights.to_data <openfeature_litestar.Insights.to_data>`: the
    fields of :class:`~openfeature_litestar.Insights`, times in RFC 3339, durations in
    ISO 8601.

    Counts only, from every process that flushed to the store; no user is named. The
    ETag is the revision of the document described.
    """
    insights = await _report(admin, namespace, unused_days, single_variant_days, min_evaluations)
    # The shape Insights.to_data gives, which the CLI prints too: one wire format.
    return Response(insights.to_data(), headers={"ETag": etag(insights.revision, insights.epoch)})


@get(
    "/namespaces/{namespace:str}/insights/stale",
    response_headers=ETAG_HEADER,
    summary="Read a namespace's stale-flag report",
    raises=[*READ_ERRORS, _NoUsage],
)
async def read_stale_flags(
    admin: AdminDependency,
    namespace: NamespacePath,
    unused_days: _UnusedDays = _DEFAULTS.unused_after / timedelta(days=1),
    single_variant_days: _SingleVariantDays = _DEFAULTS.single_variant_after / timedelta(days=1),
    min_evaluations: _MinEvaluations = _DEFAULTS.min_evaluations,
) -> Response[dict[str, Any]]:
    """The flags never evaluated, unused lately, or serving one variant to everyone."""
    insights = await _report(admin, namespace, unused_days, single_variant_days, min_evaluations)
    stale = insights.to_data()["stale"]
    return Response(stale, headers={"ETag": etag(insights.revision, insights.epoch)})


INSIGHTS_HANDLERS = (read_namespace_insights, read_stale_flags)
"""The insights routes: read routes, guarded by ``AdminConfig.guards``."""

"""Route guards that admit a request only when a flag is on, or on a given variant.

A guard evaluates its flag through the OpenFeature SDK with the connection's
transaction context (set by :class:`~openfeature_litestar.web.OpenFeatureMiddleware`),
so hooks and the audit log see guard evaluations like any other. When the flag is off,
missing or in error the guard refuses with :class:`~litestar.exceptions.HTTPException`,
by default ``404 Not Found``, so that a hidden feature looks absent rather than
forbidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_404_NOT_FOUND
from openfeature import api
from openfeature.flag_evaluation import FlagType

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Collection

    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler
    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagEvaluationDetails

__all__ = ["require_flag", "require_variant"]


def _check_status(status_code: int) -> None:
    if not 400 <= status_code <= 599:  # noqa: PLR2004 - the HTTP error range
        raise ValueError(f"status_code must be an HTTP error status (4xx/5xx), not {status_code}")


async def _details(
    client: OpenFeatureClient, flag_key: str, flag_type: FlagType
) -> FlagEvaluationDetails[Any]:
    if flag_type is FlagType.BOOLEAN:
        return await client.get_boolean_details_async(flag_key, default_value=False)
    if flag_type is FlagType.STRING:
        return await client.get_string_details_async(flag_key, default_value="")
    if flag_type is FlagType.INTEGER:
        return await client.get_integer_details_async(flag_key, default_value=0)
    if flag_type is FlagType.FLOAT:
        return await client.get_float_details_async(flag_key, default_value=0.0)
    return await client.get_object_details_async(flag_key, default_value={})


def require_flag(
    flag_key: str, *, status_code: int = HTTP_404_NOT_FOUND, domain: str | None = None
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard that admits a connection only while a boolean flag is true for it.

    A missing flag, a non-boolean flag or any evaluation error counts as false.

    .. code-block:: python

        @get("/checkout", guards=[require_flag("new-checkout")])
        async def checkout() -> str: ...

    Args:
        flag_key: The boolean flag.
        status_code: The status of the refusal; 404 makes the route look absent.
        domain: The OpenFeature domain to evaluate in; ``None`` is the default
            provider. Pass the plugin's domain when it registers a named one.

    Returns:
        The guard, for a handler's, controller's, router's or app's ``guards``.

    Raises:
        ValueError: ``status_code`` is not a 4xx or 5xx status.
    """
    _check_status(status_code)

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any],  # noqa: ARG001 - Litestar's guard signature
        handler: BaseRouteHandler,  # noqa: ARG001 - same
    ) -> None:
        client = api.get_client(domain)
        if await client.get_boolean_value_async(flag_key, default_value=False) is not True:
            raise HTTPException(status_code=status_code)

    guard.__name__ = guard.__qualname__ = f"require_flag({flag_key!r})"
    return guard


def require_variant(
    flag_key: str,
    variant: str | Collection[str],
    *,
    status_code: int = HTTP_404_NOT_FOUND,
    domain: str | None = None,
    flag_type: FlagType = FlagType.STRING,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard that admits a connection only when a flag resolves to one of some variants.

    The guard compares the variant *name* the provider resolved, not the value, so it
    works for a flag of any type: give ``flag_type`` for a flag that is not a string
    flag (a type mismatch resolves no variant, which is refused). A missing flag, a
    disabled flag or any evaluation error resolves no variant and is refused.

    .. code-block:: python

        @get("/checkout", guards=[require_variant("checkout", "v2")])
        async def checkout_v2() -> str: ...

    Args:
        flag_key: The flag.
        variant: The admitted variant name, or a collection of admitted names.
        status_code: The status of the refusal; 404 makes the route look absent.
        domain: The OpenFeature domain to evaluate in; ``None`` is the default
            provider. Pass the plugin's domain when it registers a named one.
        flag_type: The flag's type, which decides the SDK method the guard calls (a
            :class:`~openfeature.flag_evaluation.FlagType` or its name in any case).

    Returns:
        The guard, for a handler's, controller's, router's or app's ``guards``.

    Raises:
        ValueError: ``status_code`` is not a 4xx or 5xx status, or no variant is given.
    """
    _check_status(status_code)
    admitted = frozenset((variant,) if isinstance(variant, str) else variant)
    if not admitted:
        raise ValueError("require_variant needs at least one variant name")
    # FlagType's values are upper case; accept "boolean" as well as FlagType.BOOLEAN.
    flag_type = FlagType(str(flag_type).upper())

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any],  # noqa: ARG001 - Litestar's guard signature
        handler: BaseRouteHandler,  # noqa: ARG001 - same
    ) -> None:
        details = await _details(api.get_client(domain), flag_key, flag_type)
        if details.error_code is not None or details.variant not in admitted:
            raise HTTPException(status_code=status_code)

    guard.__name__ = guard.__qualname__ = f"require_variant({flag_key!r})"
    return guard

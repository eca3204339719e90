"""The sync endpoint of ``serve``: the served namespace's whole document, for followers.

``GET /sync/v1/<namespace>`` answers the flagd-format document of the snapshot the server
serves, as JSON, with a strong ETag (a digest of the body, so every worker of a server
gives the same tag for the same document) and ``304`` to a matching ``If-None-Match``.
An :class:`~openfeature_litestar.HttpStore` pointed at it follows the namespace with no
credentials for the store behind the server.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING, Any, Final

from litestar import Response, get
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from litestar.params import FromPath  # noqa: TC002 - Litestar reads the annotation at run time

from openfeature_litestar._document import dump_document
from openfeature_litestar._provider import FlagProvider

from ._ofrep import _matches

if TYPE_CHECKING:
    from collections.abc import Sequence

    from litestar import Request
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Guard

    from openfeature_litestar._document import FlagDocument

    from ._plugin import OpenFeaturePlugin

__all__ = ["SYNC_PATH", "sync_route"]

SYNC_PATH: Final = "/sync/v1"
_NOT_MODIFIED: Final = 304


class _Encoded:
    """The JSON of the latest document served, encoded once per document, not per request."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._document: FlagDocument | None = None
        self._body = b""
        self._etag = ""

    def of(self, document: FlagDocument) -> tuple[bytes, str]:
        with self._guard:
            if document is not self._document:
                body = dump_document(document, format="json").encode("utf-8")
                self._document, self._body = document, body
                self._etag = f'"{hashlib.sha256(body).hexdigest()}"'
            return self._body, self._etag


def sync_route(
    plugin: OpenFeaturePlugin, namespace: str, guards: Sequence[Guard]
) -> HTTPRouteHandler:
    """The route answering ``GET /sync/v1/<namespace>`` with the served document.

    Args:
        plugin: The server's plugin (its provider's snapshot is what is answered).
        namespace: The one namespace the server serves; others are ``404``.
        guards: The OFREP guards (read tokens); empty when OFREP is public.
    """
    encoded = _Encoded()

    @get(
        f"{SYNC_PATH}/{{name:str}}",
        summary="The served namespace's flag document",
        include_in_schema=False,
        sync_to_thread=False,
        guards=list(guards),
    )
    def sync_document(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
        """The flagd-format document as JSON, with a strong ETag; ``304`` when unchanged."""
        if name != namespace:
            raise NotFoundException(detail=f"this server serves namespace {namespace!r}")
        provider = plugin.provider
        document = provider.snapshot.document if isinstance(provider, FlagProvider) else None
        if document is None:
            raise ServiceUnavailableException(detail="the flags are not loaded yet")
        body, etag = encoded.of(document)
        # no-cache: a cache in between may keep the document but must ask again each time.
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=_NOT_MODIFIED, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    return sync_document

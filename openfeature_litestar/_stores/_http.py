"""A read-only store that follows a flag document over HTTP(S) (extra ``[http]``).

Without httpx installed, importing this module raises
:class:`~openfeature_litestar.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from openfeature_litestar._document import MAX_DOCUMENT_BYTES, parse_document
from openfeature_litestar._errors import ConfigurationError, MissingDependencyError, StoreError
from openfeature_litestar._masking import mask_url
from openfeature_litestar._validation import positive_seconds

from ._base import StoredDocument
from ._names import check_namespace
from ._offload import off_loop

try:
    import httpx
except ImportError:
    raise MissingDependencyError("httpx", "http") from None

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from openfeature_litestar._document import DocumentFormat

__all__ = ["HttpStore"]

_SCHEMES: Final = frozenset({"http", "https"})
_NOT_MODIFIED: Final = 304
_ACCEPT: Final = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1"


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A 200 answer: the body and the validators to send with the next request."""

    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpStore:
    """A read-only flag store following one JSON or YAML document at an HTTP(S) URL.

    It follows what any web server offers: a file on a static host, an object in object
    storage, a Git host's raw URL, or the sync endpoint of ``openfeature-litestar serve``
    (``/sync/v1/<namespace>``, see :doc:`/serve`), so that workers without credentials
    for the store behind ``serve`` can still follow its flags.

    **Polling.** Every ``poll_interval`` seconds it asks again, conditionally
    (``If-None-Match`` with the last ETag, ``If-Modified-Since`` with the last
    ``Last-Modified``): an unchanged document costs a ``304`` with no body. A server that
    sends neither validator is downloaded each time and compared by content, so the
    provider still reloads only on a real change.

    **Failures.** An error status, a timeout, a redirect, a body above ``max_bytes``
    (checked while it streams in, so an oversized answer is cut off, not buffered) or an
    invalid document never replaces what the provider serves: it keeps the last good
    flags, and goes ``STALE`` while the server cannot be reached, as with every store.

    **Security.** TLS certificates are verified (against ``ca_bundle`` when given, else
    the system's trust store); plain ``http://`` is refused unless the host is a loopback
    address or ``allow_insecure_http`` is set. Redirects are not followed (a token must
    not travel to another host): point the URL at the final location. The bearer token
    (``token``, or read from the environment variable ``token_env``) is sent as
    ``Authorization: Bearer …``; a user and password in the URL are sent as Basic
    authentication instead. Neither appears in the store's repr, its errors or the log.

    **Revisions** count the distinct documents this store object has loaded (1 for the
    first); they are not shared between processes, and the epoch is ``""``.

    The store keeps one HTTP connection pool per event loop that uses it.

    Args:
        url: The document's ``https://`` (or ``http://``) URL.
        namespace: The name these flags go by in errors and the provider's reports.
        poll_interval: Seconds between conditional requests.
        strict: Refuse documents with problems flagd tolerates (see
            :func:`~openfeature_litestar.parse_document`).
        connect_timeout: Seconds to wait for a connection.
        timeout: Seconds a whole request may take, the body included.
        token: A bearer token to send.
        token_env: The environment variable holding the bearer token (read now).
        ca_bundle: A PEM file of the certificate authorities to trust instead of the
            system's.
        allow_insecure_http: Allow ``http://`` to hosts other than loopback.
        max_bytes: The largest document accepted, at most (and by default)
            :data:`~openfeature_litestar.MAX_DOCUMENT_BYTES`.

    Raises:
        ConfigurationError: The URL is not HTTP(S), is ``http://`` to a host that is not
            loopback without ``allow_insecure_http``, both ``token`` and ``token_env``
            are given, ``token_env`` is unset, a token is given for a URL with a
            password, ``ca_bundle`` cannot be read, or a time
            or ``max_bytes`` is out of range.
        ValueError: ``namespace`` is invalid.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "default",
        poll_interval: float = 5.0,
        strict: bool = False,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        token: str | None = None,
        token_env: str | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        allow_insecure_http: bool = False,
        max_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        """Create the store for the document at ``url`` (nothing is requested yet)."""
        self._masked = mask_url(url)
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            raise ConfigurationError(f"malformed store URL {self._masked!r}") from None
        if parts.scheme.lower() not in _SCHEMES or not host:
            raise ConfigurationError(
                f"HttpStore needs an https:// (or http://) URL with a host, not {self._masked!r}"
            )
        if parts.scheme.lower() == "http" and not allow_insecure_http and not _is_loopback(host):
            raise ConfigurationError(
                f"refusing plain http:// to {host!r} in {self._masked!r}: use https://, or "
                "allow_insecure_http=True on a network you trust"
            )
        if not isinstance(max_bytes, int) or not 0 < max_bytes <= MAX_DOCUMENT_BYTES:
            raise ConfigurationError(
                f"max_bytes must be between 1 and {MAX_DOCUMENT_BYTES}, not {max_bytes!r}"
            )
        self.url = url
        # A password in the URL goes as Basic auth, and the URL requested (which httpx
        # logs at INFO) carries none.
        parsed = httpx.URL(url)
        self._request_url = parsed.copy_with(userinfo=b"")
        self._auth = (
            httpx.BasicAuth(parsed.username, parsed.password)
            if parsed.username or parsed.password
            else None
        )
        self.namespace = check_namespace(namespace)
        self.poll_interval = positive_seconds("poll_interval", poll_interval)
        self.strict = strict
        self.max_bytes = max_bytes
        self._timeout = httpx.Timeout(
            positive_seconds("timeout", timeout),
            connect=positive_seconds("connect_timeout", connect_timeout),
        )
        self._token = _token(token, token_env)
        if self._token is not None and self._auth is not None:
            raise ConfigurationError(
                f"{self._masked!r} has a password and a bearer token was given: use one"
            )
        self._verify = _tls_context(ca_bundle)
        suffix = parts.path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
        self._format: DocumentFormat = (
            "json" if suffix == "json" else "yaml" if suffix in {"yaml", "yml"} else "auto"
        )
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._closed_loops: set[asyncio.AbstractEventLoop] = set()
        # What the last 200 carried (its validators are sent with the next request), the
        # last document loaded, and a body the watch fetched for the next load to parse.
        self._last: _Fetched | None = None
        self._digest = ""
        self._current: StoredDocument | None = None
        self._pending: _Fetched | None = None
        self._revision = 0

    # -- reading ----------------------------------------------------------------------

    async def load(self) -> StoredDocument:
        """Fetch (conditionally) and validate the document.

        Raises:
            DocumentError: The server's document is not a valid flag document.
            StoreError: The server cannot be reached, answers with an error, a redirect
                or an oversized body, or does not answer within the time limits.
        """
        fetched, self._pending = self._pending, None
        if fetched is None:
            fetched = await self._fetch()
            if fetched is None:  # 304: what was loaded last is still current
                if self._current is not None:
                    return self._current
                fetched = await self._fetch(conditional=False)
                if fetched is None:
                    raise StoreError(f"{self._masked!r} answered 304 to an unconditional GET")
        digest = hashlib.sha256(fetched.body).hexdigest()
        if self._current is not None and digest == self._digest:
            return self._current
        document = await off_loop(
            parse_document,
            fetched.body,
            format=self._document_format(fetched.content_type),
            strict=self.strict,
            source=self._masked,
        )
        self._revision += 1
        self._digest = digest
        self._current = StoredDocument(document, self._revision)
        return self._current

    async def changes(self) -> AsyncIterator[None]:
        """Yield once when watching starts, then whenever the server has a new document.

        Each poll is a conditional request; a ``304``, or a body equal to the last one,
        yields nothing. A failed poll raises :class:`~openfeature_litestar.StoreError`
        (the provider retries and goes ``STALE``). Watching again after :meth:`close`
        reopens the store.
        """
        loop = asyncio.get_running_loop()
        self._closed_loops.discard(loop)
        seen = self._last
        yield None
        while loop not in self._closed_loops:
            await asyncio.sleep(self.poll_interval)
            if loop in self._closed_loops:
                break
            fetched = await self._fetch()
            if fetched is not None and (seen is None or fetched.body != seen.body):
                seen = self._pending = fetched
                yield None

    async def close(self) -> None:
        """Close the calling event loop's connections and end its watch; safe to call twice."""
        loop = asyncio.get_running_loop()
        self._closed_loops.add(loop)
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.aclose()

    # -- HTTP ---------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            # A client's pool belongs to the loop it was first used on.
            client = httpx.AsyncClient(
                auth=self._auth, timeout=self._timeout, verify=self._verify, follow_redirects=False
            )
            self._clients[loop] = client
        return client

    def _headers(self, *, conditional: bool) -> dict[str, str]:
        headers = {"Accept": _ACCEPT}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        last = self._last
        if conditional and last is not None:
            if last.etag is not None:
                headers["If-None-Match"] = last.etag
            if last.last_modified is not None:
                headers["If-Modified-Since"] = last.last_modified
        return headers

    async def _fetch(self, *, conditional: bool = True) -> _Fetched | None:
        """GET the document: its body and validators, or ``None`` for a ``304``.

        Raises:
            StoreError: As :meth:`load`.
        """
        try:
            # The client's timeouts bound each phase; this bounds the whole request, so
            # a server trickling bytes cannot hold the provider's sync for ever.
            return await asyncio.wait_for(
                self._get(conditional=conditional), self._timeout.read or 30.0
            )
        except asyncio.TimeoutError:
            raise StoreError(
                f"GET {self._masked!r} did not finish in {self._timeout.read} s"
            ) from None
        except httpx.TimeoutException:
            raise StoreError(f"GET {self._masked!r} timed out") from None
        except httpx.HTTPError as exc:
            # httpx's messages name the URL it was given; say it masked instead.
            raise StoreError(f"GET {self._masked!r} failed: {type(exc).__name__}") from None

    async def _get(self, *, conditional: bool) -> _Fetched | None:
        headers = self._headers(conditional=conditional)
        async with self._client().stream("GET", self._request_url, headers=headers) as response:
            status = response.status_code
            if status == _NOT_MODIFIED and conditional:
                return None
            if status != httpx.codes.OK:
                where = response.headers.get("location")
                hint = f" (to {mask_url(where)!r}; use that URL)" if where else ""
                raise StoreError(f"GET {self._masked!r} answered {status}{hint}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large(f"{declared} bytes")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large("more")
            fetched = _Fetched(
                bytes(body),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
                response.headers.get("content-type", "").lower(),
            )
        self._last = fetched
        return fetched

    def _too_large(self, size: str) -> StoreError:
        return StoreError(
            f"GET {self._masked!r}: the document is {size}; at most {self.max_bytes} bytes"
        )

    def _document_format(self, content_type: str) -> DocumentFormat:
        if self._format != "auto":
            return self._format
        if "json" in content_type:
            return "json"
        if "yaml" in content_type:
            return "yaml"
        return "auto"

    def __repr__(self) -> str:
        """Show the URL (password masked), the namespace (unless the default) and the poll."""
        namespace = "" if self.namespace == "default" else f", namespace={self.namespace!r}"
        token = ", token=***" if self._token is not None else ""
        return f"HttpStore({self._masked!r}{namespace}, poll_interval={self.poll_interval}{token})"


def _token(token: str | None, token_env: str | None) -> str | None:
    if token is not None and token_env is not None:
        raise ConfigurationError("give HttpStore token= or token_env=, not both")
    if token_env is not None:
        token = os.environ.get(token_env)
        if not token:
            raise ConfigurationError(f"the environment variable {token_env!r} holds no token")
    if token is not None and (not token.strip() or any(c in token for c in "\r\n")):
        raise ConfigurationError("the HttpStore token is empty or spans lines")
    return token


def _tls_context(ca_bundle: str | os.PathLike[str] | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(
            cafile=None if ca_bundle is None else os.fspath(ca_bundle)
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"cannot read the CA bundle {os.fspath(ca_bundle or '')!r}: {exc}"
        ) from None

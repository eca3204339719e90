"""The default context builder: an ``EvaluationContext`` from a Litestar connection.

The builder adds only what the developer lists. The targeting key comes from the
authenticated user (``scope["user"]``, set by an authentication middleware); the client
can choose it only when the developer opts in with ``client_targeting_key_header``. The
client address comes from the direct peer, and from ``X-Forwarded-For`` only when the
peer is a configured trusted proxy; an address the server itself took from that header
(uvicorn's ``proxy_headers``) is detected and treated as unknown.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar._errors import ConfigurationError

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Scope

__all__ = ["MAX_CLIENT_TARGETING_KEY_LENGTH", "ContextBuilder", "TargetingKeySource"]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

TargetingKeySource: TypeAlias = str | Callable[[Any], str | None]
"""Where the targeting key comes from: an attribute name of the user, or a callable of it."""

MAX_CLIENT_TARGETING_KEY_LENGTH = 256
"""The longest targeting key a client may choose through ``client_targeting_key_header``.

A longer header value is ignored (no targeting key), so a client cannot make the
bucketing hash or the logs work on megabytes of its own text.
"""

_FORWARDED_FOR: Final = b"x-forwarded-for"

RawHeaders: TypeAlias = Iterable[tuple[bytes, bytes]]

# The settings the header lookups are derived from (see ContextBuilder._derive_lookups).
_HEADER_SETTINGS: Final = frozenset({"headers", "client_targeting_key_header"})

logger = logging.getLogger("openfeature_litestar.web")


_rewrite_warned = False


def _listed(peer: IPAddress, hops: list[str]) -> bool:
    """Whether the peer's address is one of the ``X-Forwarded-For`` hops.

    A direct peer does not list itself in the header it sends; a server that rewrites
    ``scope["client"]`` from the header (uvicorn's default ``proxy_headers`` for a peer
    in its ``forwarded_allow_ips``) always makes the peer one of the hops. So a listed
    untrusted peer means the address came from the client's own header.
    """
    return any(_parse_address(hop) == peer for hop in hops)


def _warn_rewritten_once() -> None:
    global _rewrite_warned  # noqa: PLW0603 - one warning per process, not per request
    if _rewrite_warned:
        return
    _rewrite_warned = True
    logger.warning(
        "the server set the client address from X-Forwarded-For (uvicorn's proxy_headers); "
        "the address is treated as unknown: start the server with proxy headers off "
        "(uvicorn --no-proxy-headers) and list the proxies in trusted_proxies"
    )


def _network(entry: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from None


def _parse_address(text: str) -> IPAddress | None:
    """An IP address from one hop of ``X-Forwarded-For``, or ``None`` if it is not one.

    Some proxies append the port (``203.0.113.7:51234``, ``[2001:db8::1]:443``); the
    port is dropped.
    """
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _user_value(user: Any, source: TargetingKeySource) -> Any:
    if callable(source):
        return source(user)
    if isinstance(user, Mapping):
        return user.get(source)
    return getattr(user, source, None)


# Request headers are read from the scope's raw list rather than through Litestar's
# ``Headers``, whose case-insensitive multidict costs a few microseconds a request to build
# (most of the middleware's cost). The match is the same as ``Headers``': names decoded as
# Latin-1 and compared after ``str.lower()``, values decoded as Latin-1, the first one for
# a single value and all of them, in order, for a list.


def _lookup_key(name: str) -> bytes | None:
    """The raw-header key a configured header name matches, or ``None`` if it matches none.

    ``str.lower()`` keeps every Latin-1 character in Latin-1, and maps none but A-Z to
    ASCII, so a raw name matches exactly when its Latin-1 lower case equals this key.
    """
    try:
        return name.lower().encode("latin-1")
    except UnicodeEncodeError:
        return None  # no Latin-1 header name lowers to it


def _latin1_lower(name: bytes) -> bytes:
    return name.decode("latin-1").lower().encode("latin-1")


def _raw_headers(scope: Scope) -> RawHeaders:
    """The scope's raw headers, as a list or tuple that can be read more than once.

    ASGI allows any iterable. Another kind is turned into a list in the scope, as
    Litestar's ``MutableScopeHeaders`` does, so that what reads it later (a ``Request``)
    still sees every header.
    """
    raw = scope["headers"]
    if type(raw) is not list and not isinstance(raw, tuple):  # servers send a list
        raw = scope["headers"] = list(raw)
    return raw


def _first_values(
    raw: RawHeaders, wanted: frozenset[bytes], lower: Callable[[bytes], bytes]
) -> dict[bytes, str]:
    """The first value of each wanted header present, by its lower-cased name."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        key = lower(name)
        if key in wanted and key not in found:
            found[key] = value.decode("latin-1")
    return found


def _first_value(raw: RawHeaders, wanted: bytes, lower: Callable[[bytes], bytes]) -> str | None:
    """The first value of one header, or ``None`` when it is absent."""
    for name, value in raw:
        if lower(name) == wanted:
            return value.decode("latin-1")
    return None


def _forwarded_hops(raw: RawHeaders) -> list[str]:
    """Every hop of every ``X-Forwarded-For`` header, in order."""
    return [
        hop
        for name, value in raw
        if name.lower() == _FORWARDED_FOR
        for hop in value.decode("latin-1").split(",")
    ]


@dataclass
class ContextBuilder:
    """Build a request's ``EvaluationContext`` from only what the developer lists.

    Call it with a connection: ``ContextBuilder(...)(connection) -> EvaluationContext``.
    The plugin calls it once per HTTP request and WebSocket connection; the result passes
    the configured :class:`~openfeature_litestar.Sanitizer` before it reaches the SDK.

    Attributes:
        targeting_key: Where the targeting key comes from: the name of an attribute of
            the authenticated user (``scope["user"]``; a key when the user is a mapping),
            or a callable taking the user and returning the key or ``None``. A
            non-string value is converted with :class:`str`. Without a user, or when the
            value is ``None``, the context has no targeting key.
        headers: Request header name → attribute name. Only the listed headers are read;
            a header that is absent adds nothing. Names match in any case; a header sent
            more than once gives its first value. The names are prepared when the
            builder is created or the setting is assigned, so replace the mapping rather
            than change it in place.
        path_params: Path parameter name → attribute name.
        client_host: The attribute name to store the client's IP address under;
            ``None`` (the default) adds no address. The address is the direct peer's
            unless that peer is in :attr:`trusted_proxies`.
        trusted_proxies: IP addresses and networks (CIDR notation) of the reverse
            proxies in front of the application. Only when the direct peer is one of
            them is ``X-Forwarded-For`` read: right to left, skipping hops that are
            trusted proxies; the first other hop is the client. A hop that is not an IP
            address makes the address unknown (no attribute). With no trusted proxies,
            ``X-Forwarded-For`` is never read, so a client cannot spoof its address.
        client_targeting_key_header: A header from which an anonymous client (no
            authenticated user) may choose its own targeting key, for example a
            device id the frontend keeps for consistent rollouts before log-in.
            ``None`` (the default) never lets the client choose. Values longer than
            :data:`MAX_CLIENT_TARGETING_KEY_LENGTH` are ignored.
        static: Attributes added to every context, such as the environment or the
            service name. They win over request attributes with the same name, so a
            client cannot change them.

    Raises:
        ValueError: An entry of ``trusted_proxies`` is not an IP address or network.
        ConfigurationError: ``headers`` or ``path_params`` map to ``targetingKey``, a
            ``$flagd`` name or the ``client_host`` name (a :class:`ValueError` too).
    """

    targeting_key: TargetingKeySource = "id"
    headers: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)
    client_host: str | None = None
    trusted_proxies: Sequence[str] = ()
    client_targeting_key_header: str | None = None
    static: Mapping[str, Any] = field(default_factory=dict)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)
    # Derived from headers and client_targeting_key_header by _derive_lookups().
    _header_attributes: tuple[tuple[bytes, str], ...] = field(init=False, repr=False, compare=False)
    _targeting_header: bytes | None = field(init=False, repr=False, compare=False)
    _wanted_headers: frozenset[bytes] = field(init=False, repr=False, compare=False)
    _lower: Callable[[bytes], bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the settings once, so that a mistake fails at start-up, not per request."""
        if isinstance(self.trusted_proxies, str):
            raise TypeError("trusted_proxies is a sequence of addresses, not one string")
        self._networks = tuple(_network(entry) for entry in self.trusted_proxies)
        for setting, mapping in (("headers", self.headers), ("path_params", self.path_params)):
            for source, name in mapping.items():
                self._check_client_attribute(setting, source, name)
        self._derive_lookups()

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute; assigning a header setting re-derives the header lookups."""
        super().__setattr__(name, value)
        # Before __post_init__ has run the lookups do not exist yet, and it derives them.
        if name in _HEADER_SETTINGS and "_lower" in self.__dict__:
            self._derive_lookups()

    def _derive_lookups(self) -> None:
        """Lower-case the header names once, rather than on every request."""
        attributes = tuple(
            (key, name)
            for header, name in self.headers.items()
            if (key := _lookup_key(header)) is not None
        )
        header = self.client_targeting_key_header
        targeting = _lookup_key(header) if header is not None else None
        self._header_attributes = attributes
        self._targeting_header = targeting
        self._wanted_headers = frozenset(key for key, _ in attributes) | (
            {targeting} if targeting is not None else set()
        )
        # Lower-casing the raw names as bytes (ASCII only) is exact while every name is
        # ASCII, as HTTP's are; a configured non-ASCII name needs Latin-1's lower case.
        # bytes.lower itself, not a function calling it: it runs once per request header.
        self._lower = (
            bytes.lower if all(key.isascii() for key in self._wanted_headers) else _latin1_lower
        )

    def _check_client_attribute(self, setting: str, source: str, name: str) -> None:
        # What the client sends must never land where the server's own values go: the
        # targeting key (chosen only through client_targeting_key_header), flagd's
        # injected "$flagd" data, or the client address, which the sanitizer trusts and
        # which a header would fill whenever the real address is unknown. (A static name
        # is harmless: the static value always wins.)
        if name == "targetingKey" or name.startswith("$flagd"):
            reason = "the targeting key and $flagd data are not client input"
            if name == "targetingKey":
                reason += " (use client_targeting_key_header to let a client choose one)"
        elif name == self.client_host:
            reason = "the server sets that attribute itself and the sanitizer trusts it"
        else:
            return
        raise ConfigurationError(f"{setting}: {source!r} cannot map to {name!r}: {reason}")

    def __call__(self, connection: ASGIConnection[Any, Any, Any, Any]) -> EvaluationContext:
        """Build the evaluation context of ``connection``.

        Args:
            connection: The HTTP request or WebSocket connection.

        Returns:
            A new context holding the targeting key and the listed attributes.
        """
        return self._build(connection.scope, connection)

    def _build(
        self, scope: Scope, connection: ASGIConnection[Any, Any, Any, Any] | None = None
    ) -> EvaluationContext:
        """Build the context from the scope alone; the middleware calls this directly.

        ``connection`` is given when the builder was called with one, so that a subclass's
        :meth:`client_address` is still the one used.
        """
        attributes: dict[str, Any] = {}
        found: dict[bytes, str] | None = None
        if self._header_attributes:
            found = _first_values(_raw_headers(scope), self._wanted_headers, self._lower)
            for key, name in self._header_attributes:
                value = found.get(key)
                if value is not None:
                    attributes[name] = value
        if self.path_params:
            params = scope["path_params"]
            for param, name in self.path_params.items():
                if param in params:
                    attributes[name] = params[param]
        if self.client_host is not None:
            address = (
                self._client_address(scope)
                if connection is None
                else self.client_address(connection)
            )
            if address is not None:
                attributes[self.client_host] = address
        if self.static:
            attributes.update(self.static)
        return EvaluationContext(self._targeting_key(scope, found), attributes)

    @property
    def trusted_names(self) -> frozenset[str]:
        """The attributes the server derives rather than the client sends.

        The client address (read through :attr:`trusted_proxies` only) and the
        :attr:`static` attributes; the middleware does not pass them through the
        plugin's :class:`~openfeature_litestar.Sanitizer`, which would otherwise redact
        an IP address as personal data.
        """
        names = set(self.static)
        if self.client_host is not None:
            names.add(self.client_host)
        return frozenset(names)

    def _targeting_key(self, scope: Scope, found: dict[bytes, str] | None) -> str | None:
        user = scope.get("user")
        if user is not None:
            value = _user_value(user, self.targeting_key)
            return None if value is None else str(value)
        header = self._targeting_header
        if header is None:
            # Not configured, or a name no Latin-1 header matches.
            return None
        # Without header attributes the headers were not scanned yet: look for this one
        # alone, without collecting a dict.
        chosen = (
            _first_value(_raw_headers(scope), header, self._lower)
            if found is None
            else found.get(header)
        )
        if not chosen or len(chosen) > MAX_CLIENT_TARGETING_KEY_LENGTH:
            return None
        return chosen

    def client_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        """The client's IP address under the trusted-proxy rules (see the class).

        Args:
            connection: The HTTP request or WebSocket connection.

        Returns:
            The address as text, or ``None`` when it is unknown (no peer, as on a Unix
            socket, an ``X-Forwarded-For`` hop that is not an IP address, or a peer
            address the server itself took from the header: logged once).
        """
        return self._client_address(connection.scope)

    def _client_address(self, scope: Scope) -> str | None:
        client = scope.get("client")
        if not client:
            return None
        peer_text = str(client[0])
        peer = _parse_address(peer_text)
        hops = _forwarded_hops(_raw_headers(scope))
        if peer is not None and hops and not self._is_trusted(peer) and _listed(peer, hops):
            _warn_rewritten_once()
            return None
        if not self._networks or peer is None or not self._is_trusted(peer):
            return peer_text
        for hop in reversed(hops):
            address = _parse_address(hop)
            if address is None:
                return None
            if not self._is_trusted(address):
                return str(address)
        # Every hop is a trusted proxy: the request started inside the trusted network.
        return str(_parse_address(hops[0])) if hops else peer_text

    def _is_trusted(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)

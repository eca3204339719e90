"""ContextBuilder: the targeting key, listed attributes only, and the trusted-proxy rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import get
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.testing import TestClient
from openfeature import api

from openfeature_litestar import ConfigurationError
from openfeature_litestar.web import ContextBuilder
from openfeature_litestar.web import _context as context_module
from openfeature_litestar.web._context import MAX_CLIENT_TARGETING_KEY_LENGTH
from openfeature_litestar.web._middleware import OpenFeatureMiddleware


def connection(
    *,
    headers: list[tuple[str, str]] | None = None,
    client: tuple[str, int] | None = ("198.51.100.7", 50000),
    user: Any = None,
    path_params: dict[str, Any] | None = None,
) -> ASGIConnection[Any, Any, Any, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers or []],
        "client": client,
        "path_params": path_params or {},
    }
    if user is not None:
        scope["user"] = user
    return ASGIConnection(scope)  # type: ignore[arg-type]


@dataclass
class User:
    id: int
    email: str = "someone@example.com"


# -- targeting key --------------------------------------------------------------------


def test_the_targeting_key_is_the_users_id_by_default() -> None:
    assert ContextBuilder()(connection(user=User(42))).targeting_key == "42"


def test_a_mapping_user_and_another_attribute() -> None:
    builder = ContextBuilder(targeting_key="email")
    assert builder(connection(user={"email": "x@y.z"})).targeting_key == "x@y.z"
    assert builder(connection(user=User(1, "a@b.c"))).targeting_key == "a@b.c"


def test_a_callable_targeting_key() -> None:
    builder = ContextBuilder(targeting_key=lambda user: f"tenant-{user.id}")
    assert builder(connection(user=User(7))).targeting_key == "tenant-7"


def test_no_user_or_no_value_means_no_targeting_key() -> None:
    assert ContextBuilder()(connection()).targeting_key is None
    assert ContextBuilder(targeting_key="missing")(connection(user=User(1))).targeting_key is None
    assert ContextBuilder()(connection(user={"name": "x"})).targeting_key is None


def test_the_client_cannot_choose_its_targeting_key_by_default() -> None:
    context = ContextBuilder()(connection(headers=[("X-Device-Id", "victim")]))
    assert context.targeting_key is None
    assert context.attributes == {}


def test_client_targeting_key_header_is_an_explicit_opt_in_for_anonymous_clients() -> None:
    builder = ContextBuilder(client_targeting_key_header="X-Device-Id")
    assert builder(connection(headers=[("X-Device-Id", "device-9")])).targeting_key == "device-9"
    # An authenticated user's key always wins over what the client sends.
    chosen = builder(connection(headers=[("X-Device-Id", "victim")], user=User(3)))
    assert chosen.targeting_key == "3"
    too_long = "d" * (MAX_CLIENT_TARGETING_KEY_LENGTH + 1)
    assert builder(connection(headers=[("X-Device-Id", too_long)])).targeting_key is None
    assert builder(connection(headers=[("X-Device-Id", "")])).targeting_key is None


# -- attributes -----------------------------------------------------------------------


def test_only_listed_headers_become_attributes() -> None:
    builder = ContextBuilder(headers={"X-Plan": "plan", "X-Absent": "absent"})
    context = builder(connection(headers=[("X-Plan", "pro"), ("Authorization", "Bearer t")]))
    assert context.attributes == {"plan": "pro"}


def test_path_params_and_static_attributes() -> None:
    builder = ContextBuilder(
        path_params={"org": "organization", "nope": "x"}, static={"environment": "prod"}
    )
    context = builder(connection(path_params={"org": "acme"}))
    assert context.attributes == {"organization": "acme", "environment": "prod"}


def test_static_attributes_win_over_request_attributes() -> None:
    builder = ContextBuilder(headers={"X-Env": "environment"}, static={"environment": "prod"})
    context = builder(connection(headers=[("X-Env", "dev")]))
    assert context.attributes == {"environment": "prod"}


def test_path_params_through_a_real_app(make_app: Any) -> None:
    @get("/orgs/{org:str}/items/{item:int}")
    async def item() -> dict[str, Any]:
        return dict(api.get_transaction_context().attributes)

    builder = ContextBuilder(path_params={"org": "org", "item": "item"})
    app, _ = make_app([item], context_builder=builder, sanitizer=None)
    with TestClient(app) as client:
        assert client.get("/orgs/acme/items/12").json() == {"org": "acme", "item": 12}


# -- client address -------------------------------------------------------------------


def address(builder: ContextBuilder, peer: str | None, *forwarded: str) -> Any:
    headers = [("X-Forwarded-For", value) for value in forwarded]
    client = (peer, 4000) if peer is not None else None
    return builder(connection(headers=headers, client=client)).attributes.get("ip")


def test_no_client_host_attribute_unless_named() -> None:
    assert ContextBuilder()(connection()).attributes == {}
    assert address(ContextBuilder(client_host="ip"), "198.51.100.7") == "198.51.100.7"


def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    plain = ContextBuilder(client_host="ip")
    assert address(plain, "198.51.100.7", "203.0.113.1") == "198.51.100.7"
    behind = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(behind, "198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_an_address_the_server_took_from_x_forwarded_for_is_unknown(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_module, "_rewrite_warned", False)  # warned once per process
    # uvicorn's proxy_headers (on by default for local peers) sets scope["client"] from
    # the header: the peer is then one of the hops, which a real peer never is.
    plain = ContextBuilder(client_host="ip")
    assert address(plain, "203.0.113.1", "203.0.113.1") is None
    assert address(plain, "203.0.113.9", "198.51.100.1, 203.0.113.9:5000") is None
    behind = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(behind, "203.0.113.1", "203.0.113.1") is None
    assert "uvicorn --no-proxy-headers" in caplog.text
    # A peer not among the hops is the real peer, header or not.
    assert address(plain, "198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_a_trusted_peer_forwards_the_client_address() -> None:
    builder = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(builder, "10.0.0.1", "203.0.113.1") == "203.0.113.1"
    # No X-Forwarded-For: the request came from the proxy itself.
    assert address(builder, "10.0.0.1") == "10.0.0.1"


def test_cidr_ranges_and_multiple_hops_read_right_to_left() -> None:
    builder = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.0/8", "2001:db8::/32"])
    # The client forged the leftmost entry; the trusted hops appended the rest.
    assert address(builder, "10.1.2.3", "6.6.6.6, 203.0.113.1, 10.9.9.9") == "203.0.113.1"
    # Several header lines are one list, in order.
    assert address(builder, "10.1.2.3", "6.6.6.6", "203.0.113.1", "10.9.9.9") == "203.0.113.1"
    assert address(builder, "2001:db8::1", "2001:db8::2, 2001:db9::5") == "2001:db9::5"
    # Every hop trusted: the request started inside, at the leftmost hop.
    assert address(builder, "10.1.2.3", "10.0.0.5, 10.0.0.6") == "10.0.0.5"


def test_ports_in_forwarded_hops_are_dropped() -> None:
    builder = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(builder, "10.0.0.1", "203.0.113.1:5555") == "203.0.113.1"
    assert address(builder, "10.0.0.1", "[2001:db9::5]:443") == "2001:db9::5"


def test_garbage_x_forwarded_for_makes_the_address_unknown() -> None:
    builder = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(builder, "10.0.0.1", "not-an-ip") is None
    assert address(builder, "10.0.0.1", "203.0.113.1, ") is None
    assert address(builder, "10.0.0.1", "<script>") is None
    # Garbage left of the client's real address is never reached.
    assert address(builder, "10.0.0.1", "garbage, 203.0.113.1") == "203.0.113.1"


def test_ipv4_mapped_peer_matches_an_ipv4_proxy() -> None:
    builder = ContextBuilder(client_host="ip", trusted_proxies=["10.0.0.1"])
    assert address(builder, "::ffff:10.0.0.1", "203.0.113.1") == "203.0.113.1"


def test_no_peer_means_no_address() -> None:
    assert address(ContextBuilder(client_host="ip"), None) is None


def test_invalid_trusted_proxies_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        ContextBuilder(trusted_proxies=["10.0.0.0/33"])
    with pytest.raises(TypeError, match="not one string"):
        ContextBuilder(trusted_proxies="10.0.0.1")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"headers": {"X-User": "targetingKey"}}, "client_targeting_key_header"),
        ({"headers": {"X-Flag": "$flagd"}}, "$flagd data"),
        ({"path_params": {"key": "$flagd.flagKey"}}, "$flagd data"),
        ({"headers": {"X-Real-IP": "ip"}, "client_host": "ip"}, "sanitizer trusts it"),
    ],
)
def test_client_input_cannot_map_to_a_name_the_server_owns(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        ContextBuilder(**options)


# -- headers read from the scope ------------------------------------------------------------

# Names that differ only in case, in ASCII and in Latin-1 (the builder reads raw headers,
# not Litestar's Headers, and must match them as Headers does), and values in Latin-1.
_NAMES = [
    "X-Plan",
    "x-plan",
    "X-PLAN",
    "X-Device",
    "x-forwarded-for",
    "X-Forwarded-For",
    "X-Ñ",
    "x-ñ",
    "x-ß",
]
_raw_name = st.sampled_from(_NAMES).map(lambda name: name.encode("latin-1"))
_raw_value = st.text(st.characters(max_codepoint=255, exclude_characters=","), max_size=8).map(
    lambda value: value.encode("latin-1")
)


@given(raw=st.lists(st.tuples(_raw_name, _raw_value), max_size=8))
def test_headers_match_as_litestars_headers_do(raw: list[tuple[bytes, bytes]]) -> None:
    reference = Headers(raw)
    builder = ContextBuilder(
        headers={"X-Plan": "plan", "x-PLAN": "again", "X-ñ": "enye", "X-SS": "ss", "X-€": "euro"},
        client_targeting_key_header="X-DEVICE",
    )
    context = builder(ASGIConnection({"type": "http", "headers": raw}))  # type: ignore[arg-type]
    expected = {
        name: value
        for header, name in builder.headers.items()
        if (value := reference.get(header)) is not None
    }
    assert context.attributes == expected
    assert context.targeting_key == (reference.get("x-device") or None)
    hops = [hop for value in reference.getall("X-Forwarded-For", []) for hop in value.split(",")]
    assert context_module._forwarded_hops(raw) == hops


def test_assigning_a_header_setting_after_construction_takes_effect() -> None:
    builder = ContextBuilder(headers={"X-Plan": "plan"})
    builder.headers = {"X-Tier": "tier"}
    builder.client_targeting_key_header = "X-Device-Id"
    context = builder(
        connection(headers=[("X-Plan", "pro"), ("X-Tier", "gold"), ("X-Device-Id", "d")])
    )
    assert context.attributes == {"tier": "gold"}
    assert context.targeting_key == "d"


def test_headers_given_as_a_one_shot_iterable_are_all_read_and_kept() -> None:
    builder = ContextBuilder(headers={"X-Plan": "plan"}, client_host="ip")
    raw = [(b"x-plan", b"pro"), (b"x-forwarded-for", b"203.0.113.1")]
    scope: dict[str, Any] = {"type": "http", "headers": iter(raw), "client": ("198.51.100.7", 1)}
    context = builder(ASGIConnection(scope))  # type: ignore[arg-type]
    assert context.attributes == {"plan": "pro", "ip": "198.51.100.7"}
    # What reads the headers later (a Request) still sees every one of them.
    assert list(scope["headers"]) == raw


async def _ignore(*_: Any) -> Any:
    return None


def test_the_middleware_gives_a_subclass_the_connection_it_reads() -> None:
    class FixedAddress(ContextBuilder):
        def client_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
            del connection
            return "192.0.2.1"

    middleware = OpenFeatureMiddleware(context_builder=FixedAddress(client_host="ip"))
    scope = connection(headers=[("X-Forwarded-For", "203.0.113.1")]).scope
    context = middleware.build_context(scope, _ignore, _ignore)
    assert context.attributes == {"ip": "192.0.2.1"}
    # The default builder, which the middleware calls on the scope alone, answers as
    # when it is called with a connection.
    default = OpenFeatureMiddleware(
        context_builder=ContextBuilder(headers={"X-Forwarded-For": "forwarded"}, client_host="ip")
    )
    via_scope = default.build_context(dict(scope), _ignore, _ignore)  # type: ignore[arg-type]
    assert via_scope == default.context_builder(
        connection(headers=[("X-Forwarded-For", "203.0.113.1")])
    )

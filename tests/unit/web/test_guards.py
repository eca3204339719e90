"""require_flag and require_variant: admitted per the request's own context, 404 otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get
from litestar.testing import TestClient
from openfeature.flag_evaluation import FlagType

from openfeature_litestar.testing import Variant, override_flags
from openfeature_litestar.web import require_flag, require_variant


def client_for(make_app: Any, *guards: Any, **config: Any) -> TestClient[Any]:
    @get("/feature", guards=list(guards), sync_to_thread=False)
    def feature() -> str:
        return "feature"

    app, _ = make_app([feature], **config)
    return TestClient(app)


def test_require_flag_admits_only_users_the_flag_is_on_for(make_app: Any, domain: str) -> None:
    with client_for(make_app, require_flag("beta", domain=domain)) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).text == "feature"
        refused = client.get("/feature", headers={"X-User": "user-2"})
        assert refused.status_code == 404
        assert client.get("/feature").status_code == 404


def test_require_flag_with_a_custom_status(make_app: Any, domain: str) -> None:
    guard = require_flag("beta", status_code=403, domain=domain)
    with client_for(make_app, guard) as client:
        assert client.get("/feature", headers={"X-User": "user-2"}).status_code == 403


@pytest.mark.parametrize("flag", ["missing", "gone", "checkout"])
def test_a_missing_disabled_or_non_boolean_flag_counts_as_off(
    make_app: Any, domain: str, flag: str
) -> None:
    with client_for(make_app, require_flag(flag, domain=domain)) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404


def test_a_static_true_flag_and_an_override(make_app: Any, domain: str) -> None:
    with client_for(make_app, require_flag("dark", domain=domain)) as client:
        assert client.get("/feature").status_code == 404
        with override_flags({"dark": True}, domain=domain):
            assert client.get("/feature").status_code == 200
        assert client.get("/feature").status_code == 404


def test_the_guard_evaluates_in_its_domain_only(make_app: Any, domain: str) -> None:
    # The default provider has no such flag: a guard for the default domain refuses.
    with (
        client_for(make_app, require_flag("dark")) as client,
        override_flags({"dark": True}, domain=domain),
    ):
        assert client.get("/feature").status_code == 404


def test_require_variant(make_app: Any, domain: str) -> None:
    with client_for(make_app, require_variant("checkout", "v2", domain=domain)) as client:
        assert client.get("/feature", headers={"X-User": "user-2"}).status_code == 200
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404
        assert client.get("/feature").status_code == 404


def test_require_variant_is_testable_with_a_variant_override(make_app: Any, domain: str) -> None:
    with client_for(make_app, require_variant("checkout", "v2", domain=domain)) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404
        with override_flags({"checkout": Variant("v2")}, domain=domain):
            assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 200
        # A bare value serves the variant "override", which the guard does not admit.
        with override_flags({"checkout": "v2"}, domain=domain):
            assert client.get("/feature", headers={"X-User": "user-2"}).status_code == 404
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404


def test_require_variant_accepts_several_names_and_a_status(make_app: Any, domain: str) -> None:
    guard = require_variant("checkout", ["v1", "v2"], status_code=402, domain=domain)
    with client_for(make_app, guard) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 200
    guard = require_variant("checkout", {"v3"}, status_code=402, domain=domain)
    with client_for(make_app, guard) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 402


def test_require_variant_on_flags_of_other_types(make_app: Any, domain: str) -> None:
    boolean = require_variant("beta", "on", domain=domain, flag_type=FlagType.BOOLEAN)
    with client_for(make_app, boolean) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 200
        assert client.get("/feature", headers={"X-User": "user-2"}).status_code == 404
    integer = require_variant("limit", "big", domain=domain, flag_type=FlagType.INTEGER)
    with client_for(make_app, integer) as client:
        assert client.get("/feature", headers={"X-User": "user-3"}).status_code == 200
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404
    # Evaluated as the wrong type, no variant resolves: refused.
    mismatch = require_variant("beta", "on", domain=domain)
    with client_for(make_app, mismatch) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 404


@pytest.mark.parametrize("flag_type", [FlagType.FLOAT, FlagType.OBJECT])
def test_require_variant_float_and_object_flags(
    make_app: Any, domain: str, flag_type: FlagType
) -> None:
    value: Any = 1.5 if flag_type is FlagType.FLOAT else {"a": 1}
    guard = require_variant("tuned", "override", domain=domain, flag_type=flag_type)
    with client_for(make_app, guard) as client:
        assert client.get("/feature").status_code == 404
        with override_flags({"tuned": value}, domain=domain):
            assert client.get("/feature").status_code == 200


def test_require_variant_missing_or_disabled_flag_is_refused(make_app: Any, domain: str) -> None:
    for flag in ("missing", "gone"):
        guard = require_variant(flag, "on", domain=domain, flag_type=FlagType.BOOLEAN)
        with client_for(make_app, guard) as client:
            assert client.get("/feature").status_code == 404


def test_a_guard_on_a_sync_to_thread_handler_sees_the_users_context(
    make_app: Any, domain: str
) -> None:
    @get("/sync", guards=[require_flag("beta", domain=domain)], sync_to_thread=True)
    def sync() -> str:
        return "sync"

    app, _ = make_app([sync])
    with TestClient(app) as client:
        assert client.get("/sync", headers={"X-User": "user-1"}).text == "sync"
        assert client.get("/sync", headers={"X-User": "user-0"}).status_code == 404


def test_invalid_guard_arguments() -> None:
    with pytest.raises(ValueError, match="HTTP error status"):
        require_flag("x", status_code=200)
    with pytest.raises(ValueError, match="HTTP error status"):
        require_variant("x", "a", status_code=302)
    with pytest.raises(ValueError, match="at least one variant"):
        require_variant("x", [])


@pytest.mark.parametrize("name", ["boolean", "BOOLEAN", "Boolean"])
def test_require_variant_takes_the_type_by_name(make_app: Any, domain: str, name: str) -> None:
    guard = require_variant("beta", "on", domain=domain, flag_type=name)  # type: ignore[arg-type]
    with client_for(make_app, guard) as client:
        assert client.get("/feature", headers={"X-User": "user-1"}).status_code == 200
        assert client.get("/feature", headers={"X-User": "user-2"}).status_code == 404

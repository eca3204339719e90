"""The admin API against its own OpenAPI schema: schemathesis finds no 5xx, no schema violation.

The application runs in process (ASGI); every generated request carries the admin token,
so the handlers themselves are exercised, not only the guard's refusals.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openfeature_litestar import MemoryStore
from openfeature_litestar.web import AdminConfig, admin_router, bearer_token_guard

TOKEN = "schemathesis-admin-token"  # noqa: S105 - a test token


def document() -> dict[str, Any]:
    return {
        "flags": {
            "banner": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]},
            },
            "greeting": {"state": "ENABLED", "variants": {"hi": "hi"}, "defaultVariant": "hi"},
        }
    }


production = MemoryStore(document(), namespace="production")
staging = production.with_namespace("staging")
app = Litestar(
    [
        admin_router(
            AdminConfig(
                guards=[bearer_token_guard(TOKEN)], actor=lambda _connection: "schemathesis"
            ),
            stores={"production": production, "staging": staging},
        )
    ]
)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.integration
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_admin_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)


@pytest.mark.integration
@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_refusals_conform_to_the_schema_too(case: schemathesis.Case[Any]) -> None:
    response = case.call_and_validate(checks=CHECKS)
    # 405: schemathesis also probes each path with methods it does not serve.
    assert response.status_code in {401, 405}

"""bearer_token_guard: who gets in, what a refusal says, and that every token is compared."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from openfeature_litestar import ConfigurationError
from openfeature_litestar.web import bearer_token_guard

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

FIRST, SECOND, THIRD = (secrets.token_urlsafe(16) for _ in range(3))


@get("/secret", sync_to_thread=False)
def secret() -> str:
    return "in"


def app_with(guard: Callable[..., Any]) -> Litestar:
    return Litestar([secret], guards=[guard])


def status(app: Litestar, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    with TestClient(app) as client:
        return client.get("/secret", headers=headers).status_code


def test_no_token_is_401_with_a_bearer_challenge() -> None:
    with TestClient(app_with(bearer_token_guard(FIRST, realm="flags"))) as client:
        response = client.get("/secret")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="flags"'


def test_a_wrong_token_is_401_invalid_token() -> None:
    with TestClient(app_with(bearer_token_guard(FIRST))) as client:
        response = client.get("/secret", headers={"Authorization": f"Bearer {SECOND}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="openfeature-litestar", error="invalid_token"'
    )
    assert SECOND not in response.text
    assert FIRST not in response.text


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {FIRST}", f"bearer {FIRST}", f"  BEARER   {FIRST}  ", f"Bearer {SECOND}"],
)
def test_a_right_token_gets_in(authorization: str) -> None:
    assert status(app_with(bearer_token_guard([FIRST, SECOND])), authorization) == 200


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", f"Basic {FIRST}", FIRST, f"Bearer {FIRST}x", f"Bearer {FIRST[:-1]}"],
)
def test_anything_else_is_refused(authorization: str) -> None:
    assert status(app_with(bearer_token_guard(FIRST)), authorization) == 401


def test_a_callable_is_asked_on_every_request() -> None:
    current: list[str] = [FIRST]
    app = app_with(bearer_token_guard(lambda: current))
    assert status(app, f"Bearer {FIRST}") == 200
    current[:] = [SECOND]  # rotated while the application runs
    assert status(app, f"Bearer {FIRST}") == 401
    assert status(app, f"Bearer {SECOND}") == 200
    current.clear()  # no tokens at all: nobody gets in
    assert status(app, f"Bearer {SECOND}") == 401


@pytest.mark.parametrize("tokens", [[], (), [""], ["  "], [FIRST, ""], [FIRST, 42]])
def test_no_or_empty_tokens_fail_at_construction(tokens: Sequence[Any]) -> None:
    with pytest.raises(ConfigurationError, match="bearer token"):
        bearer_token_guard(tokens)


def test_a_realm_that_would_break_the_header_is_refused() -> None:
    with pytest.raises(ValueError, match="realm"):
        bearer_token_guard(FIRST, realm='a"b')


def test_every_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A match on the first token still compares the others: no early exit."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    app = app_with(bearer_token_guard([FIRST, SECOND, THIRD]))
    for token, expected in ((FIRST, 200), (THIRD, 200), ("wrong", 401)):
        calls.clear()
        assert status(app, f"Bearer {token}") == expected
        assert len(calls) == 3
        # Fixed-length digests are compared, never the raw tokens (their length leaks).
        assert all(len(a) == len(b) == 32 for a, b in calls)


def test_tokens_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = app_with(bearer_token_guard([FIRST, SECOND]))
    status(app, f"Bearer {THIRD}")
    status(app, f"Bearer {FIRST}")
    assert all(token not in caplog.text for token in (FIRST, SECOND, THIRD))

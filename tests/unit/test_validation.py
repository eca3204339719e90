"""The setting checks every module shares: one error type, the setting named."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from openfeature_litestar import (
    ConfigurationError,
    FileStore,
    FlagProvider,
    IdentifierHasher,
    MemoryStore,
)
from openfeature_litestar._validation import positive_int, positive_seconds
from openfeature_litestar.hooks import AuditHook, SanitizingHook

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "3", None])
def test_positive_int_refuses(value: object) -> None:
    with pytest.raises(ConfigurationError, match="size must be a positive integer"):
        positive_int("size", value)


def test_positive_int_accepts() -> None:
    assert positive_int("size", 3) == 3


@pytest.mark.parametrize("value", [0, -0.5, math.nan, False, "1", None])
def test_positive_seconds_refuses(value: object) -> None:
    with pytest.raises(ConfigurationError, match="wait must be a positive number of seconds"):
        positive_seconds("wait", value)


def test_positive_seconds_accepts_and_gives_a_float() -> None:
    assert positive_seconds("wait", 2) == 2.0
    assert type(positive_seconds("wait", 2)) is float


@pytest.mark.parametrize(
    ("build", "setting"),
    [
        (lambda: FlagProvider(MemoryStore(), stale_after=0), "stale_after"),
        (lambda: FileStore("flags.yaml", poll_interval=0), "poll_interval"),
        (lambda: AuditHook(queue_size=0, hasher=IdentifierHasher(ephemeral=True)), "queue_size"),
        (lambda: SanitizingHook(max_depth=0), "max_depth"),
    ],
)
def test_every_module_raises_the_same_error(build: Callable[[], object], setting: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        build()

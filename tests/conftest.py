"""Fixtures shared by the unit tests: a fresh OpenFeature domain, cleaned up afterwards."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from openfeature import api

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def domain() -> Iterator[str]:
    """A unique OpenFeature domain; every provider is shut down and unbound afterwards.

    ``api.clear_providers()`` also removes the event handlers the test added, so no
    handler or background sync outlives the test that started it.
    """
    yield f"test-{uuid.uuid4()}"
    api.clear_providers()

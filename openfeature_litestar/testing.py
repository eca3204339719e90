"""Helpers for your own tests: force flags to values without editing flag documents.

::

    from openfeature_litestar.testing import override_flags

    def test_new_checkout_page(client):
        with override_flags({"new-checkout": True, "max-items": 3}):
            assert client.get("/checkout").status_code == 200

Overrides are served by the :class:`~openfeature_litestar.FlagProvider` already
registered with the OpenFeature SDK (for the default domain, or the one you name), so
everything else about the application stays real. An overridden flag resolves to its
value with reason ``STATIC`` and variant ``"override"``; other flags are untouched.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from openfeature import api

from ._engine import CompiledFlag
from ._provider import FlagProvider

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["OVERRIDE_VARIANT", "override_flags"]

OVERRIDE_VARIANT = "override"
"""The variant name an overridden flag resolves with."""


def _override(key: str, value: Any) -> CompiledFlag:
    return CompiledFlag(
        key=key,
        enabled=True,
        variants={OVERRIDE_VARIANT: value},
        default_variant=OVERRIDE_VARIANT,
        fingerprint=json.dumps(["override", value], sort_keys=True, default=repr),
    )


def _registered_provider(domain: str | None) -> FlagProvider:
    provider = api.get_client(domain).provider
    if not isinstance(provider, FlagProvider):
        where = f"domain {domain!r}" if domain else "the default domain"
        raise TypeError(
            f"override_flags needs a FlagProvider registered for {where}, "
            f"found {type(provider).__name__}; pass provider= explicitly"
        )
    return provider


@contextmanager
def override_flags(
    values: Mapping[str, Any],
    *,
    provider: FlagProvider | None = None,
    domain: str | None = None,
) -> Iterator[FlagProvider]:
    """Serve ``values`` for the named flags inside the ``with`` block, then restore.

    Overrides nest: an inner block adds to (and may change) the outer block's values,
    and leaving it restores exactly what the outer block served. Flags that do not exist
    in the store can be overridden too.

    Args:
        values: Flag key to the value it must resolve to (bool, str, int, float, or a
            JSON object/array).
        provider: The provider to override; by default the one registered with the
            OpenFeature SDK for ``domain``.
        domain: The SDK domain whose provider to use when ``provider`` is not given.

    Yields:
        The provider whose flags are overridden.

    Raises:
        TypeError: No :class:`~openfeature_litestar.FlagProvider` is registered there.
    """
    target = provider if provider is not None else _registered_provider(domain)
    mine = {key: _override(key, value) for key, value in values.items()}
    before = target.update_overrides(lambda current: {**current, **mine})
    try:
        yield target
    finally:
        # Undo only this block's layer, so overlapping blocks (threads, tasks) that do
        # not nest still leave exactly what the others set.
        def undo(current: Mapping[str, CompiledFlag]) -> Mapping[str, CompiledFlag]:
            restored = dict(current)
            for key, flag in mine.items():
                if restored.get(key) is not flag:
                    continue  # a later block changed it; that block restores it
                if key in before:
                    restored[key] = before[key]
                else:
                    del restored[key]
            return restored

        target.update_overrides(undo)

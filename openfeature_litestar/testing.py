"""Helpers for your own tests: force flags to values, and see what the audit hook records.

::

    from openfeature_litestar.testing import capture_audit, override_flags

    def test_new_checkout_page(client):
        with override_flags({"new-checkout": True, "max-items": 3}):
            assert client.get("/checkout").status_code == 200

    def test_checkout_is_audited(client):
        with capture_audit() as audit:
            client.get("/checkout")
        assert [r["feature_flag.key"] for r in audit.records] == ["new-checkout"]

Overrides are served by the :class:`~openfeature_litestar.FlagProvider` already
registered with the OpenFeature SDK (for the default domain, or the one you name), so
everything else about the application stays real. An overridden flag resolves to its
value with reason ``STATIC`` and variant ``"override"``; other flags are untouched.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from openfeature import api

from ._engine import CompiledFlag
from ._privacy._hashing import IdentifierHasher
from ._provider import FlagProvider
from .hooks import AuditHook

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["OVERRIDE_VARIANT", "CapturedAudit", "capture_audit", "override_flags"]

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


class CapturedAudit:
    """The audit records one :func:`capture_audit` block collected.

    Attributes:
        hook: The :class:`~openfeature_litestar.AuditHook` that records them; add it to
            a client yourself when the block was opened with ``register=False``.

    .. versionadded:: 0.2.0
    """

    def __init__(self, hook_options: Mapping[str, Any]) -> None:
        """Create the collector and its hook (see :func:`capture_audit`)."""
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        options = dict(hook_options)
        options.setdefault("hasher", IdentifierHasher(ephemeral=True))
        self.hook = AuditHook(sink=self._keep, **options)

    def _keep(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            self._records.append(dict(record))

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record so far, oldest first (a copy).

        Records are built on the evaluating thread and handed to the hook's drain
        thread; reading waits until every record made so far has arrived.
        """
        self.hook.flush(5.0)
        with self._lock:
            return list(self._records)

    @property
    def dropped(self) -> int:
        """Records the hook dropped (its queue was full)."""
        return self.hook.dropped


@contextmanager
def capture_audit(*, register: bool = True, **hook_options: Any) -> Iterator[CapturedAudit]:
    """Collect the audit records of the evaluations made inside the ``with`` block.

    The records are exactly those an :class:`~openfeature_litestar.AuditHook` would log
    (targeting key hashed, context sanitised), as dicts, so a test can assert what an
    application's audit trail shows without parsing log lines.

    Args:
        register: Add the hook at the OpenFeature API level for the block, so every
            client's evaluations are recorded (it is removed afterwards). With ``False``
            nothing is registered: add ``capture.hook`` where you want it.
        hook_options: Passed to :class:`~openfeature_litestar.AuditHook` (``sink`` is the
            collector's); without ``hasher``, an ephemeral key is used, so pseudonyms are
            stable within the process only.

    Yields:
        The collector; read :attr:`CapturedAudit.records` inside or after the block.

    Raises:
        TypeError: ``sink`` was given (the collector is the sink).

    .. versionadded:: 0.2.0
    """
    if "sink" in hook_options:
        raise TypeError("capture_audit collects the records itself; do not pass sink=")
    capture = CapturedAudit(hook_options)
    if register:
        api.add_hooks([capture.hook])
    try:
        yield capture
    finally:
        if register:
            _remove_api_hook(capture.hook)
        capture.hook.flush(5.0)
        capture.hook.close()


def _remove_api_hook(hook: AuditHook) -> None:
    # The SDK's public API has no remove_hooks(): put back every hook but this one.
    others = [candidate for candidate in api.get_hooks() if candidate is not hook]
    api.clear_hooks()
    if others:
        api.add_hooks(others)

"""Helpers for your own tests: force flags to values, and see what the audit hook records.

::

    from openfeature_litestar.testing import Variant, capture_audit, override_flags

    def test_new_checkout_page(client):
        with override_flags({"new-checkout": True, "max-items": 3}):
            assert client.get("/checkout").status_code == 200

    def test_the_v2_checkout_is_guarded(client):  # a route with require_variant(...)
        with override_flags({"checkout": Variant("v2")}):
            assert client.get("/checkout/v2").status_code == 200

    def test_checkout_is_audited(client):
        with capture_audit() as audit:
            client.get("/checkout")
        assert [r["feature_flag.key"] for r in audit.records] == ["new-checkout"]

Overrides are served by the :class:`~openfeature_litestar.FlagProvider` already
registered with the OpenFeature SDK (for the default domain, or the one you name), so
everything else about the application stays real. An overridden flag resolves to its
value with reason ``STATIC`` and variant ``"override"`` — or, given a :class:`Variant`,
with that variant's name (and the flag's own value for it); other flags are untouched.
"""

from __future__ import annotations

import difflib
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openfeature import api

from ._engine import CompiledFlag
from ._privacy._hashing import IdentifierHasher
from ._provider import FlagProvider
from .hooks import AuditHook

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["OVERRIDE_VARIANT", "CapturedAudit", "Variant", "capture_audit", "override_flags"]

OVERRIDE_VARIANT = "override"
"""The variant name an overridden flag resolves with."""


@dataclass(frozen=True)
class Variant:
    """A variant for :func:`override_flags` to serve, by name, rather than a bare value.

    Guards and code that read the variant name (``require_variant``, a handler branching
    on ``details.variant``) see ``name``; the value is the flag's own value for that
    variant, so the override serves exactly what the document would.

    .. code-block:: python

        with override_flags({"checkout": Variant("v2")}):
            ...  # checkout resolves to variant "v2" and its value, reason STATIC

    Attributes:
        name: The variant name to resolve with.
        value: The value to serve; ``None`` (the default) takes the flag's own value of
            ``name``, which needs a flag with that variant in the served document.

    .. versionadded:: 0.2.0
    """

    name: str
    value: Any = None


def _override(key: str, value: Any, served: CompiledFlag | None) -> CompiledFlag:
    variant = OVERRIDE_VARIANT
    if isinstance(value, Variant):
        variant, value = value.name, _variant_value(key, value, served)
    # The served flag's other variants stay, so that a block nested inside this one can
    # still name them (Variant("v1") inside an override to Variant("v2")).
    others = dict(served.variants) if served is not None else {}
    return CompiledFlag(
        key=key,
        enabled=True,
        variants={**others, variant: value},
        default_variant=variant,
        fingerprint=json.dumps(["override", variant, value], sort_keys=True, default=repr),
    )


def _variant_value(key: str, variant: Variant, served: CompiledFlag | None) -> Any:
    """The value ``variant`` serves: its own, else the served flag's value of that name.

    Raises:
        ValueError: No value was given and the flag is missing or has no such variant.
    """
    if not isinstance(variant.name, str) or not variant.name:
        raise ValueError(f"a variant name is a non-empty string, not {variant.name!r}")
    if variant.value is not None:
        return variant.value
    if served is None:
        raise ValueError(
            f"flag {key!r} is not served, so variant {variant.name!r} has no value to "
            f"take: give one, Variant({variant.name!r}, value=...)"
        )
    if variant.name not in served.variants:
        names = sorted(served.variants)
        close = difflib.get_close_matches(variant.name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"flag {key!r} has no variant {variant.name!r} (it has {', '.join(map(repr, names))})"
            f"{hint}"
        )
    return served.variants[variant.name]


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
            JSON object/array), or to a :class:`Variant` to resolve with by name.
        provider: The provider to override; by default the one registered with the
            OpenFeature SDK for ``domain``.
        domain: The SDK domain whose provider to use when ``provider`` is not given.

    Yields:
        The provider whose flags are overridden.

    Raises:
        TypeError: No :class:`~openfeature_litestar.FlagProvider` is registered there.
        ValueError: A :class:`Variant` without a value names a variant the served flag
            does not have (or a flag that is not served); nothing is overridden.

    .. versionchanged:: 0.2.0
       A value may be a :class:`Variant`.
    """
    target = provider if provider is not None else _registered_provider(domain)
    served = target.snapshot.flags
    mine = {key: _override(key, value, served.get(key)) for key, value in values.items()}
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

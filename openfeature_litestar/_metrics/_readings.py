"""What the metrics report, read from a provider's counters and state when asked for.

Both exporters (:mod:`._otel`, :mod:`._prometheus`) read through a
:class:`ProviderReading`: evaluation counts from the provider's usage counters
(:attr:`~openfeature_litestar.FlagProvider.usage`, the counters evaluations already keep),
health from its read-only properties, audit counts from the hooks' own counters. An
evaluation does nothing for the metrics: every reading is made when an exporter collects.

Attribute names are OpenTelemetry's semantic conventions for feature flags (the same keys
as the audit record and the tracing hook's span event); reasons and error codes are
written in the conventions' lower snake case (``targeting_match``, ``flag_not_found``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from openfeature.provider import ProviderStatus

from openfeature_litestar._provider import FlagProvider
from openfeature_litestar.hooks import (
    ERROR_TYPE,
    FLAG_KEY,
    FLAG_SET_ID,
    PROVIDER_NAME,
    REASON,
    VARIANT,
    AuditHook,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "AUDIT_DROPPED",
    "AUDIT_FAILED",
    "CHANGE_LAG",
    "EVALUATIONS",
    "REVISION",
    "STATE",
    "STATUS",
    "SYNC_AGE",
    "Health",
    "ProviderReading",
]

# Metric names (OpenTelemetry's dotted form). The semantic conventions define attributes
# and an event for feature flags but no metric, so the names are in our own namespace.
EVALUATIONS: Final = "openfeature_litestar.evaluations"
STATUS: Final = "openfeature_litestar.provider.status"
REVISION: Final = "openfeature_litestar.provider.revision"
SYNC_AGE: Final = "openfeature_litestar.provider.sync_age"
CHANGE_LAG: Final = "openfeature_litestar.provider.change_lag"
AUDIT_DROPPED: Final = "openfeature_litestar.audit.dropped"
AUDIT_FAILED: Final = "openfeature_litestar.audit.failed"

STATE: Final = "state"
"""The attribute of the status gauge naming one state (``ready``, ``stale``, ...)."""

EVALUATION_ATTRIBUTES: Final = (FLAG_KEY, VARIANT, REASON, ERROR_TYPE, PROVIDER_NAME, FLAG_SET_ID)
"""Every attribute an evaluation count may carry, in this order."""

STATES: Final = tuple(status.value.lower() for status in ProviderStatus)
"""The status gauge's states: one series each, ``1`` for the current one."""

_SET_ID: Final = "flagSetId"


@dataclass(frozen=True, slots=True)
class Health:
    """One provider's health, read at one moment.

    Attributes:
        status: The provider's status (``ready``, ``stale``, ... in lower case).
        revision: The revision of the snapshot served.
        seconds_since_sync: See :attr:`FlagProvider.seconds_since_sync`.
        change_lag: See :attr:`FlagProvider.change_lag`.
    """

    status: str
    revision: int
    seconds_since_sync: float | None
    change_lag: float | None


class ProviderReading:
    """Reads one provider's counts and health, and some audit hooks' counts.

    Args:
        provider: The provider.
        audit_hooks: Audit hooks whose dropped and failed records are reported beside
            the provider's metrics.

    Raises:
        TypeError: ``provider`` is not a :class:`~openfeature_litestar.FlagProvider`,
            or an audit hook is not an :class:`~openfeature_litestar.hooks.AuditHook`.
    """

    def __init__(self, provider: FlagProvider, audit_hooks: Iterable[AuditHook] = ()) -> None:
        """Check the provider and the hooks."""
        if not isinstance(provider, FlagProvider):
            raise TypeError(
                f"metrics read a FlagProvider's counters and state, not {type(provider).__name__}"
            )
        hooks = tuple(audit_hooks)
        for hook in hooks:
            if not isinstance(hook, AuditHook):
                raise TypeError(f"audit_hooks holds {type(hook).__name__}, not an AuditHook")
        self.provider = provider
        self.audit_hooks = hooks
        # The flag set of each key counted, remembered: a deleted flag's counts keep
        # their attributes, so no series splits in two. Bounded as the counters are.
        self._set_ids: dict[str, str] = {}

    @property
    def provider_name(self) -> str:
        """The provider's name, from its OpenFeature metadata."""
        return self.provider.get_metadata().name

    def evaluations(self) -> list[tuple[dict[str, str], int]]:
        """Every evaluation counter: its attributes and its count since the provider began.

        Attributes that do not apply (no variant, no error, no flag set) are left out.
        """
        name = self.provider_name
        flags = self.provider.snapshot.flags
        set_ids = self._set_ids
        counted = []
        for key, count in self.provider.usage.counts.items():
            attributes = {FLAG_KEY: key.flag_key, PROVIDER_NAME: name}
            if key.variant is not None:
                attributes[VARIANT] = key.variant
            if key.reason is not None:
                attributes[REASON] = key.reason.lower()
            if key.error_code is not None:
                attributes[ERROR_TYPE] = key.error_code.lower()
            flag = flags.get(key.flag_key)
            if flag is not None and flag.metadata.get(_SET_ID) is not None:
                set_ids[key.flag_key] = str(flag.metadata[_SET_ID])
            set_id = set_ids.get(key.flag_key)
            if set_id is not None:
                attributes[FLAG_SET_ID] = set_id
            counted.append((attributes, count))
        return counted

    def health(self) -> Health:
        """The provider's status, revision, sync age and latest change lag."""
        provider = self.provider
        return Health(
            status=provider.sync_status.value.lower(),
            revision=provider.snapshot.revision,
            seconds_since_sync=provider.seconds_since_sync,
            change_lag=provider.change_lag,
        )

    def audit_counts(self) -> tuple[int, int]:
        """The audit hooks' records dropped and records that failed, summed."""
        hooks = self.audit_hooks
        return sum(hook.dropped for hook in hooks), sum(hook.failed for hook in hooks)

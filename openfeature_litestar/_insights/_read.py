"""Reading a report from a store: its document, its counts and its audit trail."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._stores import UsageStore, WritableFlagStore
from openfeature_litestar._stores._usage import UsageBands

from ._aggregate import build_insights, period_start, window_bounds
from ._model import StaleThresholds

if TYPE_CHECKING:
    from openfeature_litestar._stores import FlagStore

    from ._model import Insights

__all__ = ["read_insights"]

_AUDIT_PAGE: Final = 1_000
_MAX_AUDIT_PAGES: Final = 50


async def read_insights(
    store: FlagStore,
    *,
    thresholds: StaleThresholds | None = None,
    now: datetime | None = None,
) -> Insights:
    """The insights of ``store``'s namespace: what every process counted, per flag.

    Reads the store's current document, its counts since :attr:`Insights.since` (a week,
    or the longest stale threshold, back) and, for a
    :class:`~openfeature_litestar.WritableFlagStore`, its audit trail over the same
    period (so that a flag written recently is not called stale). The counts are the
    ones providers have flushed (every ``flush_interval``, 10 s by default).

    Args:
        store: A store that keeps counts (:class:`~openfeature_litestar.UsageStore`).
            The memory and file stores keep the counts of their own process only.
        thresholds: The stale report's thresholds (default
            :class:`~openfeature_litestar.StaleThresholds`).
        now: The time of the report (default: now); an aware datetime.

    Raises:
        ConfigurationError: ``store`` keeps no counts.
        StoreError: The store cannot be reached or read.
        DocumentError: The stored document is invalid.
        ValueError: ``now`` is naive.

    .. versionadded:: 0.2.0
    """
    writable = store if isinstance(store, WritableFlagStore) else None
    if not isinstance(store, UsageStore):
        raise ConfigurationError(
            f"{store!r} keeps no usage counts (it is no UsageStore): insights need a "
            "store that does, such as Redis or SQL"
        )
    moment = now if now is not None else datetime.now(timezone.utc)
    chosen = thresholds if thresholds is not None else StaleThresholds()
    since = period_start(moment, chosen)
    stored = await store.load()
    if isinstance(store, UsageBands):
        bounds = window_bounds(moment, chosen)
        records = await store.read_usage_bands(since=since, until=moment, bounds=bounds)
    else:
        records = await store.read_usage(since=since, until=moment)
    changes = {} if writable is None else await _last_changes(writable, since)
    return build_insights(
        stored.document,
        records,
        now=moment,
        revision=stored.revision,
        epoch=stored.epoch,
        namespace=getattr(store, "namespace", None),
        last_changed=changes,
        thresholds=chosen,
    )


async def _last_changes(store: WritableFlagStore, since: datetime) -> dict[str, datetime]:
    """When each flag was last written, from the audit trail's entries since ``since``.

    Reads newest first, page by page, until an entry older than ``since`` (at most
    ``_MAX_AUDIT_PAGES`` pages: a namespace written that often is changed recently).
    """
    changes: dict[str, datetime] = {}
    before: str | None = None
    for _ in range(_MAX_AUDIT_PAGES):
        entries = await store.audit_log(limit=_AUDIT_PAGE, before=before)
        for entry in entries:
            if entry.at < since:
                return changes
            if entry.flag_key is not None:
                changes.setdefault(entry.flag_key, entry.at)
        if len(entries) < _AUDIT_PAGE:
            return changes
        before = entries[-1].id
    return changes

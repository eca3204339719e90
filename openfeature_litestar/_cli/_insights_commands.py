"""``insights`` and ``stale``: what a namespace's flags did, from the counts in its store.

Both read the counts every provider flushed to a shared store (Redis, SQL). The memory
and file stores keep counts in the process that made them, so a command (another
process) would read none: they are refused with what to do instead.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Final, TextIO

from openfeature_litestar._insights import Insights, StaleThresholds, read_insights
from openfeature_litestar._stores import FileStore, MemoryStore

from ._opening import readable_store
from ._outcomes import EXIT_FAILED, EXIT_OK, MissingError, UsageError
from ._read_commands import never_written, where

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from openfeature_litestar._insights import FlagInsights, WindowCounts

__all__ = ["insights", "stale"]

_DAY: Final = timedelta(days=1)


def _read(args: argparse.Namespace) -> Insights:
    thresholds = StaleThresholds(
        timedelta(days=args.unused_days),
        timedelta(days=args.single_variant_days),
        args.min_evaluations,
    )
    store, namespace = readable_store(args)
    named = args.store or "the application's store"
    if isinstance(store, (FileStore, MemoryStore)):
        raise UsageError(
            f"{where(namespace, named)} keeps usage counts only in the process "
            "that counted them, so this command would read none: ask that process (the "
            "admin API's GET /admin/v1/namespaces/<namespace>/insights) or use a shared "
            "store (redis://, postgresql+asyncpg://, sqlite+aiosqlite://)"
        )

    async def read() -> Insights:
        try:
            return await read_insights(store, thresholds=thresholds)
        finally:
            await store.close()

    report = asyncio.run(read())
    if report.revision == 0 and not report.flags:
        raise MissingError(never_written(namespace, named))
    return report


def _count(number: int) -> str:
    return f"{number:,}"


def _top_variant(window: WindowCounts) -> str:
    if not window.by_variant:
        return "-"
    variant, served = max(window.by_variant.items(), key=lambda item: (item[1], item[0]))
    return f"{variant} {served / window.evaluations:.0%}"


def _hour(moment: object) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:00}"


def _flag_row(flag: FlagInsights) -> tuple[str, ...]:
    week = flag.last_week
    return (
        flag.key,
        flag.state,
        _count(flag.last_hour.evaluations),
        _count(flag.last_day.evaluations),
        _count(week.evaluations),
        f"{week.error_rate:.1%}" if week.evaluations else "-",
        _top_variant(week),
        _hour(flag.last_evaluated),
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(cells[i]) for cells in [headers, *rows]) for i in range(len(headers))]
    for cells in [headers, *rows]:
        line = "  ".join(f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True))
        print(line.rstrip(), file=out)


def insights(args: argparse.Namespace, out: TextIO) -> int:
    """``insights``: every flag's evaluations (1 h, 24 h, 7 d), errors, variants, unknown keys."""
    report = _read(args)
    if args.json:
        print(json.dumps(report.to_data(), ensure_ascii=False), file=out)
        return EXIT_OK
    headers = ("FLAG", "STATE", "1H", "24H", "7D", "ERRORS 7D", "TOP VARIANT 7D", "LAST EVALUATED")
    _table(headers, [_flag_row(flag) for flag in report.flags.values()], out)
    if report.unknown_keys:
        print(f"\nkeys asked for that name no flag ({len(report.unknown_keys)}):", file=out)
        rows = [
            (asked.key, _count(asked.evaluations), _hour(asked.last_asked))
            for asked in report.unknown_keys
        ]
        _table(("KEY", "EVALUATIONS", "LAST ASKED"), rows, out)
    if report.tracking_events:
        print(f"\ntracking events ({len(report.tracking_events)} names):", file=out)
        event_rows = [
            (
                event.name or "(other names)",
                _count(event.last_hour),
                _count(event.last_day),
                _count(event.last_week),
                _hour(event.last_tracked),
            )
            for event in report.tracking_events
        ]
        _table(("EVENT", "1H", "24H", "7D", "LAST TRACKED"), event_rows, out)
    if report.other_evaluations:
        print(
            f"\n{_count(report.other_evaluations)} evaluations were counted without their key "
            "(beyond a provider's counter bounds, or keys no flag can have)",
            file=out,
        )
    print(f"\n{_footer(report)}", file=out)
    return EXIT_OK


def _footer(report: Insights) -> str:
    noun = "flag" if len(report.flags) == 1 else "flags"
    counted = (
        "no evaluation counted yet"
        if report.counted_since is None
        else f"counts from {_hour(report.counted_since)} UTC"
    )
    return (
        f"{len(report.flags)} {noun} of namespace {report.namespace!r} at revision "
        f"{report.revision}; {counted} (hours in UTC; providers flush every 10 s by default)"
    )


def stale(args: argparse.Namespace, out: TextIO) -> int:
    """``stale``: the flags never evaluated, unused lately, or serving one variant to all."""
    report = _read(args)
    stale_report = report.stale
    if args.json:
        data = report.to_data()["stale"]
        print(json.dumps({"namespace": report.namespace, **data}, ensure_ascii=False), file=out)
    else:
        rows = [
            (flag.key, flag.reason, _hour(flag.last_evaluated), flag.detail)
            for flag in stale_report.flags
        ]
        if rows:
            _table(("FLAG", "REASON", "LAST EVALUATED", "WHY"), rows, out)
        else:
            print("no stale flags", file=out)
        if stale_report.note is not None:
            print(f"note: {stale_report.note}", file=out)
        limits = stale_report.thresholds
        print(
            f"thresholds: unused after {limits.unused_after / _DAY:g} days, single variant "
            f"after {limits.single_variant_after / _DAY:g} days and "
            f"{limits.min_evaluations} evaluations",
            file=out,
        )
    return EXIT_FAILED if args.check and stale_report.flags else EXIT_OK

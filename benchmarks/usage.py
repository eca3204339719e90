"""``python -m benchmarks.usage``: what usage counting costs an evaluation, and a flush.

Two tables, from one run:

1. **Evaluation, counters on vs. off**: the three cases of :mod:`benchmarks.cases`
   (static, rule, rollout) through the OpenFeature client, on two providers over the same
   document, one with ``usage=True`` (the default) and one with ``usage=False``. Their
   batches are timed in interleaved rounds (:func:`benchmarks.timing.measure_all`), off,
   on, on, off in each, so the machine's drift and the order both hit them alike; the
   ratio is on / off of the best batches (the issue's target: at most 1.05x). Both
   providers' answers are checked against each other before timing, and the counted
   evaluations against the calls made after it.
2. **Flush**: one flush of 10,000 flags x 2 variants (20,000 counters, written as four
   batches of 5,000) to Redis and to PostgreSQL, the median and best of several: the
   counters taken, cut into batches and written, each batch one script call or one
   transaction. A missing server's row says so instead of a figure.

Servers come from ``OPENFEATURE_LITESTAR_TEST_REDIS_URL`` / ``..._POSTGRES_URL``
(defaults: the local servers). ``--quick`` is a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Final

from openfeature import api
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.no_op_provider import NoOpProvider

from benchmarks.cases import build_cases, flagd_flags
from benchmarks.peers import openfeature_context
from benchmarks.stores import POSTGRES_URL, REDIS_URL, _reachable
from benchmarks.timing import FULL, QUICK, Measurement, measure_all
from openfeature_litestar import (
    FlagProvider,
    MemoryStore,
    RedisStore,
    SQLAlchemyStore,
    UsageConfig,
    document_from_data,
)
from openfeature_litestar._provider._usage import UsageCounters, UsageFlusher

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature.client import OpenFeatureClient

    from openfeature_litestar import UsageStore

__all__ = ["main"]

TARGET_RATIO: Final = 1.05
FLUSH_FLAGS: Final = 10_000
FLUSH_VARIANTS: Final = ("on", "off")


def _client(usage: bool, domain: str) -> tuple[FlagProvider, OpenFeatureClient]:
    provider = FlagProvider(MemoryStore(document_from_data({"flags": flagd_flags()})), usage=usage)
    api.set_provider_and_wait(provider, domain=domain)
    return provider, api.get_client(domain)


def _timer(client: OpenFeatureClient, flag_key: str) -> Any:
    get_value = client.get_boolean_value

    def time_batch(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            get_value(flag_key, False, context)  # noqa: FBT003 - the SDK's signature
        return perf_counter_ns() - start

    return time_batch


def evaluation_table(*, quick: bool) -> list[str]:
    """Time every case through the client with counters on and off; return the lines."""
    settings = QUICK if quick else FULL
    on_provider, on = _client(usage=True, domain="bench-usage-on")
    off_provider, off = _client(usage=False, domain="bench-usage-off")
    lines = [
        f"{'case':<14} {'off ns/call':>12} {'on ns/call':>12} {'on/off':>8}   target",
    ]
    try:
        for case in build_cases(rollout_users=2_000 if quick else 100_000):
            contexts = [openfeature_context(subject) for subject in case.subjects]
            sample = contexts[: settings.check_sample]
            answers_on = [on.get_boolean_value(case.flag_key, False, c) for c in sample]  # noqa: FBT003
            answers_off = [off.get_boolean_value(case.flag_key, False, c) for c in sample]  # noqa: FBT003
            if answers_on != answers_off:
                raise SystemExit(f"{case.title}: counters on and off answer differently")
            before = on_provider.usage.evaluations
            # Off, on, on, off in every round: neither provider always runs first (or
            # always right after the other), so the order's own effect cancels.
            off_timer, on_timer = _timer(off, case.flag_key), _timer(on, case.flag_key)
            rows = measure_all(
                [(timer, contexts) for timer in (off_timer, on_timer, on_timer, off_timer)],
                settings,
            )
            measured_off, measured_on = _joined(rows[0], rows[3]), _joined(rows[1], rows[2])
            calls = sum(row.ops for row in rows[1:3]) * (settings.repeats + settings.warmups)
            counted = on_provider.usage.evaluations - before
            if counted < calls:
                raise SystemExit(f"{case.title}: {calls} calls timed, {counted} counted")
            ratio = measured_on.best / measured_off.best
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
            lines.append(
                f"{case.title:<14} {measured_off.best:>12.0f} {measured_on.best:>12.0f} "
                f"{ratio:>7.3f}x   <= {TARGET_RATIO}x {verdict} "
                f"(medians {measured_off.median:.0f} / {measured_on.median:.0f} ns)"
            )
        if off_provider.usage.evaluations:
            raise SystemExit("the provider with usage=False counted")
    finally:
        for domain in ("bench-usage-on", "bench-usage-off"):
            api.set_provider_and_wait(NoOpProvider(), domain=domain)
    return lines


def _joined(first: Measurement, second: Measurement) -> Measurement:
    """The batches of two measurements of one provider, as one (in ns per call x ops)."""
    ops = min(first.ops, second.ops)
    batches = [round(ns * ops / row.ops) for row in (first, second) for ns in row.batch_ns]
    return Measurement(ops=ops, batch_ns=tuple(batches))


def _filled(counters: UsageCounters) -> None:
    for n in range(FLUSH_FLAGS):
        key = f"flag-{n:05d}"
        for variant in FLUSH_VARIANTS:
            counters.count(
                key, FlagResolutionDetails(value=True, variant=variant, reason=Reason.STATIC)
            )


async def _time_flushes(store: UsageStore, runs: int) -> list[float]:
    config = UsageConfig()
    counters = UsageCounters(config)
    flusher = UsageFlusher(counters, store, config)
    seconds = []
    for _ in range(runs + 1):  # the first run also creates tables and loads the script
        _filled(counters)
        start = time.perf_counter()
        if not await flusher.flush():
            raise SystemExit(f"a flush to {store!r} failed")
        seconds.append(time.perf_counter() - start)
    return seconds[1:]


def flush_table(*, quick: bool) -> list[str]:
    """Time flushes of 20,000 counters to Redis and PostgreSQL; return the lines."""
    runs = 2 if quick else 7
    name = f"bench{uuid.uuid4().hex[:8]}"
    counters = FLUSH_FLAGS * len(FLUSH_VARIANTS)
    lines = [
        f"{'store':<12} {'median s':>9} {'best s':>9}   ({counters:,} counters, {runs} flushes)"
    ]
    targets: list[tuple[str, str, int, Any]] = [
        ("Redis", REDIS_URL, 6379, lambda: RedisStore(REDIS_URL, key_prefix=f"{name}:")),
        (
            "PostgreSQL",
            POSTGRES_URL,
            5432,
            lambda: SQLAlchemyStore(POSTGRES_URL, table_prefix=f"{name}_", timeout=30),
        ),
    ]
    for label, url, port, make in targets:
        if not _reachable(url, port):
            lines.append(f"{label:<12} not reachable at {url}")
            continue
        store = make()

        async def run(store: Any = store) -> list[float]:
            try:
                return await _time_flushes(store, runs)
            finally:
                await _clean(store, name)
                await store.close()

        seconds = asyncio.run(run())
        lines.append(f"{label:<12} {statistics.median(seconds):>9.3f} {min(seconds):>9.3f}")
    return lines


async def _clean(store: Any, name: str) -> None:
    if isinstance(store, RedisStore):
        import redis.asyncio as redis  # noqa: PLC0415 - only the Redis row needs it

        client = redis.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{name}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        return
    from sqlalchemy import text  # noqa: PLC0415 - only the PostgreSQL row needs it
    from sqlalchemy.ext.asyncio import create_async_engine  # noqa: PLC0415 - same

    engine = create_async_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        for table in ("audit", "flags", "namespaces", "schema", "usage", "usage_seq"):
            await connection.execute(text(f'DROP TABLE IF EXISTS "{name}_{table}"'))
    await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run both tables and print them."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.usage", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short batches")
    options = parser.parse_args(argv)
    print(
        f"# usage counters ({'quick' if options.quick else 'full'}), Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("\n## client evaluation, counters on vs off (best batch)")
    print("\n".join(evaluation_table(quick=options.quick)))
    print("\n## one flush of 10,000 flags x 2 variants")
    print("\n".join(flush_table(quick=options.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks.redis_failover``: kill the primary that owns a namespace, under load.

Runs against a private deployment it starts on free loopback ports (never the shared
Redis on 6379): a Redis Cluster of 3 primaries and 3 replicas (``--deployment cluster``)
or a primary, a replica and three sentinels (``--deployment sentinel``). Several
providers (each with its own store, as separate workers would have) evaluate a string
flag without pause while a writer changes it every few milliseconds; then the primary
owning the namespace's keys is killed (SIGKILL). It prints:

* exceptions reaching evaluation callers, and answers that are no value ever written
  (or carry an error code);
* seconds from the kill to the first ``PROVIDER_STALE`` and back to ``PROVIDER_READY``;
* seconds from the kill to the first write acknowledged afterwards, and until every
  provider serves it;
* writes acknowledged and then missing from the namespace's audit trail (Redis
  replicates asynchronously and the store does not use ``WAIT``).

:func:`run_failover` is the measurement; the tests assert its correctness figures
(``tests/integration/stores/redis/test_failover.py``) and never its times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openfeature import api
from openfeature.event import EventDetails, ProviderEvent

from openfeature_litestar import FlagProvider, RedisStore, StoreError
from openfeature_litestar._stores._redis._codec import Keys
from tests.redis_servers import running_cluster, running_sentinels

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = ["FailoverResult", "main", "run_failover"]

_FLAG = "colour"
_WAIT = 60.0


def _definition(value: str) -> dict[str, Any]:
    return {"state": "ENABLED", "variants": {value: value}, "defaultVariant": value}


@dataclass
class FailoverResult:
    """What one failover under load did.

    Attributes:
        evaluations: Evaluations made, by every provider, all phases.
        exceptions: Exceptions that reached an evaluation's caller.
        wrong_answers: Answers with an error code, a value never written, or one older
            than the provider already served.
        writes_acknowledged: Writes the store reported committed.
        write_failures: Writes that raised :class:`StoreError` (not acknowledged; the
            writer may have committed some, which is allowed).
        lost_writes: Acknowledged writes missing from the audit trail afterwards.
        to_stale: Seconds from the kill to the first ``PROVIDER_STALE`` (``None``: no
            provider went stale).
        to_ready: Seconds from the kill until every provider that went stale was
            ``READY`` again.
        to_first_write: Seconds from the kill to the first write acknowledged after it.
        to_seen_everywhere: Seconds from the kill until every provider served that write.
        providers: How many providers evaluated.
    """

    evaluations: int = 0
    exceptions: list[BaseException] = field(default_factory=list)
    wrong_answers: int = 0
    writes_acknowledged: int = 0
    write_failures: int = 0
    lost_writes: int = 0
    to_stale: float | None = None
    to_ready: float | None = None
    to_first_write: float | None = None
    to_seen_everywhere: float | None = None
    providers: int = 0


class _Writer:
    """Writes ``colour`` = ``w1``, ``w2``, ... on its own loop, recording what was acknowledged."""

    def __init__(self, url: str, prefix: str) -> None:
        self.store = RedisStore(url, key_prefix=prefix, timeout=1.0)
        self.attempted: set[str] = set()
        self.acknowledged: list[tuple[float, int, str]] = []  # (time, revision, value)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(_WAIT)

    async def _run(self) -> None:
        number = 0
        try:
            while not self._stop.is_set():
                number += 1
                value = f"w{number}"
                self.attempted.add(value)
                try:
                    revision = await self.store.put_flag(_FLAG, _definition(value), actor="bench")
                except StoreError:
                    self.failures += 1
                    await asyncio.sleep(0.05)
                else:
                    self.acknowledged.append((time.monotonic(), revision, value))
                await asyncio.sleep(0.01)
        finally:
            await self.store.close()


class _Evaluator:
    """Evaluates ``colour`` without pause on a thread, through one provider's domain."""

    def __init__(self, domain: str, allowed: Callable[[str], bool]) -> None:
        self.client = api.get_client(domain)
        self.allowed = allowed
        self.latest = ""
        self.count = 0
        self.wrong = 0
        self.exceptions: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(_WAIT)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                details = self.client.get_string_details(_FLAG, "fallback")
            except BaseException as exc:  # counting what must never happen
                self.exceptions.append(exc)
            else:
                self.count += 1
                value = details.value
                if (
                    details.error_code is not None
                    or not self.allowed(value)
                    # Older than an answer already given: a provider never goes back.
                    or (self.latest and int(value[1:]) < int(self.latest[1:]))
                ):
                    self.wrong += 1
                self.latest = value
            time.sleep(0.001)


class _Events:
    """When each provider's domain heard STALE and READY."""

    def __init__(self, domains: Sequence[str]) -> None:
        self.stale: dict[str, float] = {}
        self.ready_after_stale: dict[str, float] = {}
        for domain in domains:
            client = api.get_client(domain)
            client.add_handler(ProviderEvent.PROVIDER_STALE, self._on(domain, stale=True))
            client.add_handler(ProviderEvent.PROVIDER_READY, self._on(domain, stale=False))

    def _on(self, domain: str, *, stale: bool) -> Callable[[EventDetails], None]:
        def handler(_: EventDetails) -> None:
            now = time.monotonic()
            if stale:
                self.stale.setdefault(domain, now)
            elif domain in self.stale:
                self.ready_after_stale.setdefault(domain, now)

        return handler


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + _WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {_WAIT} s")
        time.sleep(0.005)


def run_failover(
    url: str, kill_owner: Callable[[str], None], *, providers: int = 3, tagged: bool
) -> FailoverResult:
    """Kill the primary owning a fresh namespace while providers evaluate and a writer writes.

    Args:
        url: The deployment's store URL.
        kill_owner: Kills the primary that owns the given key.
        providers: How many providers (each with its own store) evaluate.
        tagged: Whether the store tags its keys (a cluster), to name the owning key.

    Returns:
        The figures; raises :class:`TimeoutError` if the deployment never recovers.
    """
    prefix = f"failover-{uuid.uuid4().hex[:8]}:"
    writer = _Writer(url, prefix)
    asyncio.run(_seed(url, prefix))
    domains = [f"failover-{uuid.uuid4()}" for _ in range(providers)]
    for domain in domains:
        store = RedisStore(url, key_prefix=prefix, timeout=1.0, poll_interval=0.5)
        api.set_provider_and_wait(
            FlagProvider(store, stale_after=0.5, init_timeout=_WAIT, usage=False), domain
        )

    def written(value: str) -> bool:
        # The writer notes each value before writing it, so a served value is in the set.
        return value == "w0" or value in writer.attempted

    events = _Events(domains)
    evaluators = [_Evaluator(domain, written) for domain in domains]
    result = FailoverResult(providers=providers)
    try:
        for evaluator in evaluators:
            evaluator.start()
        writer.start()
        _wait(lambda: len(writer.acknowledged) >= 5, "five writes before the kill")  # noqa: PLR2004
        killed_at = time.monotonic()
        kill_owner(Keys.of(prefix, "default", tagged=tagged).document)
        _wait(lambda: any(at > killed_at for at, _, _ in writer.acknowledged), "a write after")
        first_at, _, first_value = next(a for a in writer.acknowledged if a[0] > killed_at)
        first_number = int(first_value[1:])
        _wait(
            lambda: all(int(e.latest[1:] or 0) >= first_number for e in evaluators),
            "every provider serving the first write after the kill",
        )
        seen_at = time.monotonic()
        _wait(lambda: events.stale.keys() == events.ready_after_stale.keys(), "READY again")
    finally:
        writer.stop()
        for evaluator in evaluators:
            evaluator.stop()
        api.clear_providers()
    result.evaluations = sum(e.count for e in evaluators)
    result.exceptions = [exc for e in evaluators for exc in e.exceptions]
    result.wrong_answers = sum(e.wrong for e in evaluators)
    result.writes_acknowledged = len(writer.acknowledged)
    result.write_failures = writer.failures
    result.lost_writes = _lost_after_settling(url, prefix, writer.acknowledged)
    result.to_first_write = first_at - killed_at
    result.to_seen_everywhere = seen_at - killed_at
    if events.stale:
        result.to_stale = min(events.stale.values()) - killed_at
        result.to_ready = max(events.ready_after_stale.values()) - killed_at
    return result


async def _seed(url: str, prefix: str) -> None:
    store = RedisStore(url, key_prefix=prefix, timeout=5.0)
    try:
        await store.put_flag(_FLAG, _definition("w0"), actor="bench")
    finally:
        await store.close()


def _lost_after_settling(url: str, prefix: str, acknowledged: list[tuple[float, int, str]]) -> int:
    # Right after a failover some nodes may still name the old primary (gossip takes a
    # moment to spread), so a new client's first reads can fail: try again for a while.
    deadline = time.monotonic() + _WAIT
    while True:
        try:
            return asyncio.run(_lost(url, prefix, acknowledged))
        except StoreError:  # noqa: PERF203 - a retry, seldom taken
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def _lost(url: str, prefix: str, acknowledged: list[tuple[float, int, str]]) -> int:
    """Acknowledged writes whose audit entry (revision and value) is not in the trail."""
    store = RedisStore(url, key_prefix=prefix, timeout=5.0)
    try:
        trail: set[tuple[int, str]] = set()
        before = None
        while True:
            page = await store.audit_log(limit=1000, before=before)
            for entry in page:
                after = entry.after or {}
                trail.add((entry.revision, str(after.get("defaultVariant"))))
            if len(page) < 1000:  # noqa: PLR2004
                break
            before = page[-1].id
        return sum((revision, value) not in trail for _, revision, value in acknowledged)
    finally:
        await store.close()


@contextlib.contextmanager
def _deployment(kind: str) -> Iterator[tuple[str, Callable[[str], None], bool]]:
    if kind == "cluster":
        with running_cluster() as cluster:
            yield cluster.url, lambda key: cluster.kill(cluster.primary_of(key)), True
    else:
        with running_sentinels() as sentinels:

            def kill(_: str) -> None:
                sentinels.server(sentinels.current_primary()).kill()

            yield sentinels.url, kill, False


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the failover and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--deployment", choices=["cluster", "sentinel"], default="cluster")
    parser.add_argument("--providers", type=int, default=3)
    options = parser.parse_args(argv)
    with _deployment(options.deployment) as (url, kill, tagged):
        result = run_failover(url, kill, providers=options.providers, tagged=tagged)
    rows = [
        ("providers", str(result.providers)),
        ("evaluations", str(result.evaluations)),
        ("exceptions to callers", str(len(result.exceptions))),
        ("wrong answers", str(result.wrong_answers)),
        ("writes acknowledged", str(result.writes_acknowledged)),
        ("writes failed (not acknowledged)", str(result.write_failures)),
        ("acknowledged writes lost", str(result.lost_writes)),
        ("kill -> first STALE", _seconds(result.to_stale)),
        ("kill -> every provider READY", _seconds(result.to_ready)),
        ("kill -> first acknowledged write", _seconds(result.to_first_write)),
        ("kill -> every provider serves it", _seconds(result.to_seen_everywhere)),
    ]
    print(f"Redis {options.deployment} failover under load (python {sys.version.split()[0]})")
    for name, value in rows:
        print(f"  {name:<36} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

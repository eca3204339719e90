"""``python -m benchmarks.plugin_overhead``: what the Litestar plugin adds to a request, in process.

:mod:`benchmarks.plugin` measures the plugin's cost in requests per second under uvicorn,
where the machine's noise moves whole-app runs by more than the cost itself. This
benchmark drives the same two applications (:func:`benchmarks.plugin.plugin_app` and
:func:`benchmarks.plugin.plain_app`) without sockets: each request is a direct ASGI call
with a scope built as uvicorn builds it, an in-memory receive and a send that keeps only
the response, each in a task of its own as uvicorn runs it. What is left to time is the
application itself, so the difference between the two is what the plugin adds (its
middleware, the context it builds, the injected client, the transaction context the SDK
merges) minus what the hand-written handler does instead.

Both applications run on the one provider the plugin registers, and their batches of
requests alternate (and which goes first), so drift in the machine's speed hits both
alike. The table gives each application's median and best CPU time per request (this
process only, so other processes on the machine barely move it) and its wall-clock
time; the plugin's cost is the median over the pairs of batches of their difference,
and the difference between the two best batches. Then a
cProfile of both shows where the plugin's time goes: the functions whose own time per
request changes the most with the plugin, and the plugin application's most expensive
functions. Before timing, each application is checked to answer every user as the
provider does in this process. ``--quick`` is a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import gc
import json
import platform
import pstats
import statistics
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter_ns, process_time_ns
from typing import TYPE_CHECKING, Any, Final, TypeVar

from openfeature import api
from openfeature.transaction_context import ContextVarsTransactionContextPropagator
from openfeature.transaction_context.no_op_transaction_context_propagator import (
    NoOpTransactionContextPropagator,
)

from benchmarks._uvicorn import ROOT, package_version
from benchmarks.plugin import FLAG, USER_HEADER, USERS, expected_answers, plain_app, plugin_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Sequence

    from litestar import Litestar
    from openfeature.transaction_context import TransactionContextPropagator

__all__ = ["main"]

# As in benchmarks.plugin, the plain application first: the names head the table.
_APPS: Final[dict[str, Callable[[], Litestar]]] = {
    "without plugin (hand-built context)": plain_app,
    "with OpenFeaturePlugin": plugin_app,
}
_SITE_PACKAGES: Final = "site-packages/"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """How much to time.

    Attributes:
        pairs: Timed pairs of batches (one batch of each application).
        requests: Requests per batch.
        profiled_pairs: Pairs of batches run under cProfile, after the timed ones.
        top: Rows in each profile table.
    """

    pairs: int
    requests: int
    profiled_pairs: int
    top: int


FULL: Final = Settings(pairs=40, requests=1_000, profiled_pairs=10, top=25)
QUICK: Final = Settings(pairs=4, requests=200, profiled_pairs=2, top=10)


# -- one request, the way uvicorn makes it ---------------------------------------------------


def _scope(user: str) -> dict[str, Any]:
    """The scope uvicorn (httptools) gives ``GET /flag`` with ``X-User: user``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 51234),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": "/flag",
        "raw_path": b"/flag",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (USER_HEADER.encode("ascii"), user.encode("ascii"))],
        # uvicorn hands every request a copy of the lifespan state.
        "state": {},
    }


_REQUEST: Final = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return _REQUEST


class _Response:
    """An ASGI send that keeps the status and the body."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body += message.get("body", b"")


async def _get(app: Litestar, user: str) -> _Response:
    response = _Response()
    await app(_scope(user), _receive, response)  # type: ignore[arg-type]
    return response


def _task(coroutine: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
    """Run ``coroutine`` in a task of its own, in an empty context, as uvicorn runs requests.

    Not in a copy of this task's context: the plugin's start-up ran in it and left a
    transaction context behind, which no request under uvicorn inherits. (A task copies
    the context it is created in; ``create_task(context=...)`` is Python 3.11+.)
    """
    return contextvars.Context().run(asyncio.get_running_loop().create_task, coroutine)


async def _serve(app: Litestar, scopes: Sequence[dict[str, Any]]) -> None:
    """Handle each scope in a task of its own, one after the other, as uvicorn does."""
    for scope in scopes:
        await _task(app(scope, _receive, _Response()))  # type: ignore[arg-type]


def _scopes(count: int) -> list[dict[str, Any]]:
    # Built before the timed loop: the application mutates its scope, so each request
    # needs a fresh one, and uvicorn's building of it is not what is measured.
    return [_scope(USERS[index % len(USERS)]) for index in range(count)]


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _App:
    """One of the two applications, and the propagator it would have in a process of its own."""

    name: str
    app: Litestar
    propagator: TransactionContextPropagator


@asynccontextmanager
async def _started() -> AsyncIterator[list[_App]]:
    """Both applications, on the one provider the plugin registers.

    Only the plugin application's lifespan runs: the plain one's would register a second
    provider as the default, replacing the plugin's. Both serve the same document from
    the same kind of provider, so each does the work it does in its own process. What
    differs between the two processes, the transaction-context propagator (the plugin
    installs the SDK's contextvars one; the plain application has the SDK's no-op), is
    set before each batch.
    """
    plain, plugin = (factory() for factory in _APPS.values())
    names = list(_APPS)
    contextvars_propagator = ContextVarsTransactionContextPropagator()
    # Installed first, so the plugin keeps it (it never replaces a working one).
    api.set_transaction_context_propagator(contextvars_propagator)
    async with plugin.lifespan():
        yield [
            _App(names[0], plain, NoOpTransactionContextPropagator()),
            _App(names[1], plugin, contextvars_propagator),
        ]


async def _check(apps: list[_App], expected: dict[str, bool]) -> None:
    """Fail unless each application answers every user as the provider does here."""
    for each in apps:
        api.set_transaction_context_propagator(each.propagator)
        for user, value in expected.items():
            response = await _task(_get(each.app, user))
            if response.status != 200 or json.loads(response.body) != {FLAG: value}:  # noqa: PLR2004 - HTTP OK
                raise RuntimeError(f"{each.name}: wrong answer for {user}: {response.status}")


async def _batch(
    each: _App, count: int, profile: cProfile.Profile | None = None
) -> tuple[int, int]:
    """Serve ``count`` requests; the CPU and wall-clock nanoseconds they took."""
    api.set_transaction_context_propagator(each.propagator)
    scopes = _scopes(count)
    gc.collect()
    gc.disable()
    try:
        if profile is not None:
            profile.enable()
        cpu, wall = process_time_ns(), perf_counter_ns()
        await _serve(each.app, scopes)
        wall, cpu = perf_counter_ns() - wall, process_time_ns() - cpu
        if profile is not None:
            profile.disable()
    finally:
        gc.enable()
    return cpu, wall


@dataclass
class Times:
    """Nanoseconds per request of each timed batch of one application, in pair order."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


async def _measure(settings: Settings) -> tuple[dict[str, Times], dict[str, pstats.Stats]]:
    expected = expected_answers()
    async with _started() as apps:
        await _check(apps, expected)
        for each in apps:  # warm-up
            await _batch(each, settings.requests)
        times = {each.name: Times() for each in apps}
        for pair in range(settings.pairs):
            # Back to back, in turns first, so that drift in the machine's speed hits both.
            for each in apps if pair % 2 == 0 else apps[::-1]:
                cpu, wall = await _batch(each, settings.requests)
                times[each.name].cpu.append(cpu / settings.requests)
                times[each.name].wall.append(wall / settings.requests)
        # cProfile's own (wall) clock: a CPU clock would make every call a system call,
        # and its cost would swamp the small functions that matter here.
        profiles = {each.name: cProfile.Profile() for each in apps}
        for pair in range(settings.profiled_pairs):
            for each in apps if pair % 2 == 0 else apps[::-1]:
                await _batch(each, settings.requests, profiles[each.name])
    if not settings.profiled_pairs:
        return times, {}
    return times, {name: pstats.Stats(profile) for name, profile in profiles.items()}


# -- the report ------------------------------------------------------------------------------


def _where(function: tuple[str, int, str]) -> str:
    """``package/module.py:line(name)``: the path from the project or site-packages on."""
    path, line, name = function
    if _SITE_PACKAGES in path:
        path = path.rpartition(_SITE_PACKAGES)[2]
    elif path.startswith(str(ROOT)):
        path = str(Path(path).relative_to(ROOT))
    return f"{path}:{line}({name})" if line else name


def _own_times(stats: pstats.Stats, count: int) -> dict[str, tuple[float, float]]:
    """Function → (calls per request, own µs per request)."""
    table: dict[str, tuple[float, float]] = {}
    for function, (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        table[_where(function)] = (calls / count, own * 1e6 / count)
    return table


def _profile_report(profiles: dict[str, pstats.Stats], settings: Settings) -> list[str]:
    count = settings.profiled_pairs * settings.requests
    plain, plugin = (_own_times(profiles[name], count) for name in _APPS)
    total_plain = sum(own for _, own in plain.values())
    total_plugin = sum(own for _, own in plugin.values())
    nothing = (0.0, 0.0)
    changes = sorted(
        ((plugin.get(key, nothing)[1] - plain.get(key, nothing)[1], key) for key in plain | plugin),
        key=lambda change: abs(change[0]),
        reverse=True,
    )
    lines = [
        "",
        (
            f"cProfile, {count:,} requests per application, profiled so slower: "
            f"{total_plain:.1f} µs/request without the plugin, {total_plugin:.1f} µs with it"
        ),
        "",
        "The largest changes in own time per request with the plugin (+ costs, - saves):",
        "",
        "| µs/request | calls/request without | with | function |",
        "| ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {added:+.2f} | {plain.get(key, nothing)[0]:.1f} | {plugin.get(key, nothing)[0]:.1f} "
        f"| `{key}` |"
        for added, key in changes[: settings.top]
    ]
    lines += [
        "",
        "The plugin application's most expensive functions (own time):",
        "",
        "| own µs/request | calls/request | function |",
        "| ---: | ---: | --- |",
    ]
    ranked = sorted(plugin.items(), key=lambda item: item[1][1], reverse=True)
    lines += [
        f"| {own:.2f} | {calls:.1f} | `{key}` |" for key, (calls, own) in ranked[: settings.top]
    ]
    return lines


def _report(times: dict[str, Times], settings: Settings) -> list[str]:
    plain, plugin = (times[name] for name in _APPS)
    added = sorted(
        (with_ - without) / 1e3 for with_, without in zip(plugin.cpu, plain.cpu, strict=True)
    )
    quartiles = statistics.quantiles(added, n=4)
    header = (
        f"litestar {package_version('litestar')}, openfeature-sdk "
        f"{package_version('openfeature-sdk')}, Python {platform.python_version()}; "
        f"{settings.pairs} interleaved pairs of batches of {settings.requests:,} requests, "
        "direct ASGI calls"
    )
    lines = [
        (
            "Litestar plugin overhead in process: µs per request of a JSON handler that "
            "evaluates one flag"
        ),
        header,
        "",
        "| app | CPU µs/request (median) | CPU µs/request (best) | wall µs/request (median) |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {statistics.median(each.cpu) / 1e3:.2f} | {min(each.cpu) / 1e3:.2f} | "
        f"{statistics.median(each.wall) / 1e3:.2f} |"
        for name, each in times.items()
    ]
    cost = statistics.median(added)
    share = cost / (statistics.median(plugin.cpu) / 1e3)
    # The best batches are the ones the machine disturbed least: their difference is the
    # steadier figure on a busy machine, the paired median the one less prone to luck.
    best = (min(plugin.cpu) - min(plain.cpu)) / 1e3
    lines += [
        "",
        (
            f"the plugin adds {cost:.2f} µs of CPU per request (median over the pairs; "
            f"quartiles {quartiles[0]:.2f} and {quartiles[2]:.2f}), "
            f"{share:.1%} of the plugin application's CPU time in process; "
            f"between the best batches {best:.2f} µs"
        ),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when an application answered wrongly.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plugin_overhead", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--pairs", type=int, help="timed pairs of batches")
    parser.add_argument("--requests", type=int, help="requests per batch")
    parser.add_argument("--top", type=int, help="rows in each cProfile table")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile tables")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    settings = Settings(
        pairs=args.pairs or base.pairs,
        requests=args.requests or base.requests,
        profiled_pairs=0 if args.no_profile else base.profiled_pairs,
        top=args.top or base.top,
    )
    try:
        times, profiles = asyncio.run(_measure(settings))
    except RuntimeError as exc:
        sys.stderr.write(f"benchmarks.plugin_overhead: {exc}\n")
        return 1
    finally:
        api.clear_providers()
        api.set_transaction_context_propagator(NoOpTransactionContextPropagator())
    lines = _report(times, settings)
    if settings.profiled_pairs:
        lines += _profile_report(profiles, settings)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

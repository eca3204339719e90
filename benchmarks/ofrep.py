"""``python -m benchmarks.ofrep``: OFREP evaluations per second over HTTP, and in process.

An application serving :func:`~openfeature_litestar.web.ofrep_router` on a
:class:`~openfeature_litestar.FlagProvider` (20 flags: static, targeted and fractional)
runs under uvicorn in a process of its own (one worker, no access log). A load
generator in this process keeps N HTTP/1.1 keep-alive connections busy on loopback,
each request a ``POST`` with a JSON context for one of 64 users:

* **single**: ``POST /ofrep/v1/evaluate/flags/{key}``, the flags taken in turn;
* **bulk**: ``POST /ofrep/v1/evaluate/flags``, every flag at once (with its ETag).

In the same run, a bare Litestar application under the same server settings answers
the same requests: its handlers decode the same JSON body and return a fixed JSON answer
(of the size ours gives), so ``ours / bare`` is what OFREP costs over the least any
Litestar endpoint with a JSON body costs. Our server and the bare one are loaded in
turn, several rounds each, and the median of the rounds is reported.

In the same run the same evaluations are timed in process
(:meth:`~openfeature_litestar.FlagProvider.resolve_any_details` and
:meth:`~openfeature_litestar.FlagProvider.resolve_all_details`, same contexts), so the
ratio shows what HTTP, JSON and the server cost on top of evaluation. The generator is
an asyncio one written for ``POST`` bodies (``benchmarks/plugin.py``'s sends ``GET``
requests only). ``--quick`` is a smoke run of about 15 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar import Litestar, Request, Response, post
from openfeature.evaluation_context import EvaluationContext

from benchmarks._uvicorn import Server, package_version, start_server, stop_server
from openfeature_litestar import FlagProvider, document_from_data
from openfeature_litestar.web import OFREPConfig, ofrep_router

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "BASE",
    "DOCUMENT",
    "FLAGS",
    "app",
    "bare_app",
    "context",
    "http_rate",
    "main",
    "request",
    "single_requests",
    "wait_until_ready",
]

USERS: Final = tuple(f"user-{number}" for number in range(64))
PLANS: Final = ("free", "pro", "team")
STARTUP_DEADLINE: Final = 60.0
BASE: Final = "/ofrep/v1/evaluate/flags"


def _document() -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for number in range(7):
        flags[f"static-{number}"] = {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on" if number % 2 else "off",
        }
    for number in range(7):
        flags[f"targeted-{number}"] = {
            "state": "ENABLED",
            "variants": {"pro": "pro-layout", "basic": "basic-layout"},
            "defaultVariant": "basic",
            "targeting": {
                "if": [{"in": [{"var": "plan"}, ["pro", "team"]]}, "pro", "basic"],
            },
        }
    for number in range(6):
        flags[f"rollout-{number}"] = {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 10 * (number + 1)], ["off", 90 - 10 * number]]},
        }
    return {"flags": flags}


DOCUMENT: Final = _document()
FLAGS: Final = tuple(DOCUMENT["flags"])


def context(index: int) -> dict[str, Any]:
    """The evaluation context of request ``index``: one of 64 users, one of three plans."""
    return {"targetingKey": USERS[index % len(USERS)], "plan": PLANS[index % len(PLANS)]}


def app() -> Litestar:
    """The OFREP application the benchmark loads (uvicorn factory).

    Returns:
        The application, with the provider initialized on start-up.
    """
    provider = FlagProvider(document_from_data(DOCUMENT))

    def start() -> None:
        provider.initialize(EvaluationContext())

    def stop() -> None:
        provider.shutdown()

    router = ofrep_router(OFREPConfig(public=True), provider)
    return Litestar([router], on_startup=[start], on_shutdown=[stop])


def _fixed_answers() -> tuple[bytes, bytes]:
    """A single-flag and a bulk answer as ours gives them, for the bare application."""
    provider = FlagProvider(document_from_data(DOCUMENT))
    provider.initialize(EvaluationContext())
    try:
        evaluation_context = EvaluationContext(USERS[0], {"plan": PLANS[0]})
        one = provider.resolve_any_details(FLAGS[0], evaluation_context)
        _, every = provider.resolve_all_details(evaluation_context)
    finally:
        provider.shutdown()

    def item(key: str, details: Any) -> dict[str, Any]:
        return {
            "key": key,
            "reason": str(details.reason),
            "variant": details.variant,
            "value": details.value,
            "metadata": dict(details.flag_metadata),
        }

    bulk = {"flags": [item(key, details) for key, details in every.items()]}
    return msgspec.json.encode(item(FLAGS[0], one)), msgspec.json.encode(bulk)


def bare_app() -> Litestar:
    """The baseline (uvicorn factory): OFREP's paths, the body decoded, a fixed answer.

    Returns:
        A Litestar application with no provider: what any JSON endpoint costs.
    """
    single, bulk = _fixed_answers()

    @post(f"{BASE}/{{key:str}}", status_code=200)
    async def evaluate_flag(request: Request[Any, Any, Any]) -> Response[bytes]:
        msgspec.json.decode(await request.body())
        return Response(single, media_type="application/json")

    @post(BASE, status_code=200)
    async def evaluate_flags(request: Request[Any, Any, Any]) -> Response[bytes]:
        msgspec.json.decode(await request.body())
        return Response(bulk, media_type="application/json")

    return Litestar([evaluate_flag, evaluate_flags])


# -- HTTP/1.1 on keep-alive connections ---------------------------------------------------


def request(path: str, evaluation_context: dict[str, Any]) -> bytes:
    """An HTTP/1.1 ``POST`` of ``evaluation_context`` to ``path``, keep-alive."""
    body = json.dumps({"context": evaluation_context}, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    length = 0
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(status_line.split(b" ", 2)[1]), await reader.readexactly(length)


async def _exchange(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        return await _response(reader)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _keep_busy(
    port: int, requests: Sequence[bytes], stop_at: float, offset: int, counts: list[int]
) -> None:
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while loop.time() < stop_at:
            writer.write(requests[index % len(requests)])
            status, _ = await _response(reader)
            counts[0 if status == 200 else 1] += 1  # noqa: PLR2004 - HTTP OK
            index += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _load(
    port: int, requests: Sequence[bytes], connections: int, duration: float
) -> tuple[int, int]:
    counts = [0, 0]
    stop_at = asyncio.get_running_loop().time() + duration
    await asyncio.gather(
        *(_keep_busy(port, requests, stop_at, n * 7, counts) for n in range(connections))
    )
    return counts[0], counts[1]


def http_rate(port: int, requests: Sequence[bytes], connections: int, duration: float) -> float:
    """Responses per second with ``connections`` keep-alive connections kept busy.

    Raises:
        RuntimeError: A response was not ``200 OK``.
    """
    ok, errors = asyncio.run(_load(port, requests, connections, duration))
    if errors:
        raise RuntimeError(f"{errors} responses were not 200 OK")
    return ok / duration


def single_requests() -> list[bytes]:
    """Single-flag evaluations: every flag for every user, in turn."""
    count = len(USERS) * len(FLAGS)
    return [
        request(f"{BASE}/{FLAGS[n % len(FLAGS)]}", context(n // len(FLAGS))) for n in range(count)
    ]


def _bulk_requests() -> list[bytes]:
    return [request(BASE, context(n)) for n in range(len(USERS))]


# -- in process -----------------------------------------------------------------------------


def _in_process_rate(evaluate: Callable[[int], object], duration: float) -> float:
    done, index = 0, 0
    stop_at = time.perf_counter() + duration
    while time.perf_counter() < stop_at:
        for _ in range(200):
            evaluate(index)
            index += 1
        done += 200
    return done / duration


def _in_process(duration: float) -> tuple[float, float]:
    provider = FlagProvider(document_from_data(DOCUMENT))
    provider.initialize(EvaluationContext())
    try:
        contexts = [
            EvaluationContext(user, {"plan": PLANS[n % len(PLANS)]}) for n, user in enumerate(USERS)
        ]

        def one(index: int) -> object:
            return provider.resolve_any_details(
                FLAGS[index % len(FLAGS)], contexts[(index // len(FLAGS)) % len(contexts)]
            )

        def bulk(index: int) -> object:
            return provider.resolve_all_details(contexts[index % len(contexts)])

        return _in_process_rate(one, duration), _in_process_rate(bulk, duration)
    finally:
        provider.shutdown()


def _check(server: Server) -> None:
    """Fail unless the server answers like the provider in this process."""
    provider = FlagProvider(document_from_data(DOCUMENT))
    provider.initialize(EvaluationContext())
    try:
        for n in range(len(USERS)):
            sent = context(n)
            status, body = asyncio.run(_exchange(server.port, request(BASE, sent)))
            if status != 200:  # noqa: PLR2004 - HTTP OK
                raise RuntimeError(f"bulk evaluation answered {status}: {body!r}")
            answers = {item["key"]: item.get("value") for item in json.loads(body)["flags"]}
            attributes = {"plan": sent["plan"]}
            _, expected = provider.resolve_all_details(
                EvaluationContext(sent["targetingKey"], attributes)
            )
            if answers != {key: found.value for key, found in expected.items()}:
                raise RuntimeError(f"the server's answers differ for {sent}")
    finally:
        provider.shutdown()


def wait_until_ready(server: Server) -> None:
    """Return once the server answers a bulk evaluation.

    Raises:
        RuntimeError: The server exited, or did not answer within a minute.
    """
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode})")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            status, _ = asyncio.run(_exchange(server.port, request(BASE, context(0))))
            if status == 200:  # noqa: PLR2004 - HTTP OK
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server is not answering after {STARTUP_DEADLINE} s")
        time.sleep(0.1)


# -- the run --------------------------------------------------------------------------------


@dataclass
class _Rates:
    """One mode's figures: ours and the bare application's over HTTP, ours in process."""

    ours: float
    bare: float
    in_process: float


def _report(rates: dict[str, _Rates], connections: int, duration: float, local: float) -> str:
    lines = [
        (
            f"OFREP evaluation: requests/s over HTTP vs. a bare Litestar endpoint and vs. "
            f"evaluations/s in process ({len(FLAGS)} flags)"
        ),
        (
            f"uvicorn {package_version('uvicorn')} (1 worker, --no-access-log), "
            f"litestar {package_version('litestar')}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
        ),
        (
            f"load: asyncio keep-alive generator, {connections} connections, {duration:g} s "
            f"per mode and server, median of {ROUNDS} rounds taken in turn; in process: "
            f"{local:g} s per mode, same contexts"
        ),
        "",
        (
            "| mode | OFREP requests/s | bare Litestar requests/s | OFREP / bare "
            "| in-process evaluations/s | OFREP / in-process |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, rate in rates.items():
        lines.append(
            f"| {mode} | {rate.ours:,.0f} | {rate.bare:,.0f} | {rate.ours / rate.bare:.3f} "
            f"| {rate.in_process:,.0f} | {rate.ours / rate.in_process:.4f} |"
        )
    return "\n".join(lines)


ROUNDS: Final = 3


def _http_rates(
    ours: Server, bare: Server, requests: Sequence[bytes], connections: int, duration: float
) -> tuple[float, float]:
    """The median rates of both servers over ROUNDS rounds, loaded in turn."""
    warmup = min(duration / 4, 2.0)
    for server in (ours, bare):
        http_rate(server.port, requests, connections, warmup)
    rounds: dict[str, list[float]] = {ours.name: [], bare.name: []}
    for _ in range(ROUNDS):
        for server in (ours, bare):
            rounds[server.name].append(http_rate(server.port, requests, connections, duration))
    return statistics.median(rounds[ours.name]), statistics.median(rounds[bare.name])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when the server failed or answered wrongly.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ofrep", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 15 s")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--duration", type=float, help="seconds of load per mode and round")
    args = parser.parse_args(argv)
    duration = args.duration or (1.0 if args.quick else 5.0)
    local = 1.0 if args.quick else 3.0
    ours = start_server("benchmarks.ofrep:app", "ours")
    bare = start_server("benchmarks.ofrep:bare_app", "bare")
    try:
        wait_until_ready(ours)
        wait_until_ready(bare)
        _check(ours)
        loads = {"single flag": single_requests(), f"bulk ({len(FLAGS)} flags)": _bulk_requests()}
        http = {
            mode: _http_rates(ours, bare, requests, args.connections, duration)
            for mode, requests in loads.items()
        }
    except (RuntimeError, OSError) as exc:
        sys.stderr.write(f"benchmarks.ofrep: {exc}\n")
        return 1
    finally:
        stop_server(ours)
        stop_server(bare)
    in_process = dict(zip(http, _in_process(local), strict=True))
    rates = {mode: _Rates(*http[mode], in_process[mode]) for mode in http}
    print(_report(rates, args.connections, duration, local))
    return 0


if __name__ == "__main__":
    sys.exit(main())

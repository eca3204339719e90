"""``python -m benchmarks.plugin``: what the Litestar plugin costs in requests per second.

Two copies of one trivial JSON handler that evaluates one flag (a 50/50 rollout on the
user id) run under uvicorn, each in its own process (one worker, no access log):

* **with the plugin**: :class:`~openfeature_litestar.web.OpenFeaturePlugin` builds each
  request's context (the targeting key from the ``X-User`` header, through
  ``ContextBuilder(client_targeting_key_header=...)``), makes it the transaction context
  and injects the client; the handler just asks for the flag;
* **without it**: the provider is registered on start-up by hand, and the handler reads
  the header, builds an ``EvaluationContext`` itself and passes it to the call.

A load generator on loopback keeps N HTTP/1.1 keep-alive connections busy for a fixed
time against one server at a time: ``wrk`` when it is installed, else the small asyncio
generator in this module, run in a process of its own. Rounds alternate between the two
servers (and which goes first), so drift in the machine's speed hits both alike; the
table gives each one's median requests per second over the rounds, and the ratio is the
median of the rounds' with/without ratios. The target is a plugin cost of at most 10 %
of throughput.

Before timing, every server is checked to answer each user as the provider does in this
process, so both do the same work. ``--quick`` is a smoke run of about 15 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread
from litestar import Litestar, Request, get
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from benchmarks._uvicorn import Server, package_version, start_server, stop_server
from openfeature_litestar import FlagProvider, document_from_data
from openfeature_litestar.web import ContextBuilder, OpenFeatureConfig, OpenFeaturePlugin

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature.client import OpenFeatureClient

__all__ = ["expected_answers", "main", "plain_app", "plugin_app"]

FLAG: Final = "new-checkout"
USER_HEADER: Final = "x-user"
USERS: Final = tuple(f"user-{number}" for number in range(64))
DOCUMENT: Final[dict[str, Any]] = {
    "flags": {
        FLAG: {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 50], ["off", 50]]},
        }
    }
}
TARGET_COST: Final = 0.10
STARTUP_DEADLINE: Final = 60.0


def _provider() -> FlagProvider:
    return FlagProvider(document_from_data(DOCUMENT))


# -- the two applications (uvicorn builds them with --factory) ------------------------------


@get("/flag")
async def flag_with_plugin(feature_flags: OpenFeatureClient) -> dict[str, bool]:
    """The flag for the request's user; the plugin supplies the client and the context."""
    return {FLAG: await feature_flags.get_boolean_value_async(FLAG, default_value=False)}


def plugin_app() -> Litestar:
    """The handler with :class:`OpenFeaturePlugin` (uvicorn factory).

    Returns:
        The application.
    """
    config = OpenFeatureConfig(
        provider=_provider(),
        context_builder=ContextBuilder(client_targeting_key_header=USER_HEADER),
    )
    return Litestar([flag_with_plugin], plugins=[OpenFeaturePlugin(config)])


@get("/flag")
async def flag_by_hand(request: Request[Any, Any, Any]) -> dict[str, bool]:
    """The flag for the request's user, with a context built here and passed on."""
    context = EvaluationContext(targeting_key=request.headers.get(USER_HEADER))
    client = api.get_client()
    value = await client.get_boolean_value_async(
        FLAG, default_value=False, evaluation_context=context
    )
    return {FLAG: value}


def plain_app() -> Litestar:
    """The handler without the plugin; the provider is registered on start-up (uvicorn factory).

    Returns:
        The application.
    """
    provider = _provider()

    async def register() -> None:
        await anyio.to_thread.run_sync(api.set_provider_and_wait, provider)

    async def unregister() -> None:
        await anyio.to_thread.run_sync(api.shutdown)

    return Litestar([flag_by_hand], on_startup=[register], on_shutdown=[unregister])


_APPS: Final = {
    "without plugin (hand-built context)": "plain_app",
    "with OpenFeaturePlugin": "plugin_app",
}


# -- the servers ----------------------------------------------------------------------------


async def _get(port: int, user: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request(user))
        return await _read_response(reader)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: the server exited ({server.process.returncode})")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            if asyncio.run(_get(server.port, USERS[0]))[0] == 200:  # noqa: PLR2004 - HTTP OK
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: not answering after {STARTUP_DEADLINE} s")
        time.sleep(0.1)


def expected_answers() -> dict[str, bool]:
    """Each user's value of the flag, from a provider registered in this process."""
    domain = "benchmarks-plugin-reference"
    api.set_provider_and_wait(_provider(), domain)
    try:
        client = api.get_client(domain)
        return {
            user: client.get_boolean_value(
                FLAG, default_value=False, evaluation_context=EvaluationContext(user)
            )
            for user in USERS
        }
    finally:
        api.clear_providers()


def _check_answers(server: Server, expected: dict[str, bool]) -> None:
    """Fail unless the server answers every user as the provider does here."""
    for user, value in expected.items():
        status, body = asyncio.run(_get(server.port, user))
        if status != 200 or json.loads(body) != {FLAG: value}:  # noqa: PLR2004 - HTTP OK
            raise RuntimeError(f"{server.name}: wrong answer for {user}: {status} {body!r}")


# -- the load generators --------------------------------------------------------------------


def _request(user: str) -> bytes:
    return f"GET /flag HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User: {user}\r\n\r\n".encode("ascii")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _keep_busy(port: int, stop_at: float, offset: int, counts: list[int]) -> None:
    """One keep-alive connection: request after request until ``stop_at``."""
    loop = asyncio.get_running_loop()
    requests = [_request(user) for user in USERS]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while loop.time() < stop_at:
            writer.write(requests[index % len(requests)])
            status, _ = await _read_response(reader)
            counts[0 if status == 200 else 1] += 1  # noqa: PLR2004 - HTTP OK
            index += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _python_load(port: int, connections: int, duration: float) -> tuple[int, int]:
    counts = [0, 0]
    stop_at = asyncio.get_running_loop().time() + duration
    await asyncio.gather(*(_keep_busy(port, stop_at, n, counts) for n in range(connections)))
    return counts[0], counts[1]


def _run_python_load(port: int, connections: int, duration: float) -> tuple[float, int]:
    """Requests per second and error count, from the asyncio generator in this process.

    This process does nothing else meanwhile, and each server runs in a process of its
    own, so the generator and the server under load each have a CPU to themselves on a
    machine with two or more.
    """
    ok, errors = asyncio.run(_python_load(port, connections, duration))
    return ok / duration, errors


_WRK_SCRIPT = """
local users = {}
for i = 0, 63 do users[i] = "user-" .. i end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/flag", {["X-User"] = users[n % 64]})
end
"""


def _run_wrk(
    wrk: str, port: int, connections: int, duration: float, script: Path
) -> tuple[float, int]:
    command = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "-s", str(script)]
    result = subprocess.run(  # noqa: S603 - the wrk found on PATH, fixed arguments
        [*command, f"http://127.0.0.1:{port}/flag"],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    rate = re.search(r"Requests/sec:\s*([\d.]+)", result.stdout)
    if rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{result.stdout}")
    errors = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", result.stdout)
    return float(rate.group(1)), int(errors.group(1)) if errors else 0


# -- the run --------------------------------------------------------------------------------


@dataclass
class Settings:
    """How long and how hard to load each server."""

    rounds: int
    duration: float
    warmup: float
    connections: int


@dataclass(frozen=True)
class Sample:
    """One round's figures for one server.

    Attributes:
        rate: Requests per second (wall clock).
        cpu_per_request: The server process's CPU seconds per request (user + system,
            all its threads), or ``None`` where ``/proc`` is missing. Other processes on
            the machine barely move it, unlike the rate.
    """

    rate: float
    cpu_per_request: float | None


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) process ``pid`` has used, from ``/proc`` (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3 of proc(5); utime and stime are 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(
    servers: list[Server], settings: Settings, wrk: str | None, work: Path
) -> dict[str, list[Sample]]:
    script = work / "users.lua"
    script.write_text(_WRK_SCRIPT, encoding="utf-8")

    def load(server: Server, duration: float) -> Sample:
        cpu_before = _cpu_seconds(server.process.pid)
        if wrk is not None:
            rate, errors = _run_wrk(wrk, server.port, settings.connections, duration, script)
        else:
            rate, errors = _run_python_load(server.port, settings.connections, duration)
        cpu_after = _cpu_seconds(server.process.pid)
        if errors:
            raise RuntimeError(f"{server.name}: {errors} responses were not 200 OK")
        if cpu_before is None or cpu_after is None or rate == 0:
            return Sample(rate, None)
        return Sample(rate, (cpu_after - cpu_before) / (rate * duration))

    for server in servers:
        load(server, settings.warmup)
    samples: dict[str, list[Sample]] = {server.name: [] for server in servers}
    for round_number in range(settings.rounds):
        order = servers if round_number % 2 == 0 else servers[::-1]
        for server in order:
            samples[server.name].append(load(server, settings.duration))
    return samples


def _paired_ratio(without: list[float], with_plugin: list[float]) -> float:
    """The median over the rounds of with/without.

    Each round runs the two back to back, so its ratio is the least touched by drift in
    the machine's speed.
    """
    return statistics.median(
        plugin / plain for plugin, plain in zip(with_plugin, without, strict=True)
    )


def _report(samples: dict[str, list[Sample]], settings: Settings, generator: str) -> str:
    without, with_plugin = (samples[name] for name in _APPS)
    rate_ratio = _paired_ratio([s.rate for s in without], [s.rate for s in with_plugin])
    header = (
        f"uvicorn {package_version('uvicorn')} (1 worker, --no-access-log), "
        f"litestar {package_version('litestar')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    load = (
        f"load: {generator}, {settings.connections} keep-alive connections, "
        f"{settings.rounds} interleaved rounds of {settings.duration:g} s per app"
    )
    lines = [
        "Litestar plugin overhead: requests/s of a JSON handler that evaluates one flag",
        header,
        load,
        "",
        "| app | requests/s (median) | server CPU per request (median) | requests/s by round |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, rounds in samples.items():
        rate = statistics.median(sample.rate for sample in rounds)
        cpu = [sample.cpu_per_request for sample in rounds if sample.cpu_per_request is not None]
        cpu_text = f"{statistics.median(cpu) * 1e6:,.0f} µs" if cpu else "n/a"
        each = " ".join(f"{sample.rate:,.0f}" for sample in rounds)
        lines.append(f"| {name} | {rate:,.0f} | {cpu_text} | {each} |")
    lines += ["", _verdict("throughput with/without (wall clock)", rate_ratio)]
    cpu_without = [s.cpu_per_request for s in without if s.cpu_per_request is not None]
    cpu_with = [s.cpu_per_request for s in with_plugin if s.cpu_per_request is not None]
    if len(cpu_without) == len(cpu_with) == settings.rounds:
        # A one-worker server at saturation serves 1 / (CPU per request) requests a second.
        lines.append(_verdict("throughput from server CPU", _paired_ratio(cpu_with, cpu_without)))
    return "\n".join(lines)


def _verdict(what: str, ratio: float) -> str:
    within = "within" if 1 - ratio <= TARGET_COST else "over"
    return (
        f"{what}: {ratio:.3f}, the plugin costs {1 - ratio:.1%} "
        f"(target at most {TARGET_COST:.0%}: {within})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when a server failed or answered wrongly.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plugin", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 15 s")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per app")
    parser.add_argument("--duration", type=float, help="seconds of load per round")
    parser.add_argument("--python-load", action="store_true", help="never use wrk")
    args = parser.parse_args(argv)
    settings = Settings(
        rounds=args.rounds or (3 if args.quick else 5),
        duration=args.duration or (1.5 if args.quick else 5.0),
        warmup=0.5 if args.quick else 2.0,
        connections=args.connections,
    )
    wrk = None if args.python_load else shutil.which("wrk")
    generator = "wrk (1 thread)" if wrk else "the asyncio generator of benchmarks/plugin.py"
    servers = [
        start_server(f"benchmarks.plugin:{factory}", name) for name, factory in _APPS.items()
    ]
    try:
        expected = expected_answers()
        for server in servers:
            _wait_until_ready(server)
            _check_answers(server, expected)
        with tempfile.TemporaryDirectory(prefix="openfeature-litestar-bench-") as work:
            samples = _measure(servers, settings, wrk, Path(work))
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        sys.stderr.write(f"benchmarks.plugin: {exc}\n")
        return 1
    finally:
        for server in servers:
            stop_server(server)
    print(_report(samples, settings, generator))
    return 0


if __name__ == "__main__":
    sys.exit(main())

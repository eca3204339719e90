"""Command line: set up every implementation, check its answers, time it, print the table.

Usage: ``uv run --group bench python -m benchmarks [--quick] [--markdown] [--cases abc]``.

Progress goes to standard error, the report to standard output. The exit status is 0
when the run completed (whether or not every target was met: the table says), 1 when an
implementation gave a wrong answer (nothing is timed then), and 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from time import perf_counter, perf_counter_ns
from typing import TYPE_CHECKING, Any, Final

from benchmarks.cases import (
    ROLLOUT_FLAG,
    Case,
    Subject,
    build_cases,
    flagd_v2_rollout,
    flagd_v3_rollout,
    litestar_flags_rollout,
)
from benchmarks.peers import (
    CLIENT,
    DIRECT_ASYNC,
    DIRECT_SYNC,
    FLOOR_PEER,
    Bench,
    Setup,
    build_setup,
)
from benchmarks.report import HOOK_HEADINGS, Row, format_ratio, render_markdown, render_text
from benchmarks.timing import FULL, QUICK, Measurement, Settings, measure, measure_all

if TYPE_CHECKING:
    from collections.abc import Sequence

_PATH_ORDER: Final = {CLIENT: 0, DIRECT_SYNC: 1, DIRECT_ASYNC: 2}
_MAX_SHOWN_MISMATCHES: Final = 5

METHOD = (
    "Each row: perf_counter_ns around batches of calls over pre-built contexts (cycled), "
    "batch size calibrated to ~{batch_ms:g} ms, {warmups} warm-up batch, {repeats} timed "
    "batches, gc disabled while timing; the rows of a case are timed in interleaved "
    "rounds (one batch of each per round), so changes in the machine's load hit them "
    "alike. Reported: the best batch (and the median for "
    "spread). Best, because on a shared machine noise only ever adds time, so the fastest "
    "batch is the closest estimate of the code's own cost; ratios use the best of both "
    "rows. Async rows await every call inside one running event loop (loop start-up not "
    "timed)."
)


class CorrectnessError(Exception):
    """An implementation gave an answer that differs from the plain Python reference."""


@dataclass(frozen=True)
class Result:
    """A bench and its measurement."""

    bench: Bench
    measurement: Measurement


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv: Arguments without the program name; None reads ``sys.argv``.

    Returns:
        The options.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Time openfeature-litestar against the OpenFeature SDK's InMemoryProvider, "
            "openfeature-flagd-core and litestar-flags, side by side in one run."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: a few thousand calls per row (checks it runs; numbers are noisy)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the report as Markdown (for the README)"
    )
    parser.add_argument(
        "--cases",
        default="abc",
        help="which cases to run, any of a, b, c (default: abc)",
    )
    options = parser.parse_args(argv)
    unknown = set(options.cases) - set("abc")
    if unknown or not options.cases:
        parser.error(f"--cases takes letters from 'abc', got {options.cases!r}")
    return options


def sample(total: int, count: int) -> list[int]:
    """Pick ``count`` indices spread evenly over ``range(total)`` (all of them if fewer).

    Args:
        total: How many inputs the case has.
        count: How many to pick.

    Returns:
        Increasing indices.
    """
    if count >= total:
        return list(range(total))
    return [index * total // count for index in range(count)]


def check(bench: Bench, case: Case, subjects: Sequence[Subject], contexts: Sequence[Any]) -> None:
    """Compare ``bench``'s answers with the plain Python reference.

    Args:
        bench: The implementation set up for ``case``.
        case: The case.
        subjects: The inputs checked.
        contexts: The same inputs in the bench's context type.

    Raises:
        CorrectnessError: On the first mismatches, naming the inputs, the answers and
            the expected answers.
    """
    answers = bench.evaluate_many(contexts)
    if len(answers) != len(subjects):
        raise CorrectnessError(
            f"{bench.label} ({bench.path}) on {case.title}: "
            f"{len(answers)} answers for {len(subjects)} inputs"
        )
    wrong = [
        (subject, answer, bench.expected(subject))
        for subject, answer in zip(subjects, answers, strict=True)
        if answer is not bench.expected(subject)
    ]
    if wrong:
        shown = "\n".join(
            f"    {subject}: got {answer!r}, expected {expected!r}"
            for subject, answer, expected in wrong[:_MAX_SHOWN_MISMATCHES]
        )
        raise CorrectnessError(
            f"{bench.label} ({bench.path}) on {case.title}: {len(wrong)} of "
            f"{len(subjects)} answers differ from the reference, e.g.:\n{shown}"
        )


class Contexts:
    """Each case's inputs converted to each context type, built once and shared."""

    def __init__(self) -> None:
        """Start empty."""
        self._built: dict[tuple[str, str], list[Any]] = {}

    def get(self, case: Case, bench: Bench) -> list[Any]:
        """Return ``case``'s inputs in ``bench``'s context type.

        Args:
            case: The case.
            bench: The bench (its ``context_kind`` and ``to_context``).

        Returns:
            One context per subject, in the subjects' order.
        """
        key = (case.key, bench.context_kind)
        if key not in self._built:
            self._built[key] = [bench.to_context(subject) for subject in case.subjects]
        return self._built[key]


def loop_overhead(settings: Settings) -> float:
    """Measure the harness's own cost per call: a ``for`` loop calling a no-op function.

    Args:
        settings: The run's settings.

    Returns:
        Nanoseconds per call (best batch). It is included in every row, not subtracted.
    """

    def nothing(_context: object) -> None:
        return None

    def time_batch(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            nothing(context)
        return perf_counter_ns() - start

    return measure(time_batch, list(range(1000)), settings).best


def ordered(benches: Sequence[Bench]) -> list[Bench]:
    """Return ``benches`` in table order: by path, ours first within a path.

    Args:
        benches: One case's benches.

    Returns:
        The sorted list (stable within equal keys).
    """
    return sorted(benches, key=lambda bench: (_PATH_ORDER[bench.path], not bench.ours))


def rows_for(case: Case, results: Sequence[Result]) -> list[Row]:
    """Build the table rows of one case, with each peer's ratio to ours on its path.

    Args:
        case: The case.
        results: Its results, in table order.

    Returns:
        The rows.
    """
    ours = {result.bench.path: result.measurement for result in results if result.bench.ours}
    floors = {
        result.bench.path: result.measurement
        for result in results
        if result.bench.peer == FLOOR_PEER
    }
    rows = []
    for result in results:
        bench = result.bench
        ratio = floor_ratio = None
        if bench.overhead and bench.path in ours:
            ratio = result.measurement.best / ours[bench.path].best
        elif not bench.ours and bench.path in ours:
            ratio = ours[bench.path].best / result.measurement.best
        if bench.overhead and bench.peer != FLOOR_PEER and bench.path in floors:
            floor_ratio = result.measurement.best / floors[bench.path].best
        rows.append(
            Row(
                case=case.title,
                path=bench.path,
                implementation=bench.label,
                measurement=result.measurement,
                ratio=ratio,
                target=bench.targets.get(case.key),
                overhead=bench.overhead,
                floor_ratio=floor_ratio,
            )
        )
    return rows


def rollout_split(case: Case) -> str:
    """Describe the share of case (c)'s users each bucketing scheme puts in the "on" half.

    Args:
        case: Case (c).

    Returns:
        A sentence with one percentage per scheme.
    """
    ids = [subject.targeting_key for subject in case.subjects]
    shares = []
    for name, scheme in (
        ("flagd v2 (ours, InMemoryProvider)", flagd_v2_rollout),
        ("flagd v3/CBOR (flagd-core)", flagd_v3_rollout),
        ("litestar-flags", litestar_flags_rollout),
    ):
        on = sum(scheme(ROLLOUT_FLAG, user) for user in ids)
        shares.append(f"{name} {100 * on / len(ids):.1f}%")
    return "Share of the ids in the 50% rollout, by bucketing: " + ", ".join(shares) + "."


def header(settings: Settings, setup: Setup, overhead_ns: float) -> list[str]:
    """Return the report's header lines.

    Args:
        settings: The run's settings.
        setup: The implementations (their versions).
        overhead_ns: The measured loop overhead.

    Returns:
        The lines.
    """
    versions = ", ".join(f"{name} {version}" for name, version in sorted(setup.versions.items()))
    return [
        f"openfeature-litestar evaluation benchmark ({settings.name} run"
        + ("; numbers are only a smoke test" if settings is QUICK else "")
        + ")",
        (
            f"Python {platform.python_version()} ({platform.python_implementation()}) on "
            f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs"
        ),
        f"Packages: {versions}",
        METHOD.format(
            batch_ms=settings.batch_ns / 1e6,
            warmups=settings.warmups,
            repeats=settings.repeats,
        ),
        (
            "Harness overhead (a for loop calling a no-op), included in every row: "
            f"{overhead_ns:.0f} ns/call."
        ),
    ]


BUSY_SHARE: Final = 0.9


def busy_warning(rows: Sequence[Row]) -> str:
    """Say how much of the reported batches' wall-clock time the benchmark had a CPU for.

    Args:
        rows: The table's rows.

    Returns:
        A line for the header: a warning, naming the row, when some row's reported batch
        got less than 90% of a CPU.
    """
    if not rows:
        return "No rows were timed."
    lowest = min(rows, key=lambda row: row.measurement.cpu_share)
    share = 100 * lowest.measurement.cpu_share
    if lowest.measurement.cpu_share < BUSY_SHARE:
        return (
            f"WARNING: the machine was busy: in the batch reported for {lowest.case}, "
            f"{lowest.path}, {lowest.implementation}, the benchmark had a CPU only "
            f"{share:.0f}% of the wall-clock time (other processes were competing); "
            "numbers and ratios may be off, re-run on an idle machine."
        )
    return (
        f"CPU share in every reported batch: at least {share:.0f}% (the machine was quiet enough)."
    )


def notes(cases: Sequence[Case], setup: Setup, rows: Sequence[Row]) -> list[str]:
    """Return the lines printed after the table.

    Args:
        cases: The cases run.
        setup: The implementations (what was unavailable).
        rows: The table's rows (for the targets missed).

    Returns:
        The lines.
    """
    lines = [
        "Cases: " + "; ".join(case.description for case in cases) + ".",
        (
            "ours ÷ this: openfeature-litestar's time on the same path divided by this "
            "row's (below 1.00x, ours is faster). Paths: client = "
            "client.get_boolean_value(); direct = the provider's resolve_boolean_details() "
            "(FlagdCore: resolve_boolean_value()); direct async = awaited resolver in one "
            "event loop."
        ),
        (
            "Every implementation was checked against a plain Python reference before "
            "timing. litestar-flags has no JSON Logic: it gets the same three conditions "
            "and a 50% rollout in its own rule model. The InMemoryProvider's targeting is a "
            "hand-written Python function (the floor)."
        ),
    ]
    if any(row.overhead for row in rows):
        lines.append(
            "Hooks: openfeature-litestar through client.get_boolean_value() with hooks "
            "registered on the client; this ÷ no hooks: its time divided by the same call's "
            "without hooks (the client row of the first table), the ratio the issue's "
            "target is about. The SDK itself adds a HookContext and four hook stages per "
            "registered hook: the first row registers one hook that does nothing, and "
            "this ÷ no-op hook divides each row's time by that floor, which no hook can "
            "go below."
        )
    lines.extend(rollout_split(case) for case in cases if case.key == "c")
    lines.extend(f"Not measured: {line}" for line in setup.unavailable)
    lines.extend(remark() for remark in setup.remarks)
    missed = [row for row in rows if row.met is False]
    if missed:
        lines.append(
            "Targets missed: "
            + "; ".join(
                f"{row.case}, {row.path}, {'' if row.overhead else 'vs '}{row.implementation}: "
                f"{format_ratio(row.ratio)} > {row.target:.2f}x"
                for row in missed
            )
        )
    elif any(row.met for row in rows):
        lines.append("Every target with a value was met.")
    return lines


def run(options: argparse.Namespace) -> int:
    """Run the benchmark described by ``options`` and print the report.

    Args:
        options: From :func:`parse_args`.

    Returns:
        The exit status.
    """
    started = perf_counter()
    settings = QUICK if options.quick else FULL
    cases = tuple(case for case in build_cases() if case.key in options.cases)
    progress(f"setting up {len(cases)} case(s)")
    setup = build_setup(cases)
    try:
        contexts = Contexts()
        for case in cases:
            picked = sample(len(case.subjects), settings.check_sample)
            subjects = [case.subjects[index] for index in picked]
            for bench in setup.benches.get(case.key, []):
                progress(f"checking {case.key}: {bench.label} ({bench.path})")
                everything = contexts.get(case, bench)
                check(bench, case, subjects, [everything[index] for index in picked])
        overhead = loop_overhead(settings)
        rows: list[Row] = []
        for case in cases:
            benches = ordered(setup.benches.get(case.key, []))
            progress(f"timing {case.key}: {len(benches)} implementations, interleaved")
            measurements = measure_all(
                [(bench.time_batch, contexts.get(case, bench)) for bench in benches], settings
            )
            results = [
                Result(bench, measurement)
                for bench, measurement in zip(benches, measurements, strict=True)
            ]
            rows.extend(rows_for(case, results))
    except CorrectnessError as error:
        progress(f"ABORTED: wrong answer, nothing timed is reported.\n{error}")
        return 1
    finally:
        setup.close()
    head = header(settings, setup, overhead)
    head.append(busy_warning(rows))
    print_report(
        head,
        rows,
        notes(cases, setup, rows),
        markdown=options.markdown,
    )
    progress(f"done in {perf_counter() - started:.1f} s")
    return 0


def print_report(
    head: Sequence[str], rows: Sequence[Row], tail: Sequence[str], *, markdown: bool
) -> None:
    """Print the header, the table, the hooks table (when measured) and the notes.

    Args:
        head: Header lines.
        rows: Table rows (the hook rows are printed in a table of their own).
        tail: Note lines.
        markdown: Markdown instead of plain text.
    """
    render = render_markdown if markdown else render_text
    tables = [render([row for row in rows if not row.overhead])]
    hook_rows = [row for row in rows if row.overhead]
    if hook_rows:
        tables.append(render(hook_rows, HOOK_HEADINGS))
    if markdown:
        print(f"**{head[0]}**\n")
        print("\n".join(f"- {line}" for line in head[1:]))
        for table in tables:
            print()
            print(table)
        print()
        print("\n".join(f"- {line}" for line in tail))
        return
    print("\n".join(head))
    for table in tables:
        print()
        print(table)
    print()
    print("\n".join(tail))


def progress(message: str) -> None:
    """Write a progress line to standard error.

    Args:
        message: The line.
    """
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``.

    Args:
        argv: Arguments without the program name; None reads ``sys.argv``.

    Returns:
        The exit status.
    """
    return run(parse_args(argv))

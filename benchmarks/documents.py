"""``python -m benchmarks.documents``: loading a document whose flags share large evaluators.

One document holds ``--flags`` flags (10,000 by default, the most a document may hold),
each naming one of three large ``$evaluators`` entries: a 9,000-id allow-list, a
2,000-domain list and a chain of 400 comparisons. Loading it is timed (median of
``--rounds`` loads) and its peak memory traced (one more load, under ``tracemalloc``),
for openfeature-litestar (:func:`~openfeature_litestar.parse_document`, which validates
and compiles every flag) and, in the same run, openfeature-flagd-core
(``FlagdCore.set_flags``, which flagd's Python in-process provider uses). The ratio is
ours ÷ flagd-core; below 1 is faster or smaller.

Both get the same JSON text and are checked to answer the same for a few contexts
before anything is timed.

In the same run, a write of one flag to the loaded document is timed (median of
``--rounds``): what a store builds off the event loop for a one-flag write (the new
document and its audited changes). Only the written flag is validated and compiled; the
ratio to our load is what the write would cost if the whole document were built again.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import platform
import statistics
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Any, Final

from openfeature.evaluation_context import EvaluationContext

from benchmarks._uvicorn import package_version
from openfeature_litestar import FlagDocument, Snapshot, parse_document
from openfeature_litestar._stores._writes import next_document, with_flag
from openfeature_litestar.evaluation import resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["document_text", "main"]

EVALUATORS: Final = ("allowed-ids", "blocked-domains", "age-bands")
CHECKS: Final = (
    {"id": 8_999, "domain": "example.org", "age": 30},
    {"id": 9_001, "domain": "d1999.example", "age": 30},
    {"id": 5, "domain": "d7.example", "age": 399},
)


def _evaluators() -> dict[str, Any]:
    bands = [{">": [{"var": "age"}, number]} for number in range(400)]
    return {
        "allowed-ids": {"in": [{"var": "id"}, list(range(9_000))]},
        "blocked-domains": {"in": [{"var": "domain"}, [f"d{n}.example" for n in range(2_000)]]},
        "age-bands": {"and": bands},
    }


def document_text(flags: int) -> str:
    """The document: ``flags`` flags, each naming one of the three evaluators in turn."""
    definitions = {
        f"flag-{number:05}": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"$ref": EVALUATORS[number % 3]}, "on", "off"]},
        }
        for number in range(flags)
    }
    return json.dumps({"$evaluators": _evaluators(), "flags": definitions})


def _load_ours(text: str) -> Callable[[str, dict[str, Any]], object]:
    snapshot = Snapshot.from_document(parse_document(text))

    def answer(key: str, attributes: dict[str, Any]) -> object:
        context = EvaluationContext("user", attributes)
        return resolve(snapshot, key, context, None, default=None).value

    return answer


def _load_flagd_core(text: str) -> Callable[[str, dict[str, Any]], object]:
    from openfeature.contrib.tools.flagd.core import FlagdCore  # noqa: PLC0415 - optional peer

    core = FlagdCore()
    core.set_flags(text)

    def answer(key: str, attributes: dict[str, Any]) -> object:
        context = EvaluationContext("user", attributes)
        return core.resolve_boolean_value(flag_key=key, default_value=False, ctx=context).value

    return answer


def _timed(load: Callable[[str], object], text: str, rounds: int) -> tuple[float, int]:
    """The median seconds of ``rounds`` loads, and one load's peak traced bytes."""
    seconds = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        loaded = load(text)
        seconds.append(time.perf_counter() - start)
        del loaded
    gc.collect()
    tracemalloc.start()
    try:
        loaded = load(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del loaded
    return statistics.median(seconds), peak


def _write(key: str, definition: dict[str, Any], current: FlagDocument) -> FlagDocument:
    return with_flag(current, key, definition)


def _timed_write(text: str, rounds: int) -> float:
    """The median seconds of a one-flag write to the document of ``text``."""
    stored = parse_document(text)
    definition = {
        "state": "DISABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "on",
    }
    seconds = []
    for number in range(rounds):
        key = f"flag-{number:05}"
        start = time.perf_counter()
        after, changes = next_document(functools.partial(_write, key, definition), stored)
        seconds.append(time.perf_counter() - start)
        if [change.flag_key for change in changes] != [key] or after.flags[key].state != "DISABLED":
            raise RuntimeError(f"the write of {key} did not write exactly that flag")
    return statistics.median(seconds)


def _check(
    loaders: dict[str, Callable[[str], Callable[[str, dict[str, Any]], object]]], text: str
) -> None:
    keys = [f"flag-{number:05}" for number in range(3)]
    answers = {name: load(text) for name, load in loaders.items()}
    for key in keys:
        for attributes in CHECKS:
            found = {name: answer(key, attributes) for name, answer in answers.items()}
            if len(set(found.values())) != 1:
                raise RuntimeError(f"the implementations differ for {key}, {attributes}: {found}")


def _report(results: dict[str, tuple[float, int]], text: str, flags: int, rounds: int) -> str:
    ours_seconds, ours_peak = results["openfeature-litestar"]
    lines = [
        (
            f"Loading {flags:,} flags that share 3 large evaluators "
            f"({len(text) / 2**20:.2f} MiB of JSON)"
        ),
        (
            f"openfeature-flagd-core {package_version('openfeature-flagd-core')}, "
            f"Python {platform.python_version()}; median of {rounds} loads, peak of one "
            "load under tracemalloc"
        ),
        "",
        "| implementation | load s | peak MiB | ours ÷ it (time) | ours ÷ it (memory) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, (seconds, peak) in results.items():
        lines.append(
            f"| {name} | {seconds:.3f} | {peak / 2**20:.1f} | "
            f"{ours_seconds / seconds:.3f}x | {ours_peak / peak:.3f}x |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when the implementations answer differently.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.documents", description=__doc__)
    parser.add_argument("--flags", type=int, default=10_000, help="flags in the document")
    parser.add_argument("--rounds", type=int, default=5, help="timed loads per implementation")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 flags, 1 round")
    args = parser.parse_args(argv)
    flags, rounds = (300, 1) if args.quick else (args.flags, args.rounds)
    text = document_text(flags)
    loaders: dict[str, Callable[[str], Callable[[str, dict[str, Any]], object]]] = {
        "openfeature-litestar": _load_ours
    }
    try:
        import openfeature.contrib.tools.flagd.core  # noqa: F401, PLC0415 - is it installed?
    except ImportError:
        sys.stderr.write("benchmarks.documents: openfeature-flagd-core is not installed\n")
    else:
        loaders["openfeature-flagd-core"] = _load_flagd_core
    try:
        _check(loaders, text)
    except RuntimeError as exc:
        sys.stderr.write(f"benchmarks.documents: {exc}\n")
        return 1
    results = {name: _timed(load, text, rounds) for name, load in loaders.items()}
    try:
        write = _timed_write(text, rounds)
    except RuntimeError as exc:
        sys.stderr.write(f"benchmarks.documents: {exc}\n")
        return 1
    print(_report(results, text, flags, rounds))
    load = results["openfeature-litestar"][0]
    print()
    print(f"Writing one flag of the {flags:,}: median of {rounds} writes")
    print()
    print("| operation | s | write ÷ our load |")
    print("| --- | ---: | ---: |")
    print(f"| one-flag write | {write:.4f} | {write / load:.4f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``evaluate --compare FROM TO``: who would move between buckets if the version changed.

One flag of a document is resolved for many subjects under two ``fractional`` bucketing
versions (the same pure function every provider uses), and the outcomes are tallied:
how many subjects keep their variant, which move where, and each variant's share before
and after. Subjects come from a file (one key per line) or a generated sample
(``user-1`` ... ``user-N``); each key is the targeting key, or the context attribute
``--key-attribute`` names, on top of ``--context``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, Final, TextIO

from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar._snapshot import Snapshot
from openfeature_litestar.evaluation import resolve

from ._hints import did_you_mean
from ._outcomes import EXIT_OK, UsageError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Sequence

    from openfeature.flag_evaluation import FlagResolutionDetails

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._engine import FractionalVersion

__all__ = ["DEFAULT_SAMPLE", "compare"]

DEFAULT_SAMPLE: Final = 10_000
"""How many generated keys ``--compare`` uses when neither ``--keys`` nor ``--sample`` is given."""

_SHOWN_MOVES: Final = 10


def _outcome(details: FlagResolutionDetails[Any]) -> str:
    """What a subject gets, as one label: the variant's name, else the reason or error."""
    if details.variant is not None:
        return details.variant
    if details.error_code is not None:
        return f"(error {details.error_code.value})"
    return f"({details.reason})"


def _file_keys(path: str) -> Iterator[str]:
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115, PTH123 - closed below
    except OSError as exc:
        raise UsageError(f"cannot read --keys {path}: {exc.strerror}") from None
    with stream:
        for line in stream:
            key = line.rstrip("\r\n")
            if key:
                yield key


def _keys(args: argparse.Namespace) -> tuple[list[str], str]:
    if args.keys is not None:
        keys = list(_file_keys(args.keys))
        if not keys:
            raise UsageError(f"--keys {args.keys} holds no keys (one a line)")
        return keys, "keys from standard input" if args.keys == "-" else f"keys from {args.keys}"
    count = args.sample if args.sample is not None else DEFAULT_SAMPLE
    return [f"user-{number}" for number in range(1, count + 1)], "a generated sample"


def _subject(base: EvaluationContext, path: Sequence[str] | None, key: str) -> EvaluationContext:
    if path is None:
        return EvaluationContext(key, base.attributes)
    attributes = dict(base.attributes)
    here: dict[str, Any] = attributes
    for part in path[:-1]:
        inner = here.get(part)
        here[part] = inner = dict(inner) if isinstance(inner, dict) else {}
        here = inner
    here[path[-1]] = key
    return EvaluationContext(base.targeting_key, attributes)


def compare(
    args: argparse.Namespace, document: FlagDocument, base: EvaluationContext, out: TextIO
) -> int:
    """Resolve ``args.flag`` for every key under both versions; print who moves."""
    old, new = args.compare
    if old == new:
        raise UsageError(f"--compare needs two different versions, not {old} twice")
    if args.flag not in document.flags:
        hint = did_you_mean(args.flag, document.flags)
        raise UsageError(f"{args.file} has no flag {args.flag!r}{hint}")
    keys, source = _keys(args)
    path = args.key_attribute.split(".") if args.key_attribute else None
    versions: tuple[FractionalVersion, FractionalVersion] = (old, new)
    before, after = (Snapshot.from_document(document, fractional=v) for v in versions)
    transitions: Counter[tuple[str, str]] = Counter()
    moved: list[dict[str, str]] = []
    for key in keys:
        context = _subject(base, path, key)
        was = _outcome(resolve(before, args.flag, context, None, None))
        now = _outcome(resolve(after, args.flag, context, None, None))
        transitions[was, now] += 1
        if was != now:
            moved.append({"key": key, "from": was, "to": now})
    report = _report(
        args.flag,
        versions=versions,
        total=len(keys),
        source=source,
        transitions=transitions,
        moved=moved,
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False), file=out)
    else:
        _print_table(report, out)
    return EXIT_OK


def _report(
    flag: str,
    *,
    versions: tuple[str, str],
    total: int,
    source: str,
    transitions: Counter[tuple[str, str]],
    moved: list[dict[str, str]],
) -> dict[str, Any]:
    old, new = versions
    labels = sorted({label for pair in transitions for label in pair})
    shares = {
        old: {label: sum(n for (a, _), n in transitions.items() if a == label) for label in labels},
        new: {label: sum(n for (_, b), n in transitions.items() if b == label) for label in labels},
    }
    return {
        "flag": flag,
        "from": old,
        "to": new,
        "keys": total,
        "source": source,
        "moved": len(moved),
        "outcomes": labels,
        "counts": shares,
        "transitions": [
            {"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items())
        ],
        "moved_keys": moved,
    }


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def _print_table(report: dict[str, Any], out: TextIO) -> None:
    old, new, total, moved = report["from"], report["to"], report["keys"], report["moved"]
    labels: list[str] = report["outcomes"]
    cells = {(t["from"], t["to"]): t["count"] for t in report["transitions"]}
    print(f"{report['flag']}: {old} -> {new} over {total:,} keys ({report['source']})", file=out)
    print(f"moved: {moved:,} of {total:,} ({_percent(moved, total)})", file=out)
    print(file=out)
    corner = f"{old} \\ {new}"
    width = max(len(corner), *(len(label) for label in labels))
    column = max(8, *(len(label) for label in labels))
    print(f"{corner:<{width}}  " + "  ".join(f"{b:>{column}}" for b in labels), file=out)
    for a in labels:
        row = "  ".join(f"{cells.get((a, b), 0):>{column},}" for b in labels)
        print(f"{a:<{width}}  {row}", file=out)
    print(file=out)
    print(f"{'share':<{width}}  {old:>{column}}  {new:>{column}}", file=out)
    for label in labels:
        shares = (report["counts"][old][label], report["counts"][new][label])
        row = "  ".join(f"{_percent(n, total):>{column}}" for n in shares)
        print(f"{label:<{width}}  {row}", file=out)
    if moved:
        print(file=out)
        shown = report["moved_keys"][:_SHOWN_MOVES]
        more = f" (first {len(shown)} of {moved:,}; --json lists all)" if moved > len(shown) else ""
        print(f"moved keys{more}:", file=out)
        key_width = max(len(entry["key"]) for entry in shown)
        for entry in shown:
            print(f"  {entry['key']:<{key_width}}  {entry['from']} -> {entry['to']}", file=out)

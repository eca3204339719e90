"""The results table, as aligned text or as Markdown.

One row per implementation and case. openfeature-litestar's rows carry no ratio; each
peer's row shows ``ours ÷ this``: our time on the same path (client, direct, or direct
async) divided by the peer's time, measured in the same run. Below 1.00x we are faster.

A second table shows openfeature-litestar through the client with its hooks; its ratio
is the other way round, ``this ÷ no hooks``: the time with the hooks divided by the time
of the same client call without them, measured in the same run. Its first row is the
client with one hook that does nothing (the SDK's own cost of a registered hook), and
``this ÷ no-op hook`` divides each row's time by that floor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from benchmarks.timing import Measurement


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        case: The case's title.
        path: How the implementation was called.
        implementation: The implementation's label.
        measurement: The timing.
        ratio: ours ÷ this, or None on our own rows (or when ours is unavailable); on
            an ``overhead`` row, this ÷ ours (ours with hooks ÷ ours without).
        target: The largest acceptable ratio, or None when the issue sets none.
        overhead: True for a row of ours with hooks, shown in the hooks table.
        floor_ratio: On a hooks row, its time divided by the client's with one no-op
            hook (the SDK's hook machinery alone); None elsewhere.
    """

    case: str
    path: str
    implementation: str
    measurement: Measurement
    ratio: float | None = None
    target: float | None = None
    overhead: bool = False
    floor_ratio: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether the ratio is within the target (None when there is nothing to judge)."""
        if self.ratio is None or self.target is None:
            return None
        return self.ratio <= self.target


HEADINGS = (
    "case",
    "path",
    "implementation",
    "µs/op (best)",
    "µs/op (median)",
    "ours ÷ this",
    "target",
    "met",
)
FLOOR_HEADING = "this ÷ no-op hook"
HOOK_HEADINGS = (
    "case",
    "path",
    "hooks (openfeature-litestar)",
    "µs/op (best)",
    "µs/op (median)",
    FLOOR_HEADING,
    "this ÷ no hooks",
    "target",
    "met",
)
_NUMERIC_HEADINGS = frozenset(
    {"µs/op (best)", "µs/op (median)", "ours ÷ this", "this ÷ no hooks", FLOOR_HEADING, "target"}
)


def format_us(nanoseconds: float) -> str:
    """Format a per-call time in microseconds with three significant-ish digits.

    Args:
        nanoseconds: The time.

    Returns:
        ``"0.912"``, ``"12.3"`` or ``"1,234"``.
    """
    micro = nanoseconds / 1000
    if micro < 10:  # noqa: PLR2004 - digit thresholds
        return f"{micro:.3f}"
    if micro < 100:  # noqa: PLR2004 - digit thresholds
        return f"{micro:.2f}"
    if micro < 1000:  # noqa: PLR2004 - digit thresholds
        return f"{micro:.1f}"
    return f"{micro:,.0f}"


def format_ratio(ratio: float | None) -> str:
    """Format a ratio as ``"0.421x"`` (``"—"`` when absent).

    Args:
        ratio: The ratio.

    Returns:
        The text.
    """
    if ratio is None:
        return "—"
    if ratio < 0.1:  # noqa: PLR2004 - keep small ratios readable
        return f"{ratio:.4f}x"
    return f"{ratio:.3f}x"


def cells(row: Row, headings: Sequence[str] = HEADINGS) -> tuple[str, ...]:
    """Return the text of each column for ``row``.

    Args:
        row: The row.
        headings: The table's headings; the cells follow them.

    Returns:
        One string per heading.
    """
    met = row.met
    ratio = format_ratio(row.ratio)
    by_heading = {
        "case": row.case,
        "path": row.path,
        "implementation": row.implementation,
        "hooks (openfeature-litestar)": row.implementation,
        "µs/op (best)": format_us(row.measurement.best),
        "µs/op (median)": format_us(row.measurement.median),
        "ours ÷ this": ratio,
        "this ÷ no hooks": ratio,
        FLOOR_HEADING: format_ratio(row.floor_ratio),
        "target": "—" if row.target is None else f"≤ {row.target:.2f}x",
        "met": "—" if met is None else ("yes" if met else "NO"),
    }
    return tuple(by_heading[heading] for heading in headings)


def render_text(rows: Sequence[Row], headings: Sequence[str] = HEADINGS) -> str:
    """Render ``rows`` as an aligned plain-text table, a blank line between cases.

    Args:
        rows: The rows, grouped by case.
        headings: The column headings (:data:`HOOK_HEADINGS` for the hooks table).

    Returns:
        The table.
    """
    table = [tuple(headings), *(cells(row, headings) for row in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(headings))]
    numeric = {column for column, heading in enumerate(headings) if heading in _NUMERIC_HEADINGS}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if column in numeric else value.ljust(width)
            for column, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    out = [line(headings), "  ".join("-" * width for width in widths)]
    previous: str | None = None
    for row, values in zip(rows, table[1:], strict=True):
        if previous is not None and row.case != previous:
            out.append("")
        previous = row.case
        out.append(line(values))
    return "\n".join(out)


def render_markdown(rows: Sequence[Row], headings: Sequence[str] = HEADINGS) -> str:
    """Render ``rows`` as a Markdown (GitHub) pipe table.

    Args:
        rows: The rows.
        headings: The column headings (:data:`HOOK_HEADINGS` for the hooks table).

    Returns:
        The table.
    """
    align = [
        "---:"
        if heading in _NUMERIC_HEADINGS
        else (":---:" if column == len(headings) - 1 else "---")
        for column, heading in enumerate(headings)
    ]
    out = ["| " + " | ".join(headings) + " |", "| " + " | ".join(align) + " |"]
    out.extend(
        "| " + " | ".join(value.replace("|", "\\|") for value in cells(row, headings)) + " |"
        for row in rows
    )
    return "\n".join(out)

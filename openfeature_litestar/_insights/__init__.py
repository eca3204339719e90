"""Usage insights: per-flag counts over time, unknown keys and the stale-flag report.

Built from the counts every provider flushes to its store (:mod:`._stores._usage`),
never from anything that names a user.
"""

from ._aggregate import build_insights
from ._model import (
    FlagInsights,
    Insights,
    StaleFlag,
    StaleReason,
    StaleReport,
    StaleThresholds,
    TrackedEvent,
    UnknownKey,
    WindowCounts,
)
from ._read import read_insights

__all__ = [
    "FlagInsights",
    "Insights",
    "StaleFlag",
    "StaleReason",
    "StaleReport",
    "StaleThresholds",
    "TrackedEvent",
    "UnknownKey",
    "WindowCounts",
    "build_insights",
    "read_insights",
]

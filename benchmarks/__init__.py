"""Side-by-side evaluation benchmarks: openfeature-litestar and its peers in one run.

A second table measures openfeature-litestar with its hooks (``AuditHook``,
``SanitizingHook``) against the same client call without them.

Run with ``uv run --group bench python -m benchmarks`` (the ``bench`` group brings the
peers; ``--quick`` for a smoke run, ``--markdown`` for a table to paste into the README).
Every implementation is checked against a plain Python reference before it is timed, so
the numbers compare equal work.
"""

from __future__ import annotations

"""``benchmarks.fanout`` runs end to end: child providers on real Redis and PostgreSQL.

A small run (two processes, three changes): it checks that every change reaches every
child and that the servers count each child's connections, not how fast (no timing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks import fanout

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="the benchmark reads Linux's /proc"
)


def _options() -> argparse.Namespace:
    return argparse.Namespace(processes=2, changes=3, flags=5, idle=0.2)


@pytest.mark.parametrize(("kind", "fixture"), [("redis", "redis_url"), ("sql", "postgres_url")])
def test_every_change_reaches_every_child_and_each_child_is_counted(
    kind: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(fixture)
    figures = fanout._run_store(kind, url, _options())
    assert figures.processes == 2
    assert len(figures.all_ms) == 3
    assert all(first <= last for first, last in zip(figures.first_ms, figures.all_ms, strict=True))
    # A notification connection and at least one pooled connection per child.
    assert all(count >= 2 for count in figures.connections_ready)
    assert len(figures.idle_cpu_percent) == 2


@pytest.mark.usefixtures("redis_url")  # the benchmark reads the same server's URL
def test_main_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--processes", "2", "--changes", "2", "--flags", "5", "--idle", "0.2"]
    assert fanout.main([*args, "--stores", "redis", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| Redis (pub/sub) | 2 |" in out
    assert "CPUs" in out

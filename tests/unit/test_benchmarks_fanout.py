"""The fan-out benchmark's non-timing logic: names, counting, /proc parsing, the table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.fanout import (
    FLAG,
    StoreFigures,
    cpu_seconds,
    document_data,
    percentile,
    redis_connections,
    render,
    with_client_name,
)


def test_with_client_name_adds_or_replaces_the_parameter() -> None:
    assert with_client_name("redis://h:1/0", "w-1") == "redis://h:1/0?client_name=w-1"
    assert (
        with_client_name("redis://h:1/0?client_name=old&socket_timeout=2", "w-2")
        == "redis://h:1/0?socket_timeout=2&client_name=w-2"
    )


def test_redis_connections_counts_each_name_and_ignores_others() -> None:
    clients = [{"name": "w-0"}, {"name": "w-1"}, {"name": "w-0"}, {"name": ""}, {"id": "9"}]
    assert redis_connections(clients, ["w-0", "w-1", "w-2"]) == [2, 1, 0]


def test_cpu_seconds_reads_user_and_system_time_after_the_command_name(tmp_path: Path) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    # A command name with a space and a parenthesis, as a process may choose.
    fields = ["S", *["0"] * 10, str(3 * ticks), str(ticks), *["0"] * 30]
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(f"42 (a) b) {' '.join(fields)}\n")
    assert cpu_seconds(42, tmp_path) == 4.0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_cpu_seconds_of_this_process_grows() -> None:
    before = cpu_seconds(os.getpid())
    total = 0
    while cpu_seconds(os.getpid()) <= before:
        total += sum(range(10_000))  # burn CPU until the next clock tick is counted
    assert total > 0


def test_percentile_is_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_document_data_holds_the_counter_and_the_other_flags() -> None:
    data = document_data(10, value=3)
    assert len(data["flags"]) == 10
    assert data["flags"][FLAG]["variants"] == {"v": 3}


def test_render_shows_figures_and_an_unmeasured_store() -> None:
    figures = StoreFigures(
        store="Redis (pub/sub)",
        processes=2,
        changes=3,
        connections_ready=[2, 2],
        connections_after=[2, 3],
        write_ms=[1.0, 2.0, 3.0],
        first_ms=[4.0, 5.0, 6.0],
        all_ms=[7.0, 8.0, 90.0],
        cpu_per_change_ms=1.25,
        idle_cpu_percent=[0.1, 0.3],
        idle_seconds=1.0,
    )
    text = render([figures, ("postgresql", "server not reachable")], markdown=True)
    lines = text.splitlines()
    assert lines[0].startswith("| store | processes |")
    assert lines[2] == (
        "| Redis (pub/sub) | 2 | 2 | 2-3 | 5 | 2.0 | 5.0 | 8.0 | 90.0 | 1.2 | 0.200, 0.300 |"
    )
    assert lines[3].startswith("| postgresql | server not reachable |")

"""The benchmark harness's non-timing logic: inputs, references, cross-checks, the table.

The most important test here is the cross-check: every implementation the benchmark
times must give the plain Python reference's answers, or the comparison is meaningless.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from benchmarks.cases import (
    COUNTRIES,
    ROLLOUT_FLAG,
    Case,
    Subject,
    build_cases,
    cbor_text_array,
    flagd_flags,
    flagd_v2_rollout,
    flagd_v3_rollout,
    litestar_flags_rollout,
    rollout_subjects,
    targeted_answer,
    targeted_subjects,
)
from benchmarks.peers import CLIENT, DIRECT_ASYNC, DIRECT_SYNC, FLOOR_PEER, Bench, build_setup
from benchmarks.report import (
    HOOK_HEADINGS,
    Row,
    format_ratio,
    format_us,
    render_markdown,
    render_text,
)
from benchmarks.run import (
    CorrectnessError,
    Result,
    busy_warning,
    check,
    main,
    ordered,
    rows_for,
    sample,
)
from benchmarks.timing import Cycler, Measurement, Settings, batch_size, measure, measure_all

if TYPE_CHECKING:
    from collections.abc import Sequence

# The peers come with the `bench` dependency group, which a plain `uv sync` leaves out, and
# need Python 3.11+. Without them the harness times our implementations alone and lists
# the peers as unavailable, which these tests check; under CI, which installs every group,
# a missing peer fails instead, so that CI never passes without the cross-check.
PEERS = ("openfeature-flagd-core", "litestar-flags")
PEERS_REQUIRED = bool(os.environ.get("CI")) and sys.version_info >= (3, 11)


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


PEERS_INSTALLED = all(_installed(peer) for peer in PEERS)


def _require_peer_module(name: str) -> None:
    """Skip without the ``bench`` group's module ``name``, but fail under CI (see PEERS)."""
    if importlib.util.find_spec(name) is not None:
        return
    reason = f"{name} comes with the bench group on Python 3.11+ (uv run --group bench pytest)"
    if PEERS_REQUIRED:
        pytest.fail(f"under CI every benchmark peer must be installed: {reason}")
    pytest.skip(reason)


def test_the_peers_are_installed_when_ci_requires_them() -> None:
    missing = [peer for peer in PEERS if not _installed(peer)]
    assert not (PEERS_REQUIRED and missing), f"under CI the bench group is needed: {missing}"


@pytest.fixture(scope="module")
def small_cases() -> tuple[Case, ...]:
    return build_cases(rollout_users=3000)


# --- Inputs -----------------------------------------------------------------------------


def test_targeted_subjects_are_deterministic_and_half_match() -> None:
    subjects = targeted_subjects(600)
    assert subjects == targeted_subjects(600)
    matching = sum(targeted_answer(subject) for subject in subjects)
    assert matching == 300


def test_targeted_subjects_fail_on_each_condition() -> None:
    failing = [subject for subject in targeted_subjects(600) if not targeted_answer(subject)]
    assert any(subject.country not in COUNTRIES for subject in failing)
    assert any(subject.plan != "pro" for subject in failing)
    assert any(subject.age < 18 for subject in failing)


def test_rollout_subjects_have_distinct_ids() -> None:
    subjects = rollout_subjects(5000)
    assert len({subject.targeting_key for subject in subjects}) == 5000


def test_cases_use_the_flags_of_the_document() -> None:
    flags = flagd_flags()
    for case in build_cases(rollout_users=10):
        assert case.flag_key in flags


# --- References -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "a", "x" * 23, "x" * 24, "é" * 200, "y" * 70_000])
def test_cbor_text_array_matches_cbor2(text: str) -> None:
    _require_peer_module("cbor2")  # a dependency of openfeature-flagd-core
    cbor2 = importlib.import_module("cbor2")
    items = ("rollout-flag", text)
    assert cbor_text_array(items) == cbor2.dumps(list(items), canonical=True)


def test_cbor_known_encoding() -> None:
    # RFC 8949 appendix A: ["a", "b"] is 0x82 0x61 0x61 0x61 0x62.
    assert cbor_text_array(("a", "b")) == bytes.fromhex("8261616162")


@pytest.mark.parametrize("scheme", [flagd_v2_rollout, flagd_v3_rollout, litestar_flags_rollout])
def test_each_bucketing_splits_about_half(scheme: Any) -> None:
    ids = [subject.targeting_key for subject in rollout_subjects(20_000)]
    share = sum(scheme(ROLLOUT_FLAG, user) for user in ids) / len(ids)
    assert 0.48 < share < 0.52


def test_bucketing_schemes_differ() -> None:
    ids = [subject.targeting_key for subject in rollout_subjects(200)]
    v2 = [flagd_v2_rollout(ROLLOUT_FLAG, user) for user in ids]
    v3 = [flagd_v3_rollout(ROLLOUT_FLAG, user) for user in ids]
    assert v2 != v3


# --- The cross-check: every implementation gives the reference's answers -----------------


def test_every_implementation_is_set_up(small_cases: tuple[Case, ...]) -> None:
    setup = build_setup(small_cases)
    try:
        expected_missing = {peer for peer in PEERS if not _installed(peer)}
        missing = {line.split(":", 1)[0] for line in setup.unavailable}
        assert missing == expected_missing, setup.unavailable
        peers = {bench.peer for bench in setup.benches["a"]}
        assert {"ours", "inmemory", "inmemory-direct"} <= peers
        hooked = {bench.peer for bench in setup.benches["a"] if bench.overhead}
        assert hooked == {
            "ours-noop-hook",
            "ours-audit",
            "ours-audit-sampled",
            "ours-audit-sanitizing",
            "ours-audit-sanitizing-chained",
        }
        assert all(
            bench.path == CLIENT and not bench.ours
            for bench in setup.benches["a"]
            if bench.overhead
        )
        if PEERS_INSTALLED:
            assert {
                "flagd-core",
                "litestar-flags-async",
                "litestar-flags-sync",
                "litestar-flags-sync-in-loop",
            } <= peers
    finally:
        setup.close()


def test_every_implementation_agrees_with_the_reference(small_cases: tuple[Case, ...]) -> None:
    setup = build_setup(small_cases)
    try:
        checked = 0
        for case in small_cases:
            picked = sample(len(case.subjects), 150)
            subjects = [case.subjects[index] for index in picked]
            for bench in setup.benches[case.key]:
                contexts = [bench.to_context(subject) for subject in subjects]
                check(bench, case, subjects, contexts)
                checked += 1
        assert checked >= 9
    finally:
        setup.close()


def test_ours_and_the_floor_give_identical_rollout_answers(small_cases: tuple[Case, ...]) -> None:
    setup = build_setup(small_cases)
    try:
        (rollout,) = (case for case in small_cases if case.key == "c")
        subjects = list(rollout.subjects[:300])
        answers = {}
        for bench in setup.benches["c"]:
            if bench.peer in {"ours", "inmemory", "inmemory-direct"}:
                contexts = [bench.to_context(subject) for subject in subjects]
                answers[bench.peer, bench.path] = bench.evaluate_many(contexts)
        assert len(answers) == 5
        first = next(iter(answers.values()))
        assert all(values == first for values in answers.values())
        assert True in first
        assert False in first
    finally:
        setup.close()


def _bench(answer: Any, *, expected: bool = True) -> Bench:
    def evaluate_many(contexts: Sequence[Any]) -> list[object]:
        return [answer(context) for context in contexts]

    return Bench(
        peer="fake",
        label="fake",
        path=DIRECT_SYNC,
        ours=False,
        context_kind="subject",
        to_context=lambda subject: subject,
        evaluate_many=evaluate_many,
        time_batch=len,
        expected=lambda _subject: expected,
    )


def test_check_rejects_a_wrong_answer(small_cases: tuple[Case, ...]) -> None:
    case = small_cases[1]
    subjects = list(case.subjects[:10])
    bench = dataclasses.replace(
        _bench(targeted_answer), expected=lambda subject: not targeted_answer(subject)
    )
    with pytest.raises(CorrectnessError, match="10 of 10 answers differ"):
        check(bench, case, subjects, subjects)


def test_check_rejects_a_truthy_non_boolean(small_cases: tuple[Case, ...]) -> None:
    case = small_cases[0]
    subjects = list(case.subjects[:3])
    with pytest.raises(CorrectnessError, match="got 1, expected True"):
        check(_bench(lambda _subject: 1), case, subjects, subjects)


def test_check_reports_an_error_result(small_cases: tuple[Case, ...]) -> None:
    case = small_cases[0]
    subjects = list(case.subjects[:3])
    with pytest.raises(CorrectnessError, match="error FLAG_NOT_FOUND"):
        check(_bench(lambda _subject: "error FLAG_NOT_FOUND: gone"), case, subjects, subjects)


def test_check_accepts_right_answers(small_cases: tuple[Case, ...]) -> None:
    case = small_cases[0]
    subjects = list(case.subjects[:5])
    check(_bench(lambda _subject: True), case, subjects, subjects)


# --- Timing helpers (logic only; nothing here asserts a duration) -----------------------


def test_cycler_wraps_around() -> None:
    cycler = Cycler([1, 2, 3])
    assert cycler.take(2) == [1, 2]
    assert cycler.take(5) == [3, 1, 2, 3, 1]
    assert cycler.take(0) == []


def test_cycler_refuses_nothing() -> None:
    with pytest.raises(ValueError, match="nothing"):
        Cycler([])


_SETTINGS = Settings(
    name="test",
    batch_ns=1_000_000,
    repeats=3,
    warmups=1,
    min_ops=10,
    max_ops=5000,
    check_sample=10,
)


def test_batch_size_aims_at_the_target_and_clamps() -> None:
    assert batch_size(10_000, 10_000_000, _SETTINGS) == 100
    assert batch_size(1_000_000, 10_000_000, _SETTINGS) == 10
    assert batch_size(1, 10_000_000, _SETTINGS) == 5000


def test_batch_size_rounds_to_whole_passes_over_small_inputs() -> None:
    assert batch_size(1000, 300, _SETTINGS) == 900
    assert batch_size(1000, 5000, _SETTINGS) == 1000


def test_measure_times_the_calibrated_batches() -> None:
    seen: list[int] = []

    def time_batch(contexts: Sequence[Any]) -> int:
        seen.append(len(contexts))
        return 1000 * len(contexts)  # a pretend clock: 1 µs per call

    measurement = measure(time_batch, list(range(7)), _SETTINGS)
    assert measurement.ops == 1001  # 1000 calls wanted, rounded to whole passes of 7
    assert measurement.batch_ns == (1_001_000,) * 3
    assert measurement.best == 1000
    assert seen[-4:] == [1001] * 4  # one warm-up batch, three timed


def test_measure_all_interleaves_the_timed_rounds() -> None:
    seen: list[str] = []

    def timer(name: str) -> Any:
        def time_batch(contexts: Sequence[Any]) -> int:
            seen.append(name)
            return 1000 * len(contexts)

        return time_batch

    first, second = measure_all([(timer("a"), [1, 2]), (timer("b"), [3])], _SETTINGS)
    assert first.ops == second.ops == 1000
    assert seen[-8:] == ["a", "b"] * 4  # warm-up round, then three timed rounds


def test_cpu_share_is_the_best_batchs() -> None:
    measurement = Measurement(ops=1, batch_ns=(5, 3, 4), cpu_shares=(0.5, 0.95, 0.7))
    assert measurement.cpu_share == 0.95
    assert Measurement(ops=1, batch_ns=(5,)).cpu_share == 1.0


def test_measurement_best_and_median() -> None:
    measurement = Measurement(ops=10, batch_ns=(300, 100, 200, 900))
    assert measurement.best == 10
    assert measurement.median == 25


# --- The table --------------------------------------------------------------------------


def _fake(peer: str, path: str, *, ours: bool = False, targets: Any = None) -> Bench:
    return dataclasses.replace(
        _bench(lambda _subject: True),
        peer=peer,
        label=peer,
        path=path,
        ours=ours,
        targets=targets or {},
    )


def test_rows_carry_each_peers_ratio_to_ours_on_its_path(small_cases: tuple[Case, ...]) -> None:
    case = small_cases[1]
    benches_and_ns = [
        (_fake("lf-async", DIRECT_ASYNC), 12),
        (_fake("flagd-core", DIRECT_SYNC, targets={"b": 0.3}), 10),
        (_fake("inmemory", CLIENT, targets={"b": 1.1}), 10),
        (_fake("ours", DIRECT_ASYNC, ours=True), 3),
        (_fake("ours", DIRECT_SYNC, ours=True), 2),
        (_fake("ours", CLIENT, ours=True), 12),
    ]
    nanoseconds = {id(bench): ns for bench, ns in benches_and_ns}
    results = [
        Result(bench, Measurement(ops=1, batch_ns=(nanoseconds[id(bench)],)))
        for bench in ordered([bench for bench, _ in benches_and_ns])
    ]
    rows = rows_for(case, results)
    assert [(row.path, row.implementation) for row in rows] == [
        (CLIENT, "ours"),
        (CLIENT, "inmemory"),
        (DIRECT_SYNC, "ours"),
        (DIRECT_SYNC, "flagd-core"),
        (DIRECT_ASYNC, "ours"),
        (DIRECT_ASYNC, "lf-async"),
    ]
    assert [row.ratio for row in rows] == [
        None,
        pytest.approx(1.2),
        None,
        pytest.approx(0.2),
        None,
        pytest.approx(0.25),
    ]
    assert [row.met for row in rows] == [None, False, None, True, None, None]


def test_hook_rows_carry_their_time_over_ours_without_hooks(
    small_cases: tuple[Case, ...],
) -> None:
    case = small_cases[0]
    hooked = dataclasses.replace(
        _fake("ours-audit-sanitizing", CLIENT, targets={"a": 1.5}), overhead=True
    )
    benches_and_ns = [
        (_fake("ours", CLIENT, ours=True), 10),
        (_fake("inmemory", CLIENT), 8),
        (hooked, 16),
    ]
    results = [Result(bench, Measurement(ops=1, batch_ns=(ns,))) for bench, ns in benches_and_ns]
    rows = rows_for(case, results)
    assert [row.ratio for row in rows] == [None, pytest.approx(1.25), pytest.approx(1.6)]
    assert [row.overhead for row in rows] == [False, False, True]
    assert rows[2].met is False


def test_hook_rows_carry_their_time_over_the_no_op_hook_floor(
    small_cases: tuple[Case, ...],
) -> None:
    case = small_cases[0]
    floor = dataclasses.replace(_fake(FLOOR_PEER, CLIENT), overhead=True)
    hooked = dataclasses.replace(
        _fake("ours-audit-sanitizing", CLIENT, targets={"a": 1.5}), overhead=True
    )
    benches_and_ns = [(_fake("ours", CLIENT, ours=True), 10), (floor, 14), (hooked, 21)]
    results = [Result(bench, Measurement(ops=1, batch_ns=(ns,))) for bench, ns in benches_and_ns]
    rows = rows_for(case, results)
    assert [row.ratio for row in rows] == [None, pytest.approx(1.4), pytest.approx(2.1)]
    assert [row.floor_ratio for row in rows] == [None, None, pytest.approx(1.5)]
    assert [row.met for row in rows] == [None, None, False]
    markdown = render_markdown(rows[1:], HOOK_HEADINGS).splitlines()
    assert "this ÷ no-op hook | this ÷ no hooks | target | met |" in markdown[0]
    assert markdown[2].endswith("| — | 1.400x | — | — |")
    assert markdown[3].endswith("| 1.500x | 2.100x | ≤ 1.50x | NO |")


def test_row_met() -> None:
    measurement = Measurement(ops=1, batch_ns=(1,))
    assert Row("c", CLIENT, "x", measurement, ratio=1.2, target=1.1).met is False
    assert Row("c", CLIENT, "x", measurement, ratio=1.1, target=1.1).met is True
    assert Row("c", CLIENT, "x", measurement, ratio=0.5).met is None


def test_busy_warning_names_the_lowest_cpu_share() -> None:
    quiet = Measurement(ops=1, batch_ns=(1,), cpu_shares=(0.97,))
    busy = Measurement(ops=1, batch_ns=(2, 1, 3), cpu_shares=(0.99, 0.55, 0.99))
    assert busy_warning([Row("c", CLIENT, "x", quiet)]).startswith("CPU share")
    warning = busy_warning([Row("c", CLIENT, "x", quiet), Row("c", CLIENT, "y", busy)])
    assert warning.startswith("WARNING")
    assert "55%" in warning


def test_measure_all_sees_time_off_the_cpu() -> None:
    def time_batch(contexts: Sequence[Any]) -> int:
        time.sleep(0.002)  # wall-clock time without CPU time, like a busy machine
        return 1000 * len(contexts)

    (measurement,) = measure_all([(time_batch, [1])], _SETTINGS)
    assert measurement.cpu_share < 0.5


def test_formatting() -> None:
    assert format_us(912) == "0.912"
    assert format_us(12_345) == "12.35"
    assert format_us(123_456) == "123.5"
    assert format_us(1_234_567) == "1,235"
    assert format_ratio(None) == "—"
    assert format_ratio(1.0949) == "1.095x"
    assert format_ratio(0.0123) == "0.0123x"


def test_the_hooks_table_has_its_own_headings() -> None:
    measurement = Measurement(ops=1000, batch_ns=(1_500_000,))
    rows = [
        Row("(a) static", CLIENT, "+ AuditHook", measurement, ratio=1.4, target=1.5, overhead=True)
    ]
    text = render_text(rows, HOOK_HEADINGS).splitlines()
    assert "this ÷ no hooks" in text[0]
    assert text[2].endswith("yes")
    markdown = render_markdown(rows, HOOK_HEADINGS).splitlines()
    assert markdown[0].startswith("| case | path | hooks (openfeature-litestar) |")
    assert "| 1.400x | ≤ 1.50x | yes |" in markdown[2]


def test_render_text_and_markdown() -> None:
    measurement = Measurement(ops=1000, batch_ns=(1_500_000, 1_600_000))
    rows = [
        Row("(a) static", CLIENT, "openfeature-litestar", measurement),
        Row("(a) static", CLIENT, "floor", measurement, ratio=1.2, target=1.1),
        Row("(b) rule", DIRECT_SYNC, "a|b", measurement, ratio=0.2, target=0.3),
    ]
    text = render_text(rows).splitlines()
    assert text[0].startswith("case")
    assert "NO" in text[3]
    assert text[4] == ""
    assert text[5].endswith("yes")
    markdown = render_markdown(rows).splitlines()
    assert markdown[0].startswith("| case |")
    assert len(markdown) == 5
    assert "a\\|b" in markdown[4]
    assert "| 1.200x | ≤ 1.10x | NO |" in markdown[3]


# --- The command ------------------------------------------------------------------------


def test_quick_run_prints_a_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--markdown", "--cases", "a"]) == 0
    out = capsys.readouterr().out
    assert "| (a) static | client | openfeature-litestar |" in out
    assert "| (a) static | client | SDK InMemoryProvider (floor) |" in out
    assert "Python " in out
    assert "(b)" not in out.split("| case |", 1)[1].split("\n\n", 1)[0]
    hooks_table = out.split("| case | path | hooks (openfeature-litestar) |", 1)[1]
    assert "| (a) static | client | + HookChain(SanitizingHook, AuditHook (1.0)) |" in hooks_table
    assert "| (a) static | client | + a no-op Hook (the SDK's floor) |" in hooks_table
    assert "Audit records dropped (queue full) while timing the hooks: " in out


def test_bad_cases_argument_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--cases", "ax"])
    assert exit_info.value.code == 2
    assert "--cases" in capsys.readouterr().err


def test_subject_attributes() -> None:
    subject = Subject("user-000001", "US", "pro", 30)
    assert subject.attributes() == {"country": "US", "plan": "pro", "age": 30}

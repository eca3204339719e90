"""The collector stays paused while any thread builds a document, and only then resumes."""

from __future__ import annotations

import gc
import threading

import pytest

from openfeature_litestar._document._collector import collector_paused


def test_a_build_that_ends_first_does_not_resume_the_collector_under_another() -> None:
    # A starts, B starts, A ends, B ends: with one pause each, A's end used to turn the
    # collector back on while B was still building.
    assert gc.isenabled()
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def build_a() -> None:
        with collector_paused():
            a_inside.set()
            b_inside.wait(10)
        a_done.set()

    def build_b() -> None:
        a_inside.wait(10)
        with collector_paused():
            b_inside.set()
            a_done.wait(10)
            seen["while b builds, after a"] = gc.isenabled()

    threads = [threading.Thread(target=build_a), threading.Thread(target=build_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"while b builds, after a": False}
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_application_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_resumes_when_a_build_fails() -> None:
    with pytest.raises(ValueError, match="bad document"), collector_paused():
        raise ValueError("bad document")
    assert gc.isenabled()

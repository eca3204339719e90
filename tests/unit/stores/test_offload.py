"""Documents are validated and compiled on the compile pool, never on the event loop."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import FileStore, MemoryStore, SQLAlchemyStore
from openfeature_litestar._stores._offload import (
    MAX_CONCURRENT_COMPILES,
    SWITCH_INTERVAL,
    off_loop,
)
from tests.support import flag

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import FrameType

    from openfeature_litestar import FlagDocument, WritableFlagStore


def test_at_most_the_pool_s_size_run_at_once() -> None:
    # Calls pair up at the barrier: with fewer workers than its parties it would break
    # (time out); the count shows no more than the pool's size ever ran together.
    barrier = threading.Barrier(MAX_CONCURRENT_COMPILES, timeout=30)
    lock = threading.Lock()
    running, most = 0, 0

    def compile_one() -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        barrier.wait()
        with lock:
            running -= 1
        return threading.current_thread().name

    async def many() -> list[str]:
        return await asyncio.gather(
            *(off_loop(compile_one) for _ in range(3 * MAX_CONCURRENT_COMPILES))
        )

    names = asyncio.run(many())
    assert most == MAX_CONCURRENT_COMPILES
    assert all(name.startswith("openfeature-compile") for name in names)


def test_an_exception_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("bad document")

    with pytest.raises(ValueError, match="bad document"):
        asyncio.run(off_loop(fail))


@pytest.fixture
def switch_interval() -> Iterator[float]:
    """The application's interval for a test (4 ms, not the default), put back after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    yield 0.004
    sys.setswitchinterval(before)


def test_threads_switch_often_while_a_worker_runs_and_as_before_after(
    switch_interval: float,
) -> None:
    # The loop waits for the interpreter lock at each system call; at the default 5 ms
    # interval a request took tens of milliseconds while a large document compiled.
    during = asyncio.run(off_loop(sys.getswitchinterval))
    assert during == SWITCH_INTERVAL
    assert sys.getswitchinterval() == switch_interval


def test_an_application_s_finer_interval_is_kept(switch_interval: float) -> None:
    sys.setswitchinterval(SWITCH_INTERVAL / 5)
    finer = sys.getswitchinterval()  # as the interpreter keeps it, in microseconds
    assert asyncio.run(off_loop(sys.getswitchinterval)) == finer
    assert sys.getswitchinterval() == finer
    sys.setswitchinterval(switch_interval)


def test_the_interval_comes_back_only_when_the_last_worker_ends(switch_interval: float) -> None:
    first_started, first_may_end = threading.Event(), threading.Event()

    def first() -> float:
        first_started.set()
        first_may_end.wait(30)
        return sys.getswitchinterval()

    def second() -> float:
        first_started.wait(30)
        return sys.getswitchinterval()

    async def overlapping() -> tuple[float, float, float]:
        running_first = asyncio.ensure_future(off_loop(first))
        during_second = await off_loop(second)
        after_second = sys.getswitchinterval()  # the first still runs
        first_may_end.set()
        return during_second, after_second, await running_first

    during_second, after_second, during_first = asyncio.run(overlapping())
    assert during_second == after_second == during_first == SWITCH_INTERVAL
    assert sys.getswitchinterval() == switch_interval


@pytest.fixture(params=["memory", "sqlite", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> WritableFlagStore:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return SQLAlchemyStore(f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}")
    return FileStore(tmp_path / "flags.json")


def test_a_write_builds_its_document_off_the_loop(store: WritableFlagStore) -> None:
    threads: list[str] = []

    def build(current: FlagDocument) -> FlagDocument:
        threads.append(threading.current_thread().name)
        return current.with_flags({"a": flag()})

    async def write() -> Any:
        loop_thread = threading.current_thread().name
        try:
            await store._write(build, actor="test", expected=None)  # type: ignore[attr-defined]
            return loop_thread, (await store.load()).document.flags
        finally:
            await store.close()

    loop_thread, flags = asyncio.run(write())
    assert list(flags) == ["a"]
    assert threads
    assert loop_thread not in threads


def test_sql_rows_are_decoded_off_the_loop(tmp_path: Path) -> None:
    # Rows another process wrote are decoded as this store loads them: every flag's
    # definition and the shared evaluators, a document's worth of work the loop must
    # not do. A profile function on the loop's thread sees every decode made there.
    url = f"sqlite+aiosqlite:///{tmp_path / 'flags.db'}"
    writer = SQLAlchemyStore(url)

    async def write() -> None:
        try:
            await writer.replace_document({"flags": {"a": flag(), "b": flag()}}, actor="test")
        finally:
            await writer.close()

    asyncio.run(write())
    store = SQLAlchemyStore(url)
    decodes_on_loop = 0

    def count_decodes(frame: FrameType, event: str, _arg: object) -> None:
        nonlocal decodes_on_loop
        if event == "call" and frame.f_code is json.JSONDecoder.decode.__code__:
            decodes_on_loop += 1

    async def load() -> list[str]:
        sys.setprofile(count_decodes)  # this thread only: the loop's
        try:
            json.loads("{}")  # seen: the profile function works
            return list((await store.load()).document.flags)
        finally:
            sys.setprofile(None)
            await store.close()

    assert asyncio.run(load()) == ["a", "b"]
    assert decodes_on_loop == 1

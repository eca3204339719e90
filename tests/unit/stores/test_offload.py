"""Documents are validated and compiled on the compile pool, never on the event loop."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar import FileStore, MemoryStore, SQLAlchemyStore
from openfeature_litestar._stores._offload import MAX_CONCURRENT_COMPILES, off_loop
from tests.support import flag

if TYPE_CHECKING:
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

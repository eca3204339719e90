"""Document-sized work off the event loop, a few at a time.

Validating, compiling, decoding and dumping a large document take as long as its text
is large (compiling takes seconds for megabytes).
Run on the loop, it would stall every request that loop serves for that long; so the
stores run it on a small pool of worker threads shared by every store and loop. The
pool's size bounds how many compile at once: compiling is CPU-bound Python, so more
threads would only share the same interpreter lock and hold more memory. The loop
still gets its turns while a worker compiles, as the interpreter switches threads every
few milliseconds.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MAX_CONCURRENT_COMPILES", "off_loop"]

MAX_CONCURRENT_COMPILES: Final = 2
"""How many documents are validated and compiled at once, in the whole process."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _compile_pool() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process, made on first use
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=MAX_CONCURRENT_COMPILES, thread_name_prefix="openfeature-compile"
            )
        return _pool


async def off_loop(fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``fn(*args, **kwargs)`` on the compile pool and return (or raise) its result.

    A caller cancelled while waiting stops waiting; the call itself runs to its end
    (it is bounded by the document's size), and its result is dropped.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_compile_pool(), functools.partial(fn, *args, **kwargs))

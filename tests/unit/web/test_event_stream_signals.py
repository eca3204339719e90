"""Event streams end on a server's exit signals: which handlers are chained, and how."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Any

import pytest

from openfeature_litestar.web._events import _end_streams_on_exit_signals

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


@pytest.mark.usefixtures("handlers")
def test_a_servers_handler_is_chained_once_and_still_runs() -> None:
    seen: list[int] = []

    def server_exit(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        seen.append(signum)

    signal.signal(signal.SIGTERM, server_exit)
    _end_streams_on_exit_signals()
    chained = signal.getsignal(signal.SIGTERM)
    assert chained is not server_exit
    _end_streams_on_exit_signals()  # a second hub chains nothing more
    assert signal.getsignal(signal.SIGTERM) is chained
    assert callable(chained)
    chained(signal.SIGTERM, None)
    assert seen == [signal.SIGTERM]


@pytest.mark.usefixtures("handlers")
@pytest.mark.parametrize("handler", [signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler])
def test_the_interpreters_own_handlers_are_left_alone(handler: Any) -> None:
    signal.signal(signal.SIGINT, handler)
    _end_streams_on_exit_signals()
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.mark.usefixtures("handlers")
def test_nothing_is_chained_outside_the_main_thread() -> None:
    def server_exit(signum: int, frame: FrameType | None) -> None:
        raise AssertionError((signum, frame))

    signal.signal(signal.SIGTERM, server_exit)
    worker = threading.Thread(target=_end_streams_on_exit_signals)
    worker.start()
    worker.join()
    assert signal.getsignal(signal.SIGTERM) is server_exit

"""What a running ``changes()`` iterator waits for: notifications, local writes, closing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from openfeature_litestar._errors import StoreError

from ._engines import DRIVER_ERRORS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["Watch", "discard_connection", "listen"]


class Watch:
    """One running ``changes()`` iterator and what woke it.

    Attributes:
        loop: The event loop the iterator runs on.
        event: Set to wake the iterator.
        lost: The listening connection is gone.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Create the watch of an iterator running on ``loop``."""
        self.loop = loop
        self.event = asyncio.Event()
        self.lost = False
        self._revision: int | None = None  # the newest revision announced, not yet taken

    def announce(self, revision: int) -> None:
        """Record a committed revision and wake the iterator (call on its loop)."""
        self._revision = revision if self._revision is None else max(self._revision, revision)
        self.event.set()

    def announce_threadsafe(self, revision: int) -> None:
        """:meth:`announce`, from any thread."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.announce, revision)

    def lose(self) -> None:
        """Mark the listening connection as gone and wake the iterator."""
        self.lost = True
        self.event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until woken (``True``) or until ``timeout`` seconds pass (``False``)."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        self.event.clear()
        return True

    def take_revision(self) -> int | None:
        """The newest revision announced since the last call, if any."""
        revision, self._revision = self._revision, None
        return revision


async def listen(
    engine: AsyncEngine, channel: str, namespace: str, watch: Watch
) -> AsyncConnection:
    """Open a connection of its own that LISTENs on ``channel`` for ``namespace``'s writes.

    Each notification's payload is ``"<namespace> <revision>"``; the revisions of
    ``namespace`` are announced to ``watch``, and the connection's end marks it lost.
    Close the connection with :func:`discard_connection`.

    Raises:
        StoreError: The connection has no driver connection (closed at once).
    """
    connection = await engine.connect()
    try:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is None:
            raise StoreError("the listening connection closed before it was used")  # noqa: TRY301 - cleaned up below like any failure

        def on_notification(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            name, _, revision = payload.rpartition(" ")
            if name == namespace and revision.isdigit():
                watch.announce(int(revision))

        def on_termination(_conn: object) -> None:
            watch.lose()

        await driver.add_listener(channel, on_notification)
        driver.add_termination_listener(on_termination)
    except BaseException:
        await discard_connection(connection)
        raise
    return connection


async def discard_connection(connection: AsyncConnection) -> None:
    """Close a listening connection for good, never returning it to the pool, still subscribed.

    Invalidating makes the driver close it at once; nothing here raises, since the
    database may be the reason for closing.
    """
    with contextlib.suppress(asyncio.TimeoutError, *DRIVER_ERRORS):
        await connection.invalidate()
    with contextlib.suppress(asyncio.TimeoutError, *DRIVER_ERRORS):
        await connection.close()

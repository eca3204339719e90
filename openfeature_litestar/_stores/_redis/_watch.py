"""Watching a namespace: its pub/sub channel, and a periodic revision check behind it.

Every write publishes its revision on the namespace's channel, which wakes a watcher
within milliseconds. A notice can still be lost (a dropped connection, a failover), so
every ``poll_interval`` seconds the watcher also compares the stored revision and epoch
with the newest it has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from openfeature_litestar._errors import StoreError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

    from redis.asyncio.client import PubSub

    from ._client import LoopClient, LoopClients

__all__ = ["Version", "announced_revision", "watch"]

Version = tuple[int, str]
"""A namespace's revision and the epoch it counts in, as the periodic check reads them."""

_MAX_DRAINED = 1000
"""The most queued notifications folded into one wake-up."""


async def watch(
    clients: LoopClients,
    channel: str,
    *,
    read_version: Callable[[LoopClient], Awaitable[Version]],
    poll_interval: float,
    sharded: bool = False,
) -> AsyncGenerator[None, None]:
    """Yield once subscribed to ``channel``, then whenever the namespace may have changed.

    Ends when the store is closed on the running loop.

    Args:
        clients: The store's clients; the running loop's one is used.
        channel: The channel writes publish their revisions on.
        read_version: Reads the stored revision and epoch with a loop's client.
        poll_interval: Seconds between revision checks.
        sharded: Use sharded pub/sub (``SSUBSCRIBE``, a Redis Cluster's), on the shard
            that owns the channel's slot.

    Raises:
        StoreError: Redis cannot be reached, or the subscription was lost.
    """
    state = clients.this_loop()
    loop = asyncio.get_running_loop()
    pubsub = state.client.pubsub()
    try:
        with clients.store_errors("subscribing to changes"):
            if sharded:
                # A subscription goes to the node the client's slot map names, and only
                # a command refreshes that map (on a failover, say). So one read first:
                # it retries through a failover and leaves the map current.
                await read_version(state)
                await pubsub.ssubscribe(channel)
            else:
                await pubsub.subscribe(channel)
            await _confirm_subscription(pubsub, clients, channel, sharded=sharded)
            seen_revision, read_epoch = await read_version(state)
        seen_epoch: str | None = read_epoch  # None: a notice's revision, epoch not read yet
        yield None
        next_check = loop.time() + poll_interval
        while not state.closing.is_set():
            with clients.store_errors("watching for changes"):
                announced = await _wait_for_notice(
                    pubsub, state.closing, max(0.0, next_check - loop.time()), sharded=sharded
                )
            if state.closing.is_set():
                return
            if announced is not None:
                if announced > seen_revision:
                    # A notice names no epoch: the next check reads the one it counts in.
                    seen_revision, seen_epoch = announced, None
                yield None
                continue
            next_check = loop.time() + poll_interval
            with clients.store_errors("checking the revision"):
                revision, epoch = await read_version(state)
            if seen_epoch is None and revision == seen_revision:
                seen_epoch = epoch
            # The epoch too: a namespace emptied and written again can be back at the
            # revision last seen, holding another document.
            if (revision, epoch) != (seen_revision, seen_epoch):
                seen_revision, seen_epoch = revision, epoch
                yield None
    finally:
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


def announced_revision(message: Mapping[str, Any]) -> int:
    """The revision a change notice announces; -1 when it does not say."""
    if message.get("type") not in {"message", "smessage"}:
        return -1
    try:
        return int(message["data"])
    except (KeyError, TypeError, ValueError):
        return -1


async def _confirm_subscription(
    pubsub: PubSub, clients: LoopClients, channel: str, *, sharded: bool
) -> None:
    message = await _next_message(pubsub, clients.timeout, sharded=sharded)
    if message is None or message.get("type") != ("ssubscribe" if sharded else "subscribe"):
        raise StoreError(
            f"Redis at {clients.target}: no confirmation of the subscription to "
            f"{channel!r} within {clients.timeout} s"
        )


async def _next_message(pubsub: PubSub, timeout: float, *, sharded: bool) -> dict[str, Any] | None:
    if sharded:
        # Only a cluster's pub/sub reads shard channels; it is made by RedisCluster.pubsub().
        message: dict[str, Any] | None = await pubsub.get_sharded_message(timeout=timeout)  # type: ignore[attr-defined]
        return message
    plain: dict[str, Any] | None = await pubsub.get_message(timeout=timeout)
    return plain


async def _wait_for_notice(
    pubsub: PubSub, closing: asyncio.Event, timeout: float, *, sharded: bool
) -> int | None:
    """Wait up to ``timeout`` for notices; return the newest revision announced.

    ``None`` if none came (or the store is closing). Notices already queued are
    folded into one. A ``subscribe`` message after the first means redis-py
    reconnected and resubscribed: notices may have been lost meanwhile, so it counts
    as a notice of an unknown revision (-1).
    """
    reading = asyncio.ensure_future(_next_message(pubsub, timeout, sharded=sharded))
    closed = asyncio.ensure_future(closing.wait())
    try:
        await asyncio.wait({reading, closed}, return_when=asyncio.FIRST_COMPLETED)
        message = None if closing.is_set() else reading.result()
        if message is None:
            return None
        newest = announced_revision(message)
        for _ in range(_MAX_DRAINED):
            message = await _next_message(pubsub, 0.0, sharded=sharded)
            if message is None:
                break
            newest = max(newest, announced_revision(message))
        return newest
    finally:
        closed.cancel()
        if not reading.done():
            reading.cancel()
        elif not reading.cancelled():
            reading.exception()  # retrieved, so asyncio does not log it as lost

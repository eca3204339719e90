"""The store follower: keeps a snapshot of a store current, in the background.

A :class:`StoreFollower` runs a store's watch on a private background loop (see
``_background.py``), loads the first snapshot when it starts, and swaps in a new one
whenever the store reports a change, announcing ``PROVIDER_CONFIGURATION_CHANGED`` with
the keys of the flags that changed.

When the store cannot be reached it keeps the last good snapshot, reconnects with
jittered delays that grow from a quarter second to at most a second, announces
``PROVIDER_STALE`` once the outage has lasted ``stale_after`` seconds, ``PROVIDER_ERROR``
once it has lasted ``error_after`` seconds (if set), and ``PROVIDER_READY`` when the
store is back (after applying what changed meanwhile). A
configuration that can never work (a :class:`~openfeature_litestar.ConfigurationError`
from the store) is fatal: no retries, ``PROVIDER_ERROR`` with ``PROVIDER_FATAL``.

Overrides (for tests, see :mod:`openfeature_litestar.testing`) are laid over each
snapshot when it is built, so evaluation pays nothing for them. Evaluation reads
:attr:`StoreFollower.snapshot` and never takes a lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from openfeature.event import ProviderEvent, ProviderEventDetails
from openfeature.exception import ErrorCode, GeneralError, ProviderFatalError
from openfeature.provider import ProviderStatus

from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._errors import (
    ConfigurationError,
    DocumentError,
    OpenFeatureLitestarError,
    StoreError,
)
from openfeature_litestar._snapshot import Snapshot
from openfeature_litestar._stores._offload import off_loop

from ._background import BackgroundLoop

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from openfeature_litestar._engine import CompiledFlag, FractionalVersion
    from openfeature_litestar._stores import FlagStore, StoredDocument

__all__ = ["StoreFollower", "retry_delay"]

logger = logging.getLogger("openfeature_litestar.provider")

T = TypeVar("T")

_RETRY_MIN_SECONDS = 0.5
# The cap is what bounds how long a worker serves old flags after its store is back:
# with a long backoff (it used to grow to 30 s), one worker of three served the old
# value 11.8 s after PostgreSQL returned. A try against a store that is down costs a
# refused connection (or waits the store's timeout, which spaces the tries by itself),
# so trying about once a second is cheap, and the jitter spreads a fleet's reloads over
# half a second when the store returns.
_RETRY_MAX_SECONDS = 1.0


def retry_delay(attempt: int) -> float:
    """The delay before retry ``attempt``: doubling up to a cap, jittered.

    The jitter keeps many workers from reconnecting in step.
    """
    ceiling = min(_RETRY_MIN_SECONDS * 2 ** min(attempt, 16), _RETRY_MAX_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


def _epoch_name(epoch: str) -> str:
    return repr(epoch) if epoch else "(none)"


def _nothing() -> None:
    pass


_NAMED_CHANGES = 10  # a log line names this many changed flags, then counts the rest


def _changed_flags(changed: list[str]) -> str:
    if not changed:
        return "no flag changed"
    named = ", ".join(changed[:_NAMED_CHANGES])
    more = len(changed) - _NAMED_CHANGES
    flags = "flag" if len(changed) == 1 else "flags"
    return f"{len(changed)} {flags} changed ({named}{f', and {more} more' if more > 0 else ''})"


def _settle(future: concurrent.futures.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class StoreFollower:
    """Follows one store and serves its latest good snapshot (plus any overrides).

    Args:
        store: The store to follow.
        announce: Called with each provider event to emit (the provider's ``emit``);
            called outside every lock, so a handler may touch the follower.
        name: Names the background loop's thread.
        init_timeout: Seconds :meth:`start` waits for the first load, and
            :meth:`stop` for the store to close.
        stale_after: Seconds the store may be unreachable before ``PROVIDER_STALE``.
        error_after: Seconds the store may be unreachable before ``PROVIDER_ERROR``
            (above ``stale_after``); ``None``: an outage never goes beyond STALE.
        fractional: The ``fractional`` bucketing version the snapshots are compiled
            with. Stores compile what they load with the default one; for another, each
            loaded document is compiled again, on the compile pool.
    """

    def __init__(
        self,
        store: FlagStore,
        announce: Callable[[ProviderEvent, ProviderEventDetails], None],
        *,
        name: str,
        init_timeout: float,
        stale_after: float,
        error_after: float | None = None,
        fractional: FractionalVersion = DEFAULT_FRACTIONAL,
    ) -> None:
        """Create the follower; nothing is loaded until :meth:`start`."""
        self.store = store
        self.fractional = fractional
        """The ``fractional`` bucketing version the snapshots are compiled with."""
        self.snapshot = Snapshot()
        """The snapshot evaluations read now (replaced whole, never changed)."""
        self._announce = announce
        self._init_timeout = init_timeout
        self._stale_after = stale_after
        self._error_after = error_after
        # Outage tracking, touched only on the background loop: the timers that announce
        # STALE and ERROR, and which of the two the outage has reached.
        self._stale_timer: asyncio.TimerHandle | None = None
        self._error_timer: asyncio.TimerHandle | None = None
        self._stale = False
        self._errored = False
        self._stored_snapshot = self.snapshot
        self._overrides: Mapping[str, CompiledFlag] = {}
        self._loaded = False
        self._first_load_failed = False
        self._last_error: OpenFeatureLitestarError | None = None
        self._lifecycle = threading.Lock()
        # Serialises snapshot swaps (background sync vs. overrides); evaluation never
        # takes it, it reads whichever snapshot is current.
        self._serving = threading.Lock()
        self._loop = BackgroundLoop(f"{name}-sync")
        self._following: asyncio.Task[None] | None = None  # the watch, on the loop
        # Health readings (see the properties), written on the background loop and read
        # from any thread: each a single attribute, replaced whole.
        self._fatal = False
        self._out_of_sync_since: float | None = None  # monotonic; None while in sync
        self._noticed_at: float | None = None  # monotonic time of the change notice
        self._change_lag: float | None = None

    @property
    def running(self) -> bool:
        """Whether the background sync runs (between :meth:`start` and :meth:`stop`)."""
        return self._loop.running

    @property
    def last_error(self) -> OpenFeatureLitestarError | None:
        """The error of the latest failed load, or ``None`` once a load succeeds."""
        return self._last_error

    @property
    def status(self) -> ProviderStatus:
        """The state of the sync, in OpenFeature's terms (see ``FlagProvider.status``)."""
        if self._fatal:
            return ProviderStatus.FATAL
        if not self._loop.running:
            return ProviderStatus.NOT_READY
        if not self._loaded:
            return ProviderStatus.ERROR if self._first_load_failed else ProviderStatus.NOT_READY
        if self._errored:
            return ProviderStatus.ERROR
        return ProviderStatus.STALE if self._stale else ProviderStatus.READY

    @property
    def seconds_since_sync(self) -> float | None:
        """Seconds since the snapshot was last known to be the store's (see the provider)."""
        if not self._loaded:
            return None
        since = self._out_of_sync_since
        return 0.0 if since is None else max(time.monotonic() - since, 0.0)

    @property
    def change_lag(self) -> float | None:
        """Seconds from the latest applied change's notice to its being served."""
        return self._change_lag

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background sync and wait for the first load; idempotent.

        Raises:
            ProviderFatalError: The store's configuration can never work.
            GeneralError: The first load failed or timed out; the sync keeps trying and
                announces ``PROVIDER_READY`` when a load succeeds.
        """
        with self._lifecycle:
            if self._loop.running:
                return
            first_load: concurrent.futures.Future[None] = concurrent.futures.Future()
            # An outage ends with the loop (its timers went with it).
            self._stale_timer, self._error_timer = None, None
            self._stale, self._errored = False, False
            self._fatal, self._out_of_sync_since = False, None
            self._loop.start()
            self._loop.submit(self._follow_changes(first_load))
        try:
            first_load.result(self._init_timeout)
        except concurrent.futures.TimeoutError:  # not the builtin TimeoutError before 3.11
            self._note_first_load_failed()
            raise GeneralError(
                f"the first load from {self.store!r} took more than {self._init_timeout} s"
            ) from None
        except ConfigurationError as exc:
            self._note_first_load_failed()
            raise ProviderFatalError(str(exc)) from None
        except Exception as exc:
            self._note_first_load_failed()
            raise GeneralError(str(exc)) from None

    def stop(self) -> None:
        """Stop the background sync and close the store; idempotent. No data is deleted.

        The snapshot stays, so a late evaluation still gets the last answers.
        """
        with self._lifecycle:
            if not self._loop.running:
                return
            closing = self._loop.submit(self._stop_following())
            if not self._loop.is_current_thread():  # a handler on the loop cannot wait on it
                try:
                    closing.result(self._init_timeout)
                except Exception:
                    logger.exception("closing %r failed", self.store)
            self._loop.stop(self._init_timeout)

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the background loop, beside the sync (the usage flush).

        Raises:
            RuntimeError: The background sync is not running.
        """
        return self._loop.submit(coroutine)

    def _note_first_load_failed(self) -> None:
        # The SDK reports ERROR for a failed initialize(); a later successful load must
        # then announce READY itself.
        with self._serving:
            if not self._loaded:
                self._first_load_failed = True

    async def _stop_following(self) -> None:
        """End the watch, and only then close the store (on the background loop).

        Cancelling the watch first lets a load or poll in flight give its connection
        back before the store closes its pools; closed the other way round, the
        connection would be left to the garbage collector, unclosed.
        """
        following, self._following = self._following, None
        if following is not None and not following.done():
            following.cancel()
            await asyncio.wait({following}, timeout=self._init_timeout)
        await self.store.close()

    # -- following the store ------------------------------------------------------------

    async def _follow_changes(self, first_load: concurrent.futures.Future[None]) -> None:
        # A store's changes() yields once as soon as it is watching, so the first load
        # happens after the subscription: no change can fall between the two. A store
        # raises out of changes() when it loses the connection; retrying is ours.
        self._following = asyncio.current_task()
        attempt = 0
        while True:
            try:
                async for _ in self.store.changes():
                    self._noticed_at = time.monotonic()
                    if not await self._reload_until_reached(first_load):
                        return
                    attempt = 0
            except asyncio.CancelledError:  # noqa: PERF203 - a watch loop, not a hot path
                raise
            except ConfigurationError as exc:
                _settle(first_load, exc)
                self._give_up(exc)
                return
            except Exception as exc:
                _settle(first_load, exc)
                self._note_first_load_failed()
                self._store_unreachable()
                delay = retry_delay(attempt)
                attempt += 1
                logger.warning(
                    "watching %r failed (%s); retrying in %.1f s", self.store, exc, delay
                )
                await asyncio.sleep(delay)
            else:
                return  # the store was closed

    async def _reload_until_reached(self, first_load: concurrent.futures.Future[None]) -> bool:
        """Load after a change notice until the store answers; ``False`` means give up.

        The store announced a change: it must be loaded, however long that takes, since
        a store that has moved on does not announce the same change twice.
        """
        attempt = 0
        while True:
            error = await self._reload()
            _settle(first_load, error)
            if isinstance(error, ConfigurationError):
                self._give_up(error)
                return False
            if not isinstance(error, StoreError):  # a DocumentError is bad content,
                self._store_reached()  # but the store was reached
                return True
            self._store_unreachable()
            await asyncio.sleep(retry_delay(attempt))
            attempt += 1

    def _store_unreachable(self) -> None:
        """Start the outage clock: ``PROVIDER_STALE`` (then ``PROVIDER_ERROR``) follow.

        Called on every failed try; only the first of an outage starts the clock.
        """
        self._out_of_sync()
        if self._stale_timer is None and not self._stale:
            loop = asyncio.get_running_loop()
            self._stale_timer = loop.call_later(self._stale_after, self._go_stale)
            if self._error_after is not None:
                self._error_timer = loop.call_later(self._error_after, self._go_error)

    def _out_of_sync(self) -> None:
        """Note when the served snapshot stopped being known to be the store's."""
        if self._out_of_sync_since is None:
            self._out_of_sync_since = time.monotonic()

    def _go_stale(self) -> None:
        self._stale_timer = None
        if not self._loaded:
            return  # the SDK already reports ERROR for a provider that never loaded
        self._stale = True
        message = (
            f"{self.store!r} unreachable for {self._stale_after} s; serving the last good "
            f"flags (revision {self._stored_snapshot.revision})"
        )
        logger.warning("%s", message)
        self._announce(ProviderEvent.PROVIDER_STALE, ProviderEventDetails(message=message))

    def _go_error(self) -> None:
        self._error_timer = None
        if not self._loaded or not self._stale:
            return  # never loaded: the SDK reports ERROR already
        self._errored = True
        message = (
            f"{self.store!r} unreachable for {self._error_after} s; still serving the last "
            f"good flags (revision {self._stored_snapshot.revision})"
        )
        logger.error("%s", message)
        details = ProviderEventDetails(message=message, error_code=ErrorCode.GENERAL)
        self._announce(ProviderEvent.PROVIDER_ERROR, details)

    def _cancel_outage_timers(self) -> None:
        for timer in (self._stale_timer, self._error_timer):
            if timer is not None:
                timer.cancel()
        self._stale_timer = self._error_timer = None

    def _store_reached(self) -> None:
        """End an outage: cancel the clock, and announce READY if STALE was announced."""
        self._cancel_outage_timers()
        if self._stale:
            self._stale = self._errored = False
            logger.info("%r reachable again; serving its current flags", self.store)
            details = ProviderEventDetails(message="store reachable again")
            self._announce(ProviderEvent.PROVIDER_READY, details)

    def _give_up(self, error: ConfigurationError) -> None:
        """A configuration that can never work: no retries, PROVIDER_FATAL."""
        self._last_error = error
        self._fatal = True
        self._out_of_sync()
        self._note_first_load_failed()
        self._cancel_outage_timers()  # FATAL is final: no STALE or ERROR after it
        logger.error("%r cannot work, not retrying: %s", self.store, error)
        if self._loaded:  # after a failed initialize() the SDK reports FATAL itself
            details = ProviderEventDetails(message=str(error), error_code=ErrorCode.PROVIDER_FATAL)
            self._announce(ProviderEvent.PROVIDER_ERROR, details)

    async def _reload(self) -> OpenFeatureLitestarError | None:
        """Load the store and serve what it holds; return the error instead of raising."""
        try:
            stored = await self.store.load()
            snapshot = await self._snapshot_of(stored)
        except Exception as exc:
            if not isinstance(exc, OpenFeatureLitestarError):  # a store bug: still no crash
                exc = StoreError(f"loading from {self.store!r} failed: {exc!r}")
            self._last_error = exc
            self._out_of_sync()
            self._note_first_load_failed()
            level = logging.ERROR if isinstance(exc, DocumentError) else logging.WARNING
            logger.log(level, "keeping the last good flags: %s", exc)
            return exc
        backwards = self._went_backwards(snapshot)
        if backwards is not None:
            self._last_error = backwards
            self._out_of_sync()
            logger.error("keeping the last good flags: %s", backwards)
            return backwards
        # READY (the end of an outage) before CONFIGURATION_CHANGED: no handler may see
        # new flags announced while the provider still reports STALE.
        self._store_reached()
        self._apply(snapshot)
        self._out_of_sync_since = None
        return None

    async def _snapshot_of(self, stored: StoredDocument) -> Snapshot:
        """The snapshot of what the store loaded, with this follower's bucketing version."""
        document, revision, epoch = stored.document, stored.revision, stored.epoch
        if self.fractional == DEFAULT_FRACTIONAL:  # compiled as the store loaded it
            return Snapshot.from_document(document, revision, epoch)
        # Compiling again takes as long as the store's compile did: off the loop too.
        return await off_loop(
            Snapshot.from_document, document, revision, epoch, fractional=self.fractional
        )

    def _went_backwards(self, loaded: Snapshot) -> StoreError | None:
        """An error when the store holds less than what is served, else ``None``.

        A store whose revision goes back in the same history (a database restored from a
        backup, a Redis from an older dump), or whose document vanished (a Redis
        restarted without persistence: revision 0), was not changed on purpose: taking
        its content would drop the flags every process serves, so it counts as an
        outage until the store is back at the revision served (the next writes there).

        A document in another history (another epoch) was written on purpose into a
        store that had been emptied: it is taken, with a warning, whatever its revision.
        """
        served = self._stored_snapshot
        if not self._loaded:
            return None
        if loaded.epoch != served.epoch and loaded.revision > 0:
            if served.revision > 0:  # not merely the first write of an empty namespace
                logger.warning(
                    "%r holds a new history: revision %d of epoch %s, where revision %d "
                    "of epoch %s was served (the store was emptied and written again); "
                    "serving the new one",
                    self.store,
                    loaded.revision,
                    _epoch_name(loaded.epoch),
                    served.revision,
                    _epoch_name(served.epoch),
                )
            return None
        if loaded.revision >= served.revision:
            return None
        return StoreError(
            f"{self.store!r} went back from revision {served.revision} to {loaded.revision} "
            f"(emptied or restored?); serving revision {served.revision} until the store "
            "is back there or a new history is written"
        )

    # -- serving ------------------------------------------------------------------------

    def _apply(self, stored: Snapshot) -> None:
        with self._serving:
            was_loaded = self._loaded
            previous = self._stored_snapshot
            if was_loaded and stored.document is previous.document:
                return
            self._stored_snapshot, self._loaded, self._last_error = stored, True, None
            noticed = self._noticed_at
            if was_loaded and noticed is not None:
                self._change_lag = max(time.monotonic() - noticed, 0.0)
            announce = self._serve(stored.with_flags(self._overrides), announce=was_loaded)
        self._log_served(previous if was_loaded else None, stored)
        self._warn_of(stored)
        announce()

    def _log_served(self, previous: Snapshot | None, served: Snapshot) -> None:
        """Say what is served now: at the first load, and for each change applied."""
        count = len(served.flags)
        if previous is None:
            logger.info(
                "serving %d flags from %r at revision %d", count, self.store, served.revision
            )
        else:
            changed = previous.changed_keys(served)
            logger.info(
                "applied revision %d from %r: %s",
                served.revision,
                self.store,
                _changed_flags(changed),
            )
        if count == 0 and (previous is None or previous.flags):
            logger.warning(
                "%r holds no flags at revision %d: every evaluation answers the caller's "
                "default with FLAG_NOT_FOUND (is the namespace right?)",
                self.store,
                served.revision,
            )

    def _warn_of(self, stored: Snapshot) -> None:
        """Log the problems flagd tolerates of a newly served document, once."""
        warnings = stored.document.warnings if stored.document is not None else ()
        if warnings:
            lines = "".join(f"\n  - {warning}" for warning in warnings)
            logger.warning(
                "%r: serving a document with %d problems flagd tolerates (they evaluate "
                "as flagd evaluates them; a write of those flags is refused):%s",
                self.store,
                len(warnings),
                lines,
            )

    def _serve(self, snapshot: Snapshot, *, announce: bool) -> Callable[[], None]:
        """Swap in ``snapshot`` (under ``_serving``); return the announcement to make.

        Handlers run after the lock is released, so a handler may touch the follower.
        """
        previous = self.snapshot
        changed = previous.changed_keys(snapshot)
        self.snapshot = snapshot
        details = ProviderEventDetails(flags_changed=changed)
        if not announce:
            # The SDK itself emits READY after initialize(); emit it only on a recovery
            # after the first load had failed, or handlers would fire twice.
            if self._first_load_failed:
                self._first_load_failed = False
                return lambda: self._announce(ProviderEvent.PROVIDER_READY, details)
            return _nothing
        if changed:
            return lambda: self._announce(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, details)
        return _nothing

    def update_overrides(
        self, update: Callable[[Mapping[str, CompiledFlag]], Mapping[str, CompiledFlag]]
    ) -> Mapping[str, CompiledFlag]:
        """Replace the overrides with ``update(current)`` atomically; return the old ones."""
        with self._serving:
            previous = self._overrides
            self._overrides = update(previous)
            snapshot = self._stored_snapshot.with_flags(self._overrides)
            announce = self._serve(snapshot, announce=self._loaded)
        announce()
        return previous

"""FlagProvider: the OpenFeature provider, a thin adapter over evaluation and a follower.

Each resolver is one call of :func:`openfeature_litestar.evaluation.resolve` on the
snapshot the :class:`~._follower.StoreFollower` keeps current: no I/O, no await, no
thread hop, and no exception escapes. The SDK's base class supplies the async
resolvers, which call these same sync ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from openfeature.flag_evaluation import FlagResolutionDetails, FlagType
from openfeature.provider import AbstractProvider, Metadata

from openfeature_litestar._document import FlagDocument
from openfeature_litestar._engine import DEFAULT_FRACTIONAL, fractional_version
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._stores import FlagStore, MemoryStore
from openfeature_litestar._stores._usage import UsageStore
from openfeature_litestar._validation import positive_seconds
from openfeature_litestar.evaluation import resolve, resolve_all

from ._follower import StoreFollower
from ._tracking import OTHER_EVENT_NAMES, TrackedCounts
from ._unknown_keys import UnknownKeys
from ._usage import (
    UsageConfig,
    UsageCounters,
    UsageFlusher,
    UsageSnapshot,
    cancel_quietly,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagValueType
    from openfeature.provider import ProviderStatus
    from openfeature.track import TrackingEventDetails

    from openfeature_litestar._engine import CompiledFlag, FractionalVersion
    from openfeature_litestar._errors import OpenFeatureLitestarError
    from openfeature_litestar._snapshot import Snapshot

__all__ = ["FlagProvider"]

_logger = logging.getLogger("openfeature_litestar.provider")

ObjectValue = Sequence["FlagValueType"] | Mapping[str, "FlagValueType"]

# Module constants: reading an enum member off its class costs about 0.1 µs on CPython
# 3.11, as much as the rest of a static flag's resolution.
_BOOLEAN: Final = FlagType.BOOLEAN
_STRING: Final = FlagType.STRING
_INTEGER: Final = FlagType.INTEGER
_FLOAT: Final = FlagType.FLOAT
_OBJECT: Final = FlagType.OBJECT


class FlagProvider(AbstractProvider):
    """An OpenFeature provider for flagd-format flags, evaluated in process.

    Register it with the SDK (``api.set_provider(FlagProvider(FileStore("flags.yaml")))``)
    and ask for flags through an OpenFeature client. The provider follows flagd's
    evaluation semantics: ``STATIC`` for a flag without targeting, ``TARGETING_MATCH``
    when targeting picks a variant, ``DEFAULT`` when it picks none, ``DISABLED`` for a
    disabled flag, and the error codes ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``,
    ``PARSE_ERROR`` and ``GENERAL`` — always with the caller's default value.

    The store is read in the background: :meth:`initialize` loads the first snapshot,
    and each change the store reports swaps in a new one and emits
    ``PROVIDER_CONFIGURATION_CHANGED`` with the keys of the flags that changed. When the
    store cannot be reached the provider keeps serving its last good snapshot, emits
    ``PROVIDER_STALE`` after ``stale_after`` seconds (``PROVIDER_ERROR`` after
    ``error_after``, if set) and ``PROVIDER_READY`` when the store is back; a
    configuration that can never work is fatal (``PROVIDER_FATAL``).

    Args:
        source: Where the flags come from: a store, or a document (served from a
            :class:`~openfeature_litestar.MemoryStore`).
        name: The provider's name in OpenFeature metadata (and in hooks and logs).
        init_timeout: Seconds :meth:`initialize` waits for the first load.
        stale_after: Seconds the store may be unreachable before the provider reports
            ``PROVIDER_STALE`` (it keeps serving the last good snapshot meanwhile).
        error_after: Seconds the store may be unreachable before the provider reports
            ``PROVIDER_ERROR`` (error code ``GENERAL``; it still serves the last good
            snapshot, and reports ``PROVIDER_READY`` when the store is back), like
            flagd's ``retryGracePeriod``. More than ``stale_after``; ``None`` (the
            default): an outage stays ``STALE``, which says exactly what it is.
        fractional: The ``fractional`` bucketing version: ``"v2"`` (flagd's current,
            the default), ``"v1"`` (flagd before v0.15.0) or ``"v3"`` (Python's flagd
            provider; see :data:`~openfeature_litestar.FractionalVersion`). It is
            compiled into the rules, so it costs nothing per evaluation; a version other
            than the default compiles each loaded document a second time.
        usage: Count every evaluation by flag, variant, reason and error code (never
            by context): a :class:`~openfeature_litestar.UsageConfig`, ``True`` for
            the defaults, ``False`` for no counting. A store that keeps counts
            (:class:`~openfeature_litestar.UsageStore`) receives them in the background;
            :attr:`usage` reads them in process.
        tracking: Called with each tracking event (``client.track(name, context,
            details)``) as ``tracking(name, context, details)``, for instance a
            :class:`~openfeature_litestar.hooks.TrackingRecorder`; whatever it raises is
            caught. ``None`` only counts the events (in :attr:`usage`).

    Raises:
        ConfigurationError: ``init_timeout``, ``stale_after`` or ``error_after`` is not
            a positive number, ``error_after`` is not above ``stale_after``, or
            ``fractional`` names no bucketing version.

    .. versionchanged:: 0.2.0
       A bad ``init_timeout`` or ``stale_after`` raises ``ConfigurationError`` (it was
       ``ValueError``); the async resolvers are the SDK's own, which call the sync ones.
       The ``fractional`` option.

    .. versionchanged:: 0.2.0
       Evaluations are counted (``usage``), and flushed to the store.

    .. versionchanged:: 0.2.0
       The ``error_after`` option; :meth:`track` (OpenFeature's tracking API) and the
       ``tracking`` option.
    """

    def __init__(
        self,
        source: FlagStore | FlagDocument,
        *,
        name: str = "openfeature-litestar",
        init_timeout: float = 10.0,
        stale_after: float = 5.0,
        error_after: float | None = None,
        fractional: FractionalVersion = DEFAULT_FRACTIONAL,
        usage: UsageConfig | bool = True,
        tracking: Callable[[str, EvaluationContext | None, TrackingEventDetails | None], object]
        | None = None,
    ) -> None:
        """Create the provider; nothing is loaded until :meth:`initialize`."""
        init_timeout = positive_seconds("init_timeout", init_timeout)
        stale_after = positive_seconds("stale_after", stale_after)
        error_after = _error_after(error_after, stale_after)
        fractional = fractional_version(fractional)
        super().__init__()
        store = MemoryStore(source) if isinstance(source, FlagDocument) else source
        self._metadata = Metadata(name=name)
        self._follower = StoreFollower(
            store,
            self.emit,
            name=name,
            init_timeout=init_timeout,
            stale_after=stale_after,
            error_after=error_after,
            fractional=fractional,
        )
        self._init_usage(usage, store, init_timeout)
        self._tracking = tracking

    def _init_usage(self, usage: UsageConfig | bool, store: FlagStore, timeout: float) -> None:
        self._counters: UsageCounters | None = None
        self._tracked: TrackedCounts | None = None
        self._flusher: UsageFlusher | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._usage_timeout = timeout
        unknown_keys = UnknownKeys(store)
        self._count: Callable[[str, FlagResolutionDetails[Any]], None] = unknown_keys.count
        if usage is False:
            return
        config = UsageConfig() if usage is True else usage
        if not isinstance(config, UsageConfig):
            raise TypeError(f"usage must be a UsageConfig or a bool, not {type(usage).__name__}")
        self._counters = UsageCounters(config, on_unknown=unknown_keys.note)
        self._tracked = TrackedCounts(config.max_tracked_names)
        self._count = self._counters.count
        if isinstance(store, UsageStore):
            self._flusher = UsageFlusher(self._counters, store, config, tracked=self._tracked)

    # -- what the provider serves -------------------------------------------------------

    @property
    def store(self) -> FlagStore:
        """The store the flags come from."""
        return self._follower.store

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot evaluations read now."""
        return self._follower.snapshot

    @property
    def fractional(self) -> FractionalVersion:
        """The ``fractional`` bucketing version the flags are evaluated with.

        .. versionadded:: 0.2.0
        """
        return self._follower.fractional

    @property
    def running(self) -> bool:
        """Whether the background sync runs (between initialize and shutdown).

        .. versionadded:: 0.2.0
        """
        return self._follower.running

    @property
    def last_sync_error(self) -> OpenFeatureLitestarError | None:
        """The error of the latest failed load, or ``None`` once a load succeeds.

        A failed load (an invalid edit, an unreachable store) never replaces the snapshot:
        the provider keeps serving the last good one.
        """
        return self._follower.last_error

    @property
    def sync_status(self) -> ProviderStatus:
        """The state of the background sync, in OpenFeature's provider statuses.

        ``NOT_READY`` before the first load (and after :meth:`shutdown`), ``READY``
        while the store is followed, ``STALE`` once it has been unreachable for
        ``stale_after`` seconds, ``ERROR`` after ``error_after`` seconds (or while the
        first load has failed), ``FATAL`` for a configuration that can never work. It
        is what the provider has announced; the metrics report it.

        .. versionadded:: 0.2.0
        """
        return self._follower.status

    @property
    def seconds_since_sync(self) -> float | None:
        """Seconds since the served flags were last known to be the store's current ones.

        ``0.0`` while the provider follows its store without trouble (the watch is up
        and the latest load succeeded: a change would be applied within moments). From
        the first failure of an outage (the store unreachable, a load refused as an
        invalid document or as a revision going back) it counts the seconds since that
        failure, until a load succeeds again. The store's watch noticed the failure at
        most one of its poll intervals after the last good read, so this is short of the
        time since that read by at most that much. ``None`` before the first load.

        .. versionadded:: 0.2.0
        """
        return self._follower.seconds_since_sync

    @property
    def change_lag(self) -> float | None:
        """Seconds the latest change took from the store's notice to being served.

        Measured from the moment the store's watch announced it (the store's
        :meth:`~openfeature_litestar.FlagStore.changes` yielded) to the new snapshot
        being swapped in: the load, the compile, and any retries while the store could
        not be read. The time the writer took to reach the watch (a notification's trip,
        or up to one poll interval) comes before it, and is not included: stores give
        no change time to measure from. ``None`` until a change is applied after the
        first load.

        .. versionadded:: 0.2.0
        """
        return self._follower.change_lag

    @property
    def usage(self) -> UsageSnapshot:
        """What this provider has counted since it was created (see ``usage``).

        Counts are in process: what this provider evaluated, flushed to its store or
        not. The store's :meth:`~openfeature_litestar.UsageStore.read_usage` has every
        process's.

        .. versionadded:: 0.2.0
        """
        if self._counters is None:
            return UsageSnapshot(enabled=False)
        flusher = self._flusher
        return UsageSnapshot(
            enabled=True,
            counts=MappingProxyType(self._counters.totals()),
            unflushed=0 if flusher is None else flusher.unflushed,
            dropped=0 if flusher is None else flusher.dropped,
            flushes=0 if flusher is None else flusher.flushes,
            tracked=MappingProxyType(self._tracked.totals() if self._tracked else {}),
        )

    def count_usage(self, flag_key: str, details: FlagResolutionDetails[Any]) -> None:
        """Count an evaluation of :attr:`snapshot` made outside the provider; never raises.

        The OFREP endpoints evaluate on the provider's snapshot without going through
        its resolvers, and count each answer with this. Does nothing with
        ``usage=False``.

        .. versionadded:: 0.2.0
        """
        self._count(flag_key, details)

    def flush_usage(self, timeout: float | None = None) -> bool:
        """Write what was counted to the store now, and wait for it.

        A provider flushes by itself (every ``flush_interval`` seconds and at
        :meth:`shutdown`); this is for scripts and tests that want the counts in the
        store at a moment of their choosing. Call it from any thread but the provider's
        own background loop (an event handler).

        Args:
            timeout: Seconds to wait; ``None`` waits as long as ``init_timeout``.

        Returns:
            Whether the store took every count; ``False`` when it could not be reached
            (the counts wait for the next flush), when the provider is not running, or
            when usage is not counted or the store keeps no counts.

        .. versionadded:: 0.2.0
        """
        flusher = self._flusher
        if flusher is None or not self._follower.running:
            return False
        try:
            future = self._follower.submit(flusher.flush())
            return future.result(self._usage_timeout if timeout is None else timeout)
        except Exception:
            return False

    def get_metadata(self) -> Metadata:
        """The provider's OpenFeature metadata (its name)."""
        return self._metadata

    def update_overrides(
        self, update: Callable[[Mapping[str, CompiledFlag]], Mapping[str, CompiledFlag]]
    ) -> Mapping[str, CompiledFlag]:
        """Replace the flags served over the store's with ``update(current)``, atomically.

        The overrides are laid over every snapshot when it is built, so evaluation pays
        nothing for them; a change emits ``PROVIDER_CONFIGURATION_CHANGED`` like a store
        change. :func:`openfeature_litestar.testing.override_flags` is built on it.

        Args:
            update: Given the current overrides (flag key to compiled flag), returns
                the new ones; called under the provider's lock, so concurrent updates
                never lose each other's changes.

        Returns:
            The overrides before the update.

        .. versionadded:: 0.2.0
        """
        return self._follower.update_overrides(update)

    # -- lifecycle ----------------------------------------------------------------------

    def initialize(self, evaluation_context: EvaluationContext) -> None:  # noqa: ARG002 - SDK signature
        """Start the background sync and load the first snapshot; idempotent.

        Raises:
            ProviderFatalError: The store's configuration can never work.
            GeneralError: The first load failed (the SDK reports ``PROVIDER_ERROR``).
                The background sync keeps trying and reports ``PROVIDER_READY`` when a
                load succeeds.
        """
        try:
            self._follower.start()
        finally:
            self._start_flushing()

    def shutdown(self) -> None:
        """Flush the usage counts, stop the background sync and close the store; idempotent.

        No data is deleted. The snapshot stays, so a late evaluation still gets the last
        answers (and is still counted, in :attr:`usage`). Counts the store cannot take
        within ``init_timeout`` seconds are dropped, with a log line.
        """
        self._final_flush()
        self._follower.stop()

    def _start_flushing(self) -> None:
        flusher = self._flusher
        if flusher is None or not self._follower.running:
            return
        if self._flushing is not None and not self._flushing.done():
            return

        async def start() -> None:
            self._flushing = asyncio.get_running_loop().create_task(flusher.run())

        with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
            self._follower.submit(start()).result(self._usage_timeout)

    def _final_flush(self) -> None:
        flusher = self._flusher
        if flusher is None or not self._follower.running:
            return

        async def last_flush() -> bool:
            flushing, self._flushing = self._flushing, None
            await cancel_quietly(flushing)
            return await flusher.flush()

        try:
            flushed = self._follower.submit(last_flush()).result(self._usage_timeout)
        except Exception:
            flushed = False
        if not flushed:
            flusher.drop_unflushed(f"{self.store!r} did not take them at shutdown")

    # -- evaluation: pure CPU, never raises ---------------------------------------------

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag."""
        details = resolve(
            self._follower.snapshot, flag_key, evaluation_context, _BOOLEAN, default_value
        )
        self._count(flag_key, details)
        return details

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a string flag."""
        details = resolve(
            self._follower.snapshot, flag_key, evaluation_context, _STRING, default_value
        )
        self._count(flag_key, details)
        return details

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve an integer flag; a boolean or fractional value is a type mismatch."""
        details = resolve(
            self._follower.snapshot, flag_key, evaluation_context, _INTEGER, default_value
        )
        self._count(flag_key, details)
        return details

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a float flag; an integral value is returned as a float."""
        details = resolve(
            self._follower.snapshot, flag_key, evaluation_context, _FLOAT, default_value
        )
        self._count(flag_key, details)
        return details

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """Resolve an object flag (a JSON object or array); the value is a copy."""
        details = resolve(
            self._follower.snapshot, flag_key, evaluation_context, _OBJECT, default_value
        )
        self._count(flag_key, details)
        return details

    def resolve_any_details(
        self,
        flag_key: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Any]:
        """Resolve a flag whatever its type (for remote protocols such as OFREP).

        The same as :func:`~openfeature_litestar.evaluation.resolve` on :attr:`snapshot`
        with no type and ``None`` as the default.
        """
        details = resolve(self._follower.snapshot, flag_key, evaluation_context, None, None)
        self._count(flag_key, details)
        return details

    def resolve_all_details(
        self, evaluation_context: EvaluationContext | None = None
    ) -> tuple[int, dict[str, FlagResolutionDetails[Any]]]:
        """Resolve every flag of one snapshot, whatever their types (bulk evaluation).

        Returns:
            The snapshot's revision and each flag's details, in document order, as
            :func:`~openfeature_litestar.evaluation.resolve_all` gives them.
        """
        snapshot = self._follower.snapshot
        results = resolve_all(snapshot, evaluation_context)
        count = self._count
        for key, details in results.items():
            count(key, details)
        return snapshot.revision, results

    # -- tracking: counted, handed on, never raises -------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Count a tracking event by name and hand it to ``tracking``; never raises.

        The SDK calls this for ``client.track(...)`` with the merged evaluation context.
        Counts are in :attr:`usage` (``tracked``); a name that is not text, is empty, is
        longer than 256 characters, looks sensitive or is the targeting key counts under
        :data:`~openfeature_litestar.OTHER_EVENT_NAMES`.

        Args:
            tracking_event_name: The event's name.
            evaluation_context: The merged evaluation context.
            tracking_event_details: The event's value and attributes.

        .. versionadded:: 0.2.0
        """
        tracked = self._tracked
        if tracked is not None:
            targeting_key = getattr(evaluation_context, "targeting_key", None)
            # A name that is the subject's id would put it in the insights.
            tracked.count(
                OTHER_EVENT_NAMES if tracking_event_name == targeting_key else tracking_event_name
            )
        handler = self._tracking
        if handler is not None:
            try:
                handler(tracking_event_name, evaluation_context, tracking_event_details)
            except Exception as error:
                # The type only: the message could quote what the caller passed.
                _logger.warning("the tracking handler raised %s", type(error).__name__)

    def __repr__(self) -> str:
        """Show the name, the store and the served revision."""
        name, revision = self._metadata.name, self._follower.snapshot.revision
        return f"FlagProvider(name={name!r}, store={self.store!r}, revision={revision})"


def _error_after(error_after: object, stale_after: float) -> float | None:
    """``error_after`` checked: ``None``, or seconds above ``stale_after``.

    Raises:
        ConfigurationError: It is not a positive number, or not above ``stale_after``
            (ERROR before STALE is no lifecycle the specification draws).
    """
    if error_after is None:
        return None
    seconds = positive_seconds("error_after", error_after)
    if not seconds > stale_after:
        raise ConfigurationError(
            f"error_after ({seconds} s) must be above stale_after ({stale_after} s): an "
            "outage is reported STALE first, then ERROR"
        )
    return seconds

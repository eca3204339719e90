"""FlagProvider: the OpenFeature provider that evaluates flags from an in-memory snapshot.

Evaluation reads the current :class:`~openfeature_litestar._snapshot.Snapshot` and calls a
precompiled closure: no I/O, no await, no thread hop, and no exception escapes. The store
is read on a private background loop (see ``_background.py``), which loads the first
snapshot in :meth:`FlagProvider.initialize` and then swaps in a new one whenever the
store reports a change, emitting ``PROVIDER_CONFIGURATION_CHANGED`` with the keys of the
flags that changed.

When the store cannot be reached the provider keeps serving its last good snapshot,
reconnects with capped exponential backoff and jitter, emits ``PROVIDER_STALE`` once the
outage has lasted ``stale_after`` seconds, and ``PROVIDER_READY`` when the store is back
(after applying what changed meanwhile). A configuration that can never work (a
:class:`~openfeature_litestar.ConfigurationError` from the store) is fatal: no retries,
``PROVIDER_FATAL``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode, GeneralError, ProviderFatalError
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from ._background import BackgroundLoop
from ._document import FlagDocument
from ._engine import CompiledFlag, Resolution, evaluate_flag
from ._errors import ConfigurationError, DocumentError, OpenFeatureLitestarError, StoreError
from ._snapshot import Snapshot
from ._stores import FlagStore, MemoryStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagValueType

__all__ = ["FlagProvider"]

logger = logging.getLogger("openfeature_litestar.provider")

T = TypeVar("T")
ObjectValue = Sequence["FlagValueType"] | Mapping[str, "FlagValueType"]

_FLOAT = "a float"
_OBJECT = "an object"
_ANY = "any value"
_RETRY_MIN_SECONDS = 0.5
_RETRY_MAX_SECONDS = 30.0


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; an integer flag must never return one.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_object(value: Any) -> bool:
    return isinstance(value, (Mapping, list))


def _is_any(_value: Any) -> bool:
    return True


def _nothing() -> None:
    pass


def _retry_delay(attempt: int) -> float:
    """Capped exponential backoff with jitter, so many workers don't reconnect in step."""
    ceiling = min(_RETRY_MIN_SECONDS * 2 ** min(attempt, 16), _RETRY_MAX_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


def _settle(future: concurrent.futures.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


_NO_DATA: Mapping[str, Any] = MappingProxyType({})


def _targeting_data(flag: CompiledFlag, context: EvaluationContext | None) -> Mapping[str, Any]:
    # The rule only reads the data, so a rule that reads no injected value gets the
    # caller's attributes as they are; the others get a copy with what they read.
    if flag.plain_context:
        return context.attributes if context is not None else _NO_DATA
    reads = flag.reads
    data = dict(context.attributes) if context is not None else {}
    if "$flagd" in reads:
        data["$flagd"] = (
            {"flagKey": flag.key, "timestamp": int(time.time())}
            if "$flagd.timestamp" in reads
            else flag.flagd_constant
        )
    if context is not None and context.targeting_key is not None:
        data["targetingKey"] = context.targeting_key
    return data


def _details_for(
    flag_key: str,
    resolution: Resolution,
    metadata: Mapping[str, Any],
    accepts: Callable[[Any], bool],
    type_name: str,
) -> FlagResolutionDetails[Any]:
    value = resolution.value
    if not accepts(value):
        message = (
            f"flag {flag_key!r} is not {type_name} flag: variant "
            f"{resolution.variant!r} is {type(value).__name__}"
        )
        return FlagResolutionDetails(
            None, error_code=ErrorCode.TYPE_MISMATCH, error_message=message, reason=Reason.ERROR
        )
    if type_name == _FLOAT and isinstance(value, int):
        value = float(value)  # the SDK rejects an int from a float flag
    return FlagResolutionDetails(
        value, variant=resolution.variant, reason=resolution.reason, flag_metadata=metadata
    )


class FlagProvider(AbstractProvider):
    """An OpenFeature provider for flagd-format flags, evaluated in process.

    Register it with the SDK (``api.set_provider(FlagProvider(FileStore("flags.yaml")))``)
    and ask for flags through an OpenFeature client. The provider follows flagd's
    evaluation semantics: ``STATIC`` for a flag without targeting, ``TARGETING_MATCH``
    when targeting picks a variant, ``DEFAULT`` when it picks none, ``DISABLED`` for a
    disabled flag, and the error codes ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``,
    ``PARSE_ERROR`` and ``GENERAL`` — always with the caller's default value.

    Args:
        source: Where the flags come from: a store, or a document (served from a
            :class:`~openfeature_litestar.MemoryStore`).
        name: The provider's name in OpenFeature metadata (and in hooks and logs).
        init_timeout: Seconds :meth:`initialize` waits for the first load.
        stale_after: Seconds the store may be unreachable before the provider reports
            ``PROVIDER_STALE`` (it keeps serving the last good snapshot meanwhile).

    Raises:
        ValueError: ``init_timeout`` or ``stale_after`` is not positive.
    """

    def __init__(
        self,
        source: FlagStore | FlagDocument,
        *,
        name: str = "openfeature-litestar",
        init_timeout: float = 10.0,
        stale_after: float = 5.0,
    ) -> None:
        """Create the provider; nothing is loaded until :meth:`initialize`."""
        for setting, value in (("init_timeout", init_timeout), ("stale_after", stale_after)):
            if not value > 0:
                raise ValueError(f"{setting} must be positive, not {value!r}")
        super().__init__()
        self.store: FlagStore = MemoryStore(source) if isinstance(source, FlagDocument) else source
        self._metadata = Metadata(name=name)
        self._init_timeout = init_timeout
        self._stale_after = stale_after
        # Outage tracking, touched only on the background loop.
        self._stale_timer: asyncio.TimerHandle | None = None
        self._stale = False
        self._snapshot = Snapshot()
        self._stored_snapshot = self._snapshot
        self._overrides: Mapping[str, CompiledFlag] = {}
        self._loaded = False
        self._first_load_failed = False
        self._last_error: OpenFeatureLitestarError | None = None
        self._lifecycle = threading.Lock()
        # Serialises snapshot swaps (background sync vs. test overrides); evaluation
        # never takes it, it reads whichever snapshot is current.
        self._serving = threading.Lock()
        self._loop = BackgroundLoop(f"{name}-sync")
        self._following: asyncio.Task[None] | None = None  # the watch, on the loop

    # -- what the provider serves -------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot evaluations read now."""
        return self._snapshot

    @property
    def last_sync_error(self) -> OpenFeatureLitestarError | None:
        """The error of the latest failed load, or ``None`` once a load succeeds.

        A failed load (an invalid edit, an unreachable store) never replaces the snapshot:
        the provider keeps serving the last good one.
        """
        return self._last_error

    def get_metadata(self) -> Metadata:
        """The provider's OpenFeature metadata (its name)."""
        return self._metadata

    # -- lifecycle ----------------------------------------------------------------------

    def initialize(self, evaluation_context: EvaluationContext) -> None:  # noqa: ARG002 - SDK signature
        """Start the background sync and load the first snapshot; idempotent.

        Raises:
            GeneralError: The first load failed (the SDK reports ``PROVIDER_ERROR``).
                The background sync keeps trying and reports ``PROVIDER_READY`` when a
                load succeeds.
        """
        with self._lifecycle:
            if self._loop.running:
                return
            first_load: concurrent.futures.Future[None] = concurrent.futures.Future()
            self._stale_timer, self._stale = None, False  # an outage ends with the loop
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

    def _note_first_load_failed(self) -> None:
        # The SDK reports ERROR for a failed initialize(); a later successful load must
        # then announce READY itself.
        with self._serving:
            if not self._loaded:
                self._first_load_failed = True

    def shutdown(self) -> None:
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

    async def _follow_changes(self, first_load: concurrent.futures.Future[None]) -> None:
        # A store's changes() yields once as soon as it is watching, so the first load
        # happens after the subscription: no change can fall between the two. A store
        # raises out of changes() when it loses the connection; retrying is ours.
        self._following = asyncio.current_task()
        attempt = 0
        while True:
            try:
                async for _ in self.store.changes():
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
                delay = _retry_delay(attempt)
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
            await asyncio.sleep(_retry_delay(attempt))
            attempt += 1

    def _store_unreachable(self) -> None:
        """Start the outage clock; ``PROVIDER_STALE`` follows if it lasts ``stale_after``."""
        if self._stale_timer is None and not self._stale:
            loop = asyncio.get_running_loop()
            self._stale_timer = loop.call_later(self._stale_after, self._go_stale)

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
        self.emit_provider_stale(ProviderEventDetails(message=message))

    def _store_reached(self) -> None:
        """End an outage: cancel the clock, and announce READY if STALE was announced."""
        if self._stale_timer is not None:
            self._stale_timer.cancel()
            self._stale_timer = None
        if self._stale:
            self._stale = False
            logger.info("%r reachable again; serving its current flags", self.store)
            self.emit_provider_ready(ProviderEventDetails(message="store reachable again"))

    def _give_up(self, error: ConfigurationError) -> None:
        """A configuration that can never work: no retries, PROVIDER_FATAL."""
        self._last_error = error
        self._note_first_load_failed()
        logger.error("%r cannot work, not retrying: %s", self.store, error)
        if self._loaded:  # after a failed initialize() the SDK reports FATAL itself
            self.emit_provider_error(
                ProviderEventDetails(message=str(error), error_code=ErrorCode.PROVIDER_FATAL)
            )

    async def _reload(self) -> OpenFeatureLitestarError | None:
        """Load the store and serve what it holds; return the error instead of raising."""
        try:
            stored = await self.store.load()
            snapshot = Snapshot.from_document(stored.document, stored.revision)
        except Exception as exc:
            if not isinstance(exc, OpenFeatureLitestarError):  # a store bug: still no crash
                exc = StoreError(f"loading from {self.store!r} failed: {exc!r}")
            self._last_error = exc
            self._note_first_load_failed()
            level = logging.ERROR if isinstance(exc, DocumentError) else logging.WARNING
            logger.log(level, "keeping the last good flags: %s", exc)
            return exc
        self._apply(snapshot)
        return None

    def _apply(self, stored: Snapshot) -> None:
        with self._serving:
            was_loaded = self._loaded
            if was_loaded and stored.document is self._stored_snapshot.document:
                return
            self._stored_snapshot, self._loaded, self._last_error = stored, True, None
            announce = self._serve(stored.with_flags(self._overrides), announce=was_loaded)
        announce()

    def _serve(self, snapshot: Snapshot, *, announce: bool) -> Callable[[], None]:
        """Swap in ``snapshot`` (under ``_serving``); return the announcement to make.

        Handlers run after the lock is released, so a handler may touch the provider.
        """
        previous = self._snapshot
        changed = previous.changed_keys(snapshot)
        self._snapshot = snapshot
        details = ProviderEventDetails(flags_changed=changed)
        if not announce:
            # The SDK itself emits READY after initialize(); emit it only on a recovery
            # after the first load had failed, or handlers would fire twice.
            if self._first_load_failed:
                self._first_load_failed = False
                return lambda: self.emit_provider_ready(details)
            return _nothing
        if changed:
            return lambda: self.emit_provider_configuration_changed(details)
        return _nothing

    def _update_overrides(
        self, update: Callable[[Mapping[str, CompiledFlag]], Mapping[str, CompiledFlag]]
    ) -> Mapping[str, CompiledFlag]:
        """Replace the overrides with ``update(current)`` atomically; return the old ones.

        Used by :mod:`openfeature_litestar.testing`. Overrides are laid over each new
        snapshot when it is built, so evaluation pays nothing for them.
        """
        with self._serving:
            previous = self._overrides
            self._overrides = update(previous)
            snapshot = self._stored_snapshot.with_flags(self._overrides)
            announce = self._serve(snapshot, announce=self._loaded)
        announce()
        return previous

    # -- evaluation: pure CPU, never raises ---------------------------------------------

    def _resolve(
        self,
        flag_key: str,
        default_value: T,
        context: EvaluationContext | None,
        accepts: Callable[[Any], bool],
        type_name: str,
        *,
        flags: Mapping[str, CompiledFlag] | None = None,
    ) -> FlagResolutionDetails[T]:
        try:
            if flags is None:
                flags = self._snapshot.flags
            flag = flags.get(flag_key)
            if flag is None:
                return FlagResolutionDetails(
                    default_value,
                    error_code=ErrorCode.FLAG_NOT_FOUND,
                    error_message=f"flag {flag_key!r} not found",
                    reason=Reason.ERROR,
                )
            data = _targeting_data(flag, context) if flag.rule is not None else _NO_DATA
            resolution = evaluate_flag(flag, data)
            if resolution.variant is None:
                return FlagResolutionDetails(
                    default_value,
                    error_code=resolution.error_code,
                    error_message=resolution.error_message,
                    reason=resolution.reason,
                    flag_metadata=flag.metadata,
                )
            # A variant's outcome is shared by every evaluation that reaches it, so the
            # details for each requested type are built once and reused.
            details = resolution.cache.get(type_name)
            if details is None:
                details = _details_for(flag_key, resolution, flag.metadata, accepts, type_name)
                resolution.cache[type_name] = details
            if details.error_code is not None:  # a type mismatch: the caller's default
                return FlagResolutionDetails(
                    default_value,
                    error_code=details.error_code,
                    error_message=details.error_message,
                    reason=Reason.ERROR,
                    flag_metadata=flag.metadata,
                )
            if type_name == _OBJECT or (type_name == _ANY and _is_object(details.value)):
                # Never hand out the snapshot's own object: a caller may change theirs.
                return dataclasses.replace(details, value=copy.deepcopy(details.value))
            return details  # noqa: TRY300 - the fence below must cover every step
        except Exception as exc:  # the last fence: evaluation must never raise
            return FlagResolutionDetails(
                default_value,
                error_code=ErrorCode.GENERAL,
                # The type only: an exception's text can quote the evaluation context.
                error_message=f"evaluating {flag_key!r} failed: {type(exc).__name__}",
                reason=Reason.ERROR,
            )

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag."""
        return self._resolve(flag_key, default_value, evaluation_context, _is_bool, "a boolean")

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a string flag."""
        return self._resolve(flag_key, default_value, evaluation_context, _is_str, "a string")

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve an integer flag; a boolean or fractional value is a type mismatch."""
        return self._resolve(flag_key, default_value, evaluation_context, _is_int, "an integer")

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a float flag; an integral value is returned as a float."""
        return self._resolve(flag_key, default_value, evaluation_context, _is_float, _FLOAT)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """Resolve an object flag (a JSON object or array)."""
        return self._resolve(flag_key, default_value, evaluation_context, _is_object, _OBJECT)

    def resolve_any_details(
        self,
        flag_key: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Any]:
        """Resolve a flag whatever its type (for remote protocols such as OFREP).

        The value is the variant's JSON value as it is; on an error it is ``None``.
        Same semantics and guarantees as the typed resolvers (never raises, no I/O).
        """
        return self._resolve(flag_key, None, evaluation_context, _is_any, _ANY)

    def resolve_all_details(
        self, evaluation_context: EvaluationContext | None = None
    ) -> tuple[int, dict[str, FlagResolutionDetails[Any]]]:
        """Resolve every flag of one snapshot, whatever their types (bulk evaluation).

        Returns:
            The snapshot's revision and each flag's details, in document order; all
            from the same snapshot, even if a new one is swapped in meanwhile.
        """
        snapshot = self._snapshot
        flags = snapshot.flags
        return snapshot.revision, {
            key: self._resolve(key, None, evaluation_context, _is_any, _ANY, flags=flags)
            for key in flags
        }

    # The async resolvers share the sync code path: evaluation never awaits anything.

    async def resolve_boolean_details_async(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag (no I/O: the same code as the sync resolver)."""
        return self.resolve_boolean_details(flag_key, default_value, evaluation_context)

    async def resolve_string_details_async(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a string flag (no I/O: the same code as the sync resolver)."""
        return self.resolve_string_details(flag_key, default_value, evaluation_context)

    async def resolve_integer_details_async(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve an integer flag (no I/O: the same code as the sync resolver)."""
        return self.resolve_integer_details(flag_key, default_value, evaluation_context)

    async def resolve_float_details_async(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a float flag (no I/O: the same code as the sync resolver)."""
        return self.resolve_float_details(flag_key, default_value, evaluation_context)

    async def resolve_object_details_async(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """Resolve an object flag (no I/O: the same code as the sync resolver)."""
        return self.resolve_object_details(flag_key, default_value, evaluation_context)

    def __repr__(self) -> str:
        """Show the name, the store and the served revision."""
        name, revision = self._metadata.name, self._snapshot.revision
        return f"FlagProvider(name={name!r}, store={self.store!r}, revision={revision})"

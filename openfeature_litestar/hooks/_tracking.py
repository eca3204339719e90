"""TrackingRecorder: privacy-safe records of OpenFeature tracking events.

OpenFeature's tracking API (``client.track(name, context, details)``) hands an event to
the provider. :class:`~openfeature_litestar.FlagProvider` counts it by name and, given a
``tracking`` handler, passes it on; a :class:`TrackingRecorder` is that handler. It
writes one flat record per event, as the audit hook does, and with the same guarantees:

* the targeting key appears only as its keyed hash (``feature_flag.context.id``, the
  audit hook's pseudonym for the same key);
* the event's attributes go through the :class:`~openfeature_litestar.Sanitizer`
  policy (size limits included), and any of their values (or keys) equal to the
  targeting key is ``[REDACTED]``; the context's own attributes are never recorded;
* an event name that looks sensitive (an e-mail address, a token), or that is the
  targeting key, is ``[REDACTED]``.

Records are built on the calling thread and handed to the logger or a sink on a daemon
thread through a bounded queue: a slow or failing sink never delays or fails a call of
``track()``.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._privacy._hashing import IdentifierHasher
from openfeature_litestar._privacy._sanitizer import REDACTED, Sanitizer
from openfeature_litestar._validation import positive_int

from ._audit import CONTEXT_ID, AuditSink, _Rendered, _subjects, _without_subjects
from ._drain import DrainQueue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature.evaluation_context import EvaluationContext
    from openfeature.track import TrackingEventDetails

__all__ = ["TRACKING_ATTRIBUTES", "TRACKING_EVENT", "TRACKING_VALUE", "TrackingRecorder"]

TRACKING_EVENT: Final = "openfeature_litestar.tracking.event"
"""The tracking event's name (``[REDACTED]`` when it looks sensitive); our own field."""
TRACKING_VALUE: Final = "openfeature_litestar.tracking.value"
"""The event's numeric value, when it has a finite one; our own field."""
TRACKING_ATTRIBUTES: Final = "openfeature_litestar.tracking.attributes"
"""The event's attributes, sanitised; our own field."""

_MESSAGE: Final = "tracking event: %s"


class TrackingRecorder:
    """Records OpenFeature tracking events without personal data.

    Pass it to the provider: ``FlagProvider(store, tracking=TrackingRecorder())``; every
    ``client.track(...)`` then yields one record. By default records are logged on
    ``logger`` at ``level`` with the dict in the log record's ``audit`` attribute, as
    :class:`~openfeature_litestar.hooks.AuditHook` does; with ``sink`` they go to the
    sink instead.

    Args:
        hasher: Hashes the targeting key; pass the audit hook's so the pseudonyms match.
            ``None`` builds ``IdentifierHasher()`` (the key from
            ``OPENFEATURE_LITESTAR_HASH_KEY``).
        sanitizer: The policy the event's attributes go through; ``None`` uses
            ``Sanitizer()``.
        sink: Called with each record on the drain thread, instead of logging it.
        logger: The logger (or its name) records go to when there is no sink.
        level: The logging level of the records.
        queue_size: The most records waiting for the drain thread; beyond it, new
            records are dropped and counted in :attr:`dropped`.

    Raises:
        ConfigurationError: ``hasher`` is ``None`` and no hashing key is configured, or
            ``queue_size`` is not a positive integer.
    """

    def __init__(
        self,
        *,
        hasher: IdentifierHasher | None = None,
        sanitizer: Sanitizer | None = None,
        sink: AuditSink | None = None,
        logger: logging.Logger | str = "openfeature_litestar.tracking",
        level: int = logging.INFO,
        queue_size: int = 10_000,
    ) -> None:
        """Create the recorder; its drain thread starts with the first record."""
        positive_int("queue_size", queue_size)
        self.hasher = hasher if hasher is not None else IdentifierHasher()
        self.sanitizer = sanitizer if sanitizer is not None else Sanitizer()
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        self._unrecorded = 0
        self._queue = DrainQueue(
            sink if sink is not None else self._log, size=queue_size, name="openfeature-tracking"
        )

    @property
    def dropped(self) -> int:
        """Records dropped: the queue was full (a slow sink) or the recorder was closed."""
        return self._queue.dropped

    @property
    def emitted(self) -> int:
        """Records handed to the logger or the sink, which returned without raising."""
        return self._queue.emitted

    @property
    def failed(self) -> int:
        """Records whose sink call raised, plus events the recorder could not record."""
        return self._queue.failed + self._unrecorded

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued record has been emitted.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            True when nothing is left queued; False when ``timeout`` ran out first.
        """
        return self._queue.flush(timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Emit what is queued (within ``timeout``), then stop; idempotent.

        Args:
            timeout: Seconds to wait for the queue to drain.
        """
        self._queue.close(timeout)

    def __call__(
        self,
        tracking_event_name: object,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Record one tracking event; never raises and never blocks.

        Args:
            tracking_event_name: The event's name.
            evaluation_context: The merged evaluation context of the call.
            tracking_event_details: The event's value and attributes, if any.
        """
        try:
            record = self.build_record(
                tracking_event_name, evaluation_context, tracking_event_details
            )
            self._queue.put(record)
        except Exception:
            # Logging the exception could quote what the caller passed.
            self._unrecorded += 1

    def build_record(
        self,
        tracking_event_name: object,
        evaluation_context: EvaluationContext | None,
        tracking_event_details: TrackingEventDetails | None,
    ) -> dict[str, Any]:
        """Build the record of one event, without queueing it.

        Args:
            tracking_event_name: The event's name.
            evaluation_context: The merged evaluation context of the call.
            tracking_event_details: The event's value and attributes, if any.

        Returns:
            The record: a new flat dict, safe to log.
        """
        targeting_key = getattr(evaluation_context, "targeting_key", None)
        name = self.event_name(tracking_event_name)
        # A name made of the subject's id ("user-42") would show it: redacted, as a
        # variant equal to the targeting key is in the audit record.
        if targeting_key and name == targeting_key:
            name = REDACTED
        record: dict[str, Any] = {TRACKING_EVENT: name}
        if isinstance(targeting_key, str) and targeting_key:
            record[CONTEXT_ID] = self.hasher(targeting_key)
        if tracking_event_details is not None:
            value = getattr(tracking_event_details, "value", None)
            # bool is an int, and an infinity or NaN is no measurement: neither is kept.
            if (type(value) is int or type(value) is float) and math.isfinite(value):
                record[TRACKING_VALUE] = value
            attributes = getattr(tracking_event_details, "attributes", None)
            if attributes:
                subjects = _subjects(targeting_key, None)
                sanitized = self.sanitizer.sanitize(attributes)
                record[TRACKING_ATTRIBUTES] = (
                    _without_subjects(sanitized, subjects) if subjects else sanitized
                )
        return record

    def event_name(self, name: object) -> str:
        """The name as recorded: cut to the sanitizer's ``max_string_length``, or ``[REDACTED]``.

        Args:
            name: The name the caller passed (anything: callers do not always pass text).

        Returns:
            The name, at most the sanitizer's ``max_string_length`` characters;
            ``[REDACTED]`` for a name that is not text or that looks sensitive.
        """
        if not isinstance(name, str):
            return REDACTED
        name = str.__str__(
            name[: self.sanitizer.max_string_length]
        )  # cut first: a huge name costs no more
        return REDACTED if self.sanitizer.is_sensitive_value(name) else name

    def _log(self, record: Mapping[str, Any]) -> None:
        self.logger.log(self.level, _MESSAGE, _Rendered(record), extra={"audit": record})

    def __repr__(self) -> str:
        """Show the counters (never the key)."""
        return (
            f"TrackingRecorder(emitted={self.emitted}, dropped={self.dropped}, "
            f"failed={self.failed})"
        )

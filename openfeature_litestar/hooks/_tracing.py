"""TracingHook: a privacy-safe ``feature_flag.evaluation`` span event per evaluation.

OpenTelemetry's semantic conventions for feature flags name an event,
``feature_flag.evaluation``, and its attributes. This hook adds that event to the span
that is current when a flag is evaluated, with the attributes the audit record has:

* ``feature_flag.key``, ``feature_flag.provider.name``, ``feature_flag.result.variant``,
  ``feature_flag.result.reason`` (lower case), ``error.type`` (lower case, when the
  evaluation failed), ``feature_flag.set.id`` and ``feature_flag.version`` (from the
  flag's metadata);
* ``feature_flag.context.id``: the keyed hash of the targeting key (or of the provider's
  ``contextId``), exactly as :class:`~openfeature_litestar.hooks.AuditHook` computes it,
  so spans and audit records of one subject can be joined, never the key itself;
* ``feature_flag.result.value`` only with ``include_value=True``.

What it never adds: the raw targeting key, any context attribute, the error message
and the exception. A span leaves the process for a tracing backend that usually keeps
it longer, and shows it to more people, than an audit log: an error message can quote
context values, and an exception's message and stack can too.

The record is built by the audit hook's own code (an :class:`AuditHook` without a
context or an error message, whose drain thread never starts), so a variant equal to
the targeting key or a context value is ``[REDACTED]`` here as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from openfeature.hook import Hook

from openfeature_litestar._errors import MissingDependencyError

from ._audit import (
    CONTEXT_ID,
    ERROR_TYPE,
    FLAG_KEY,
    FLAG_SET_ID,
    FLAG_VERSION,
    PROVIDER_NAME,
    REASON,
    VALUE,
    VARIANT,
    AuditHook,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
    from openfeature.hook import HookContext, HookHints

    from openfeature_litestar._privacy._hashing import IdentifierHasher
    from openfeature_litestar._privacy._sanitizer import Sanitizer

__all__ = ["EVALUATION_EVENT", "TracingHook"]

EVALUATION_EVENT: Final = "feature_flag.evaluation"
"""The span event's name, from OpenTelemetry's semantic conventions for feature flags."""

# The keys of an audit record that a span event may carry, in the order they are added.
_SPAN_KEYS: Final = (
    FLAG_KEY,
    PROVIDER_NAME,
    VARIANT,
    REASON,
    ERROR_TYPE,
    CONTEXT_ID,
    FLAG_SET_ID,
    FLAG_VERSION,
    VALUE,
)
_SCALARS: Final = (str, bool, int, float)


def _discard(_record: Mapping[str, Any]) -> None:
    """The inner audit hook's sink; never called, as no record is queued."""


class TracingHook(Hook):
    """An OpenFeature hook that adds a ``feature_flag.evaluation`` event to the current span.

    Register it like any hook (``api.add_hooks([TracingHook()])``); it works with any
    provider. It runs in the ``finally_after`` stage, so failed evaluations get an event
    too (with ``error.type``). When no span is recording (no tracer provider configured,
    or the span was not sampled) it does nothing but ask the span.

    Use it instead of the contrib ``openfeature-hooks-opentelemetry`` ``TracingHook``,
    which puts the raw targeting key in ``feature_flag.context.id`` and the raw error
    message in the event (see the audit and privacy guide).

    Args:
        hasher: Hashes the targeting key for ``feature_flag.context.id``; pass the
            audit hook's, so that both show the same pseudonym. ``None`` builds
            ``IdentifierHasher()``, which reads ``OPENFEATURE_LITESTAR_HASH_KEY`` and
            refuses to run without it.
        sanitizer: The policy a value (with ``include_value``) goes through. ``None``
            uses ``Sanitizer()``.
        include_value: Add ``feature_flag.result.value``. Off by default: a value can be
            personal (a per-user setting) or large, and spans go to more places than
            audit logs; the variant usually says enough. Values that are not a string,
            a number or a boolean are added as their ``str()``.

    Raises:
        MissingDependencyError: ``opentelemetry-api`` is not installed (install the
            ``otel`` extra: ``pip install "openfeature-litestar[otel]"``).
        ConfigurationError: ``hasher`` is ``None`` and no hashing key is configured.
    """

    def __init__(
        self,
        *,
        hasher: IdentifierHasher | None = None,
        sanitizer: Sanitizer | None = None,
        include_value: bool = False,
    ) -> None:
        """Create the hook."""
        try:
            from opentelemetry import trace  # noqa: PLC0415 - an optional extra
        except ImportError:
            raise MissingDependencyError("opentelemetry-api", "otel") from None
        self._current_span = trace.get_current_span
        self.include_value = include_value
        self._records = AuditHook(
            hasher=hasher,
            sanitizer=sanitizer,
            sink=_discard,
            include_value=include_value,
            include_context=False,
            include_error_message=False,
        )
        self.hasher = self._records.hasher
        self.sanitizer = self._records.sanitizer
        self._unrecorded = 0

    @property
    def failed(self) -> int:
        """Evaluations whose event could not be built or added (the hook never raises)."""
        return self._unrecorded

    def attributes(
        self, hook_context: HookContext, details: FlagEvaluationDetails[FlagValueType]
    ) -> dict[str, str | bool | int | float]:
        """Build the event's attributes for one evaluation.

        Args:
            hook_context: The evaluation's flag, context and provider.
            details: The evaluation's outcome.

        Returns:
            The attributes: OpenTelemetry attribute values (text, numbers, booleans).
        """
        record = self._records.build_record(hook_context, details)
        attributes: dict[str, str | bool | int | float] = {}
        for key in _SPAN_KEYS:
            if key in record:
                value = record[key]
                attributes[key] = value if isinstance(value, _SCALARS) else str(value)
        return attributes

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,  # noqa: ARG002 - the SDK's signature
    ) -> None:
        """Add the event to the current span, if it is recording; never raises.

        Args:
            hook_context: The evaluation's flag, context and provider.
            details: The evaluation's outcome, errors included.
            hints: Unused.
        """
        try:
            span = self._current_span()
            if span.is_recording():
                span.add_event(EVALUATION_EVENT, self.attributes(hook_context, details))
        except Exception:
            # The SDK would log a traceback, whose message could quote context values.
            self._unrecorded += 1

    def __repr__(self) -> str:
        """Show the settings (never the key)."""
        return f"TracingHook(include_value={self.include_value}, failed={self.failed})"

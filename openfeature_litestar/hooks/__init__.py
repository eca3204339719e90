"""OpenFeature hooks: an audit log without personal data, and context sanitization.

Both are ordinary OpenFeature hooks: they work with any provider and are registered at
the API, client or invocation level as usual.

* :class:`AuditHook` writes one structured record per evaluation (OpenFeature's
  observability field names; the targeting key hashed; the context sanitised) to
  :mod:`logging` or a sink, off the evaluating thread.
* :class:`SanitizingHook` refuses malformed or oversized contexts with
  ``INVALID_CONTEXT`` and overwrites attributes that targeting must not see.
* :class:`TracingHook` adds OpenTelemetry's ``feature_flag.evaluation`` event to the
  current span, with the same pseudonym as the audit record and nothing raw.
* :class:`TrackingRecorder` records OpenFeature tracking events (``client.track()``)
  that :class:`~openfeature_litestar.FlagProvider` receives, with the same guarantees.
* :class:`HookChain` registers several hooks as one, with the SDK's semantics and one
  hook's bookkeeping cost.

The audit record's field names are exported here too (``FLAG_KEY``, ``VARIANT``, ...),
so code that reads records needs no string literals.
"""

from ._audit import (
    CONTEXT,
    CONTEXT_ID,
    ERROR_MESSAGE,
    ERROR_TYPE,
    FLAG_KEY,
    FLAG_SET_ID,
    FLAG_TYPE,
    FLAG_VERSION,
    PROVIDER_NAME,
    REASON,
    VALUE,
    VARIANT,
    AuditHook,
    AuditSink,
)
from ._chain import HookChain
from ._context import SanitizingHook
from ._tracing import EVALUATION_EVENT, TracingHook
from ._tracking import TRACKING_ATTRIBUTES, TRACKING_EVENT, TRACKING_VALUE, TrackingRecorder

__all__ = [
    "CONTEXT",
    "CONTEXT_ID",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "EVALUATION_EVENT",
    "FLAG_KEY",
    "FLAG_SET_ID",
    "FLAG_TYPE",
    "FLAG_VERSION",
    "PROVIDER_NAME",
    "REASON",
    "TRACKING_ATTRIBUTES",
    "TRACKING_EVENT",
    "TRACKING_VALUE",
    "VALUE",
    "VARIANT",
    "AuditHook",
    "AuditSink",
    "HookChain",
    "SanitizingHook",
    "TracingHook",
    "TrackingRecorder",
]

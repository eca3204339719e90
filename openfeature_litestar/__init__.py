"""openfeature-litestar: flagd-format feature flags, evaluated in process, for OpenFeature.

Application code asks for flags through the OpenFeature SDK; this package supplies the
provider (:class:`FlagProvider`), the flag documents it serves and the stores they
live in. :class:`RedisStore`, :class:`SQLAlchemyStore` and :class:`HttpStore` load on
first use, so their drivers are needed only by applications that use them (extras
``[redis]``, ``[sqlalchemy]`` and ``[http]``).
"""

from __future__ import annotations

import typing

from ._document import (
    MAX_DOCUMENT_BYTES,
    MAX_FLAG_KEY_LENGTH,
    MAX_FLAGS,
    MAX_NESTING_DEPTH,
    DocumentFormat,
    FlagDefinition,
    FlagDocument,
    document_from_data,
    dump_document,
    is_valid_flag_key,
    load_document,
    parse_document,
)
from ._engine import (
    FRACTIONAL_VERSIONS,
    MAX_DOCUMENT_NODES,
    MAX_TARGETING_DEPTH,
    MAX_TARGETING_NODES,
    CompiledFlag,
    FractionalVersion,
)
from ._errors import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    MissingDependencyError,
    OpenFeatureLitestarError,
    Problem,
    RevisionConflict,
    StoreError,
)
from ._insights import (
    FlagInsights,
    Insights,
    StaleFlag,
    StaleReason,
    StaleReport,
    StaleThresholds,
    TrackedEvent,
    UnknownKey,
    WindowCounts,
    build_insights,
    read_insights,
)
from ._masking import mask_secrets, mask_url
from ._metrics import PrometheusCollector, ProviderMetrics, instrument_provider
from ._privacy._hashing import (
    HASH_KEY_ENV,
    HASH_LENGTH,
    MIN_KEY_BYTES,
    IdentifierHasher,
    hash_identifier,
)
from ._privacy._patterns import DEFAULT_SENSITIVE_FIELDS, DEFAULT_SENSITIVE_PATTERNS
from ._privacy._sanitizer import REDACTED, TOO_DEEP, TRUNCATED, Action, Sanitizer
from ._provider import OTHER_EVENT_NAMES, FlagProvider, UsageConfig, UsageSnapshot
from ._snapshot import Snapshot, SnapshotSource
from ._stores import (
    OTHER_FLAG_KEYS,
    TRACKING_REASON,
    AuditAction,
    AuditEntry,
    FileStore,
    FlagStore,
    MemoryStore,
    StoredDocument,
    UsageBatch,
    UsageKey,
    UsageRecord,
    UsageStore,
    WritableFlagStore,
    copy_namespace,
    store_from_url,
)
from .hooks import AuditHook, HookChain, SanitizingHook, TracingHook, TrackingRecorder

if typing.TYPE_CHECKING:
    from ._stores import HttpStore, RedisStore, SQLAlchemyStore

__all__ = [
    "DEFAULT_SENSITIVE_FIELDS",
    "DEFAULT_SENSITIVE_PATTERNS",
    "FRACTIONAL_VERSIONS",
    "HASH_KEY_ENV",
    "HASH_LENGTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_NODES",
    "MAX_FLAGS",
    "MAX_FLAG_KEY_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_TARGETING_DEPTH",
    "MAX_TARGETING_NODES",
    "MIN_KEY_BYTES",
    "OTHER_EVENT_NAMES",
    "OTHER_FLAG_KEYS",
    "REDACTED",
    "TOO_DEEP",
    "TRACKING_REASON",
    "TRUNCATED",
    "Action",
    "AuditAction",
    "AuditEntry",
    "AuditHook",
    "CompiledFlag",
    "ConfigurationError",
    "DocumentError",
    "DocumentFormat",
    "FileStore",
    "FlagDefinition",
    "FlagDocument",
    "FlagInsights",
    "FlagNotFound",
    "FlagProvider",
    "FlagStore",
    "FractionalVersion",
    "HookChain",
    "HttpStore",
    "IdentifierHasher",
    "Insights",
    "MemoryStore",
    "MissingDependencyError",
    "OpenFeatureLitestarError",
    "Problem",
    "PrometheusCollector",
    "ProviderMetrics",
    "RedisStore",
    "RevisionConflict",
    "SQLAlchemyStore",
    "Sanitizer",
    "SanitizingHook",
    "Snapshot",
    "SnapshotSource",
    "StaleFlag",
    "StaleReason",
    "StaleReport",
    "StaleThresholds",
    "StoreError",
    "StoredDocument",
    "TracingHook",
    "TrackedEvent",
    "TrackingRecorder",
    "UnknownKey",
    "UsageBatch",
    "UsageConfig",
    "UsageKey",
    "UsageRecord",
    "UsageSnapshot",
    "UsageStore",
    "WindowCounts",
    "WritableFlagStore",
    "build_insights",
    "copy_namespace",
    "document_from_data",
    "dump_document",
    "hash_identifier",
    "instrument_provider",
    "is_valid_flag_key",
    "load_document",
    "mask_secrets",
    "mask_url",
    "parse_document",
    "read_insights",
    "store_from_url",
]


def __getattr__(name: str) -> object:
    """Load the stores that need an optional driver only when they are asked for."""
    if name in {"HttpStore", "RedisStore", "SQLAlchemyStore"}:
        from . import _stores as stores  # noqa: PLC0415 - deferred: the drivers are optional

        return getattr(stores, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

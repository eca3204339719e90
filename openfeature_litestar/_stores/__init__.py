"""Flag stores: where flag documents live, and how a provider learns they changed.

:class:`RedisStore`, :class:`SQLAlchemyStore` and :class:`HttpStore` are imported on
first use, so that their drivers (extras ``[redis]``, ``[sqlalchemy]`` and ``[http]``)
are needed only by the applications that use them; without the driver the import raises
:class:`~openfeature_litestar.MissingDependencyError` naming the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._base import AuditAction, AuditEntry, FlagStore, StoredDocument, WritableFlagStore
from ._file import FileStore
from ._memory import MemoryStore
from ._url import store_from_url
from ._usage import (
    OTHER_FLAG_KEYS,
    TRACKING_REASON,
    UsageBatch,
    UsageKey,
    UsageRecord,
    UsageStore,
)
from ._writes import copy_namespace

if TYPE_CHECKING:
    from ._http import HttpStore
    from ._redis import RedisStore
    from ._sql import SQLAlchemyStore

__all__ = [
    "OTHER_FLAG_KEYS",
    "TRACKING_REASON",
    "AuditAction",
    "AuditEntry",
    "FileStore",
    "FlagStore",
    "HttpStore",
    "MemoryStore",
    "RedisStore",
    "SQLAlchemyStore",
    "StoredDocument",
    "UsageBatch",
    "UsageKey",
    "UsageRecord",
    "UsageStore",
    "WritableFlagStore",
    "copy_namespace",
    "store_from_url",
]

_LAZY = {"HttpStore": "._http", "RedisStore": "._redis", "SQLAlchemyStore": "._sql"}


def __getattr__(name: str) -> Any:
    """Import a store that needs an optional driver when it is first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)

"""Flag stores: where flag documents live, and how a provider learns they changed."""

from ._base import AuditAction, AuditEntry, FlagStore, StoredDocument, WritableFlagStore
from ._writes import copy_namespace
from .file import FileStore
from .memory import MemoryStore

__all__ = [
    "AuditAction",
    "AuditEntry",
    "FileStore",
    "FlagStore",
    "MemoryStore",
    "StoredDocument",
    "WritableFlagStore",
    "copy_namespace",
]

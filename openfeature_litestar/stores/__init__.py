"""Flag stores: where flag documents live, and how a provider learns they changed."""

from ._base import FlagStore, StoredDocument
from .file import FileStore
from .memory import MemoryStore

__all__ = ["FileStore", "FlagStore", "MemoryStore", "StoredDocument"]

"""openfeature-litestar: flagd-format feature flags, evaluated in process, for OpenFeature.

Application code asks for flags through the OpenFeature SDK; this package supplies the
provider (:class:`FlagProvider`), the flag documents it serves and the stores they
live in.
"""

from .document import (
    FlagDefinition,
    FlagDocument,
    document_from_data,
    dump_document,
    load_document,
    parse_document,
)
from .errors import (
    DocumentError,
    MissingDependencyError,
    OpenFeatureLitestarError,
    Problem,
    RevisionConflict,
    StoreError,
)
from .provider import FlagProvider
from .snapshot import Snapshot
from .stores import FileStore, FlagStore, MemoryStore, StoredDocument

__all__ = [
    "DocumentError",
    "FileStore",
    "FlagDefinition",
    "FlagDocument",
    "FlagProvider",
    "FlagStore",
    "MemoryStore",
    "MissingDependencyError",
    "OpenFeatureLitestarError",
    "Problem",
    "RevisionConflict",
    "Snapshot",
    "StoreError",
    "StoredDocument",
    "document_from_data",
    "dump_document",
    "load_document",
    "parse_document",
]

"""The immutable set of compiled flags that evaluation reads, and what changed between two.

A provider holds exactly one current :class:`Snapshot` and replaces it whole when its
store reports a new document; evaluation reads it without locks, because a snapshot is
never changed after it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from ._engine import DEFAULT_FRACTIONAL

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._document import FlagDocument
    from ._engine import CompiledFlag, FractionalVersion

__all__ = ["Snapshot", "SnapshotSource"]

_EMPTY: Mapping[str, CompiledFlag] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable, compiled flag set at one revision of its store.

    Attributes:
        flags: Flag key to compiled flag.
        revision: The store's revision this snapshot was built from (0 when unknown).
        document: The document it was compiled from, or ``None`` for the empty snapshot.
        epoch: The history ``revision`` counts in (see
            :attr:`StoredDocument.epoch <openfeature_litestar.StoredDocument.epoch>`);
            ``""`` when the store keeps none.

            .. versionadded:: 0.2.0
    """

    flags: Mapping[str, CompiledFlag] = field(default_factory=lambda: _EMPTY)
    revision: int = 0
    document: FlagDocument | None = None
    epoch: str = ""

    @classmethod
    def from_document(
        cls,
        document: FlagDocument,
        revision: int = 0,
        epoch: str = "",
        *,
        fractional: FractionalVersion = DEFAULT_FRACTIONAL,
    ) -> Snapshot:
        """Build the snapshot of ``document`` (compiled when it was loaded).

        Args:
            document: The document to serve.
            revision: Its revision in its store.
            epoch: The history ``revision`` counts in.
            fractional: The ``fractional`` bucketing version to serve it with. The
                default is the version documents are compiled with as they load; another
                compiles the document again (once per document), which takes as long as
                loading it did.

        Raises:
            DocumentError: The document was built without loading and does not compile.
            ConfigurationError: ``fractional`` names no bucketing version.

        .. versionchanged:: 0.2.0
           The ``fractional`` option.
        """
        flags = document.compiled_flags(fractional)
        return cls(MappingProxyType(dict(flags)), revision, document, epoch)

    def with_flags(self, flags: Mapping[str, CompiledFlag]) -> Snapshot:
        """A snapshot serving ``flags`` in place of (or beside) this one's; self if empty."""
        if not flags:
            return self
        merged = MappingProxyType({**self.flags, **flags})
        return Snapshot(merged, self.revision, self.document, self.epoch)

    def changed_keys(self, newer: Snapshot) -> list[str]:
        """The keys of flags added, removed or changed in ``newer``, sorted.

        A flag counts as changed when anything that can change its evaluation or its
        metadata differs, including flag-set metadata it inherits.
        """
        old, new = self.flags, newer.flags
        keys = old.keys() | new.keys()
        return sorted(
            key for key in keys if _fingerprint(old.get(key)) != _fingerprint(new.get(key))
        )


def _fingerprint(flag: CompiledFlag | None) -> str | None:
    return None if flag is None else flag.fingerprint


class SnapshotSource(Protocol):
    """Anything that holds a current snapshot: a provider, a follower, a test double.

    Readers (the OFREP endpoints, for one) take the snapshot once per request and answer
    from it alone, so one answer never mixes two revisions.

    .. versionadded:: 0.2.0
    """

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot to answer from now."""
        ...  # pragma: no cover - a protocol

"""The exceptions openfeature-litestar raises, all under one root.

::

    OpenFeatureLitestarError            anything this package raises on purpose
    ├── ConfigurationError (ValueError) a setting can never work (a bad URL, no hashing key)
    ├── DocumentError (ValueError)      a flag document is invalid; .problems lists every issue
    ├── StoreError                      a flag store could not be read or written
    │   ├── RevisionConflict            a write named a revision that is no longer current
    │   └── FlagNotFound (LookupError)  a write named a flag the store does not hold
    └── MissingDependencyError (ImportError)
                                        an optional extra is not installed

Evaluation never raises: failures there become OpenFeature error codes with the caller's
default value. These exceptions come from loading, writing and configuring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "ConfigurationError",
    "DocumentError",
    "FlagNotFound",
    "MissingDependencyError",
    "OpenFeatureLitestarError",
    "Problem",
    "RevisionConflict",
    "StoreError",
]


class OpenFeatureLitestarError(Exception):
    """The root of every exception this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a flag document.

    Attributes:
        path: Where the problem is, as dotted keys and list indices from the document's
            root, for example ``flags.new-checkout.variants`` or
            ``flags.rollout.targeting.if.0``. Empty for the document as a whole.
        message: What is wrong, in one sentence.
    """

    path: str
    message: str

    def __str__(self) -> str:
        """Render as ``path: message`` (just the message for the root)."""
        return f"{self.path}: {self.message}" if self.path else self.message


class DocumentError(OpenFeatureLitestarError, ValueError):
    """A flag document is invalid; nothing from it was applied.

    Attributes:
        problems: Every problem found, each with its path, in document order.
    """

    def __init__(self, problems: Iterable[Problem], *, source: str | None = None) -> None:
        """Create the error from its problems.

        Args:
            problems: Every problem found; at least one.
            source: What was being loaded (a file name, ``"<string>"``), for the message.
        """
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        count = len(self.problems)
        head = f"invalid flag document{f' {source}' if source else ''}"
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{head} ({count} {noun}):\n{lines}")


class ConfigurationError(OpenFeatureLitestarError, ValueError):
    """A setting that can never work: a malformed store URL, a missing hashing key.

    Retrying does not help; the message says what to change. Secrets in the setting
    (a URL's password) never appear in the message.
    """


class StoreError(OpenFeatureLitestarError):
    """A flag store could not be read or written (unreachable, unreadable, misconfigured)."""


class RevisionConflict(StoreError):  # noqa: N818 - the name says what happened, as in HTTP 409
    """A write gave an ``expected_revision`` that is no longer the store's current one.

    Attributes:
        expected: The revision the writer expected.
        actual: The store's current revision.
        epoch: The history ``actual`` counts in (see
            :attr:`StoredDocument.epoch <openfeature_litestar.StoredDocument.epoch>`);
            ``""`` where the store keeps none.

            .. versionadded:: 0.2.0
    """

    def __init__(self, expected: int, actual: int, *, epoch: str = "") -> None:
        """Create the error from the expected and the actual revision (and its epoch)."""
        self.expected = expected
        self.actual = actual
        self.epoch = epoch
        # The same number can conflict: the write was built on another history's revision.
        where = f"revision {actual} of another history" if expected == actual else f"{actual}"
        super().__init__(
            f"revision conflict: expected revision {expected}, the store is at {where}; "
            "reload and retry"
        )


class FlagNotFound(StoreError, LookupError):  # noqa: N818 - as RevisionConflict, HTTP-like
    """A write (a delete) named a flag that the store's namespace does not hold.

    Attributes:
        key: The flag key.
        namespace: The namespace that was written.
    """

    def __init__(self, key: str, namespace: str) -> None:
        """Create the error for flag ``key`` in ``namespace``."""
        self.key = key
        self.namespace = namespace
        super().__init__(f"flag {key!r} not found in namespace {namespace!r}")


class MissingDependencyError(OpenFeatureLitestarError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        """Create the error for ``package``, installed by the extra ``extra``."""
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package!r} is not installed; install it with "
            f'pip install "openfeature-litestar[{extra}]"'
        )

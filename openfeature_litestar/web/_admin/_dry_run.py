"""The dry-run evaluation: one flag of a stored document, resolved as a provider would.

It is the same pure function every provider uses
(:func:`openfeature_litestar.evaluation.resolve`), run on a snapshot of the stored
document: no provider, no thread, no store per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._snapshot import Snapshot
from openfeature_litestar.evaluation import resolve

if TYPE_CHECKING:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagResolutionDetails

    from openfeature_litestar._engine import FractionalVersion
    from openfeature_litestar._stores import StoredDocument

__all__ = ["dry_run"]


def dry_run(
    stored: StoredDocument,
    key: str,
    context: EvaluationContext,
    fractional: FractionalVersion = DEFAULT_FRACTIONAL,
) -> FlagResolutionDetails[Any]:
    """Evaluate ``key`` exactly as a provider serving ``stored`` would; never raises.

    The semantics are the served ones, down to ``$flagd`` and flag-set metadata, since
    the code is the same. A document read without being compiled is compiled here, which
    can block, so the route calls it in a worker thread.

    Args:
        stored: The namespace's document at one revision.
        key: The flag to evaluate; one the document lacks resolves with the
            ``FLAG_NOT_FOUND`` error code.
        context: The evaluation context.
        fractional: The ``fractional`` bucketing version, the provider's.

    Returns:
        The resolution, whatever the flag's type (``None`` as the value on an error).
    """
    snapshot = Snapshot.from_document(stored.document, stored.revision, fractional=fractional)
    return resolve(snapshot, key, context, None, None)

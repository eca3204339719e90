"""The dry-run evaluation: one flag of a stored document, resolved as a provider would.

Behind one function, so that how a dry run evaluates can change in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar._provider import FlagProvider

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagResolutionDetails

    from openfeature_litestar._stores import StoredDocument

__all__ = ["dry_run"]


def dry_run(
    stored: StoredDocument, key: str, context: EvaluationContext
) -> FlagResolutionDetails[Any]:
    """Evaluate ``key`` exactly as a provider serving ``stored`` would; registers nothing.

    A throwaway provider (its own memory store, never given to the SDK) keeps the
    semantics identical to the served ones, down to ``$flagd`` and flag-set metadata.
    Compiling the document blocks, so the route calls it in a worker thread.

    Args:
        stored: The namespace's document at one revision.
        key: The flag to evaluate; one the document lacks resolves with the
            ``FLAG_NOT_FOUND`` error code.
        context: The evaluation context.

    Returns:
        The resolution, as the provider's ``resolve_any_details`` returns it.
    """
    provider = FlagProvider(stored.document, name="openfeature-litestar-admin-dry-run")
    try:
        provider.initialize(EvaluationContext())
        return provider.resolve_any_details(key, context)
    finally:
        provider.shutdown()

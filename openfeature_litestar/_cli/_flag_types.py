"""A flag's type as an application sees it: the common type of its variants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openfeature.flag_evaluation import FlagType

if TYPE_CHECKING:
    from openfeature_litestar._document import FlagDocument

__all__ = ["infer_type"]


def infer_type(document: FlagDocument, flag: str) -> FlagType:
    """The type an application would ask ``flag`` for: its variants' common type."""
    definition = document.flags.get(flag)
    if definition is None:
        return FlagType.STRING  # the answer will be FLAG_NOT_FOUND whatever the type
    values = list(definition.variants.values())
    if all(isinstance(value, bool) for value in values):
        return FlagType.BOOLEAN
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return FlagType.INTEGER
    if all(isinstance(value, (int, float)) for value in values):
        return FlagType.FLOAT
    if all(isinstance(value, str) for value in values):
        return FlagType.STRING
    return FlagType.OBJECT

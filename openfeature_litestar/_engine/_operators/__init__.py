"""The JSON Logic operators, one module per family, each registered on import.

Importing this package imports every family, so :data:`OPERATORS` read from here is
complete: the compiler takes it from this package and can never see a partial registry.
"""

from openfeature_litestar._engine._registry import OPERATORS

# Importing a family module runs its declarations; nothing else of it is needed here.
from . import (  # noqa: F401
    _arithmetic,
    _arrays,
    _comparison,
    _data,
    _flagd,
    _logic,
    _matches,
    _strings,
)

__all__ = ["OPERATORS"]

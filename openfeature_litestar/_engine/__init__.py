"""The evaluation engine: flagd targeting (JSON Logic) compiled to closures, and flags.

The engine does no I/O and imports no store driver and no web framework.
"""

from ._compiler import (
    MAX_DOCUMENT_NODES,
    MAX_TARGETING_DEPTH,
    MAX_TARGETING_NODES,
    Rule,
    RuleCompiler,
    compile_targeting,
)
from ._flag import CompiledFlag, Resolution, evaluate_flag
from ._fractional import (
    DEFAULT_FRACTIONAL,
    FRACTIONAL_VERSIONS,
    FractionalVersion,
    fractional_version,
)

__all__ = [
    "DEFAULT_FRACTIONAL",
    "FRACTIONAL_VERSIONS",
    "MAX_DOCUMENT_NODES",
    "MAX_TARGETING_DEPTH",
    "MAX_TARGETING_NODES",
    "CompiledFlag",
    "FractionalVersion",
    "Resolution",
    "Rule",
    "RuleCompiler",
    "compile_targeting",
    "evaluate_flag",
    "fractional_version",
]

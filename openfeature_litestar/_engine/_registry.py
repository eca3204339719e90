"""The operator registry: each operator declared once with its builder, arity and purity.

The compiler reads everything it needs to know about an operator -- whether it exists,
how many operands strict mode accepts, whether its operands are compiled first, and
whether a call on constants may be folded -- from the one :class:`OperatorSpec` that
:func:`operator` registers. The family modules in ``_operators`` do the registering.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._compiler import Compiler
    from ._nodes import Node

    Builder = Callable[[Compiler, Any, Any, str, int], Node]
    """Builds an operator's node from ``(compiler, operands, raw operands, path, depth)``.

    A raw operator gets ``(compiler, raw operands, operand paths, path, depth)`` instead
    and compiles what it needs itself.
    """


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """Everything the compiler knows about one operator (or one operator and its aliases).

    Attributes:
        names: The operator's names in a rule; aliases share one declaration.
        builder: Makes the operator's node.
        arity: ``(minimum, maximum)`` operand counts from flagd's targeting schema,
            ``None`` as maximum for no limit; checked only when strict. ``None`` when the
            builder checks its operands itself (the schema says nothing, or we say more).
        pure: Whether the result depends on the operands only, so that a call on
            constant operands may be folded at compile time. Data lookups are not.
        raw: Whether the builder gets its operands uncompiled, to validate their shape.
        lenient_only: Whether strict mode treats the operator as unknown (flagd accepts
            it, its schema does not).
    """

    names: tuple[str, ...]
    builder: Builder
    arity: tuple[int, int | None] | None = None
    pure: bool = True
    raw: bool = False
    lenient_only: bool = False

    def arity_problem(self, name: str, count: int) -> str | None:
        """Why ``count`` operands are wrong for this operator in strict mode, or ``None``."""
        if self.arity is None:
            return None
        low, high = self.arity
        if count >= low and (high is None or count <= high):
            return None
        wanted = f"{low}" if low == high else f"{low} to {high or 'any'}"
        return f"{name!r} takes {wanted} operands, got {count}"


_OPERATORS: dict[str, OperatorSpec] = {}
_DECLARATIONS: list[OperatorSpec] = []

OPERATORS: Mapping[str, OperatorSpec] = MappingProxyType(_OPERATORS)
"""Every registered operator by name; complete once ``_operators`` is imported."""


def operator(
    *names: str,
    arity: tuple[int, int | None] | None = None,
    pure: bool = True,
    raw: bool = False,
    lenient_only: bool = False,
) -> Callable[[Builder], Builder]:
    """Declare an operator: register ``builder`` under ``names`` with its properties.

    Raises:
        ValueError: A name is already declared; a second declaration would silently win.
    """

    def register(builder: Builder) -> Builder:
        spec = OperatorSpec(names, builder, arity, pure=pure, raw=raw, lenient_only=lenient_only)
        for name in names:
            if name in _OPERATORS:
                raise ValueError(f"operator {name!r} is declared twice")
        for name in names:
            _OPERATORS[name] = spec
        _DECLARATIONS.append(spec)
        return builder

    return register


def declarations() -> tuple[OperatorSpec, ...]:
    """Every declaration made so far, in order."""
    return tuple(_DECLARATIONS)

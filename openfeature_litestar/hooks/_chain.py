"""HookChain: several hooks registered as one, for the cost of one.

For every registered hook, on every evaluation, the OpenFeature SDK builds a
``HookContext`` and walks four hook stages; on CPython that bookkeeping alone costs about
a third of a bare ``client.get_boolean_value()`` call per hook. A :class:`HookChain`
runs its hooks inside one registration, with the SDK's own semantics:

* ``before`` runs the hooks in order; the contexts they return are merged in that order
  (a later hook's attributes win), as the SDK merges them. An exception stops the chain
  and reaches the SDK, which ends the evaluation with the caller's default, as it would
  for the hook on its own.
* ``after`` runs the hooks in reverse order; an exception reaches the SDK, as usual.
* ``error`` and ``finally_after`` run in reverse order; an exception from one hook is
  logged and the others still run, as the SDK does (the log names the hook and the
  exception's type, without its message or traceback, which could quote context values).
* Each hook keeps its own ``hook_data``, and each stage goes only to the hooks that
  support the flag's type and implement the stage (a hook that leaves a stage as
  ``Hook``'s no-op is not called for it).

The hooks' stage methods are looked up once, when the chain is made: a method replaced
on a hook afterwards is not seen. This package's own hooks never read ``hook_data``, so
they are not given a dict of their own; when at most one hook of the chain may read it,
that hook gets the SDK's dict itself, as it would registered alone.

Every hook in the chain sees the same ``hook_context.evaluation_context``, which is also
what the SDK gives separately registered hooks: the context before any ``before`` hook.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from openfeature.hook import Hook

from ._audit import AuditHook
from ._context import SanitizingHook

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagEvaluationDetails, FlagType, FlagValueType
    from openfeature.hook import HookContext, HookData, HookHints

__all__ = ["HookChain"]

logger = logging.getLogger("openfeature_litestar.hooks")

_assign = object.__setattr__

# Hooks of exactly these types never read or write hook_data (a subclass might).
_NO_HOOK_DATA: Final[frozenset[type]] = frozenset({AuditHook, SanitizingHook})

_Step = tuple[
    Hook,  # the hook, named when its stage raises
    "Callable[..., Any]",  # its bound stage method
    "str | None",  # its key in the shared hook_data; None: it needs no dict of its own
    "Callable[[FlagType], bool] | None",  # its type filter; None: it takes every type
]


class HookChain(Hook):
    """Several hooks registered as one: the SDK's semantics, one hook's overhead.

    ``client.add_hooks([HookChain(SanitizingHook(), AuditHook())])`` behaves like
    ``client.add_hooks([SanitizingHook(), AuditHook()])`` and costs the SDK's
    bookkeeping of one hook instead of two.

    Args:
        *hooks: The hooks, in the order they would be registered.

    Raises:
        TypeError: An argument is not an OpenFeature ``Hook``.
    """

    def __init__(self, *hooks: Hook) -> None:
        """Create the chain of ``hooks``."""
        for hook in hooks:
            if not isinstance(hook, Hook):
                raise TypeError(f"a HookChain takes OpenFeature hooks, not {type(hook).__name__}")
        self.hooks: tuple[Hook, ...] = hooks
        # A stage goes only to the hooks that implement it: most hooks implement one or
        # two of the four, and every call here is paid on every evaluation.
        keys = _hook_data_keys(hooks)
        self._before = _steps(hooks, keys, "before")
        self._after = _steps(hooks, keys, "after")[::-1]
        self._error = _steps(hooks, keys, "error")[::-1]
        self._finally = _steps(hooks, keys, "finally_after")[::-1]

    def before(self, hook_context: HookContext, hints: HookHints) -> EvaluationContext | None:
        """Run every hook's ``before`` in order; merge the contexts they return.

        Args:
            hook_context: The evaluation.
            hints: The evaluation's hook hints.

        Returns:
            The merged context, or ``None`` when no hook returned one.
        """
        if not self._before:
            return None
        return self._run(hook_context, self._before, (hints,), isolate=False)

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        """Run every hook's ``after`` in reverse order.

        Args:
            hook_context: The evaluation.
            details: Its outcome.
            hints: The evaluation's hook hints.
        """
        if self._after:
            self._run(hook_context, self._after, (details, hints), isolate=False)

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        """Run every hook's ``error`` in reverse order; one that raises does not stop the rest.

        Args:
            hook_context: The evaluation.
            exception: What went wrong.
            hints: The evaluation's hook hints.
        """
        if self._error:
            self._run(hook_context, self._error, (exception, hints), isolate=True)

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        """Run every hook's ``finally_after`` in reverse order, each isolated from the others.

        Args:
            hook_context: The evaluation.
            details: Its outcome.
            hints: The evaluation's hook hints.
        """
        if self._finally:
            self._run(hook_context, self._finally, (details, hints), isolate=True)

    @staticmethod
    def _run(
        hook_context: HookContext,
        steps: tuple[_Step, ...],
        arguments: tuple[Any, ...],
        *,
        isolate: bool,
    ) -> EvaluationContext | None:
        """Call each step's method that takes the flag's type; merge what they return.

        A hook with a ``hook_data`` key sees its own dict, kept in the shared one under
        that key. The SDK's ``HookContext`` checks every attribute assignment, slowly,
        and ``hook_data`` is not one it guards, so the check is bypassed.
        """
        shared: HookData = hook_context.hook_data
        flag_type = hook_context.flag_type
        merged: EvaluationContext | None = None
        swapped = False
        try:
            for hook, method, key, supports in steps:
                if supports is not None and not supports(flag_type):
                    continue
                if key is not None:
                    own = shared.get(key)
                    if own is None:
                        own = shared[key] = {}
                    _assign(hook_context, "hook_data", own)
                    swapped = True
                if not isolate:
                    returned = method(hook_context, *arguments)
                    if returned is not None:
                        merged = returned if merged is None else merged.merge(returned)
                    continue
                try:
                    method(hook_context, *arguments)
                except Exception as exc:
                    logger.warning(
                        "a hook in a HookChain raised %s (%s); the others still ran",
                        type(exc).__name__,
                        type(hook).__name__,
                    )
        finally:
            if swapped:
                _assign(hook_context, "hook_data", shared)
        return merged

    def supports_flag_value_type(self, flag_type: FlagType) -> bool:  # noqa: ARG002 - SDK signature
        """Always true: each stage asks every hook of the chain itself.

        The SDK asks this before every stage; asking each hook here as well would
        double the cost for no change in behaviour.
        """
        return True

    def __repr__(self) -> str:
        """Show the hooks."""
        return f"HookChain({', '.join(repr(hook) for hook in self.hooks)})"


def _overrides(hook: Hook, name: str) -> bool:
    """Whether ``hook`` replaces ``Hook``'s ``name`` (in its class or on the instance)."""
    default = getattr(Hook, name)
    return getattr(type(hook), name, default) is not default or name in vars(hook)


def _hook_data_keys(hooks: tuple[Hook, ...]) -> tuple[str | None, ...]:
    """Each hook's key in the shared ``hook_data``, or None when it needs no dict of its own.

    Hooks known never to touch ``hook_data`` need none; when only one other hook is
    left, it can have the SDK's dict itself, which no other hook of the chain touches.
    """
    readers = [index for index, hook in enumerate(hooks) if type(hook) not in _NO_HOOK_DATA]
    if len(readers) <= 1:
        return (None,) * len(hooks)
    return tuple(f"hook_chain.{index}" if index in readers else None for index in range(len(hooks)))


def _steps(hooks: tuple[Hook, ...], keys: tuple[str | None, ...], stage: str) -> tuple[_Step, ...]:
    """The steps of the hooks whose ``stage`` is not ``Hook``'s no-op, in chain order."""
    return tuple(
        (
            hook,
            getattr(hook, stage),
            key,
            hook.supports_flag_value_type if _overrides(hook, "supports_flag_value_type") else None,
        )
        for hook, key in zip(hooks, keys, strict=True)
        if _overrides(hook, stage)
    )

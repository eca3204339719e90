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

Every hook in the chain sees the same ``hook_context.evaluation_context``, which is also
what the SDK gives separately registered hooks: the context before any ``before`` hook.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from openfeature.hook import Hook

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagEvaluationDetails, FlagType, FlagValueType
    from openfeature.hook import HookContext, HookData, HookHints

__all__ = ["HookChain"]

logger = logging.getLogger("openfeature_litestar.hooks")

_assign = object.__setattr__


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
        self._before = _implementing(hooks, "before")
        self._after = _implementing(hooks, "after")[::-1]
        self._error = _implementing(hooks, "error")[::-1]
        self._finally = _implementing(hooks, "finally_after")[::-1]

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
        returned: list[EvaluationContext] = []

        def call(hook: Hook) -> None:
            context = hook.before(hook_context, hints)
            if context is not None:
                returned.append(context)

        self._stage(hook_context, self._before, call, isolate=False)
        if not returned:
            return None
        merged = returned[0]
        for context in returned[1:]:
            merged = merged.merge(context)
        return merged

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
            self._stage(
                hook_context,
                self._after,
                lambda hook: hook.after(hook_context, details, hints),
                isolate=False,
            )

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        """Run every hook's ``error`` in reverse order; one that raises does not stop the rest.

        Args:
            hook_context: The evaluation.
            exception: What went wrong.
            hints: The evaluation's hook hints.
        """
        if self._error:
            self._stage(
                hook_context,
                self._error,
                lambda hook: hook.error(hook_context, exception, hints),
                isolate=True,
            )

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
            self._stage(
                hook_context,
                self._finally,
                lambda hook: hook.finally_after(hook_context, details, hints),
                isolate=True,
            )

    def _stage(
        self,
        hook_context: HookContext,
        order: tuple[tuple[str, Hook], ...],
        call: Callable[[Hook], None],
        *,
        isolate: bool,
    ) -> None:
        """Call ``call(hook)`` for each hook in ``order`` that takes the flag's type.

        Each call sees the hook's own ``hook_data``, kept by position in the chain's.
        The SDK's ``HookContext`` checks every attribute assignment, slowly, and
        ``hook_data`` is not one it guards, so the check is bypassed.
        """
        shared: HookData = hook_context.hook_data
        flag_type = hook_context.flag_type
        try:
            for key, hook in order:
                if not hook.supports_flag_value_type(flag_type):
                    continue
                own = shared.get(key)
                if own is None:
                    own = shared[key] = {}
                _assign(hook_context, "hook_data", own)
                if not isolate:
                    call(hook)
                    continue
                try:
                    call(hook)
                except Exception as exc:
                    logger.warning(
                        "a hook in a HookChain raised %s (%s); the others still ran",
                        type(exc).__name__,
                        type(hook).__name__,
                    )
        finally:
            _assign(hook_context, "hook_data", shared)

    def supports_flag_value_type(self, flag_type: FlagType) -> bool:  # noqa: ARG002 - SDK signature
        """Always true: each stage asks every hook of the chain itself.

        The SDK asks this before every stage; asking each hook here as well would
        double the cost for no change in behaviour.
        """
        return True

    def __repr__(self) -> str:
        """Show the hooks."""
        return f"HookChain({', '.join(repr(hook) for hook in self.hooks)})"


def _implementing(hooks: tuple[Hook, ...], stage: str) -> tuple[tuple[str, Hook], ...]:
    """The hooks whose ``stage`` is not ``Hook``'s no-op, with their ``hook_data`` keys."""
    default = getattr(Hook, stage)
    return tuple(
        (f"hook_chain.{index}", hook)
        for index, hook in enumerate(hooks)
        if getattr(type(hook), stage, default) is not default or stage in vars(hook)
    )

"""SanitizingHook: check the evaluation context's shape and overwrite what rules must not see.

A ``before`` hook runs after OpenFeature has merged the API, transaction, client and
invocation contexts, and before the provider is called. This one:

1. validates the merged context against limits (entries per mapping or list, string
   length, nesting depth, values in all) and types (string keys; JSON-like values and
   datetimes). A context that breaks them is refused with ``InvalidContextError``: the
   caller gets its default value with ``INVALID_CONTEXT`` and a message that names the
   attribute, never its value;
2. overwrites protected attributes (``protected``) and, with a ``sanitizer``, the
   attributes its policy redacts, hashes or drops.

OpenFeature *merges* the context a ``before`` hook returns over the evaluation's context,
so a hook can replace an attribute's value but cannot remove the attribute. An attribute
the policy drops is therefore overwritten with ``None``, which targeting rules read
exactly as a missing attribute (``{"var": "x"}`` gives ``null`` for both). Only the
provider sees the overwritten values: other hooks get the context as the caller passed
it, which is why :class:`~openfeature_litestar.hooks.AuditHook` applies its own policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import InvalidContextError
from openfeature.hook import Hook

from openfeature_litestar._privacy._sanitizer import Sanitizer
from openfeature_litestar._validation import positive_int

if TYPE_CHECKING:
    from openfeature.hook import HookContext, HookHints

__all__ = ["SanitizingHook"]

_MAX_SHOWN_NAME: Final = 64
_SCALARS: Final = (str, bool, int, float, datetime, date, time)
_FLAT_NON_STRINGS: Final = frozenset({bool, int, float, type(None)})


class _Rejected(Exception):  # noqa: N818 - internal signal, turned into InvalidContextError
    """A limit or type check failed; collects the path as it propagates up."""

    def __init__(self, problem: str, *, whole: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.whole = whole
        self.path: list[tuple[int, object]] = []

    def enter(self, position: int, name: object) -> None:
        """Record that the failure is inside entry ``position`` (named ``name``)."""
        if not self.whole:
            self.path.append((position, name))


class SanitizingHook(Hook):
    """An OpenFeature ``before`` hook that validates the context and overwrites attributes.

    Register it before other hooks that read the context (API level, or first in a
    client's list). It works with any provider.

    Args:
        sanitizer: A policy whose redacted, hashed and dropped attributes are
            overwritten before the provider sees them. ``None`` (the default) overwrites
            nothing by policy: the default policy marks ``email`` sensitive, and
            targeting rules often read it, so redacting before the engine is a choice
            you make explicitly. Its limits are the defaults of the ones below.
        protected: Attribute name to the value it always has: when the merged context
            holds the attribute, its value is replaced (``None`` hides it). Use it for
            attributes that only the server may decide (``{"is_admin": None}``).
        max_attributes: The most entries in one mapping or list (default: the
            sanitizer's, 64 for the default policy).
        max_string_length: The longest string, attribute name or targeting key
            (default: the sanitizer's, 1024).
        max_depth: The deepest nesting; the attributes mapping is level 1, a mapping
            or list inside it level 2 (default: the sanitizer's, 8).
        max_values: The most values in the whole context, containers included
            (default: the sanitizer's, 4096).

    Raises:
        ConfigurationError: A limit is not a positive integer.
    """

    def __init__(
        self,
        *,
        sanitizer: Sanitizer | None = None,
        protected: Mapping[str, Any] | None = None,
        max_attributes: int | None = None,
        max_string_length: int | None = None,
        max_depth: int | None = None,
        max_values: int | None = None,
    ) -> None:
        """Create the hook."""
        self.sanitizer = sanitizer
        self.protected: Mapping[str, Any] = dict(protected or {})
        # The limits default to the policy's (the default policy's without one), and
        # its value patterns keep names that are data (an e-mail as a key) out of messages.
        policy = sanitizer if sanitizer is not None else Sanitizer()
        self._names_policy = policy
        self.max_attributes = _limit("max_attributes", max_attributes, policy)
        self.max_string_length = _limit("max_string_length", max_string_length, policy)
        self.max_depth = _limit("max_depth", max_depth, policy)
        self.max_values = _limit("max_values", max_values, policy)
        self._overwrites = sanitizer is not None or bool(self.protected)
        self._flat_size = min(self.max_attributes, self.max_values)

    def before(
        self,
        hook_context: HookContext,
        hints: HookHints,  # noqa: ARG002 - the SDK's signature
    ) -> EvaluationContext | None:
        """Validate the merged context; return the attributes to overwrite, if any.

        Args:
            hook_context: The evaluation, with the merged context.
            hints: Unused.

        Returns:
            A context holding only the overwritten attributes (OpenFeature merges it
            over the evaluation's), or ``None`` when nothing needs overwriting.

        Raises:
            InvalidContextError: The context breaks a limit or holds an unsupported
                value; the message names the attribute and the limit.
        """
        context = hook_context.evaluation_context
        if not (self._is_plain_key(context.targeting_key) and self._is_small_and_flat(context)):
            self.validate(context)
        if not self._overwrites:
            # None, not an empty context: the SDK leaves out what a hook returns as None.
            return None
        overrides = self.overrides(context.attributes)
        return EvaluationContext(attributes=overrides) if overrides else None

    def validate(self, context: EvaluationContext) -> None:
        """Check ``context`` against the limits and the supported types.

        Args:
            context: The evaluation context.

        Raises:
            InvalidContextError: With a message that names the offending attribute (or
                its position, when its name itself could be data) and the limit.
        """
        targeting_key: object = context.targeting_key
        if targeting_key is not None:
            if not isinstance(targeting_key, str):
                raise InvalidContextError(
                    f"evaluation context rejected: the targeting key is "
                    f"{type(targeting_key).__name__}, not a string"
                )
            if len(targeting_key) > self.max_string_length:
                raise InvalidContextError(
                    f"evaluation context rejected: the targeting key has "
                    f"{len(targeting_key)} characters (limit {self.max_string_length})"
                )
        attributes: object = context.attributes
        if not isinstance(attributes, Mapping):
            raise InvalidContextError(
                f"evaluation context rejected: attributes are "
                f"{type(attributes).__name__}, not a mapping"
            )
        try:
            self._check_container(attributes, 1, self.max_values)
        except _Rejected as rejected:
            where = self._describe(rejected.path)
            raise InvalidContextError(
                f"evaluation context rejected: {where} {rejected.problem}"
            ) from None

    def _is_plain_key(self, targeting_key: object) -> bool:
        """Whether the targeting key is absent or a string within the length limit."""
        return targeting_key is None or (
            type(targeting_key) is str and len(targeting_key) <= self.max_string_length
        )

    def _is_small_and_flat(self, context: EvaluationContext) -> bool:
        """The common case, checked without building paths: a dict of few short scalars."""
        attributes: object = context.attributes
        if type(attributes) is not dict or len(attributes) > self._flat_size:
            return False
        limit = self.max_string_length
        for name, value in attributes.items():
            if type(name) is not str or len(name) > limit:
                return False
            kind = type(value)
            if kind is str:
                if len(value) > limit:
                    return False
            elif kind not in _FLAT_NON_STRINGS:
                return False
        return True

    def _check_container(
        self, container: Mapping[Any, Any] | list[Any] | tuple[Any, ...], depth: int, budget: int
    ) -> int:
        """Check ``container`` at nesting ``depth``; return what is left of the value budget."""
        if depth > self.max_depth:
            raise _Rejected(f"is nested deeper than {self.max_depth} levels")
        size = len(container)
        if size > self.max_attributes:
            raise _Rejected(f"has {size} entries (limit {self.max_attributes})")
        budget -= size
        if budget < 0:
            raise _Rejected(f"has more than {self.max_values} values in all", whole=True)
        position, name = 0, None
        try:
            if isinstance(container, Mapping):
                for position, (name, value) in enumerate(container.items()):  # noqa: B007 - read by the except clause
                    self._check_name(name)
                    budget = self._check_value(value, depth, budget)
            else:
                for position, value in enumerate(container):  # noqa: B007 - as above
                    budget = self._check_value(value, depth, budget)
        except _Rejected as rejected:
            rejected.enter(position, name)
            raise
        return budget

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str):
            raise _Rejected(f"has a {type(name).__name__} name; names must be strings")
        if len(name) > self.max_string_length:
            raise _Rejected(
                f"has a name of {len(name)} characters (limit {self.max_string_length})"
            )

    def _check_value(self, value: object, depth: int, budget: int) -> int:
        if isinstance(value, str):
            if len(value) > self.max_string_length:
                raise _Rejected(
                    f"is a string of {len(value)} characters (limit {self.max_string_length})"
                )
        elif isinstance(value, (Mapping, list, tuple)):
            return self._check_container(value, depth + 1, budget)
        elif value is not None and not isinstance(value, _SCALARS):
            raise _Rejected(f"is of unsupported type {type(value).__name__}")
        return budget

    def _describe(self, path: list[tuple[int, object]]) -> str:
        """Name the rejected place; a name that could itself be data is shown as a position.

        The path is written between single quotes as it is, not escaped with ``repr()``:
        a name that repeats a context value (a mapping keyed by user) then reads as that
        value, which is what the audit hook cuts out of its records' messages. Only
        printable names are shown, so nothing in the path needs escaping.
        """
        if not path:
            return "the context"
        parts = []
        for position, name in reversed(path):
            if name is None:
                parts.append(f"[{position}]")
            elif self._is_safe_to_show(name):
                parts.append(f".{name}" if parts else str(name))
            else:
                parts.append(f".<entry {position}>" if parts else f"<entry {position}>")
        return f"attribute '{''.join(parts)}'"

    def _is_safe_to_show(self, name: object) -> bool:
        return (
            isinstance(name, str)
            and 0 < len(name) <= _MAX_SHOWN_NAME
            and name.isprintable()
            and not self._names_policy.is_sensitive_value(name)
        )

    def overrides(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Return the attributes to overwrite, with their new values.

        Protected attributes that are present get their protected value; with a
        sanitizer, every attribute whose sanitised value differs gets the sanitised
        value, and every attribute the sanitizer drops gets ``None``.

        Args:
            attributes: The merged context's attributes (already validated).

        Returns:
            Name to new value; empty when nothing changes.
        """
        overrides = {name: value for name, value in self.protected.items() if name in attributes}
        sanitizer = self.sanitizer
        if sanitizer is None:
            return overrides
        clean = sanitizer.sanitize(attributes)
        for name, value in attributes.items():
            if name in overrides:
                continue
            if name not in clean:
                overrides[name] = None
                continue
            cleaned = clean[name]
            if cleaned is not value and cleaned != value:
                overrides[name] = cleaned
        return overrides

    def __repr__(self) -> str:
        """Show the limits and what is overwritten."""
        return (
            f"SanitizingHook(sanitizer={self.sanitizer!r}, protected={sorted(self.protected)}, "
            f"max_attributes={self.max_attributes}, max_string_length={self.max_string_length}, "
            f"max_depth={self.max_depth}, max_values={self.max_values})"
        )


def _limit(name: str, given: int | None, policy: Sanitizer) -> int:
    value: object = getattr(policy, name) if given is None else given
    return positive_int(name, value)

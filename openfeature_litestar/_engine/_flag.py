"""Evaluation of one compiled flag: flagd's resolution rules, with no I/O and no raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._compiler import Rule

__all__ = ["CompiledFlag", "Resolution", "evaluate_flag"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of evaluating one flag, before the caller's type is checked.

    Every outcome that names a variant is built once, when the flag is compiled, and
    shared by all evaluations that reach it; only errors are built per call.

    Attributes:
        value: The variant's value, or ``None`` when the caller's default applies
            (disabled, no variant chosen, or an error).
        variant: The chosen variant's name, or ``None``.
        reason: An OpenFeature reason (``STATIC``, ``TARGETING_MATCH``, ``DEFAULT``,
            ``DISABLED`` or ``ERROR``).
        error_code: The OpenFeature error code when ``reason`` is ``ERROR``.
        error_message: A human-readable explanation of the error.
        cache: Free for the caller to memoise what it derives from this outcome (the
            evaluation keeps its per-type OpenFeature details here).
    """

    value: Any
    variant: str | None
    reason: str
    error_code: ErrorCode | None = None
    error_message: str | None = None
    cache: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


_DISABLED = Resolution(None, None, Reason.DISABLED)


@dataclass(frozen=True, slots=True)
class CompiledFlag:
    """A flag ready to evaluate: its targeting compiled to a closure, its metadata merged.

    Attributes:
        key: The flag key.
        enabled: ``False`` for ``state: DISABLED``.
        variants: Variant name to value.
        default_variant: The variant served when targeting picks none; ``None`` means
            the caller's default.
        rule: The compiled targeting, or ``None`` for a flag without targeting.
        metadata: The flag set's metadata overlaid with the flag's own.
        broken: Why the flag's targeting could not be compiled, when the document was
            loaded leniently (flagd compatibility); evaluation then reports
            ``PARSE_ERROR``. ``None`` for a healthy flag.
        fingerprint: A canonical text of everything the flag was compiled from (its
            definition, the flag-set metadata and the evaluators it references); two
            compiled flags behave the same when their fingerprints are equal.
        reads: Which injected values the rule may read: ``"targetingKey"``,
            ``"$flagd"`` and ``"$flagd.timestamp"``. The caller may leave out the others
            (the default, all three, is always safe).
    """

    key: str
    enabled: bool
    variants: Mapping[str, Any]
    default_variant: str | None
    rule: Rule | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    broken: str | None = None
    fingerprint: str = ""
    reads: frozenset[str] = frozenset({"targetingKey", "$flagd", "$flagd.timestamp"})
    _matches: Mapping[str, Resolution] = field(init=False, repr=False, compare=False)
    _static: Resolution = field(init=False, repr=False, compare=False)
    _default: Resolution = field(init=False, repr=False, compare=False)
    plain_context: bool = field(init=False, repr=False, compare=False)
    """The rule reads only the caller's attributes (no injected values)."""
    flagd_constant: Mapping[str, Any] = field(init=False, repr=False, compare=False)
    """``$flagd`` for a rule that does not read the timestamp."""

    def __post_init__(self) -> None:
        """Build every outcome that names a variant, once."""
        matches = {
            name: Resolution(value, name, Reason.TARGETING_MATCH)
            for name, value in self.variants.items()
        }
        object.__setattr__(self, "_matches", matches)
        object.__setattr__(self, "_static", self._fallback(Reason.STATIC))
        object.__setattr__(self, "_default", self._fallback(Reason.DEFAULT))
        object.__setattr__(self, "plain_context", not self.reads)
        object.__setattr__(self, "flagd_constant", {"flagKey": self.key})

    def _fallback(self, reason: str) -> Resolution:
        name = self.default_variant
        if name is None:
            return Resolution(None, None, Reason.DEFAULT)
        if name not in self.variants:
            return _error(ErrorCode.GENERAL, f"flag '{self.key}' has no variant '{name}'")
        return Resolution(self.variants[name], name, reason)


# Messages show a key or a name between single quotes as it is, not escaped with repr():
# one that repeats a context value then reads as that value, which is what the audit hook
# cuts out of its records' messages.
def _error(code: ErrorCode, message: str) -> Resolution:
    return Resolution(None, None, Reason.ERROR, code, message)


def _variant_name(result: Any) -> str | None:
    # flagd turns a boolean rule result into the variant named "true" or "false".
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, str):
        return result
    return None


def evaluate_flag(flag: CompiledFlag, data: Mapping[str, Any]) -> Resolution:  # noqa: PLR0911 - one return per flagd outcome
    """Evaluate ``flag`` against targeting ``data``; never raises.

    Args:
        flag: The compiled flag.
        data: The evaluation context as JSON Logic sees it: the context's attributes,
            ``targetingKey`` and ``$flagd`` (``flagKey``, ``timestamp``).

    Returns:
        The resolution, following flagd: no targeting gives ``STATIC``; a rule that names
        a variant gives ``TARGETING_MATCH``; a rule that gives ``null`` gives ``DEFAULT``;
        a disabled flag gives ``DISABLED`` with the caller's default.
    """
    if not flag.enabled:
        return _DISABLED
    if flag.broken is not None:
        return _error(ErrorCode.PARSE_ERROR, flag.broken)
    rule = flag.rule
    if rule is None:
        return flag._static  # noqa: SLF001 - precomputed by CompiledFlag for this function
    try:
        result = rule(data)
    except Exception as exc:  # a rule is total by construction; this is the last fence
        # The type only: an exception's text can quote the evaluation context.
        return _error(ErrorCode.GENERAL, f"targeting of '{flag.key}' failed: {type(exc).__name__}")
    if result is None:
        return flag._default  # noqa: SLF001
    name = _variant_name(result)
    if name is None:
        return _error(
            ErrorCode.GENERAL,
            f"targeting of '{flag.key}' returned {type(result).__name__}, not a variant name",
        )
    match = flag._matches.get(name)  # noqa: SLF001
    if match is None:
        # The name is not quoted: a rule may have computed it from the context (an
        # e-mail address, say), and error messages reach callers' logs.
        return _error(
            ErrorCode.GENERAL,
            f"targeting of '{flag.key}' returned a name that is not one of its variants "
            f"({', '.join(sorted(flag._matches))})",  # noqa: SLF001
        )
    return match

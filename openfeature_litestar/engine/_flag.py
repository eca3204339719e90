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

    Attributes:
        value: The variant's value, or ``None`` when the caller's default applies
            (disabled, no variant chosen, or an error).
        variant: The chosen variant's name, or ``None``.
        reason: An OpenFeature reason (``STATIC``, ``TARGETING_MATCH``, ``DEFAULT``,
            ``DISABLED`` or ``ERROR``).
        error_code: The OpenFeature error code when ``reason`` is ``ERROR``.
        error_message: A human-readable explanation of the error.
    """

    value: Any
    variant: str | None
    reason: str
    error_code: ErrorCode | None = None
    error_message: str | None = None

    @property
    def uses_caller_default(self) -> bool:
        """Whether the caller's default value is the answer (no variant was chosen)."""
        return self.variant is None


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
    """

    key: str
    enabled: bool
    variants: Mapping[str, Any]
    default_variant: str | None
    rule: Rule | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    broken: str | None = None
    fingerprint: str = ""


def _error(code: ErrorCode, message: str) -> Resolution:
    return Resolution(None, None, Reason.ERROR, code, message)


def _default(flag: CompiledFlag, reason: str) -> Resolution:
    if flag.default_variant is None:
        return Resolution(None, None, Reason.DEFAULT)
    return _variant(flag, flag.default_variant, reason)


def _variant(flag: CompiledFlag, name: str, reason: str) -> Resolution:
    try:
        return Resolution(flag.variants[name], name, reason)
    except KeyError:
        return _error(ErrorCode.GENERAL, f"flag {flag.key!r} has no variant {name!r}")


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
        return Resolution(None, None, Reason.DISABLED)
    if flag.broken is not None:
        return _error(ErrorCode.PARSE_ERROR, flag.broken)
    if flag.rule is None:
        return _default(flag, Reason.STATIC)
    try:
        result = flag.rule(data)
    except Exception as exc:  # a rule is total by construction; this is the last fence
        return _error(ErrorCode.GENERAL, f"targeting of {flag.key!r} failed: {exc!r}")
    name = _variant_name(result)
    if name is None:
        if result is None:
            return _default(flag, Reason.DEFAULT)
        return _error(
            ErrorCode.GENERAL,
            f"targeting of {flag.key!r} returned {type(result).__name__}, not a variant name",
        )
    return _variant(flag, name, Reason.TARGETING_MATCH)

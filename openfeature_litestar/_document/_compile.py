"""Compiling a validated document's flags into the engine's :class:`CompiledFlag`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from openfeature_litestar._engine import (
    DEFAULT_FRACTIONAL,
    MAX_DOCUMENT_NODES,
    CompiledFlag,
    FractionalVersion,
    RuleCompiler,
)
from openfeature_litestar._errors import DocumentError, Problem
from openfeature_litestar._pacing import give_way

if TYPE_CHECKING:
    from collections.abc import Collection

    from ._model import FlagDocument

__all__ = ["CompiledDocument", "compile_flags", "recompile_flags"]


@dataclass(frozen=True, slots=True)
class CompiledDocument:
    """A document's compiled flags and what compiling them tolerated.

    Attributes:
        flags: Flag key to compiled flag.
        warnings: Flag key to the problems tolerated in that flag (only when not
            strict), in document order; a flag without any is absent.
    """

    flags: dict[str, CompiledFlag]
    warnings: dict[str, tuple[Problem, ...]]
    nodes: dict[str, int] = field(default_factory=dict)
    """Flag key to its share of the document's node budget: its rule's values, and
    those of each evaluator it was the first to name."""


class _BudgetSpent(Exception):  # noqa: N818 - internal signal, turned into a refusal
    """The node budget is spent while compiling a flag (with that flag's problems)."""

    def __init__(self, found: list[Problem]) -> None:
        super().__init__()
        self.found = found


def compile_flags(
    document: FlagDocument,
    *,
    strict: bool,
    max_nodes: int = MAX_DOCUMENT_NODES,
    fractional: FractionalVersion = DEFAULT_FRACTIONAL,
) -> CompiledDocument:
    """Compile every flag of ``document``, keyed by flag key.

    Each evaluator is compiled once and shared by the flags that name it.

    Args:
        document: A validated document.
        strict: Reject a ``defaultVariant`` that names no variant and targeting that does
            not compile or that flagd evaluates to ``null``; when ``False``, such a flag
            is kept (targeting that does not compile marks it broken: ``PARSE_ERROR``)
            and each problem is one of its warnings.
        max_nodes: The most values the document's rules may have together (each
            evaluator counted once); a document over it is refused, strict or not.
        fractional: The ``fractional`` bucketing version the rules are compiled with.
            Flags compiled with another version than the default have it in their
            fingerprint, so that two fingerprints are equal only for flags that behave
            the same.

    Raises:
        DocumentError: ``strict`` and some flag does not compile, or the document is
            over ``max_nodes``; lists every problem.
    """
    rules = RuleCompiler(
        document.evaluators, strict=strict, max_document_nodes=max_nodes, fractional=fractional
    )
    shared = _SharedText(document, fractional)
    result = CompiledDocument({}, {}, {})
    problems: list[Problem] = []
    try:
        for key in document.flags:
            problems.extend(
                _compile_flag(document, key, rules=rules, shared=shared, strict=strict, into=result)
            )
    except _BudgetSpent as exc:
        # Refused as a whole, now: going on would only spend more time on it.
        assert rules.exhausted is not None  # noqa: S101 - what _BudgetSpent means
        raise DocumentError([*problems, *exc.found, rules.exhausted]) from None
    if problems:
        raise DocumentError(problems)
    return result


def recompile_flags(
    document: FlagDocument,
    previous: CompiledDocument,
    changed: Collection[str],
    *,
    max_nodes: int = MAX_DOCUMENT_NODES,
) -> CompiledDocument | None:
    """Compile ``document`` leniently, reusing ``previous`` for every flag not ``changed``.

    ``previous`` must be the default-version compile of a document with the same
    ``$evaluators`` and ``metadata`` (a write of some flags): a flag it has and that is not
    in ``changed`` compiles to the same flag, so only the changed flags are compiled.
    What they may spend of ``max_nodes`` is what the kept flags leave.

    Returns:
        The compiled document, or ``None`` when the changed flags go over what is left
        of the budget: an evaluator counted with a kept flag is counted again for a
        changed one that names it, so only a whole compile can tell exactly.
    """
    kept = [key for key in document.flags if key not in changed and key in previous.flags]
    spent = sum(previous.nodes.get(key, 0) for key in kept)
    rules = RuleCompiler(
        document.evaluators, strict=False, max_document_nodes=max(max_nodes - spent, 0)
    )
    shared = _SharedText(document, DEFAULT_FRACTIONAL)
    result = CompiledDocument({}, {}, {})
    kept_set = set(kept)
    try:
        for key in document.flags:
            if key in kept_set:
                result.flags[key] = previous.flags[key]
                result.nodes[key] = previous.nodes.get(key, 0)
                if key in previous.warnings:
                    result.warnings[key] = previous.warnings[key]
                continue
            _compile_flag(document, key, rules=rules, shared=shared, strict=False, into=result)
    except _BudgetSpent:
        return None
    return result


def _compile_flag(
    document: FlagDocument,
    key: str,
    *,
    rules: RuleCompiler,
    shared: _SharedText,
    strict: bool,
    into: CompiledDocument,
) -> list[Problem]:
    """Compile flag ``key`` into ``into``; the problems to refuse it for, when strict.

    Raises:
        _BudgetSpent: The document's node budget is spent.
    """
    give_way()
    flag = document.flags[key]
    path = f"flags.{key}"
    found: list[Problem] = []  # this flag's problems: refused when strict
    if flag.default_variant is not None and flag.default_variant not in flag.variants:
        found.append(
            Problem(f"{path}.defaultVariant", f"names no variant: {flag.default_variant!r}")
        )
    rule, broken = None, None
    before = rules.document_nodes
    if flag.targeting:
        try:
            rule = rules.compile(flag.targeting, f"{path}.targeting")
        except DocumentError as exc:
            if rules.exhausted is not None:
                raise _BudgetSpent(found) from None
            found.extend(exc.problems)
            broken = "; ".join(str(problem) for problem in exc.problems)
        found.extend(rules.warnings)
    if not strict and found:
        into.warnings[key] = tuple(found)
    text = json.dumps(flag.model_dump(mode="json", by_alias=True), sort_keys=True)
    uses_ref = '"$ref"' in text
    into.flags[key] = CompiledFlag(
        key=key,
        enabled=flag.state == "ENABLED",
        variants=flag.variants,
        default_variant=flag.default_variant,
        rule=rule,
        metadata=MappingProxyType({**document.metadata, **flag.metadata}),
        broken=broken,
        fingerprint=shared.fingerprint(text, uses_ref=uses_ref),
        reads=_injected_reads(text) | (shared.evaluator_reads if uses_ref else frozenset()),
    )
    into.nodes[key] = rules.document_nodes - before
    return found if strict else []


class _SharedText:
    """What every flag's fingerprint and reads share, computed once per document.

    A flag's fingerprint is a digest, not the text itself: the text of a flag that
    names an evaluator includes every evaluator, and keeping it per flag would cost as
    much memory as expanding the references did.
    """

    def __init__(self, document: FlagDocument, fractional: FractionalVersion) -> None:
        self.metadata = json.dumps(document.metadata, sort_keys=True)
        # The default version adds nothing, so fingerprints stay what they were.
        self.version = "" if fractional == DEFAULT_FRACTIONAL else f"fractional={fractional}"
        evaluators = json.dumps(document.evaluators, sort_keys=True)
        self.evaluators_digest = hashlib.sha256(evaluators.encode()).hexdigest()
        self.evaluator_reads = _injected_reads(evaluators)

    def fingerprint(self, flag_text: str, *, uses_ref: bool) -> str:
        # Only a flag whose targeting uses $ref depends on the evaluators.
        parts = [flag_text, self.metadata, self.evaluators_digest if uses_ref else ""]
        if self.version:
            parts.append(self.version)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _injected_reads(fingerprint: str) -> frozenset[str]:
    # Which injected values a rule may read, judged from its text (evaluators included):
    # a rule that reads none of them is given the caller's attributes without a copy.
    # Over-approximating is safe; it only costs the copy.
    if '"var": {' in fingerprint or '"var": [{' in fingerprint:
        return frozenset({"targetingKey", "$flagd", "$flagd.timestamp"})  # a computed path
    reads = set()
    if "targetingKey" in fingerprint or '"fractional"' in fingerprint:
        reads.add("targetingKey")
    if "$flagd" in fingerprint or '"fractional"' in fingerprint:
        reads.add("$flagd")
    if "timestamp" in fingerprint:
        reads.add("$flagd.timestamp")
    return frozenset(reads)

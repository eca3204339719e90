"""Compiling a validated document's flags into the engine's :class:`CompiledFlag`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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
    from ._model import FlagDocument

__all__ = ["CompiledDocument", "compile_flags"]


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
    compiled: dict[str, CompiledFlag] = {}
    problems: list[Problem] = []
    warnings: dict[str, tuple[Problem, ...]] = {}
    for key, flag in document.flags.items():
        give_way()
        path = f"flags.{key}"
        found: list[Problem] = []  # this flag's problems: refused when strict
        if flag.default_variant is not None and flag.default_variant not in flag.variants:
            found.append(
                Problem(f"{path}.defaultVariant", f"names no variant: {flag.default_variant!r}")
            )
        rule, broken = None, None
        if flag.targeting:
            try:
                rule = rules.compile(flag.targeting, f"{path}.targeting")
            except DocumentError as exc:
                if rules.exhausted is not None:
                    # Refused as a whole, now: going on would only spend more time on it.
                    raise DocumentError([*problems, *found, rules.exhausted]) from None
                found.extend(exc.problems)
                broken = "; ".join(str(problem) for problem in exc.problems)
            found.extend(rules.warnings)
        if strict:
            problems.extend(found)
        elif found:
            warnings[key] = tuple(found)
        text = json.dumps(flag.model_dump(mode="json", by_alias=True), sort_keys=True)
        uses_ref = '"$ref"' in text
        compiled[key] = CompiledFlag(
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
    if problems:
        raise DocumentError(problems)
    return CompiledDocument(compiled, warnings)


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

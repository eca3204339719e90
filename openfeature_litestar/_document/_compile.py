"""Compiling a validated document's flags into the engine's :class:`CompiledFlag`."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import TYPE_CHECKING

from openfeature_litestar._engine import CompiledFlag, compile_targeting
from openfeature_litestar._errors import DocumentError, Problem

if TYPE_CHECKING:
    from ._model import FlagDefinition, FlagDocument

__all__ = ["compile_flags"]


def compile_flags(document: FlagDocument, *, strict: bool) -> dict[str, CompiledFlag]:
    """Compile every flag of ``document``, keyed by flag key.

    Args:
        document: A validated document.
        strict: Reject a ``defaultVariant`` that names no variant and targeting that does
            not compile; when ``False``, such a flag is kept and marked broken.

    Raises:
        DocumentError: ``strict`` and some flag does not compile; lists every problem.
    """
    compiled: dict[str, CompiledFlag] = {}
    problems: list[Problem] = []
    for key, flag in document.flags.items():
        path = f"flags.{key}"
        if (
            strict
            and flag.default_variant is not None
            and flag.default_variant not in flag.variants
        ):
            problems.append(
                Problem(f"{path}.defaultVariant", f"names no variant: {flag.default_variant!r}")
            )
        rule, broken = None, None
        if flag.targeting:
            try:
                rule = compile_targeting(
                    flag.targeting,
                    evaluators=document.evaluators,
                    path=f"{path}.targeting",
                    strict=strict,
                )
            except DocumentError as exc:
                if strict:
                    problems.extend(exc.problems)
                broken = "; ".join(str(problem) for problem in exc.problems)
        fingerprint = _fingerprint(document, flag)
        compiled[key] = CompiledFlag(
            key=key,
            enabled=flag.state == "ENABLED",
            variants=flag.variants,
            default_variant=flag.default_variant,
            rule=rule,
            metadata=MappingProxyType({**document.metadata, **flag.metadata}),
            broken=broken,
            fingerprint=fingerprint,
            reads=_injected_reads(fingerprint),
        )
    if problems:
        raise DocumentError(problems)
    return compiled


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


def _fingerprint(document: FlagDocument, flag: FlagDefinition) -> str:
    definition = flag.model_dump(mode="json", by_alias=True)
    text = json.dumps([definition, document.metadata], sort_keys=True)
    if '"$ref"' not in text:
        return text
    # Only a flag whose targeting uses $ref depends on the evaluators.
    return json.dumps([definition, document.metadata, document.evaluators], sort_keys=True)

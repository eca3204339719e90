"""The commands on flag files: ``validate`` (every problem listed) and ``evaluate``.

``evaluate --compare`` is in ``_compare``.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import TYPE_CHECKING, Any, Final, TextIO

from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagType

from openfeature_litestar._document import FlagDocument, load_document
from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._errors import DocumentError, Problem
from openfeature_litestar._provider import FlagProvider

from ._compare import compare
from ._flag_types import infer_type
from ._hints import did_you_mean
from ._outcomes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, report_error
from ._read_commands import read_namespace, where

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from openfeature.flag_evaluation import FlagEvaluationDetails

__all__ = ["TYPE_NAMES", "evaluate", "load", "validate"]

TYPE_NAMES: Final[dict[str, FlagType]] = {
    "boolean": FlagType.BOOLEAN,
    "string": FlagType.STRING,
    "integer": FlagType.INTEGER,
    "float": FlagType.FLOAT,
    "object": FlagType.OBJECT,
}
"""The ``--type`` choices, as the user spells them, and the flag types they ask for."""

_ZERO: Final[dict[FlagType, Any]] = {
    FlagType.BOOLEAN: False,
    FlagType.STRING: "",
    FlagType.INTEGER: 0,
    FlagType.FLOAT: 0.0,
    FlagType.OBJECT: {},
}
_DETAILS: Final[dict[FlagType, Callable[..., FlagEvaluationDetails[Any]]]] = {
    FlagType.BOOLEAN: OpenFeatureClient.get_boolean_details,
    FlagType.STRING: OpenFeatureClient.get_string_details,
    FlagType.INTEGER: OpenFeatureClient.get_integer_details,
    FlagType.FLOAT: OpenFeatureClient.get_float_details,
    FlagType.OBJECT: OpenFeatureClient.get_object_details,
}
_TYPE_NAME: Final = {flag_type: name for name, flag_type in TYPE_NAMES.items()}


def load(path: str, *, strict: bool) -> FlagDocument:
    """Read and check the document at ``path``; an unreadable file is a usage error.

    Raises:
        DocumentError: The document is invalid.
        UsageError: The file cannot be read.
    """
    try:
        return load_document(path, strict=strict)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def _problem_data(problem: Problem) -> dict[str, str]:
    return {"path": problem.path, "message": problem.message}


def _validate_one(
    path: str, out: TextIO, *, strict: bool, fractional: str | None, as_json: bool
) -> int:
    # Read as flagd reads it, always: the warnings are listed, and --strict only decides
    # whether they fail the check.
    record: dict[str, Any] = {"file": path, "valid": False, "flags": None, "problems": []}
    try:
        document = load(path, strict=False)
        if fractional is not None:  # compiled as a provider of that version compiles it
            document.compiled_flags(fractional)  # type: ignore[arg-type]  # argparse choices
    except DocumentError as exc:
        record["problems"] = [_problem_data(problem) for problem in exc.problems]
        print(json.dumps({**record, "warnings": []}) if as_json else exc, file=out)
        return EXIT_FAILED
    except UsageError as exc:  # report it and go on with the other files
        report_error(str(exc))
        if as_json:
            print(json.dumps({**record, "warnings": [], "error": str(exc)}), file=out)
        return EXIT_USAGE
    warnings = document.warnings
    status = EXIT_FAILED if strict and warnings else EXIT_OK
    if as_json:
        record.update(
            valid=status == EXIT_OK,
            flags=len(document.flags),
            warnings=[_problem_data(problem) for problem in warnings],
        )
        print(json.dumps(record, ensure_ascii=False), file=out)
        return status
    version = f", fractional {fractional}" if fractional is not None else ""
    if not warnings:
        print(f"{path}: valid ({len(document.flags)} flags{version})", file=out)
        return EXIT_OK
    count = len(warnings)
    noun = "problem" if count == 1 else "problems"
    verdict = "invalid (--strict)" if strict else f"valid ({len(document.flags)} flags{version})"
    print(f"{path}: {verdict}, {count} {noun} flagd tolerates (a write refuses them):", file=out)
    for warning in warnings:
        print(f"  - {warning}", file=out)
    return status


def validate(args: argparse.Namespace, out: TextIO) -> int:
    """``validate FILE...``: check every file; the status is the worst one's.

    Problems flagd tolerates are listed as warnings; they fail the check (status 1)
    only with ``--strict``. With ``--json``, one JSON object per file.
    """
    # usage 2 > invalid 1 > ok 0
    return max(
        _validate_one(path, out, strict=args.strict, fractional=args.fractional, as_json=args.json)
        for path in args.files
    )


def _context(text: str) -> EvaluationContext:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--context is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError("--context must be a JSON object")
    targeting_key = data.pop("targetingKey", None)
    if targeting_key is not None and not isinstance(targeting_key, str):
        raise UsageError("--context: targetingKey must be a string")
    return EvaluationContext(targeting_key=targeting_key, attributes=data)


def _default(text: str | None, flag_type: FlagType) -> Any:
    if text is None:
        return _ZERO[flag_type]
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--default is not valid JSON: {exc}") from None


def _check_compare_options(args: argparse.Namespace) -> None:
    if args.compare is None:
        for name in ("keys", "sample", "key_attribute"):
            if getattr(args, name) is not None:
                raise UsageError(f"--{name.replace('_', '-')} goes with --compare FROM TO")
        return
    for name in ("fractional", "flag_type", "default"):
        if getattr(args, name) is not None:
            option = "--type" if name == "flag_type" else f"--{name}"
            raise UsageError(f"{option} does not go with --compare (it resolves any type)")


def _evaluated_document(args: argparse.Namespace) -> FlagDocument:
    """The document ``evaluate`` reads: ``FILE``, or the namespace ``--store`` names.

    ``args.file`` becomes the store's description, for the messages that name the source.

    Raises:
        DocumentError: The document is invalid (or, with ``--strict``, has warnings).
        MissingError: The store's namespace has never been written.
        UsageError: Both or neither of ``FILE`` and ``--store`` are given.
    """
    if args.store is None:
        if args.file is None:
            raise UsageError("evaluate needs FILE FLAG, or --store URL FLAG")
        if args.namespace is not None:
            raise UsageError("--namespace goes with --store URL, not with FILE")
        return load(args.file, strict=args.strict)
    if args.file is not None:
        raise UsageError(f"evaluate reads FILE ({args.file}) or --store URL, not both")
    stored, namespace = read_namespace(args)
    args.file = where(namespace, args.store)
    if args.strict and stored.document.warnings:
        raise DocumentError(stored.document.warnings, source=args.file)
    return stored.document


def evaluate(args: argparse.Namespace, out: TextIO) -> int:
    """``evaluate FILE FLAG`` (or ``--store URL FLAG``): evaluate as an app would.

    The flag is evaluated through an OpenFeature client on a provider serving the
    document. With ``--compare FROM TO``, resolve the flag for many keys under two
    bucketing versions instead, and show who would move (see ``_compare``).
    """
    _check_compare_options(args)
    context = _context(args.context)
    document = _evaluated_document(args)
    if args.compare is not None:
        return compare(args, document, context, out)
    flag_type = TYPE_NAMES[args.flag_type] if args.flag_type else infer_type(document, args.flag)
    default = _default(args.default, flag_type)
    domain = f"openfeature-litestar-cli-{uuid.uuid4()}"
    provider = FlagProvider(document, fractional=args.fractional or DEFAULT_FRACTIONAL)
    api.set_provider_and_wait(provider, domain=domain)
    try:
        details = _DETAILS[flag_type](api.get_client(domain), args.flag, default, context)
    finally:
        provider.shutdown()
    _print_details(details, _TYPE_NAME[flag_type], out, as_json=args.json)
    if details.error_code == ErrorCode.FLAG_NOT_FOUND:
        hint = did_you_mean(args.flag, document.flags)
        if hint:
            sys.stderr.write(f"note: {args.file} has no flag {args.flag!r}{hint}\n")
    return EXIT_FAILED if details.error_code is not None else EXIT_OK


def _print_details(
    details: FlagEvaluationDetails[Any], type_name: str, out: TextIO, *, as_json: bool
) -> None:
    error = details.error_code.value if details.error_code is not None else None
    fields = {
        "flag": details.flag_key,
        "type": type_name,
        "value": details.value,
        "variant": details.variant,
        "reason": details.reason,
        "error": error,
        "message": details.error_message,
        "metadata": dict(details.flag_metadata),
    }
    if as_json:
        print(json.dumps(fields, ensure_ascii=False), file=out)
        return
    for name, value in fields.items():
        if value is None or (name == "metadata" and not value):
            continue
        shown = json.dumps(value, ensure_ascii=False) if name in {"value", "metadata"} else value
        print(f"{name + ':':9} {shown}", file=out)

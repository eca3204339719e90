"""The ``openfeature-litestar`` command: validate flag documents and evaluate flags.

Exit status: 0 on success; 1 when a document is invalid or an evaluation ends in an
error code; 2 for a usage error (bad arguments, unreadable file, bad ``--context``).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import TYPE_CHECKING, Any, Literal, TextIO

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from .document import FlagDocument, load_document
from .errors import DocumentError
from .provider import FlagProvider

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature.flag_evaluation import FlagEvaluationDetails

__all__ = ["main"]

FlagType = Literal["boolean", "string", "integer", "float", "object"]
_ZERO: dict[str, Any] = {"boolean": False, "string": "", "integer": 0, "float": 0.0, "object": {}}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openfeature-litestar",
        description="Validate flagd-format flag documents and evaluate their flags.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check flag documents; list every problem")
    validate.add_argument("files", nargs="+", metavar="FILE", help="JSON or YAML flag documents")
    validate.add_argument("--lenient", action="store_true", help="accept what flagd accepts")

    evaluate = commands.add_parser("evaluate", help="evaluate one flag the way an app would")
    evaluate.add_argument("file", metavar="FILE", help="a JSON or YAML flag document")
    evaluate.add_argument("flag", metavar="FLAG", help="the flag key")
    evaluate.add_argument(
        "--context",
        default="{}",
        metavar="JSON",
        help="the evaluation context as a JSON object, with targetingKey for the targeting key",
    )
    evaluate.add_argument(
        "--type",
        choices=list(_ZERO),
        dest="flag_type",
        help="the flag type to ask for (default: from the flag's variants)",
    )
    evaluate.add_argument("--default", metavar="JSON", help="the default value, as JSON")
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
    evaluate.add_argument("--lenient", action="store_true", help="load as flagd would")
    return parser


def _load(path: str, *, strict: bool) -> FlagDocument:
    try:
        return load_document(path, strict=strict)
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from None


def _validate_one(path: str, out: TextIO, *, strict: bool) -> int:
    try:
        document = _load(path, strict=strict)
    except DocumentError as exc:
        print(exc, file=out)
        return EXIT_FAILED
    except _UsageError as exc:  # report it and go on with the other files
        sys.stderr.write(f"openfeature-litestar: error: {exc}\n")
        return EXIT_USAGE
    print(f"{path}: valid ({len(document.flags)} flags)", file=out)
    return EXIT_OK


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    # Every file is checked; the status is the worst one (usage 2 > invalid 1 > ok 0).
    return max(_validate_one(path, out, strict=not args.lenient) for path in args.files)


def _context(text: str) -> EvaluationContext:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"--context is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _UsageError("--context must be a JSON object")
    targeting_key = data.pop("targetingKey", None)
    if targeting_key is not None and not isinstance(targeting_key, str):
        raise _UsageError("--context: targetingKey must be a string")
    return EvaluationContext(targeting_key=targeting_key, attributes=data)


def _infer_type(document: FlagDocument, flag: str) -> FlagType:
    definition = document.flags.get(flag)
    if definition is None:
        return "string"  # the answer will be FLAG_NOT_FOUND whatever the type
    values = list(definition.variants.values())
    if all(isinstance(value, bool) for value in values):
        return "boolean"
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "integer"
    if all(isinstance(value, (int, float)) for value in values):
        return "float"
    if all(isinstance(value, str) for value in values):
        return "string"
    return "object"


def _default(text: str | None, flag_type: FlagType) -> Any:
    if text is None:
        return _ZERO[flag_type]
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"--default is not valid JSON: {exc}") from None


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    context = _context(args.context)
    document = _load(args.file, strict=not args.lenient)
    flag_type: FlagType = args.flag_type or _infer_type(document, args.flag)
    default = _default(args.default, flag_type)
    domain = f"openfeature-litestar-cli-{uuid.uuid4()}"
    provider = FlagProvider(document)
    api.set_provider_and_wait(provider, domain=domain)
    try:
        client = api.get_client(domain)
        resolve = getattr(client, f"get_{flag_type}_details")
        details: FlagEvaluationDetails[Any] = resolve(args.flag, default, context)
    finally:
        provider.shutdown()
    _print_details(details, flag_type, out, as_json=args.json)
    return EXIT_FAILED if details.error_code is not None else EXIT_OK


def _print_details(
    details: FlagEvaluationDetails[Any], flag_type: str, out: TextIO, *, as_json: bool
) -> None:
    error = details.error_code.value if details.error_code is not None else None
    fields = {
        "flag": details.flag_key,
        "type": flag_type,
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


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Args:
        argv: The arguments, without the program name.
        out: Where to print (default: standard output). Errors go to standard error.
    """
    stream = out if out is not None else sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args, stream)
        return _evaluate(args, stream)
    except DocumentError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_FAILED
    except _UsageError as exc:
        sys.stderr.write(f"openfeature-litestar: error: {exc}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

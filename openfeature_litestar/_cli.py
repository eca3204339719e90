"""The ``openfeature-litestar`` command: check and evaluate flag documents, manage stores.

``validate`` and ``evaluate`` work on files. The store commands (``import``, ``export``,
``set-variant``, ``enable``, ``disable``, ``audit``) work on a live store named by a URL
(``--store``, else the environment variable ``OPENFEATURE_LITESTAR_STORE``, else the
embedded SQLite database the demo uses; see
:func:`~openfeature_litestar._stores._url.resolve_store_url`), so a flag flipped
here reaches every running app that reads the same store. ``demo`` runs the example app.

Exit status: 0 on success; 1 when a document is invalid, an evaluation ends in an error
code, or a write is refused (an invalid flag, an unknown flag or variant, a revision
conflict); 2 for a usage error (bad arguments, unreadable file, bad ``--context``, a bad
store URL) or an unreachable store.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib.util
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from ._document import FlagDocument, dump_document, load_document
from ._errors import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    MissingDependencyError,
    RevisionConflict,
    StoreError,
)
from ._masking import mask_secrets, mask_url
from ._provider import FlagProvider
from ._stores import store_from_url
from ._stores._names import check_namespace
from ._stores._url import DEFAULT_STORE_URL, STORE_URL_ENV, resolve_store_url
from ._stores._writes import MAX_AUDIT_PAGE, check_actor, definition_data

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from types import ModuleType

    from openfeature.flag_evaluation import FlagEvaluationDetails

    from ._stores import AuditEntry, StoredDocument, WritableFlagStore

__all__ = ["main"]

# The demo app ships with the source repository (examples/ is not in the wheel).
_DEMO_APP = Path(__file__).resolve().parent.parent / "examples" / "app.py"

FlagType = Literal["boolean", "string", "integer", "float", "object"]
_ZERO: dict[str, Any] = {"boolean": False, "string": "", "integer": 0, "float": 0.0, "object": {}}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_STORE_COMMANDS = frozenset({"import", "export", "set-variant", "enable", "disable", "audit"})

_T = TypeVar("_T")


class _UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class _RefusedError(Exception):
    """A write the store would accept but that cannot mean what was asked: exit status 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openfeature-litestar",
        description="Validate and evaluate flagd-format flag documents; manage flag stores.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_file_commands(commands)
    _add_store_commands(commands)
    _add_demo_command(commands)
    return parser


def _add_file_commands(commands: Any) -> None:
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


def _store_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--store",
        metavar="URL",
        help=f"the store's URL (default: ${STORE_URL_ENV}, else {DEFAULT_STORE_URL})",
    )
    options.add_argument(
        "--namespace",
        type=_namespace,
        metavar="NAME",
        help="the namespace (environment) in the store (default: the URL's, else 'default')",
    )
    return options


def _write_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--actor",
        type=_actor,
        default=None,
        help="who makes the change, for the audit trail (default: your user name)",
    )
    options.add_argument(
        "--expected-revision",
        type=_revision,
        metavar="N",
        help="write only if the namespace is still at revision N (else exit 1, nothing written)",
    )
    return options


def _add_store_commands(commands: Any) -> None:
    store, write = _store_options(), _write_options()
    imported = commands.add_parser(
        "import",
        parents=[store, write],
        help="replace the namespace's flags with a document (validated, audited)",
    )
    imported.add_argument("file", metavar="FILE", help="a JSON or YAML flag document")

    exported = commands.add_parser("export", parents=[store], help="print the namespace's document")
    exported.add_argument(
        "--format",
        choices=["json", "yaml"],
        default="json",
        dest="output_format",
        help="the output format (default: json)",
    )

    set_variant = commands.add_parser(
        "set-variant",
        parents=[store, write],
        help="set a flag's default variant (flip a flag)",
    )
    set_variant.add_argument("flag", metavar="FLAG", help="the flag key")
    set_variant.add_argument("variant", metavar="VARIANT", help="one of the flag's variants")
    set_variant.add_argument(
        "--drop-targeting",
        action="store_true",
        help="also remove the flag's targeting, so that everyone gets VARIANT",
    )

    for name, state in (("enable", "ENABLED"), ("disable", "DISABLED")):
        command = commands.add_parser(
            name, parents=[store, write], help=f"set a flag's state to {state}"
        )
        command.add_argument("flag", metavar="FLAG", help="the flag key")
        command.set_defaults(state=state)

    audit = commands.add_parser(
        "audit", parents=[store], help="show the namespace's audit trail, newest first"
    )
    audit.add_argument("--flag", metavar="FLAG", help="only the changes of this flag")
    audit.add_argument(
        "--limit", type=_limit, default=20, metavar="N", help="at most N entries (default 20)"
    )
    audit.add_argument("--json", action="store_true", help="one JSON object per line")


def _add_demo_command(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        parents=[_store_options()],
        help="run the example Litestar app (examples/app.py) under uvicorn",
    )
    demo.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    demo.add_argument("--port", type=_port, default=8000, help="the port (default 8000)")
    serve = commands.add_parser(
        "serve",
        parents=[_store_options()],
        help="serve a store's flags over OFREP (and the admin API) as a standalone server",
        description=(
            "Serve one namespace of a store over OFREP at /ofrep/v1 and, with admin tokens, "
            "the admin API at /admin/v1. Bearer tokens come from the environment: "
            "OPENFEATURE_LITESTAR_TOKENS (OFREP) and OPENFEATURE_LITESTAR_ADMIN_TOKENS "
            "(admin), comma-separated."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=_port, default=8013, help="the port (default 8013)")
    serve.add_argument(
        "--public",
        action="store_true",
        help="serve OFREP without tokens (anyone who reaches the server reads every flag)",
    )
    serve.add_argument(
        "--no-sanitize",
        dest="sanitize",
        action="store_false",
        default=None,
        help="evaluate OFREP contexts as sent, as flagd does (default: redact e-mail "
        "addresses and similar data first; or OPENFEATURE_LITESTAR_SANITIZE=0)",
    )
    serve.add_argument(
        "--cors-origin",
        dest="cors_origins",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin (https://app.example.com) allowed to call OFREP; repeat for "
        "more (or OPENFEATURE_LITESTAR_CORS_ORIGINS, comma-separated)",
    )


def _namespace(text: str) -> str:
    try:
        return check_namespace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _actor(text: str) -> str:
    try:
        return check_actor(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _bounded_int(text: str, low: int, high: int | None, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        upper = f" to {high}" if high is not None else " or more"
        raise argparse.ArgumentTypeError(f"{what} must be an integer from {low}{upper}")
    return value


def _revision(text: str) -> int:
    return _bounded_int(text, 0, None, "a revision")


def _limit(text: str) -> int:
    return _bounded_int(text, 1, MAX_AUDIT_PAGE, "--limit")


def _port(text: str) -> int:
    return _bounded_int(text, 0, 65535, "--port")


def _default_actor() -> str:
    # getpass reads the environment, then the password database; a container may have
    # neither (KeyError before Python 3.13, OSError since).
    try:
        return check_actor(getpass.getuser())
    except (KeyError, OSError, ValueError):
        return "openfeature-litestar-cli"


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


# -- store commands -------------------------------------------------------------------------


def _run_on_store(
    args: argparse.Namespace, action: Callable[[WritableFlagStore], Awaitable[_T]]
) -> _T:
    """Run ``action`` on the store ``args`` name, then close the store."""
    store = store_from_url(args.store, namespace=args.namespace)

    async def run() -> _T:
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _where(store: WritableFlagStore, url: str) -> str:
    return f"namespace {store.namespace!r} of {mask_url(url)}"


def _expected_revision(args: argparse.Namespace, stored: StoredDocument) -> int:
    """The revision a read-modify-write must find: the one asked for, else the one read.

    Writing with the revision read means a concurrent change to the same namespace
    refuses this write rather than being silently overwritten with stale content.

    Raises:
        RevisionConflict: ``--expected-revision`` is not the revision read.
    """
    expected: int | None = args.expected_revision
    if expected is not None and expected != stored.revision:
        raise RevisionConflict(expected, stored.revision)
    return stored.revision


def _flag_data(document: FlagDocument, key: str, namespace: str) -> dict[str, Any]:
    data = definition_data(document, key)
    if data is None:
        raise FlagNotFound(key, namespace)
    return data


def _import(args: argparse.Namespace, out: TextIO) -> int:
    document = _load(args.file, strict=True)

    async def write(store: WritableFlagStore) -> str:
        revision = await store.replace_document(
            document,
            actor=args.actor,
            expected_revision=args.expected_revision,
            note=f"imported from {Path(args.file).name}",
        )
        count = len(document.flags)
        return f"imported {count} flags into {_where(store, args.store)}: revision {revision}"

    print(_run_on_store(args, write), file=out)
    return EXIT_OK


def _export(args: argparse.Namespace, out: TextIO) -> int:
    async def read(store: WritableFlagStore) -> StoredDocument:
        return await store.load()

    stored = _run_on_store(args, read)
    out.write(dump_document(stored.document, format=args.output_format))
    return EXIT_OK


def _set_variant(args: argparse.Namespace, out: TextIO) -> int:
    key, variant = args.flag, args.variant

    async def write(store: WritableFlagStore) -> tuple[str, bool]:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        variants: Mapping[str, Any] = before["variants"]
        if variant not in variants:
            known = ", ".join(repr(name) for name in variants)
            raise _RefusedError(f"flag {key!r} has no variant {variant!r}; it has {known}")
        after = {**before, "defaultVariant": variant}
        if args.drop_targeting:
            after.pop("targeting", None)
        targeted = "targeting" in after
        expected = _expected_revision(args, stored)
        if after == before:
            return f"{key}: default variant is already {variant!r}; nothing written", targeted
        revision = await store.put_flag(key, after, actor=args.actor, expected_revision=expected)
        dropped = ", targeting removed" if "targeting" in before and args.drop_targeting else ""
        return (
            f"{key}: default variant {variant!r} (was {before.get('defaultVariant')!r}){dropped}; "
            f"{_where(store, args.store)} at revision {revision}"
        ), targeted

    message, targeted = _run_on_store(args, write)
    print(message, file=out)
    if targeted:
        sys.stderr.write(
            f"note: flag {key!r} has targeting rules; they still choose the variant for the "
            f"contexts they match (--drop-targeting serves {variant!r} to everyone)\n"
        )
    return EXIT_OK


def _set_state(args: argparse.Namespace, out: TextIO) -> int:
    key, state = args.flag, args.state

    async def write(store: WritableFlagStore) -> str:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        expected = _expected_revision(args, stored)
        if before["state"] == state:
            return f"{key}: already {state}; nothing written"
        after = {**before, "state": state}
        revision = await store.put_flag(key, after, actor=args.actor, expected_revision=expected)
        return (
            f"{key}: {state} (was {before['state']}); "
            f"{_where(store, args.store)} at revision {revision}"
        )

    print(_run_on_store(args, write), file=out)
    return EXIT_OK


def _audit(args: argparse.Namespace, out: TextIO) -> int:
    async def read(store: WritableFlagStore) -> list[AuditEntry]:
        return await store.audit_log(flag_key=args.flag, limit=args.limit)

    for entry in _run_on_store(args, read):
        print(_audit_json(entry) if args.json else _audit_line(entry), file=out)
    return EXIT_OK


def _audit_json(entry: AuditEntry) -> str:
    record = {
        "id": entry.id,
        "namespace": entry.namespace,
        "revision": entry.revision,
        "flag": entry.flag_key,
        "action": entry.action,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }
    return json.dumps(record, ensure_ascii=False)


def _audit_line(entry: AuditEntry) -> str:
    when = entry.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    flag = entry.flag_key if entry.flag_key is not None else "(shared parts)"
    note = f" ({entry.note})" if entry.note else ""
    return (
        f"r{entry.revision}  {when}  {entry.action:6}  {flag}  by {entry.actor}: "
        f"{_what_changed(entry)}{note}"
    )


def _what_changed(entry: AuditEntry) -> str:
    """A short account of one entry: the scalar fields' old and new values, else names."""
    if entry.before is None:
        return "created"
    if entry.after is None:
        return "deleted"
    parts: list[str] = []
    for name in dict.fromkeys([*entry.before, *entry.after]):
        old, new = entry.before.get(name), entry.after.get(name)
        if old == new:
            continue
        if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
            parts.append(f"{name} changed")
        else:
            parts.append(f"{name} {json.dumps(old)} -> {json.dumps(new)}")
    return ", ".join(parts) or "no change"


# -- demo -----------------------------------------------------------------------------------


def _demo_module() -> ModuleType:
    """Import ``examples/app.py`` from the source tree this package runs from."""
    if not _DEMO_APP.is_file():
        raise _UsageError(
            "the demo app (examples/app.py) ships with the source repository, not with the "
            "installed package: run the demo from a clone of the repository"
        )
    spec = importlib.util.spec_from_file_location("examples.app", _DEMO_APP)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise _UsageError(f"cannot load {_DEMO_APP.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import uvicorn  # noqa: PLC0415 - only the demo needs a server
    except ImportError:
        raise _UsageError("the demo runs under uvicorn: install it (pip install uvicorn)") from None
    # The module builds a default application when imported (for `litestar run`); with
    # the store in the environment, that one uses the same store as the demo's.
    os.environ[STORE_URL_ENV] = args.store
    module = _demo_module()
    app = module.create_app(args.store, namespace=args.namespace)
    base = f"http://{_url_host(args.host)}:{args.port}"
    options = module.cli_options(args.store, args.namespace)
    print(
        f"openfeature-litestar demo: flags from {mask_url(args.store)}\n"
        f"  open  {base}/?user=alice&plan=pro&country=DE  (and {base}/api/flags)\n"
        f"  flip  uv run openfeature-litestar disable checkout-rollout{options}",
        file=out,
        flush=True,
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
        if exc.code not in (None, 0):
            raise _UsageError("the demo could not start (see the messages above)") from None
    return EXIT_OK


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    from .web._server import serve  # noqa: PLC0415 - only this command needs Litestar

    print(f"openfeature-litestar serve: flags from {mask_url(args.store)}", file=out, flush=True)
    try:
        serve(
            host=args.host,
            port=args.port,
            store=args.store,
            namespace=args.namespace,
            public=args.public,
            sanitize=args.sanitize,
            cors_origins=args.cors_origins,
        )
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
        if exc.code not in (None, 0):
            raise _UsageError("the server could not start (see the messages above)") from None
    return EXIT_OK


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# -- main -----------------------------------------------------------------------------------

_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "validate": _validate,
    "evaluate": _evaluate,
    "import": _import,
    "export": _export,
    "set-variant": _set_variant,
    "enable": _set_state,
    "disable": _set_state,
    "audit": _audit,
    "demo": _demo,
    "serve": _serve,
}


def _error(message: str) -> None:
    # Every message may quote a store URL or a driver's error text: mask it once more,
    # whatever the code that raised it already did.
    sys.stderr.write(f"openfeature-litestar: error: {mask_secrets(message)}\n")


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Args:
        argv: The arguments, without the program name.
        out: Where to print (default: standard output). Errors go to standard error.

    Returns:
        The exit status: 0 on success, 1 for an invalid document or a refused write, 2
        for a usage error or an unreachable store.
    """
    stream = out if out is not None else sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command in _STORE_COMMANDS or args.command in {"demo", "serve"}:
            args.store = resolve_store_url(args.store)
        if getattr(args, "actor", "unset") is None:
            args.actor = _default_actor()
        return _COMMANDS[args.command](args, stream)
    except DocumentError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_FAILED
    except (FlagNotFound, RevisionConflict, _RefusedError) as exc:
        _error(str(exc))
        return EXIT_FAILED
    except (StoreError, ConfigurationError, MissingDependencyError, _UsageError) as exc:
        _error(str(exc))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

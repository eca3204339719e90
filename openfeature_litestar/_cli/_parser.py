"""The command line's grammar: every command, its arguments, options and help."""

from __future__ import annotations

import argparse
from datetime import timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Any

from openfeature_litestar._engine import DEFAULT_FRACTIONAL, FRACTIONAL_VERSIONS
from openfeature_litestar._insights import StaleThresholds
from openfeature_litestar._stores._url import DEFAULT_STORE_URL, STORE_URL_ENV

from . import _arguments
from ._compare import DEFAULT_SAMPLE
from ._file_commands import TYPE_NAMES
from ._help import describe

__all__ = ["READ_COMMANDS", "STORE_COMMANDS", "build_parser"]

STORE_COMMANDS = frozenset(
    {
        "import",
        "export",
        "set-variant",
        "enable",
        "disable",
        "audit",
        "list",
        "get",
        "insights",
        "stale",
    }
)
"""The commands that read or write a store named by ``--store``."""

READ_COMMANDS = frozenset({"export", "audit", "list", "get", "evaluate", "insights", "stale"})
"""The commands that only read a store: they refuse a SQLite database that does not exist."""

_JSON_HELP = {
    "validate": "print one JSON object per file (valid, flags, problems, warnings)",
    "import": "print the outcome (changes, revision, written) as one JSON object",
    "export": "print the document as JSON (the same as --format json)",
    "set-variant": "print the outcome (revision, written, ...) as one JSON object",
    "enable": "print the outcome (revision, written, ...) as one JSON object",
    "disable": "print the outcome (revision, written, ...) as one JSON object",
}


_PROG = "openfeature-litestar"
_APP_PROG = "litestar flags"
_APP_DESCRIPTION = (
    "Manage the flags of this Litestar application's store: the store its OpenFeaturePlugin "
    "reads, or with --namespace one of its admin API's stores; --store URL names another."
)
_APP_STORE_HELP = "the store's URL (default: the application's store)"


def build_parser(*, for_app: bool = False) -> argparse.ArgumentParser:
    """The parser for ``openfeature-litestar``; ``command`` names the command chosen.

    Args:
        for_app: The parser of ``litestar flags`` instead: named so in usage lines and
            examples, ``--store`` defaulting to the application's store, and without
            ``demo`` and ``serve`` (the application runs with ``litestar run``).
    """
    parser = argparse.ArgumentParser(
        prog=_APP_PROG if for_app else _PROG,
        description=_APP_DESCRIPTION
        if for_app
        else "Validate and evaluate flagd-format flag documents; manage flag stores.",
    )
    _version_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_file_commands(commands)
    _add_store_commands(commands)
    _add_read_commands(commands)
    _add_insights_commands(commands)
    if not for_app:
        _add_server_commands(commands)
    _add_json_options(commands)
    _add_import_dry_run(commands)
    describe(parser, commands)
    if for_app:
        _describe_for_app(commands)
    return parser


def _describe_for_app(commands: Any) -> None:
    """Name ``litestar flags`` in the examples; say where ``--store`` defaults to."""
    for name, command in commands.choices.items():
        if command.epilog:
            command.epilog = command.epilog.replace(f"{_PROG} ", f"{_APP_PROG} ")
        for action in command._actions:  # noqa: SLF001 - argparse lists a parser's options only there
            if action.dest == "store" and name in STORE_COMMANDS:
                action.help = _APP_STORE_HELP


def _version_option(parser: argparse.ArgumentParser) -> None:
    try:
        number = installed_version("openfeature-litestar")
    except PackageNotFoundError:  # run from a source tree that was never installed
        number = "unknown"
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {number}", help="print the version"
    )


def _add_read_commands(commands: Any) -> None:
    store = _store_options()
    listed = commands.add_parser(
        "list", parents=[store], help="list the namespace's flags: state, default variant, type"
    )
    listed.add_argument("--json", action="store_true", help="print one JSON object")
    got = commands.add_parser("get", parents=[store], help="print one flag's stored definition")
    got.add_argument("flag", metavar="FLAG", help="the flag key")
    got.add_argument(
        "--json", action="store_true", help="one JSON object with the revision and definition"
    )


def _add_insights_commands(commands: Any) -> None:
    default = StaleThresholds()
    unused, single = (
        default.unused_after / timedelta(days=1),
        default.single_variant_after / timedelta(days=1),
    )
    thresholds = argparse.ArgumentParser(add_help=False)
    thresholds.add_argument(
        "--unused-days",
        type=_arguments.days,
        default=unused,
        metavar="DAYS",
        help=f"a flag not evaluated for DAYS is unused (default {unused:g})",
    )
    thresholds.add_argument(
        "--single-variant-days",
        type=_arguments.days,
        default=single,
        metavar="DAYS",
        help="a flag whose every evaluation for DAYS served one variant is single-variant "
        f"(default {single:g})",
    )
    thresholds.add_argument(
        "--min-evaluations",
        type=_arguments.evaluations,
        default=default.min_evaluations,
        metavar="N",
        help="the fewest evaluations for the single-variant judgement "
        f"(default {default.min_evaluations})",
    )
    parents = [_store_options(), thresholds]
    shown = commands.add_parser(
        "insights",
        parents=parents,
        help="show every flag's evaluations (1h, 24h, 7d), errors and variants, and "
        "unknown keys, from the counts in a shared store",
    )
    shown.add_argument("--json", action="store_true", help="print the whole report as JSON")
    stale = commands.add_parser(
        "stale",
        parents=parents,
        help="list the flags never evaluated, unused lately, or serving one variant to all",
    )
    stale.add_argument("--json", action="store_true", help="print the report as JSON")
    stale.add_argument(
        "--check", action="store_true", help="exit 1 when any flag is stale (for CI jobs)"
    )


def _add_json_options(commands: Any) -> None:
    for name, text in _JSON_HELP.items():
        commands.choices[name].add_argument("--json", action="store_true", help=text)


def _add_import_dry_run(commands: Any) -> None:
    commands.choices["import"].add_argument(
        "--dry-run",
        action="store_true",
        help="print the changes the import would make and write nothing",
    )


def _fractional_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fractional",
        choices=FRACTIONAL_VERSIONS,
        default=None,
        metavar="VERSION",
        help=f"the fractional bucketing version: {', '.join(FRACTIONAL_VERSIONS)} "
        f"(default: {DEFAULT_FRACTIONAL}, flagd's current)",
    )


def _strictness_options(parser: argparse.ArgumentParser, strict_help: str) -> None:
    parser.add_argument("--strict", action="store_true", help=strict_help)
    # Reading as flagd does is the default since 0.2.0; the old option still parses.
    parser.add_argument("--lenient", action="store_true", help=argparse.SUPPRESS)


def _add_file_commands(commands: Any) -> None:
    validate = commands.add_parser("validate", help="check flag documents; list every problem")
    validate.add_argument("files", nargs="+", metavar="FILE", help="JSON or YAML flag documents")
    _strictness_options(
        validate, "fail (status 1) on problems flagd tolerates, which a write would refuse"
    )
    _fractional_option(validate)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[_evaluate_store_options()],
        help="evaluate one flag the way an app would, from a file or a store",
    )
    evaluate.add_argument(
        "file", nargs="?", metavar="FILE", help="a JSON or YAML flag document (or --store)"
    )
    evaluate.add_argument("flag", metavar="FLAG", help="the flag key")
    evaluate.add_argument(
        "--context",
        default="{}",
        metavar="JSON",
        help="the evaluation context as a JSON object, with targetingKey for the targeting key "
        "(default: {})",
    )
    evaluate.add_argument(
        "--type",
        choices=list(TYPE_NAMES),
        dest="flag_type",
        help="the flag type to ask for (default: from the flag's variants)",
    )
    evaluate.add_argument("--default", metavar="JSON", help="the default value, as JSON")
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
    _strictness_options(evaluate, "refuse a document with problems flagd tolerates")
    _fractional_option(evaluate)
    compare = evaluate.add_argument_group(
        "comparing bucketing versions",
        "With --compare FROM TO, resolve FLAG for many keys under both fractional versions "
        "and show who would move between buckets (--type, --default and --fractional do "
        "not apply).",
    )
    compare.add_argument(
        "--compare",
        nargs=2,
        choices=FRACTIONAL_VERSIONS,
        metavar=("FROM", "TO"),
        help="the two fractional versions to compare, e.g. --compare v2 v3",
    )
    keys = compare.add_mutually_exclusive_group()
    keys.add_argument(
        "--keys", metavar="FILE", help="the keys, one a line ('-' reads standard input)"
    )
    keys.add_argument(
        "--sample",
        type=_arguments.sample,
        metavar="N",
        help=f"generate N keys user-1 ... user-N (default: {DEFAULT_SAMPLE:,})",
    )
    compare.add_argument(
        "--key-attribute",
        metavar="PATH",
        help="put each key in this context attribute (dotted, e.g. user.name) instead of "
        "the targeting key",
    )


def _evaluate_store_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--store",
        metavar="URL",
        help="evaluate the flag of this store's namespace instead of FILE",
    )
    options.add_argument(
        "--namespace",
        type=_arguments.namespace,
        metavar="NAME",
        help="with --store: the namespace (default: the URL's, else 'default')",
    )
    return options


def _store_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--store",
        metavar="URL",
        help=f"the store's URL (default: ${STORE_URL_ENV}, else {DEFAULT_STORE_URL})",
    )
    options.add_argument(
        "--namespace",
        type=_arguments.namespace,
        metavar="NAME",
        help="the namespace (environment) in the store (default: the URL's, else 'default')",
    )
    return options


def _write_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--actor",
        type=_arguments.actor,
        default=None,
        help="who makes the change, for the audit trail (default: your user name)",
    )
    options.add_argument(
        "--expected-revision",
        type=_arguments.revision,
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
        "--limit",
        type=_arguments.limit,
        default=20,
        metavar="N",
        help="at most N entries (default 20)",
    )
    audit.add_argument("--json", action="store_true", help="one JSON object per line")


def _add_server_commands(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        parents=[_store_options()],
        help="run the demo Litestar app (shipped in the package) under uvicorn",
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    demo.add_argument("--port", type=_arguments.port, default=8000, help="the port (default 8000)")
    serve = commands.add_parser(
        "serve",
        parents=[_store_options()],
        help="serve a store's flags over OFREP (and the admin API) as a standalone server",
        description=(
            "Serve one namespace of a store over OFREP at /ofrep/v1 and, with admin tokens, "
            "the admin API at /admin/v1 and, with metrics tokens, Prometheus metrics at "
            "/metrics. Bearer tokens come from the environment: OPENFEATURE_LITESTAR_TOKENS "
            "(OFREP), OPENFEATURE_LITESTAR_ADMIN_TOKENS (admin) and "
            "OPENFEATURE_LITESTAR_METRICS_TOKENS (metrics), comma-separated."
        ),
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=_arguments.port, default=8013, help="the port (default 8013)")
    serve.add_argument(
        "--workers",
        type=_arguments.workers,
        default=1,
        help="worker processes sharing the port, each following the store (default 1)",
    )
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
    _fractional_option(serve)

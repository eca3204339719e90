"""The command line's entry point: parse, run the command chosen, map errors to exit statuses."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final, TextIO

from openfeature_litestar._errors import (
    ConfigurationError,
    DocumentError,
    FlagNotFound,
    MissingDependencyError,
    RevisionConflict,
    StoreError,
)

from . import (
    _file_commands,
    _insights_commands,
    _read_commands,
    _server_commands,
    _store_commands,
)
from ._arguments import default_actor
from ._opening import GIVEN_STORE
from ._outcomes import EXIT_FAILED, EXIT_USAGE, MissingError, RefusedError, UsageError, report_error
from ._parser import READ_COMMANDS, STORE_COMMANDS, build_parser
from ._store_urls import store_url

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

__all__ = ["main", "run"]

_COMMANDS: Final[dict[str, Callable[[argparse.Namespace, TextIO], int]]] = {
    "validate": _file_commands.validate,
    "evaluate": _file_commands.evaluate,
    "import": _store_commands.import_document,
    "export": _store_commands.export,
    "set-variant": _store_commands.set_variant,
    "enable": _store_commands.set_state,
    "disable": _store_commands.set_state,
    "audit": _store_commands.audit,
    "list": _read_commands.list_flags,
    "get": _read_commands.get_flag,
    "insights": _insights_commands.insights,
    "stale": _insights_commands.stale,
    "demo": _server_commands.demo,
    "serve": _server_commands.serve,
}
_STORE_URL_COMMANDS: Final = STORE_COMMANDS | {"demo", "serve"}


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Args:
        argv: The arguments, without the program name.
        out: Where to print (default: standard output). Errors go to standard error.

    Returns:
        The exit status: 0 on success, 1 for an invalid document or a refused write, 2
        for a usage error or an unreachable store.
    """
    return run(build_parser().parse_args(argv), out=out)


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run the command ``args`` (parsed by :func:`build_parser`) chose; return the exit status.

    ``litestar flags`` parses with its own parser, fills in the application's store
    (:data:`~._opening.GIVEN_STORE`), then runs the command here, so that both entry
    points share the commands, their messages and their exit statuses.

    Args:
        args: The parsed arguments.
        out: Where to print (default: standard output). Errors go to standard error.

    Returns:
        The exit status, as :func:`main`'s.
    """
    stream = out if out is not None else sys.stdout
    try:
        given = getattr(args, GIVEN_STORE, None) is not None
        if not given and (
            args.command in _STORE_URL_COMMANDS or getattr(args, "store", None) is not None
        ):
            args.store = store_url(args.store, reading=args.command in READ_COMMANDS)
        if getattr(args, "actor", "unset") is None:
            args.actor = default_actor()
        return _COMMANDS[args.command](args, stream)
    except DocumentError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_FAILED
    except (FlagNotFound, RevisionConflict, RefusedError, MissingError) as exc:
        report_error(str(exc))
        return EXIT_FAILED
    except (StoreError, ConfigurationError, MissingDependencyError, UsageError) as exc:
        report_error(str(exc))
        return EXIT_USAGE

"""``litestar flags ...``: the store commands inside a Litestar project, on the app's store.

Litestar's command line is built on click; ours on argparse. ``flags`` is a thin click
command that hands every argument, unparsed, to the argparse parser of
``openfeature-litestar`` (its ``litestar flags`` variant, without ``demo`` and ``serve``), fills
in the application's store (:mod:`._app_store`) and runs the command
(:func:`~._main.run`): one parser, one set of help texts, messages and exit statuses for
both entry points, and no click in the standalone command.

Litestar finds the command through the ``litestar.commands`` entry point (see
``pyproject.toml``), so an application needs nothing beyond its
:class:`~openfeature_litestar.web.OpenFeaturePlugin`, and the plugin (in the ``web``
layer) never imports the command line. Litestar loads the entry point whenever its
command line starts, which imports this package (the argparse commands) as well: about
20 ms on top of an application that uses the plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._app_store import use_app_store
from ._main import run
from ._outcomes import EXIT_USAGE, UsageError, report_error
from ._parser import build_parser

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["flags_command", "run_flags"]


def run_flags(app: Litestar, arguments: tuple[str, ...] | list[str]) -> int:
    """Run ``litestar flags ARGUMENTS`` for ``app``; return the exit status.

    Args:
        app: The application, loaded by Litestar's command line.
        arguments: What follows ``flags`` on the command line.

    Returns:
        The exit status, as ``openfeature-litestar``'s.
    """
    args = build_parser(for_app=True).parse_args(arguments)
    try:
        use_app_store(args, app)
    except UsageError as exc:
        report_error(str(exc))
        return EXIT_USAGE
    return run(args)


@click.command(
    "flags",
    # Every argument, options and --help included, goes to the argparse parser.
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
    short_help="Manage the app's feature flags (see: litestar flags --help).",
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def flags_command(app: Litestar, arguments: tuple[str, ...]) -> None:
    """Manage the feature flags of the application's store (openfeature-litestar)."""
    click.get_current_context().exit(run_flags(app, arguments))

"""What ``--help`` says about each command beyond its options: a description and examples.

Declared once here, per command, and applied to the parser after every command is added
(:func:`describe`), so a new command is one entry in :data:`EXAMPLES`.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

__all__ = ["EXAMPLES", "HelpFormatter", "describe"]

EXAMPLES: Final[dict[str, tuple[str, ...]]] = {
    "validate": (
        "openfeature-litestar validate flags.yaml",
        "openfeature-litestar validate --strict flags.yaml other.json",
    ),
    "evaluate": (
        'openfeature-litestar evaluate flags.yaml new-checkout --context \'{"plan": "pro"}\'',
        "openfeature-litestar evaluate --store redis://127.0.0.1:6379/0 new-checkout --json",
        "openfeature-litestar evaluate flags.yaml checkout-rollout --compare v2 v3",
    ),
    "list": (
        "openfeature-litestar list --store sqlite+aiosqlite:///flags.db",
        "openfeature-litestar list --namespace staging --json",
    ),
    "get": ("openfeature-litestar get new-checkout --store redis://127.0.0.1:6379/0",),
    "insights": (
        "openfeature-litestar insights --store redis://127.0.0.1:6379/0",
        "openfeature-litestar insights --namespace production --json",
    ),
    "stale": (
        "openfeature-litestar stale --store postgresql+asyncpg://flags@db/flags",
        "openfeature-litestar stale --unused-days 30 --check",
    ),
    "import": (
        "openfeature-litestar import flags.yaml --dry-run",
        "openfeature-litestar import flags.yaml --store redis://127.0.0.1:6379/0 --actor ci",
    ),
    "export": ("openfeature-litestar export --format yaml > flags.yaml",),
    "set-variant": ("openfeature-litestar set-variant banner-text holiday --actor alice",),
    "enable": ("openfeature-litestar enable new-checkout",),
    "disable": ("openfeature-litestar disable new-checkout --expected-revision 12",),
    "audit": ("openfeature-litestar audit --flag new-checkout --limit 5",),
    "demo": ("openfeature-litestar demo --port 8000",),
    "serve": (
        "OPENFEATURE_LITESTAR_TOKENS=s3cret openfeature-litestar serve --store redis://127.0.0.1:6379/0",
        "openfeature-litestar serve --store file:flags.yaml --public --port 8013",
    ),
}
"""Each command's examples, shown under ``Examples:`` at the end of its ``--help``."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' lines as written; wraps option help as argparse does."""


def describe(parser: argparse.ArgumentParser, commands: Any) -> None:
    """Give every command of ``commands`` its description, its examples and the formatter.

    A command without a description of its own is described by its one-line help; one
    without an entry in :data:`EXAMPLES` gets no examples (a test requires an entry for
    every command, so this happens only between adding a command and its examples).
    """
    parser.formatter_class = HelpFormatter
    helps = {action.dest: action.help for action in commands._choices_actions}  # noqa: SLF001 - argparse keeps the one-line helps only there
    for name, command in commands.choices.items():
        command.formatter_class = HelpFormatter
        if command.description is None:
            command.description = f"{helps[name][0].upper()}{helps[name][1:]}."
        examples = EXAMPLES.get(name)
        if examples:
            command.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)

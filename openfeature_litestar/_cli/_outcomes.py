"""How a command ends: its exit statuses, the errors that choose them, and error output."""

from __future__ import annotations

import sys
from typing import Final

from openfeature_litestar._masking import mask_secrets

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "MissingError",
    "RefusedError",
    "UsageError",
    "report_error",
]

EXIT_OK: Final = 0
"""The command did what was asked."""
EXIT_FAILED: Final = 1
"""An invalid document, an evaluation that ended in an error code, or a refused write."""
EXIT_USAGE: Final = 2
"""Bad arguments, an unreadable file, a bad store URL or an unreachable store."""


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class RefusedError(Exception):
    """A write the store would accept but that cannot mean what was asked: exit status 1."""


def report_error(message: str) -> None:
    """Print ``message`` as the command's one-line error on standard error.

    Every message may quote a store URL or a driver's error text: it is masked once
    more here, whatever the code that raised it already did.
    """
    sys.stderr.write(f"openfeature-litestar: error: {mask_secrets(message)}\n")


class MissingError(Exception):
    """What the command names does not exist (a namespace never written): exit status 1."""

"""Converters for the command line's argument values: each refuses a bad value in one line."""

from __future__ import annotations

import argparse
import getpass

from openfeature_litestar._stores._names import check_namespace
from openfeature_litestar._stores._writes import MAX_AUDIT_PAGE, check_actor

__all__ = [
    "actor",
    "default_actor",
    "limit",
    "namespace",
    "port",
    "revision",
    "sample",
    "workers",
]


def namespace(text: str) -> str:
    """A ``--namespace`` value, checked as the stores check it."""
    try:
        return check_namespace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def actor(text: str) -> str:
    """An ``--actor`` value, checked as the stores check it."""
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


def revision(text: str) -> int:
    """An ``--expected-revision`` value: an integer from 0."""
    return _bounded_int(text, 0, None, "a revision")


def limit(text: str) -> int:
    """An audit ``--limit``: from 1 to the stores' largest page."""
    return _bounded_int(text, 1, MAX_AUDIT_PAGE, "--limit")


def sample(text: str) -> int:
    """A ``--sample`` size: from 1 to a million keys."""
    return _bounded_int(text, 1, 1_000_000, "--sample")


def port(text: str) -> int:
    """A ``--port`` value: from 0 (any free port) to 65535."""
    return _bounded_int(text, 0, 65535, "--port")


def workers(text: str) -> int:
    """A ``--workers`` count: from 1 to 256 processes."""
    return _bounded_int(text, 1, 256, "--workers")


_MAX_DAYS = 365  # as StaleThresholds allows


def days(text: str) -> float:
    """A number of days for a stale threshold: above 0, at most 365."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= _MAX_DAYS:  # also refuses nan
        raise argparse.ArgumentTypeError(f"days must be a number above 0 and at most {_MAX_DAYS}")
    return value


def evaluations(text: str) -> int:
    """A ``--min-evaluations`` count: from 1."""
    return _bounded_int(text, 1, None, "--min-evaluations")


def default_actor() -> str:
    """The audit trail's actor when ``--actor`` is not given: the user's name, if any."""
    # getpass reads the environment, then the password database; a container may have
    # neither (KeyError before Python 3.13, OSError since).
    try:
        return check_actor(getpass.getuser())
    except (KeyError, OSError, ValueError):
        return "openfeature-litestar-cli"

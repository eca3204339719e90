"""Checks of settings, written once: each raises ConfigurationError naming the setting.

A setting that can never work (a zero timeout, a negative size) is a
:class:`~openfeature_litestar.ConfigurationError` wherever it is given, so callers
catch one exception type; ``ConfigurationError`` is also a ``ValueError``.
"""

from __future__ import annotations

from openfeature_litestar._errors import ConfigurationError

__all__ = ["positive_int", "positive_seconds"]


def positive_int(name: str, value: object) -> int:
    """``value`` if it is an integer above zero (not a bool).

    Raises:
        ConfigurationError: It is not; the message names ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, not {value!r}")
    return value


def positive_seconds(name: str, value: object) -> float:
    """``value`` if it is a finite or infinite number of seconds above zero (not a bool).

    Raises:
        ConfigurationError: It is not (zero, negative, NaN, not a number).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)

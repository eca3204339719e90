"""The first time code asks for a flag that does not exist: logged once per key, bounded.

A key the code asks for but no flag has is almost always a typo or a flag deleted too
early; the evaluation itself answers the caller's default with ``FLAG_NOT_FOUND``, which
nobody sees. One WARNING per key says so where someone looks. The keys logged are kept
(up to a bound, so that code building keys from data cannot grow the set without end);
after the bound one last line says that further keys are not logged.

Only the not-found path calls in here: the usage counters call :meth:`UnknownKeys.note`
when they make a counter for an unknown key (their slow path, once per key), and a
provider without counters checks the error code, which costs one comparison.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Final

from openfeature.exception import ErrorCode

if TYPE_CHECKING:
    from openfeature.flag_evaluation import FlagResolutionDetails

__all__ = ["MAX_LOGGED_UNKNOWN_KEYS", "UnknownKeys"]

logger = logging.getLogger("openfeature_litestar.provider")

MAX_LOGGED_UNKNOWN_KEYS: Final = 1000
"""How many distinct unknown keys a provider logs; later ones are not logged."""

_FLAG_NOT_FOUND: Final = ErrorCode.FLAG_NOT_FOUND


class UnknownKeys:
    """Logs each flag key that no flag has, the first time it is asked for.

    Args:
        source: What the flags come from (the store), named by its repr in the log.
        limit: The most keys logged.
    """

    def __init__(self, source: object, limit: int = MAX_LOGGED_UNKNOWN_KEYS) -> None:
        """Create the log with no key seen."""
        self._source = source
        self._limit = limit
        self._logged: set[str] = set()
        self._lock = threading.Lock()

    def note(self, flag_key: str) -> None:
        """Log ``flag_key`` as unknown unless it was logged before; never raises."""
        if flag_key in self._logged:
            return
        try:
            with self._lock:
                if flag_key in self._logged or len(self._logged) > self._limit:
                    return
                self._logged.add(flag_key)
                full = len(self._logged) > self._limit
            if full:
                logger.warning(
                    "code has asked for more than %d flag keys that %r does not have; "
                    "not logging more of them (the usage counters count them)",
                    self._limit,
                    self._source,
                )
            else:
                logger.warning(
                    "code asked for flag %s, which %r does not have: it gets its default "
                    "with FLAG_NOT_FOUND (logged once per key)",
                    _shown(flag_key),
                    self._source,
                )
        except Exception:  # the evaluation path never raises
            logger.exception("logging an unknown flag key failed")

    def count(self, flag_key: str, details: FlagResolutionDetails[Any]) -> None:
        """A provider's counting function when usage counting is off: logs unknown keys."""
        if details.error_code is _FLAG_NOT_FOUND:
            self.note(flag_key)


def _shown(flag_key: object) -> str:
    # A key is the code's own string, but may hold anything: shown as JSON would quote
    # it, so that a newline or a control character cannot forge a log line.
    text = flag_key if isinstance(flag_key, str) else repr(flag_key)
    escaped = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{escaped}"'

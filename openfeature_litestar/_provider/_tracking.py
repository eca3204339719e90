"""Tracking events counted by name, in process, with a bound on the number of names.

``client.track(name, ...)`` reaches :meth:`FlagProvider.track
<openfeature_litestar.FlagProvider.track>`, which counts the event here. The counting is
the usage counters' (one :class:`itertools.count` per name: no lock, no allocation once
the name is known). Names are bounded like unknown flag keys: beyond ``max_names``, and
for a name that is not text, is empty, is longer than ``MAX_EVENT_NAME_LENGTH`` or looks
sensitive (an e-mail address, a token), the event counts under
:data:`~openfeature_litestar.OTHER_EVENT_NAMES`.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Final

from openfeature_litestar._privacy._sanitizer import Sanitizer
from openfeature_litestar._stores._usage import TRACKING_REASON, UsageKey, hour_of

if TYPE_CHECKING:
    from datetime import datetime

    from openfeature_litestar._stores._usage import HourlyCounts

__all__ = ["MAX_EVENT_NAME_LENGTH", "OTHER_EVENT_NAMES", "TrackedCounts"]

OTHER_EVENT_NAMES: Final = ""
"""The name that tracking events not counted by their own name are counted under.

Names beyond :attr:`UsageConfig.max_tracked_names
<openfeature_litestar.UsageConfig.max_tracked_names>`, and names that are not text, are
empty, are longer than :data:`MAX_EVENT_NAME_LENGTH` or look sensitive.
"""

MAX_EVENT_NAME_LENGTH: Final = 256
"""The longest tracking event name counted (and recorded) as it is."""


class TrackedCounts:
    """Tracking events per name since the provider was created.

    Args:
        max_names: The most names counted one by one.
    """

    def __init__(self, max_names: int) -> None:
        """Start with no names."""
        self._max_names = max_names
        self._counters: dict[str, itertools.count[int]] = {}
        self._names = Sanitizer()  # only its value patterns: is a name personal data?
        self._lock = threading.Lock()
        self._reads: dict[str, int] = {}
        self._taken: dict[str, int] = {}  # events already handed to the flusher, per name

    def count(self, name: object) -> None:
        """Count one event named ``name``; never raises."""
        try:
            next(self._counters[name])  # type: ignore[index]  # a miss of any kind is handled
        except Exception:
            self._count_new(name)

    def _count_new(self, name: object) -> None:
        counters = self._counters
        key = OTHER_EVENT_NAMES
        if (
            type(name) is str
            and 0 < len(name) <= MAX_EVENT_NAME_LENGTH
            and len(counters) < self._max_names
            and not self._names.is_sensitive_value(name)
        ):
            key = name
        next(counters.setdefault(key, itertools.count()))

    def totals(self) -> dict[str, int]:
        """Events per name so far (names with none left out)."""
        with self._lock:
            return self._totals()

    def take(self, now: datetime) -> HourlyCounts:
        """The events since the last take, as counters of ``now``'s hour for a store.

        Each name is a counter with :data:`~openfeature_litestar.TRACKING_REASON` as
        its reason (see :class:`~openfeature_litestar.UsageKey`).
        """
        hour = hour_of(now)
        with self._lock:
            totals = self._totals()
            taken = self._taken
            deltas = {name: total - taken.get(name, 0) for name, total in totals.items()}
            taken.update(totals)
        return {
            (hour, UsageKey(name, None, TRACKING_REASON, None)): delta
            for name, delta in deltas.items()
            if delta > 0
        }

    def _totals(self) -> dict[str, int]:
        """Events per name so far (with ``_lock`` held)."""
        totals = {}
        for name, counter in self._counters.copy().items():
            done = self._reads.get(name, 0)
            # next() returns the calls before it, events and reads together.
            totals[name] = next(counter) - done
            self._reads[name] = done + 1
        return {name: count for name, count in totals.items() if count}

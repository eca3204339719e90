"""Usage counters in Redis: one hash per namespace and hour, added to by a script.

Keys, for namespace ``production`` and the default prefix ``openfeature:``:

``openfeature:production:usage:2026110114`` (hash, the hour 14:00-15:00 UTC on 1 Nov 2026)
    One field per counter, the JSON array ``[flag key, variant, reason, error code]``
    (``null`` for none), whose value is the evaluations counted, every process's added
    up. The hash expires ``usage_retention_days`` after its last write.
``openfeature:production:usage:session:<session>`` (string)
    The last batch sequence applied from one provider run, so a batch sent again (its
    first answer lost) is not added twice; expires a week after the run's last flush.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

from openfeature_litestar._errors import StoreError
from openfeature_litestar._stores._usage import UsageKey, UsageRecord, usage_records

from ._codec import compact

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from openfeature_litestar._stores._usage import UsageBatch

    from ._codec import Keys

__all__ = [
    "SESSION_TTL_SECONDS",
    "USAGE_SCRIPT",
    "hour_key",
    "hour_keys",
    "session_key",
    "usage_arguments",
    "usage_records_of",
]

SESSION_TTL_SECONDS: Final = 7 * 24 * 3600
_SESSION: Final = re.compile(r"[0-9a-f]{1,64}")
_HOUR: Final = timedelta(hours=1)

# KEYS: the session's marker, then one hash per hour of the batch.
# ARGV: the batch's sequence, the hashes' time to live, the marker's, then per hash its
# field count followed by field/increment pairs.
# Returns 1 when the batch was added, 0 when this session's batch was added before.
USAGE_SCRIPT: Final = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
local a = 4
for k = 2, #KEYS do
  local count = tonumber(ARGV[a])
  for j = 1, count do
    redis.call('HINCRBY', KEYS[k], ARGV[a + 2 * j - 1], ARGV[a + 2 * j])
  end
  redis.call('EXPIRE', KEYS[k], ARGV[2])
  a = a + 1 + 2 * count
end
return 1
"""


def hour_key(keys: Keys, hour: datetime) -> str:
    """The hash holding the namespace's counts of ``hour`` (an aware UTC hour)."""
    return f"{keys.usage}:{hour.astimezone(timezone.utc):%Y%m%d%H}"


def hour_keys(keys: Keys, first: datetime, last: datetime) -> list[tuple[datetime, str]]:
    """Each hour from ``first`` to ``last`` (both included) with its hash's key."""
    hours = []
    hour = first
    while hour <= last:
        hours.append((hour, hour_key(keys, hour)))
        hour += _HOUR
    return hours


def session_key(keys: Keys, session: str) -> str:
    """The marker of the batches applied from ``session``.

    Raises:
        ValueError: ``session`` is not a token a provider makes (hex digits).
    """
    if not _SESSION.fullmatch(session):
        raise ValueError(f"a usage session is 1-64 lower-case hex digits, not {session!r}")
    return f"{keys.usage}:session:{session}"


def _field(key: UsageKey) -> str:
    return compact([key.flag_key, key.variant, key.reason, key.error_code])


def usage_arguments(
    keys: Keys, batch: UsageBatch, *, retention_seconds: int
) -> tuple[list[str], list[str | int]]:
    """The ``KEYS`` and ``ARGV`` of :data:`USAGE_SCRIPT` for ``batch``."""
    by_hash: dict[str, list[tuple[str, int]]] = {}
    for (hour, key), count in batch.counts.items():
        by_hash.setdefault(hour_key(keys, hour), []).append((_field(key), count))
    script_keys = [session_key(keys, batch.session), *by_hash]
    args: list[str | int] = [batch.sequence, retention_seconds, SESSION_TTL_SECONDS]
    for increments in by_hash.values():
        args.append(len(increments))
        for name, count in increments:
            args.extend((name, count))
    return script_keys, args


def _key_of(field: str, where: str) -> UsageKey:
    try:
        data: Any = json.loads(field)
        flag_key, variant, reason, error_code = data
        parts = (flag_key, variant, reason, error_code)
        if not isinstance(flag_key, str) or not all(
            part is None or isinstance(part, str) for part in parts[1:]
        ):
            raise ValueError(field)  # noqa: TRY301 - reported below with the others
    except (ValueError, TypeError):
        raise StoreError(
            f"{where} holds a field that is no usage counter: {field[:80]!r}"
        ) from None
    return UsageKey(flag_key, variant, reason, error_code)


def usage_records_of(
    hashes: Iterable[tuple[datetime, str, Mapping[str, str]]],
) -> list[UsageRecord]:
    """Records of the hour hashes read, each given as its hour, key and fields.

    Raises:
        StoreError: A field or count is not one the store writes.
    """
    counts: list[tuple[tuple[datetime, UsageKey], int]] = []
    for hour, name, fields in hashes:
        for field, value in fields.items():
            try:
                count = int(value)
            except ValueError:
                raise StoreError(
                    f"{name} holds a count that is no integer: {value[:40]!r}"
                ) from None
            counts.append(((hour, _key_of(field, name)), count))
    return usage_records(counts)

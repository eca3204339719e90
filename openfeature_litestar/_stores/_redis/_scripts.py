"""The Lua script every write runs, and the arguments it is called with.

One script checks the revision the writer read, stores the next document and revision,
appends the audit entries and publishes, so a write is all or nothing and a concurrent
writer can never be overwritten unnoticed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._codec import compact, entry_fields

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores._writes import Change

    from ._codec import Keys

__all__ = ["WRITE_SCRIPT", "write_arguments", "write_keys"]

# KEYS: the namespace's hash, its audit stream.
# ARGV: the revision read, the next document, the stream's maximum length, the channel,
# then per audit entry its field count followed by its field/value pairs.
# Returns {1, new revision} or, when the revision read is no longer current,
# {0, current revision} having changed nothing.
WRITE_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
local revision = current + 1
redis.call('HSET', KEYS[1], 'document', ARGV[2], 'revision', revision)
local i = 5
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local fields = {}
  for j = 1, count * 2 do
    fields[j] = ARGV[i + j]
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '=', ARGV[3], '*', unpack(fields))
  i = i + 1 + count * 2
end
redis.call('PUBLISH', ARGV[4], revision)
return {1, revision}
"""


def write_keys(keys: Keys) -> list[str]:
    """The ``KEYS`` of :data:`WRITE_SCRIPT` for a namespace."""
    return [keys.document, keys.audit]


def write_arguments(
    keys: Keys,
    revision: int,
    document: FlagDocument,
    changes: Sequence[Change],
    *,
    audit_max_length: int,
    actor: str,
    at: str,
    note: str | None,
) -> list[str | int]:
    """The ``ARGV`` of :data:`WRITE_SCRIPT` for writing ``document`` over ``revision``.

    Args:
        keys: The namespace's keys (the channel is an argument, not a key).
        revision: The revision the document was built on.
        document: The next document.
        changes: What changed, one audit entry each.
        audit_max_length: The stream keeps this many newest entries.
        actor: Who writes.
        at: When, in ISO 8601.
        note: The writer's note, if any.
    """
    args: list[str | int] = [revision, compact(document.dump()), audit_max_length]
    args.append(keys.channel)
    for change in changes:
        fields = entry_fields(change, revision + 1, actor=actor, at=at, note=note)
        args.append(len(fields))
        for name, value in fields.items():
            args.extend((name, value))
    return args

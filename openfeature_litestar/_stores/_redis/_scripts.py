"""The Lua script every write runs, and the arguments it is called with.

One script checks the revision (and epoch) the writer read, stores the next document and
revision, appends the audit entries and publishes, so a write is all or nothing and a
concurrent writer can never be overwritten unnoticed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._codec import compact, entry_fields

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores._writes import Change

    from ._codec import Keys

__all__ = [
    "DOCUMENT_ARGUMENT",
    "SHARDED_WRITE_SCRIPT",
    "WRITE_SCRIPT",
    "write_arguments",
    "write_keys",
]

# KEYS: the namespace's hash, its audit stream.
# ARGV: the revision read, the epoch read ("" for none), the epoch to start a new history
# with, the next document, the stream's maximum length, the channel, then per audit
# entry its field count followed by its field/value pairs.
# Returns {1, new revision, epoch} or, when the revision or epoch read is no longer
# current, {0, current revision, current epoch} having changed nothing.
#
# A hash without a revision is a namespace never written, or one emptied (a Redis that
# restarted without persistence): its history starts again at revision 1, so it takes
# the new epoch, and (epoch, revision) never names two documents. A hash that has a
# revision keeps its epoch, or its lack of one (a history begun before epochs were kept).
# Comparing the epoch read as well as the revision keeps a write built on the old
# history's document from landing in a new history that has reached the same revision.
WRITE_SCRIPT = """
local stored = redis.call('HMGET', KEYS[1], 'revision', 'epoch')
local current = tonumber(stored[1] or '0')
local epoch = stored[2] or ''
if current ~= tonumber(ARGV[1]) or epoch ~= ARGV[2] then
  return {0, current, epoch}
end
local revision = current + 1
if current == 0 then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[1], 'document', ARGV[4], 'revision', revision, 'epoch', epoch)
else
  redis.call('HSET', KEYS[1], 'document', ARGV[4], 'revision', revision)
end
local i = 7
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local fields = {}
  for j = 1, count * 2 do
    fields[j] = ARGV[i + j]
  end
  redis.call('XADD', KEYS[2], 'MAXLEN', '=', ARGV[5], '*', unpack(fields))
  i = i + 1 + count * 2
end
redis.call('PUBLISH', ARGV[6], revision)
return {1, revision, epoch}
"""

_PUBLISH = "redis.call('PUBLISH', ARGV[6], revision)"

# In a Redis Cluster a classic PUBLISH is copied to every node; SPUBLISH goes only to the
# shard that owns the namespace's slot (the channel carries the same hash tag). ``pcall``:
# a server without sharded pub/sub (before Redis 7) still commits the write, which the
# watchers' revision check then finds, instead of failing it after the document changed.
SHARDED_WRITE_SCRIPT = WRITE_SCRIPT.replace(_PUBLISH, "redis.pcall('SPUBLISH', ARGV[6], revision)")
if SHARDED_WRITE_SCRIPT == WRITE_SCRIPT:  # pragma: no cover - guards the replacement above
    raise AssertionError("the write script no longer publishes as expected")

DOCUMENT_ARGUMENT = 3
"""Where :func:`write_arguments` puts the document's text (the script's ``ARGV[4]``)."""


def write_keys(keys: Keys) -> list[str]:
    """The ``KEYS`` of :data:`WRITE_SCRIPT` for a namespace."""
    return [keys.document, keys.audit]


def write_arguments(
    keys: Keys,
    revision: int,
    document: FlagDocument,
    changes: Sequence[Change],
    *,
    epoch: str,
    new_epoch: str,
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
        epoch: The epoch read with ``revision`` (``""`` for none).
        new_epoch: The epoch the write takes if it starts the namespace's history.
        audit_max_length: The stream keeps this many newest entries.
        actor: Who writes.
        at: When, in ISO 8601.
        note: The writer's note, if any.
    """
    args: list[str | int] = [revision, epoch, new_epoch, compact(document.dump())]
    args.extend((audit_max_length, keys.channel))
    for change in changes:
        fields = entry_fields(change, revision + 1, actor=actor, at=at, note=note)
        args.append(len(fields))
        for name, value in fields.items():
            args.extend((name, value))
    return args

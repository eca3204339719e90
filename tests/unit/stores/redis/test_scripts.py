"""The arguments of the Redis store's write script, checked without a server.

The script reads ``ARGV`` positionally: the revision and the epoch read, the epoch a new
history takes, the document, the stream's length, the channel, then each audit entry as
its field count followed by its field/value pairs, from ``ARGV[7]`` on. What the script
does with them is checked against a real Redis in
``tests/integration/stores/redis/test_scripts.py``.
"""

from __future__ import annotations

from openfeature_litestar import document_from_data
from openfeature_litestar._stores._redis._codec import Keys, compact
from openfeature_litestar._stores._redis._scripts import write_arguments, write_keys
from openfeature_litestar._stores._writes import Change
from tests.support import echo_flag

AT = "2026-01-02T03:04:05+00:00"
KEYS = Keys.of("p:", "production")
EPOCHS = {"epoch": "e1", "new_epoch": "e2"}


def test_the_keys_are_the_hash_then_the_stream() -> None:
    assert write_keys(KEYS) == ["p:production", "p:production:audit"]


def test_a_write_without_changes_passes_only_the_six_fixed_arguments() -> None:
    document = document_from_data({"flags": {}})
    args = write_arguments(
        KEYS, 4, document, [], **EPOCHS, audit_max_length=100, actor="alice", at=AT, note=None
    )
    assert args == [4, "e1", "e2", '{"flags":{}}', 100, "p:production:changes"]


def _entries(args: list[str | int]) -> list[dict[str | int, str | int]]:
    """Read the audit entries back out of ``args`` the way the script does."""
    entries = []
    i = 6
    while i < len(args):
        count = args[i]
        assert isinstance(count, int)
        pairs = args[i + 1 : i + 1 + 2 * count]
        entries.append(dict(zip(pairs[::2], pairs[1::2], strict=True)))
        i += 1 + 2 * count
    assert i == len(args), "the counts account for every argument"
    return entries


def test_each_change_follows_as_its_field_count_and_pairs() -> None:
    document = document_from_data({"flags": {"a": echo_flag("y"), "b": echo_flag()}})
    changes = [
        Change(flag_key="a", action="update", before=echo_flag("x"), after=echo_flag("y")),
        Change(flag_key="b", action="create", before=None, after=echo_flag()),
    ]

    args = write_arguments(
        KEYS, 1, document, changes, **EPOCHS, audit_max_length=10, actor="bob", at=AT, note="n"
    )

    assert args[:6] == [1, "e1", "e2", compact(document.dump()), 10, "p:production:changes"]
    assert args[6] == 8
    assert _entries(args) == [
        {
            "revision": "2",
            "action": "update",
            "actor": "bob",
            "at": AT,
            "flag_key": "a",
            "before": '{"state":"ENABLED","variants":{"x":"x"},"defaultVariant":"x"}',
            "after": '{"state":"ENABLED","variants":{"y":"y"},"defaultVariant":"y"}',
            "note": "n",
        },
        {
            "revision": "2",
            "action": "create",
            "actor": "bob",
            "at": AT,
            "flag_key": "b",
            "after": '{"state":"ENABLED","variants":{"a":"a"},"defaultVariant":"a"}',
            "note": "n",
        },
    ]

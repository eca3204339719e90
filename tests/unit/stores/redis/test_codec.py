"""The Redis store's key names and encodings, checked without a server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from openfeature_litestar import DocumentError, StoreError, document_from_data
from openfeature_litestar._stores._redis._codec import (
    Keys,
    audit_entry,
    compact,
    decode_document,
    entry_fields,
    is_entry_id,
    parse_revision,
    text,
)
from openfeature_litestar._stores._writes import Change
from tests.support import echo_flag

AT = "2026-01-02T03:04:05+00:00"


def _read_back(fields: dict[str, str], entry_id: str | None = "5-1") -> Any:
    # A reply's fields, as redis-py types them.
    raw: dict[bytes | str, bytes | str] = dict(fields.items())
    return audit_entry(
        entry_id, raw, namespace="production", audit_key="p:production:audit", target="h:1/0"
    )


def test_a_namespaces_keys_share_its_prefixed_name() -> None:
    keys = Keys.of("openfeature:", "production")
    assert keys == Keys(
        document="openfeature:production",
        audit="openfeature:production:audit",
        channel="openfeature:production:changes",
        usage="openfeature:production:usage",
    )
    assert Keys.of("", "qa").document == "qa"


def test_compact_json_has_no_spaces_keeps_unicode_and_refuses_nan() -> None:
    assert compact({"a": [1, 2], "b": "ü"}) == '{"a":[1,2],"b":"ü"}'
    with pytest.raises(ValueError, match="JSON compliant"):
        compact({"a": float("nan")})


def test_a_compact_document_decodes_to_an_equal_document() -> None:
    document = document_from_data({"flags": {"a": echo_flag("x")}, "metadata": {"team": "web"}})
    decoded = decode_document(compact(document.dump()), "p:production")
    assert decoded.dump() == document.dump()


def test_a_document_that_is_not_json_names_its_key() -> None:
    with pytest.raises(DocumentError, match="not valid JSON") as caught:
        decode_document("{not json", "p:production")
    assert "p:production" in str(caught.value)


def test_an_invalid_document_reports_where_it_is_wrong() -> None:
    with pytest.raises(DocumentError) as caught:
        decode_document('{"flags":{"a":{"state":"ENABLED"}}}', "p:production")
    assert [problem.path for problem in caught.value.problems] == ["flags.a.variants"]


def test_a_missing_revision_is_zero_and_a_stored_one_is_its_number() -> None:
    assert parse_revision(None, "h:1/0") == 0
    assert parse_revision("12", "h:1/0") == 12


def test_a_revision_that_is_not_a_number_is_a_store_error_naming_the_server() -> None:
    with pytest.raises(StoreError, match=r"Redis at h:1/0: the stored revision 'x' is not"):
        parse_revision("x", "h:1/0")


def test_an_entry_leaves_out_the_fields_that_are_none() -> None:
    change = Change(flag_key=None, action="update", before={}, after={"metadata": {"a": 1}})
    fields = entry_fields(change, 3, actor="alice", at=AT, note=None)
    assert fields == {
        "revision": "3",
        "action": "update",
        "actor": "alice",
        "at": AT,
        "before": "{}",
        "after": '{"metadata":{"a":1}}',
    }


def test_an_entry_reads_back_as_the_change_it_recorded() -> None:
    change = Change(flag_key="a", action="update", before=echo_flag("x"), after=echo_flag("y"))
    fields = entry_fields(change, 7, actor="bob", at=AT, note="release 7")

    entry = _read_back(fields)

    assert (entry.id, entry.namespace, entry.revision) == ("5-1", "production", 7)
    assert (entry.flag_key, entry.action, entry.actor) == ("a", "update", "bob")
    assert entry.at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert (entry.before, entry.after, entry.note) == (echo_flag("x"), echo_flag("y"), "release 7")


def test_an_entry_of_bytes_reads_back_like_one_of_text() -> None:
    change = Change(flag_key="a", action="create", before=None, after=echo_flag())
    fields = entry_fields(change, 1, actor="alice", at=AT, note=None)
    as_bytes: dict[bytes | str, bytes | str] = {
        name.encode(): value.encode() for name, value in fields.items()
    }

    entry = audit_entry("1-0", as_bytes, namespace="n", audit_key="n:audit", target="h:1/0")

    assert (entry.flag_key, entry.action, entry.before, entry.after) == (
        "a",
        "create",
        None,
        echo_flag(),
    )
    assert entry.note is None


@pytest.mark.parametrize(
    ("fields", "entry_id", "reason"),
    [
        ({"action": "create", "actor": "a", "at": AT}, "5-1", "KeyError: 'revision'"),
        ({"revision": "1", "action": "rename", "actor": "a", "at": AT}, "5-1", "unknown action"),
        ({"revision": "1", "action": "create", "actor": "a", "at": "soon"}, "5-1", "ValueError"),
        (
            {"revision": "1", "action": "create", "actor": "a", "at": AT, "after": "[1]"},
            "5-1",
            "a flag definition is a JSON object",
        ),
        ({"revision": "1", "action": "create", "actor": "a", "at": AT}, None, "KeyError: 'id'"),
    ],
)
def test_an_unreadable_entry_is_a_store_error_naming_it(
    fields: dict[str, str], entry_id: str | None, reason: str
) -> None:
    with pytest.raises(StoreError) as caught:
        _read_back(fields, entry_id)
    message = str(caught.value)
    assert message.startswith(f"Redis at h:1/0: audit entry {entry_id!r} in 'p:production:audit'")
    assert reason in message


def test_the_stored_fields_are_json_a_client_can_read() -> None:
    change = Change(flag_key="a", action="create", before=None, after=echo_flag("ü"))
    fields = entry_fields(change, 1, actor="alice", at=AT, note=None)
    assert json.loads(fields["after"]) == echo_flag("ü")
    assert "ü" in fields["after"]


@pytest.mark.parametrize("value", ["0-0", "1-0", "1700000000000-3", f"{'9' * 20}-{'9' * 20}"])
def test_stream_ids_are_entry_ids(value: str) -> None:
    assert is_entry_id(value)


@pytest.mark.parametrize(
    "value", ["nonsense", "1-", "-1", "1", "1-0 ", "+", "(1-0", f"{'9' * 21}-0", 5, None]
)
def test_other_values_are_not_entry_ids(value: object) -> None:
    assert not is_entry_id(value)


def test_replies_become_text() -> None:
    assert text(b"caf\xc3\xa9") == "café"
    assert text("café") == "café"
    assert text(None) is None

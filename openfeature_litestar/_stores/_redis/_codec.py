"""How a namespace is laid out in Redis: its key names, and how values are encoded there.

Keys, for namespace ``production`` and the default prefix ``openfeature:``:

``openfeature:production`` (hash)
    ``document``, the namespace's document as compact JSON, ``revision``, and
    ``epoch``, the history the revision counts in (absent in a hash whose history
    began before epochs were kept).
``openfeature:production:audit`` (stream)
    One entry per changed flag, trimmed to the newest ``audit_max_length`` entries.
``openfeature:production:changes`` (pub/sub channel)
    Every write publishes the new revision here.
``openfeature:production:usage:...`` (hashes and strings)
    Usage counters, one hash per hour (see ``_usage.py``).

Everything here is pure: it turns documents, revisions and audit entries into the
strings Redis stores and back, and reports a value it cannot read.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

from openfeature_litestar._document import FlagDocument, document_from_data, stored_document
from openfeature_litestar._errors import DocumentError, Problem, StoreError
from openfeature_litestar._stores._base import AuditEntry

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature_litestar._stores._base import AuditAction
    from openfeature_litestar._stores._writes import Change

__all__ = [
    "Keys",
    "audit_entry",
    "compact",
    "decode_document",
    "entry_fields",
    "is_entry_id",
    "new_epoch",
    "parse_epoch",
    "parse_revision",
    "text",
]

_ENTRY_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
# Letters and digits only: an epoch goes into HTTP entity tags as it is, beside the revision.
_EPOCH = re.compile(r"[0-9A-Za-z]{1,64}")


@dataclass(frozen=True)
class Keys:
    """The names of one namespace's keys and channel.

    Attributes:
        document: The hash holding the document and its revision.
        audit: The stream of audit entries.
        channel: The pub/sub channel every write publishes its revision on.
        usage: The start of the usage counters' keys.
    """

    document: str
    audit: str
    channel: str
    usage: str

    @classmethod
    def of(cls, key_prefix: str, namespace: str, *, tagged: bool = False) -> Keys:
        """The keys of ``namespace`` under ``key_prefix`` (both already checked).

        With ``tagged`` (a Redis Cluster) the prefix and namespace are a hash tag,
        ``{openfeature:production}``, so every key and the channel of the namespace map
        to one slot and the write script stays atomic. One server keeps the untagged
        names, so data written before cluster support is found where it was.
        """
        # A prefix or namespace cannot contain braces (see _names), so the tag is exact.
        base = f"{{{key_prefix}{namespace}}}" if tagged else f"{key_prefix}{namespace}"
        return cls(
            document=base, audit=f"{base}:audit", channel=f"{base}:changes", usage=f"{base}:usage"
        )


def compact(data: Any) -> str:
    """``data`` as compact JSON, the form every stored document and definition takes."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def decode_document(text: str, key: str, *, compiled: bool = True) -> FlagDocument:
    """Parse and validate the document stored in ``key``.

    With ``compiled=False`` it is validated only, for a write to build on (see
    :func:`~openfeature_litestar._document.stored_document`).

    Raises:
        DocumentError: It is not JSON, or not a valid document.
    """
    source = f"in Redis key {key!r}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DocumentError([Problem("", f"not valid JSON: {exc}")], source=source) from None
    if not compiled:
        return stored_document(data, source=source)
    return document_from_data(data, source=source)


def parse_revision(value: str | None, target: str) -> int:
    """The stored revision; 0 for a namespace never written.

    Raises:
        StoreError: The stored revision is not a number (it was written around the store).
    """
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise StoreError(
            f"Redis at {target}: the stored revision {value!r} is not a number"
        ) from None


def parse_epoch(value: str | None, target: str) -> str:
    """The stored epoch; ``""`` for a hash whose history began before epochs were kept.

    Raises:
        StoreError: The stored epoch is not 1-64 letters and digits (it was written around
            the store).
    """
    if value is None:
        return ""
    if _EPOCH.fullmatch(value) is None:
        raise StoreError(
            f"Redis at {target}: the stored epoch {value!r} is not 1-64 letters and digits"
        )
    return value


def new_epoch() -> str:
    """A fresh epoch, for a write that may start a namespace's history.

    Random rather than counted: a Redis that lost its data has lost any counter kept
    there too, and 64 random bits make two histories with the same epoch unlikely enough.
    """
    return secrets.token_hex(8)


def entry_fields(
    change: Change, revision: int, *, actor: str, at: str, note: str | None
) -> dict[str, str]:
    """One audit entry as stream fields; absent fields stand for ``None``."""
    fields = {"revision": str(revision), "action": change.action, "actor": actor, "at": at}
    if change.flag_key is not None:
        fields["flag_key"] = change.flag_key
    if change.before is not None:
        fields["before"] = compact(change.before)
    if change.after is not None:
        fields["after"] = compact(change.after)
    if note is not None:
        fields["note"] = note
    return fields


def audit_entry(
    entry_id: str | None,
    raw_fields: Mapping[bytes | str, bytes | str] | None,
    *,
    namespace: str,
    audit_key: str,
    target: str,
) -> AuditEntry:
    """Read one stream entry of ``audit_key`` back as an :class:`AuditEntry`.

    Raises:
        StoreError: The entry lacks a field or holds one that cannot be read.
    """
    fields = {text(name): text(value) for name, value in (raw_fields or {}).items()}
    try:
        if entry_id is None:
            raise KeyError("id")  # noqa: TRY301 - reported with the other missing parts
        return AuditEntry(
            id=entry_id,
            namespace=namespace,
            revision=int(fields["revision"]),
            flag_key=fields.get("flag_key"),
            action=_as_action(fields["action"]),
            actor=fields["actor"],
            at=datetime.fromisoformat(fields["at"]),
            before=_json_or_none(fields.get("before")),
            after=_json_or_none(fields.get("after")),
            note=fields.get("note"),
        )
    except (KeyError, ValueError) as exc:
        raise StoreError(
            f"Redis at {target}: audit entry {entry_id!r} in {audit_key!r} "
            f"is unreadable ({type(exc).__name__}: {exc})"
        ) from None


def is_entry_id(value: object) -> bool:
    """Whether ``value`` has the form of a stream entry id (``<milliseconds>-<sequence>``)."""
    return isinstance(value, str) and _ENTRY_ID.fullmatch(value) is not None


@overload
def text(value: bytes | str) -> str: ...
@overload
def text(value: bytes | str | None) -> str | None: ...
def text(value: bytes | str | None) -> str | None:
    """A reply as text (``None`` stays ``None``)."""
    # The store's own clients decode replies; this keeps the types honest either way.
    return value.decode() if isinstance(value, bytes) else value


def _json_or_none(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("a flag definition is a JSON object")  # noqa: TRY004 - reported as unreadable
    return data


def _as_action(value: str) -> AuditAction:
    if value == "create":
        return "create"
    if value == "update":
        return "update"
    if value == "delete":
        return "delete"
    raise ValueError(f"unknown action {value!r}")

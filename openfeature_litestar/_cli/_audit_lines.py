"""How ``audit`` shows one audit entry: a readable line, or a JSON object for scripts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from openfeature_litestar._stores import AuditEntry
    from openfeature_litestar._stores._writes import Change

__all__ = ["audit_json", "audit_line", "change_json", "change_line"]


class _Difference(Protocol):
    """What an audit entry and a change (of ``import --dry-run``) both hold."""

    @property
    def before(self) -> Mapping[str, Any] | None: ...

    @property
    def after(self) -> Mapping[str, Any] | None: ...


def audit_json(entry: AuditEntry) -> str:
    """``entry`` as one line of JSON with every field."""
    record = {
        "id": entry.id,
        "namespace": entry.namespace,
        "revision": entry.revision,
        "flag": entry.flag_key,
        "action": entry.action,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }
    return json.dumps(record, ensure_ascii=False)


def audit_line(entry: AuditEntry) -> str:
    """``entry`` as one readable line: revision, time, action, flag, actor and the change."""
    when = entry.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    flag = entry.flag_key if entry.flag_key is not None else "(shared parts)"
    note = f" ({entry.note})" if entry.note else ""
    return (
        f"r{entry.revision}  {when}  {entry.action:6}  {flag}  by {entry.actor}: "
        f"{_what_changed(entry)}{note}"
    )


def change_line(change: Change) -> str:
    """A change a write would make, as the audit trail would show it: action, flag, what."""
    flag = change.flag_key if change.flag_key is not None else "(shared parts)"
    return f"{change.action:6}  {flag}: {_what_changed(change)}"


def change_json(change: Change) -> dict[str, Any]:
    """A change a write would make, as JSON data with every field."""
    return {
        "flag": change.flag_key,
        "action": change.action,
        "before": change.before,
        "after": change.after,
    }


def _what_changed(entry: _Difference) -> str:
    """A short account of one entry: the scalar fields' old and new values, else names."""
    if entry.before is None:
        return "created"
    if entry.after is None:
        return "deleted"
    parts: list[str] = []
    for name in dict.fromkeys([*entry.before, *entry.after]):
        old, new = entry.before.get(name), entry.after.get(name)
        if old == new:
            continue
        if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
            parts.append(f"{name} changed")
        else:
            parts.append(f"{name} {json.dumps(old)} -> {json.dumps(new)}")
    return ", ".join(parts) or "no change"

"""The commands on a live store, each in one store session opened and closed.

``import``, ``export``, ``set-variant``, ``enable``, ``disable`` and ``audit``. With
``--json`` each prints one JSON object (``audit``: one a line) instead of its sentence.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar

from openfeature_litestar._document import FlagDocument, dump_document
from openfeature_litestar._errors import RevisionConflict
from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores import FileStore, StoredDocument
from openfeature_litestar._stores._writes import changes_between, empty_document

from ._audit_lines import audit_json, audit_line, change_json, change_line
from ._file_commands import load
from ._hints import did_you_mean
from ._opening import writable_store
from ._outcomes import EXIT_OK, RefusedError
from ._read_commands import check_written, flag_definition, read_namespace

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable, Mapping

    from openfeature_litestar._stores import AuditEntry, WritableFlagStore

__all__ = ["audit", "export", "import_document", "set_state", "set_variant"]

_T = TypeVar("_T")


def _run_on_store(
    args: argparse.Namespace, action: Callable[[WritableFlagStore], Awaitable[_T]]
) -> _T:
    """Run ``action`` on the store ``args`` name, then close the store."""
    store = writable_store(args)

    async def run() -> _T:
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _where(store: WritableFlagStore, url: str) -> str:
    return f"namespace {store.namespace!r} of {mask_url(url)}"


def _expected_revision(args: argparse.Namespace, stored: StoredDocument) -> int:
    """The revision a read-modify-write must find: the one asked for, else the one read.

    Writing with the revision read (and its epoch) means a concurrent change to the same
    namespace refuses this write rather than being silently overwritten with stale content.

    Raises:
        RevisionConflict: ``--expected-revision`` is not the revision read.
    """
    expected: int | None = args.expected_revision
    if expected is not None and expected != stored.revision:
        raise RevisionConflict(expected, stored.revision)
    return stored.revision


def _flag_data(document: FlagDocument, key: str, namespace: str) -> dict[str, Any]:
    return flag_definition(document, key, namespace)


def _print_result(args: argparse.Namespace, out: TextIO, message: str, **fields: Any) -> None:
    """Print a command's outcome: ``message``, or with ``--json`` the ``fields`` as JSON."""
    if args.json:
        print(json.dumps(fields, ensure_ascii=False), file=out)
    else:
        print(message, file=out)


async def _current(store: WritableFlagStore) -> StoredDocument:
    """The namespace's document, or (a file store's file not written yet) an empty one.

    A file store refuses to read a file that does not exist, but writes it on the first
    write, as an import into it does.
    """
    if isinstance(store, FileStore) and not store.path.exists():
        return StoredDocument(empty_document(), 0)
    return await store.load()


def import_document(args: argparse.Namespace, out: TextIO) -> int:
    """``import FILE``: replace the namespace's document (validated, audited).

    The stored document is read first and compared with ``FILE`` (the comparison the
    audit trail records): with ``--dry-run`` the changes are printed and nothing is
    written; an identical document writes nothing either, so it adds no revision.
    """
    document = load(args.file, strict=True)

    async def write(store: WritableFlagStore) -> tuple[str, dict[str, Any]]:
        stored = await _current(store)
        _expected_revision(args, stored)  # a conflict is reported even for a dry run
        changes = changes_between(stored.document, document)
        where = _where(store, args.store)
        fields: dict[str, Any] = {
            "namespace": store.namespace,
            "file": args.file,
            "flags": len(document.flags),
            "changes": [change_json(change) for change in changes],
        }
        if args.dry_run or not changes:
            counts = ", ".join(
                f"{sum(change.action == action for change in changes)} {action}d"
                for action in ("create", "update", "delete")
            )
            verdict = (
                "nothing changed: it holds this document already"
                if not changes
                else f"would change {len(changes)} ({counts})"
            )
            lines = [f"{args.file} -> {where} at revision {stored.revision}: {verdict}"]
            lines.extend(f"  {change_line(change)}" for change in changes)
            lines.append("nothing written" + (" (--dry-run)" if args.dry_run and changes else ""))
            return "\n".join(lines), {**fields, "written": False, "revision": stored.revision}
        revision = await store.replace_document(
            document,
            actor=args.actor,
            expected_revision=args.expected_revision,
            # The epoch read goes with the revision asked for: the same revision number
            # of a namespace emptied and rewritten since is another document.
            expected_epoch=stored.epoch if args.expected_revision is not None else None,
            note=f"imported from {Path(args.file).name}",
        )
        message = f"imported {len(document.flags)} flags into {where}: revision {revision}"
        return message, {**fields, "written": True, "revision": revision}

    message, fields = _run_on_store(args, write)
    _print_result(args, out, message, **fields)
    return EXIT_OK


def export(args: argparse.Namespace, out: TextIO) -> int:
    """``export``: print the namespace's document as JSON or YAML (one never written: exit 1)."""
    stored, _ = read_namespace(args)
    output_format: Literal["json", "yaml"] = "json" if args.json else args.output_format
    out.write(dump_document(stored.document, format=output_format))
    return EXIT_OK


def set_variant(args: argparse.Namespace, out: TextIO) -> int:
    """``set-variant FLAG VARIANT``: flip a flag's default variant (nothing written if set)."""
    key, variant = args.flag, args.variant

    async def write(store: WritableFlagStore) -> tuple[str, bool, dict[str, Any]]:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        variants: Mapping[str, Any] = before["variants"]
        if variant not in variants:
            known = ", ".join(repr(name) for name in variants)
            raise RefusedError(
                f"flag {key!r} has no variant {variant!r}{did_you_mean(variant, variants)} "
                f"(it has {known})"
            )
        after = {**before, "defaultVariant": variant}
        if args.drop_targeting:
            after.pop("targeting", None)
        targeted = "targeting" in after
        expected = _expected_revision(args, stored)
        fields: dict[str, Any] = {
            "flag": key,
            "namespace": store.namespace,
            "defaultVariant": variant,
            "was": before.get("defaultVariant"),
            "targeting": targeted,
        }
        if after == before:
            message = f"{key}: default variant is already {variant!r}; nothing written"
            return message, targeted, {**fields, "written": False, "revision": stored.revision}
        revision = await store.put_flag(
            key, after, actor=args.actor, expected_revision=expected, expected_epoch=stored.epoch
        )
        dropped = ", targeting removed" if "targeting" in before and args.drop_targeting else ""
        return (
            (
                f"{key}: default variant {variant!r} (was {before.get('defaultVariant')!r})"
                f"{dropped}; {_where(store, args.store)} at revision {revision}"
            ),
            targeted,
            {**fields, "written": True, "revision": revision},
        )

    message, targeted, fields = _run_on_store(args, write)
    _print_result(args, out, message, **fields)
    if targeted:
        sys.stderr.write(
            f"note: flag {key!r} has targeting rules; they still choose the variant for the "
            f"contexts they match (--drop-targeting serves {variant!r} to everyone)\n"
        )
    return EXIT_OK


def set_state(args: argparse.Namespace, out: TextIO) -> int:
    """``enable FLAG`` / ``disable FLAG``: set a flag's state (nothing written if set)."""
    key, state = args.flag, args.state

    async def write(store: WritableFlagStore) -> tuple[str, dict[str, Any]]:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        expected = _expected_revision(args, stored)
        fields = {"flag": key, "namespace": store.namespace, "state": state, "was": before["state"]}
        if before["state"] == state:
            message = f"{key}: already {state}; nothing written"
            return message, {**fields, "written": False, "revision": stored.revision}
        after = {**before, "state": state}
        revision = await store.put_flag(
            key, after, actor=args.actor, expected_revision=expected, expected_epoch=stored.epoch
        )
        message = (
            f"{key}: {state} (was {before['state']}); "
            f"{_where(store, args.store)} at revision {revision}"
        )
        return message, {**fields, "written": True, "revision": revision}

    message, fields = _run_on_store(args, write)
    _print_result(args, out, message, **fields)
    return EXIT_OK


def audit(args: argparse.Namespace, out: TextIO) -> int:
    """``audit``: print the namespace's audit trail, newest first.

    A namespace never written, or a ``--flag`` neither in the trail nor in the document,
    is an error (exit 1) rather than an empty trail: it is most likely misspelt.
    """

    async def read(store: WritableFlagStore) -> tuple[list[AuditEntry], StoredDocument, str]:
        entries = await store.audit_log(flag_key=args.flag, limit=args.limit)
        return entries, await store.load(), store.namespace

    entries, stored, namespace = _run_on_store(args, read)
    if not entries:
        check_written(stored, namespace, args.store)
        if args.flag is not None and args.flag not in stored.document.flags:
            flag_definition(stored.document, args.flag, namespace)  # raises, with a hint
    for entry in entries:
        print(audit_json(entry) if args.json else audit_line(entry), file=out)
    return EXIT_OK

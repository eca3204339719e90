"""The commands on a live store, each in one store session opened and closed.

``import``, ``export``, ``set-variant``, ``enable``, ``disable`` and ``audit``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from openfeature_litestar._document import FlagDocument, dump_document
from openfeature_litestar._errors import FlagNotFound, RevisionConflict
from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores import store_from_url
from openfeature_litestar._stores._writes import definition_data

from ._audit_lines import audit_json, audit_line
from ._file_commands import load
from ._outcomes import EXIT_OK, RefusedError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable, Mapping

    from openfeature_litestar._stores import AuditEntry, StoredDocument, WritableFlagStore

__all__ = ["audit", "export", "import_document", "set_state", "set_variant"]

_T = TypeVar("_T")


def _run_on_store(
    args: argparse.Namespace, action: Callable[[WritableFlagStore], Awaitable[_T]]
) -> _T:
    """Run ``action`` on the store ``args`` name, then close the store."""
    store = store_from_url(args.store, namespace=args.namespace)

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
    data = definition_data(document, key)
    if data is None:
        raise FlagNotFound(key, namespace)
    return data


def import_document(args: argparse.Namespace, out: TextIO) -> int:
    """``import FILE``: replace the namespace's document (validated, audited)."""
    document = load(args.file, strict=True)

    async def write(store: WritableFlagStore) -> str:
        revision = await store.replace_document(
            document,
            actor=args.actor,
            expected_revision=args.expected_revision,
            note=f"imported from {Path(args.file).name}",
        )
        count = len(document.flags)
        return f"imported {count} flags into {_where(store, args.store)}: revision {revision}"

    print(_run_on_store(args, write), file=out)
    return EXIT_OK


def export(args: argparse.Namespace, out: TextIO) -> int:
    """``export``: print the namespace's document as JSON or YAML."""

    async def read(store: WritableFlagStore) -> StoredDocument:
        return await store.load()

    stored = _run_on_store(args, read)
    out.write(dump_document(stored.document, format=args.output_format))
    return EXIT_OK


def set_variant(args: argparse.Namespace, out: TextIO) -> int:
    """``set-variant FLAG VARIANT``: flip a flag's default variant (nothing written if set)."""
    key, variant = args.flag, args.variant

    async def write(store: WritableFlagStore) -> tuple[str, bool]:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        variants: Mapping[str, Any] = before["variants"]
        if variant not in variants:
            known = ", ".join(repr(name) for name in variants)
            raise RefusedError(f"flag {key!r} has no variant {variant!r}; it has {known}")
        after = {**before, "defaultVariant": variant}
        if args.drop_targeting:
            after.pop("targeting", None)
        targeted = "targeting" in after
        expected = _expected_revision(args, stored)
        if after == before:
            return f"{key}: default variant is already {variant!r}; nothing written", targeted
        revision = await store.put_flag(
            key, after, actor=args.actor, expected_revision=expected, expected_epoch=stored.epoch
        )
        dropped = ", targeting removed" if "targeting" in before and args.drop_targeting else ""
        return (
            f"{key}: default variant {variant!r} (was {before.get('defaultVariant')!r}){dropped}; "
            f"{_where(store, args.store)} at revision {revision}"
        ), targeted

    message, targeted = _run_on_store(args, write)
    print(message, file=out)
    if targeted:
        sys.stderr.write(
            f"note: flag {key!r} has targeting rules; they still choose the variant for the "
            f"contexts they match (--drop-targeting serves {variant!r} to everyone)\n"
        )
    return EXIT_OK


def set_state(args: argparse.Namespace, out: TextIO) -> int:
    """``enable FLAG`` / ``disable FLAG``: set a flag's state (nothing written if set)."""
    key, state = args.flag, args.state

    async def write(store: WritableFlagStore) -> str:
        stored = await store.load()
        before = _flag_data(stored.document, key, store.namespace)
        expected = _expected_revision(args, stored)
        if before["state"] == state:
            return f"{key}: already {state}; nothing written"
        after = {**before, "state": state}
        revision = await store.put_flag(
            key, after, actor=args.actor, expected_revision=expected, expected_epoch=stored.epoch
        )
        return (
            f"{key}: {state} (was {before['state']}); "
            f"{_where(store, args.store)} at revision {revision}"
        )

    print(_run_on_store(args, write), file=out)
    return EXIT_OK


def audit(args: argparse.Namespace, out: TextIO) -> int:
    """``audit``: print the namespace's audit trail, newest first."""

    async def read(store: WritableFlagStore) -> list[AuditEntry]:
        return await store.audit_log(flag_key=args.flag, limit=args.limit)

    for entry in _run_on_store(args, read):
        print(audit_json(entry) if args.json else audit_line(entry), file=out)
    return EXIT_OK

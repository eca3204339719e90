"""The commands that only read a store: ``list`` and ``get``, and the read they share.

Every read refuses a namespace that was never written (revision 0) rather than showing
it as empty: that is what a misspelt ``--namespace`` looks like, and nothing is created
for it.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, TextIO

from openfeature_litestar._errors import FlagNotFound
from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores._writes import definition_data

from ._flag_types import infer_type
from ._hints import did_you_mean
from ._opening import readable_store
from ._outcomes import EXIT_OK, MissingError

if TYPE_CHECKING:
    import argparse

    from openfeature_litestar._document import FlagDocument
    from openfeature_litestar._stores import StoredDocument

__all__ = [
    "check_written",
    "flag_definition",
    "get_flag",
    "list_flags",
    "never_written",
    "read_namespace",
    "where",
]


def where(namespace: str, url: str) -> str:
    """``namespace 'x' of <url>``, the URL's password masked: how messages name a namespace."""
    return f"namespace {namespace!r} of {mask_url(url)}"


def read_namespace(args: argparse.Namespace) -> tuple[StoredDocument, str]:
    """Read the namespace ``args.store`` and ``args.namespace`` name, in one store session.

    Returns:
        The document and the namespace's name (``--namespace``, else the URL's).

    Raises:
        MissingError: The namespace has never been written.
        StoreError: The store cannot be reached.
    """
    store, namespace = readable_store(args)

    async def read() -> StoredDocument:
        try:
            return await store.load()
        finally:
            await store.close()

    stored = asyncio.run(read())
    check_written(stored, namespace, args.store)
    return stored, namespace


def check_written(stored: StoredDocument, namespace: str, url: str) -> None:
    """Return if ``stored`` is a document someone wrote, not a namespace never written.

    Raises:
        MissingError: The namespace is at revision 0 with no flags.
    """
    if stored.revision == 0 and not stored.document.flags:
        raise MissingError(never_written(namespace, url))


def never_written(namespace: str, url: str) -> str:
    """What a read of a namespace never written says."""
    return (
        f"{where(namespace, url)} has never been written (revision 0): check "
        "--namespace (or the URL's namespace parameter); nothing was created"
    )


def flag_definition(document: FlagDocument, key: str, namespace: str) -> dict[str, Any]:
    """Flag ``key``'s definition as flagd JSON.

    Raises:
        MissingError: The document has no flag ``key`` (the nearest keys are suggested).
    """
    data = definition_data(document, key)
    if data is None:
        raise MissingError(f"{FlagNotFound(key, namespace)}{did_you_mean(key, document.flags)}")
    return data


def _summary(document: FlagDocument, key: str) -> dict[str, Any]:
    flag = document.flags[key]
    return {
        "flag": key,
        "state": flag.state,
        "defaultVariant": flag.default_variant,
        "type": infer_type(document, key).value.lower(),
        "variants": list(flag.variants),
        "targeting": flag.targeting is not None,
    }


def list_flags(args: argparse.Namespace, out: TextIO) -> int:
    """``list``: every flag of the namespace with its state, default variant and type."""
    stored, namespace = read_namespace(args)
    rows = [_summary(stored.document, key) for key in stored.document.flags]
    if args.json:
        report = {"namespace": namespace, "revision": stored.revision}
        print(json.dumps({**report, "flags": rows}, ensure_ascii=False), file=out)
        return EXIT_OK
    headers = ("FLAG", "STATE", "DEFAULT", "TYPE", "TARGETING")
    table = [
        (
            row["flag"],
            row["state"],
            "(none)" if row["defaultVariant"] is None else row["defaultVariant"],
            row["type"],
            "yes" if row["targeting"] else "no",
        )
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [headers, *table]) for i in range(len(headers))]
    for cells in [headers, *table]:
        print(
            "  ".join(
                f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True)
            ).rstrip(),
            file=out,
        )
    noun = "flag" if len(rows) == 1 else "flags"
    print(f"{len(rows)} {noun} at revision {stored.revision}", file=out)
    return EXIT_OK


def get_flag(args: argparse.Namespace, out: TextIO) -> int:
    """``get FLAG``: the flag's definition as the store holds it, as JSON."""
    stored, namespace = read_namespace(args)
    definition = flag_definition(stored.document, args.flag, namespace)
    if args.json:
        report = {"flag": args.flag, "namespace": namespace, "revision": stored.revision}
        print(json.dumps({**report, "definition": definition}, ensure_ascii=False), file=out)
    else:
        print(json.dumps(definition, indent=2, ensure_ascii=False), file=out)
    return EXIT_OK

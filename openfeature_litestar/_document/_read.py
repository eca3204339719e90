"""Reading flag documents: from a JSON or YAML file, from text, or from parsed data.

Two loading modes:

* ``strict=False`` (the default) is flagd's behaviour: every document flagd serves
  loads. The structure must still be valid, but a flag whose targeting cannot be
  compiled (an unknown operator, a ``$ref`` to a missing evaluator) is kept and
  evaluates to ``PARSE_ERROR`` (with the caller's default), questionable operator
  arguments evaluate to ``null`` as in flagd, and a ``defaultVariant`` that names no
  variant gives ``GENERAL``. Every such problem is kept, with its path, in
  :attr:`FlagDocument.warnings`.
* ``strict=True`` rejects anything that could not work as written: those same problems
  are a :class:`DocumentError`. Writes (through a store, the admin API or the CLI) are
  always strict about what they write.

Structural errors (not JSON or YAML, not a flag document, invalid fields, limits
exceeded) reject the document in either mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import yaml

from openfeature_litestar._engine import MAX_DOCUMENT_NODES
from openfeature_litestar._errors import DocumentError, Problem

from ._limits import MAX_DOCUMENT_BYTES
from ._model import FlagDocument
from ._yaml import DocumentYamlLoader

if TYPE_CHECKING:
    import os

__all__ = [
    "DocumentFormat",
    "document_from_data",
    "load_document",
    "parse_document",
    "stored_document",
]

DocumentFormat: TypeAlias = Literal["auto", "json", "yaml"]
"""The text formats a document is read in; ``"auto"`` reads JSON when the text starts with ``{``."""


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_text(text: str, document_format: Literal["json", "yaml"]) -> Any:
    if document_format == "json":
        return json.loads(
            text, object_pairs_hook=_reject_duplicate_json_keys, parse_constant=_reject_constant
        )
    return yaml.load(text, Loader=DocumentYamlLoader)  # noqa: S506 - a SafeLoader subclass


def parse_document(
    text: str | bytes,
    *,
    format: DocumentFormat = "auto",  # noqa: A002 - the natural name for a format option
    strict: bool = False,
    source: str | None = None,
    max_nodes: int = MAX_DOCUMENT_NODES,
) -> FlagDocument:
    """Parse and validate a flag document from JSON or YAML text.

    Args:
        text: The document; bytes are decoded as UTF-8.
        format: ``"json"``, ``"yaml"`` or ``"auto"`` (JSON when the text starts with
            ``{``, else YAML, which also reads JSON).
        strict: Reject targeting that cannot work as written (see the module docs);
            ``False`` (the default) behaves like flagd and lists those problems in
            :attr:`FlagDocument.warnings`.
        source: A name for the text in error messages, such as a file name.
        max_nodes: The most operators and values the document's targeting may have
            together, each ``$evaluators`` entry counted once however many flags name
            it (:data:`~openfeature_litestar.MAX_DOCUMENT_NODES` by default).

    Returns:
        The validated, compiled document.

    Raises:
        DocumentError: The text is too large, is not valid JSON/YAML, or is not a valid
            flag document (or, with ``strict``, has problems flagd tolerates);
            ``problems`` lists every problem with its path.

    .. versionchanged:: 0.2.0
       Lenient by default (``strict=False``), as flagd; the problems tolerated are in
       :attr:`FlagDocument.warnings`. Pass ``strict=True`` for the old default.
    """
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > MAX_DOCUMENT_BYTES:
        problem = Problem("", f"the document is {size} bytes; at most {MAX_DOCUMENT_BYTES}")
        raise DocumentError([problem], source=source)
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError as exc:
        raise DocumentError([Problem("", f"not UTF-8 text: {exc}")], source=source) from None
    chosen: Literal["json", "yaml"] = (
        format if format != "auto" else "json" if decoded.lstrip().startswith("{") else "yaml"
    )
    try:
        data = _parse_text(decoded, chosen)
    except RecursionError:
        problem = Problem("", f"the {chosen.upper()} text is nested too deeply")
        raise DocumentError([problem], source=source) from None
    except (ValueError, yaml.YAMLError) as exc:
        _name_marks(exc, source)
        problem = Problem("", f"not valid {chosen.upper()}: {exc}")
        raise DocumentError([problem], source=source) from None
    return document_from_data(data, strict=strict, source=source, max_nodes=max_nodes)


def _name_marks(exc: Exception, source: str | None) -> None:
    """Make a YAML error's positions name ``source``, not PyYAML's ``<unicode string>``.

    PyYAML names the stream it parsed, and it parses text here, not the file.
    """
    if isinstance(exc, yaml.MarkedYAMLError):
        for mark in (exc.context_mark, exc.problem_mark):
            if mark is not None:
                mark.name = source if source is not None else "the document"


def document_from_data(
    data: Mapping[str, Any],
    *,
    strict: bool = False,
    source: str | None = None,
    max_nodes: int = MAX_DOCUMENT_NODES,
) -> FlagDocument:
    """Validate and compile a flag document given as parsed JSON data.

    Args:
        data: The document as a mapping (``{"flags": {...}}``).
        strict: See :func:`parse_document`.
        source: A name for the data in error messages.
        max_nodes: See :func:`parse_document`.

    Raises:
        DocumentError: The data is not a valid flag document (or, with ``strict``, has
            problems flagd tolerates).

    .. versionchanged:: 0.2.0
       Lenient by default, as :func:`parse_document`.
    """
    _require_object(data, source)
    return FlagDocument._from_data(data, strict=strict, source=source, max_nodes=max_nodes)  # noqa: SLF001


def stored_document(data: Mapping[str, Any], *, source: str) -> FlagDocument:
    """Validate a document a store holds, to build a write on it, without compiling it.

    A write replaces or changes flags of the stored document; compiling what is already
    stored would make every write cost (and, past a store's deadline, fail) as much as
    the largest document ever stored, and an import could not replace a document that
    no longer compiles. The result compiles on the first
    :meth:`~FlagDocument.compiled_flags` (or :attr:`~FlagDocument.warnings`), leniently:
    what the store holds was accepted, and a write is strict only about what it writes.

    Raises:
        DocumentError: ``data`` is not a valid document (edited by hand, say).
    """
    _require_object(data, source)
    return FlagDocument._from_data(data, strict=False, source=source, compiled=False)  # noqa: SLF001


def _require_object(data: object, source: str | None) -> None:
    # Callers without type checking may pass anything.
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise DocumentError([Problem("", f"a document is an object, not {kind}")], source=source)


def load_document(
    path: str | os.PathLike[str], *, strict: bool = False, max_nodes: int = MAX_DOCUMENT_NODES
) -> FlagDocument:
    """Read, validate and compile a flag document from a JSON or YAML file.

    The format follows the file's suffix (``.json``; ``.yaml``/``.yml``), else the content.
    ``strict`` and ``max_nodes`` are as for :func:`parse_document`.

    Raises:
        DocumentError: The file is not a valid flag document (or, with ``strict``, has
            problems flagd tolerates).
        OSError: The file cannot be read.

    .. versionchanged:: 0.2.0
       Lenient by default, as :func:`parse_document`.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    document_format: DocumentFormat = (
        "json" if suffix == ".json" else "yaml" if suffix in {".yaml", ".yml"} else "auto"
    )
    with file.open("rb") as stream:
        text = stream.read(MAX_DOCUMENT_BYTES + 1)
    return parse_document(
        text, format=document_format, strict=strict, source=str(file), max_nodes=max_nodes
    )

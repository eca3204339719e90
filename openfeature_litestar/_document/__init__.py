"""Flag documents: flagd's flag-definition format, validated whole, compiled once.

A flag document is what flagd reads (``flags``, ``$evaluators``, flag-set ``metadata``),
written as JSON or YAML. Loading validates the whole document and compiles every flag's
targeting; any problem rejects the whole document with a :class:`DocumentError` that lists
every problem with its path, so nothing from a bad document is ever half-applied.

One module per step: the limits (``_limits``), the models (``_model``), flagd's daemon
format (``_daemon_format``), validation reports (``_reporting``), compiling the flags
(``_compile``), the YAML dialect (``_yaml``), reading (``_read``, which also explains the
strict and flagd-compatible loading modes) and writing (``_write``).
"""

from __future__ import annotations

from ._limits import (
    MAX_DOCUMENT_BYTES,
    MAX_FLAG_KEY_LENGTH,
    MAX_FLAGS,
    MAX_NESTING_DEPTH,
    is_valid_flag_key,
)
from ._model import FlagDefinition, FlagDocument
from ._read import (
    DocumentFormat,
    document_from_data,
    load_document,
    parse_document,
    stored_document,
)
from ._write import dump_document

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_FLAGS",
    "MAX_FLAG_KEY_LENGTH",
    "MAX_NESTING_DEPTH",
    "DocumentFormat",
    "FlagDefinition",
    "FlagDocument",
    "document_from_data",
    "dump_document",
    "is_valid_flag_key",
    "load_document",
    "parse_document",
    "stored_document",
]

"""Writing flag documents as JSON or YAML text that reads back to an equal document."""

from __future__ import annotations

import json
from typing import Literal

import yaml

# At run time, not only for type checking: typing.get_type_hints(dump_document) resolves it.
from ._model import FlagDocument  # noqa: TC001
from ._yaml import DocumentYamlDumper

__all__ = ["dump_document"]


def dump_document(
    document: FlagDocument,
    *,
    format: Literal["json", "yaml"] = "json",  # noqa: A002 - mirrors parse_document
) -> str:
    """Write ``document`` as JSON (indented) or YAML text that loads back to an equal document."""
    data = document.dump()
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(data, Dumper=DocumentYamlDumper, sort_keys=False, allow_unicode=True)

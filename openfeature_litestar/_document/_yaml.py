"""The YAML dialect of flag documents: YAML 1.2 scalars, no aliases, JSON values only.

PyYAML follows YAML 1.1; flagd reads YAML 1.2. The loader and dumper here close the gap
both ways, so a document means the same to flagd and to us, and dumps back to itself.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["DocumentYamlDumper", "DocumentYamlLoader"]


class DocumentYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans, no aliases and no duplicate keys.

    PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are booleans; flagd
    (YAML 1.2) reads them as strings, and ``on``/``off`` are the most common variant
    names. Aliases are refused because they let a small text expand into a huge document.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose the next node, refusing an alias."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not supported", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Construct a mapping, refusing a duplicate key or a key that is no scalar."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a string", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_YAML_12_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
# YAML 1.2 has no implicit timestamps either: 2024-01-01 is a string, as in JSON.
_NOT_IMPLICIT = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
DocumentYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_IMPLICIT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse_non_json(_loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"{node.tag} values have no JSON form", node.start_mark
    )


for _tag in ("binary", "timestamp", "set", "omap", "pairs"):
    DocumentYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_non_json)
DocumentYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(_YAML_12_BOOL), list("tTfF")
)


class DocumentYamlDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, double-quoting strings with characters YAML folds as breaks.

    In a plain or single-quoted scalar, NEL and the Unicode line/paragraph separators
    read back as spaces; only double quotes (with escapes) keep them.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(char in value for char in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


DocumentYamlDumper.add_representer(str, _represent_str)

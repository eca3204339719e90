"""Flag documents: flagd's flag-definition format, validated whole, compiled once.

A flag document is what flagd reads (``flags``, ``$evaluators``, flag-set ``metadata``),
written as JSON or YAML. Loading validates the whole document and compiles every flag's
targeting; any problem rejects the whole document with a :class:`DocumentError` that lists
every problem with its path, so nothing from a bad document is ever half-applied.

Two loading modes:

* ``strict=True`` (the default) rejects anything that could not work as written: unknown
  operators, a ``$ref`` to a missing evaluator, a ``defaultVariant`` that names no
  variant, operator arguments that flagd would quietly evaluate to ``null``.
* ``strict=False`` is flagd's behaviour: the structure must still be valid, but a flag
  whose targeting cannot be compiled is kept and evaluates to ``PARSE_ERROR`` (with the
  caller's default), and questionable operator arguments evaluate to ``null``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)

from ._engine import CompiledFlag, compile_targeting
from ._errors import DocumentError, Problem

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

    from typing_extensions import Self

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
]

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""The largest document text accepted, in bytes (10 MiB)."""

MAX_FLAGS = 10_000
"""The most flags one document may hold."""

MAX_FLAG_KEY_LENGTH = 256
"""The longest flag key accepted, in characters."""

MAX_NESTING_DEPTH = 256
"""The deepest nesting of objects and arrays a document may have (targeting has its own,
tighter limit, :data:`~openfeature_litestar._engine.MAX_TARGETING_DEPTH`)."""

DocumentFormat: TypeAlias = Literal["auto", "json", "yaml"]
"""The text formats a document is read in; ``"auto"`` reads JSON when the text starts with ``{``."""

MetadataValue: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr
VariantValue: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr | dict[str, Any]

_FLAGD_DAEMON_SCHEMA_SUFFIX = "flagd.json"


def is_valid_flag_key(key: str) -> bool:
    """Whether ``key`` is an acceptable flag key.

    A flag key is 1 to :data:`MAX_FLAG_KEY_LENGTH` printable characters
    (:meth:`str.isprintable`: no control characters, no line breaks) with no leading or
    trailing whitespace. flagd itself accepts any non-empty string; this rule only
    rejects keys that could not be typed, logged or put in a URL without surprises.
    """
    return 0 < len(key) <= MAX_FLAG_KEY_LENGTH and key.isprintable() and key == key.strip()


def _variant_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


class FlagDefinition(BaseModel):
    """One flag as written in the document (flagd's ``anyFlag``).

    Attributes:
        state: ``ENABLED``, or ``DISABLED`` to serve every caller their default.
        variants: Variant name to value; every value of one type (boolean, string,
            number, or object).
        default_variant: The variant served when targeting picks none (``defaultVariant``);
            ``None`` (or absent) means the caller's default.
        targeting: The JSON Logic rule that picks a variant, or ``None``.
        metadata: The flag's metadata: string keys, boolean/string/number values.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    state: Literal["ENABLED", "DISABLED"]
    variants: dict[str, VariantValue] = Field(min_length=1)
    default_variant: StrictStr | None = Field(default=None, alias="defaultVariant")
    targeting: dict[str, Any] | None = None
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    @field_validator("variants")
    @classmethod
    def _one_variant_type(cls, variants: dict[str, VariantValue]) -> dict[str, VariantValue]:
        kinds = {_variant_kind(value) for value in variants.values()}
        if len(kinds) > 1:
            listed = ", ".join(sorted(kinds))
            raise ValueError(f"variants must all be of one type, found {listed}")
        return variants


class FlagDocument(BaseModel):
    """A whole flag document: flags, reusable ``$evaluators`` and flag-set metadata.

    Build one with :func:`load_document`, :func:`parse_document` or
    :func:`document_from_data`; they validate and compile it. The model is immutable.

    Attributes:
        schema_uri: The ``$schema`` the document declares, if any.
        flags: Flag key to definition, in document order.
        evaluators: Reusable targeting rules (``$evaluators``), referenced with ``$ref``.
        metadata: Flag-set metadata such as ``flagSetId`` and ``version``; every flag's
            metadata is laid over it when the flag is evaluated.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    schema_uri: StrictStr | None = Field(default=None, alias="$schema")
    flags: dict[str, FlagDefinition]
    evaluators: dict[str, Any] = Field(default_factory=dict, alias="$evaluators")
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    _compiled: Mapping[str, CompiledFlag] | None = PrivateAttr(default=None)

    @field_validator("flags")
    @classmethod
    def _limits_and_keys(cls, flags: dict[str, FlagDefinition]) -> dict[str, FlagDefinition]:
        if len(flags) > MAX_FLAGS:
            raise ValueError(f"a document holds at most {MAX_FLAGS} flags, this one {len(flags)}")
        bad = [key for key in flags if not is_valid_flag_key(key)]
        if bad:
            raise ValueError(
                f"invalid flag keys {bad!r}: a key is 1-{MAX_FLAG_KEY_LENGTH} printable "
                "characters without leading or trailing whitespace"
            )
        return flags

    def compiled_flags(self) -> Mapping[str, CompiledFlag]:
        """The flags compiled for evaluation, keyed by flag key.

        Documents from the loading functions are compiled as they load; a document built
        another way is compiled (strictly) on the first call.

        Raises:
            DocumentError: The document was not loaded and does not compile strictly.
        """
        if self._compiled is None:
            self._compiled = _compile_flags(self, strict=True)
        return self._compiled

    def dump(self) -> dict[str, Any]:
        """The document as plain JSON data, with flagd's field names.

        Fields the source left out stay out, so load → dump → load gives the same document.
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def with_flags(self, flags: Mapping[str, FlagDefinition | Mapping[str, Any]]) -> Self:
        """A copy of this document with ``flags`` replacing its flags, validated afresh.

        Raises:
            DocumentError: The result is not a valid document.
        """
        data = self.dump()
        data["flags"] = {
            key: flag.model_dump(mode="json", by_alias=True, exclude_unset=True)
            if isinstance(flag, FlagDefinition)
            else dict(flag)
            for key, flag in flags.items()
        }
        return self._from_data(data, strict=True, source=None)

    @classmethod
    def _from_data(cls, data: Mapping[str, Any], *, strict: bool, source: str | None) -> Self:
        with _collector_paused():
            return cls._validate_and_compile(data, strict=strict, source=source)

    @classmethod
    def _validate_and_compile(
        cls, data: Mapping[str, Any], *, strict: bool, source: str | None
    ) -> Self:
        problems = _nesting_problems(data)
        if problems:
            raise DocumentError(problems, source=source)
        data, problems = _flags_array_to_map(data)
        if problems:
            raise DocumentError(problems, source=source)
        try:
            document = cls.model_validate(data)
        except ValidationError as exc:
            # Report targeting problems too, so one round of fixes is enough (only when
            # strict: lenient loading tolerates them, as flagd does).
            targeting = _raw_targeting_problems(data) if strict else []
            problems = [*_problems_from(exc), *targeting]
            raise DocumentError(problems, source=source) from None
        try:
            document._compiled = _compile_flags(document, strict=strict)  # noqa: SLF001 - own class
        except DocumentError as exc:
            raise DocumentError(exc.problems, source=source) from None
        return document

    def __eq__(self, other: object) -> bool:
        """Documents are equal when their content is (compiled rules never compare equal)."""
        if not isinstance(other, FlagDocument):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable dict fields: not hashable


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document is built.

    Validating and compiling allocate many small objects that all live on; each
    collection would walk the growing heap again, which made loading quadratic (10,000
    flags: about 1 s instead of 0.4 s). The collector resumes when the document is
    built, and nothing is lost: it only defers the collection of cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _nesting_problems(data: Any) -> list[Problem]:
    # Walk iteratively: a recursive walk (or Pydantic, or json.dumps) would hit Python's
    # recursion limit on hostile input before any limit of ours could say what is wrong.
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING_DEPTH:
            message = f"the document is nested deeper than {MAX_NESTING_DEPTH} levels"
            return [Problem("", message)]
        if isinstance(node, Mapping):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return []


def _flags_array_to_map(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[Problem]]:
    # flagd's daemon format also allows "flags" as an array of flags with a "key"; the
    # provider format (flags.json) allows only the map. The document's $schema says which
    # one it is written against.
    flags = data.get("flags")
    if not isinstance(flags, list):
        return data, []
    schema = data.get("$schema")
    if not (isinstance(schema, str) and schema.endswith(_FLAGD_DAEMON_SCHEMA_SUFFIX)):
        message = (
            "must be an object keyed by flag key (an array of flags is flagd's daemon "
            'format: declare "$schema" ending in flagd.json to use it)'
        )
        return data, [Problem("flags", message)]
    result: dict[str, Any] = {}
    problems: list[Problem] = []
    for index, flag in enumerate(flags):
        key = flag.get("key") if isinstance(flag, Mapping) else None
        if not isinstance(key, str):
            problems.append(Problem(f"flags.{index}.key", "a flag in an array needs a string key"))
        elif key in result:
            problems.append(Problem(f"flags.{index}.key", f"duplicate flag key {key!r}"))
        else:
            result[key] = {name: value for name, value in flag.items() if name != "key"}
    return {**data, "flags": result}, problems


def _raw_targeting_problems(data: Mapping[str, Any]) -> list[Problem]:
    flags, evaluators = data.get("flags"), data.get("$evaluators")
    if not isinstance(flags, Mapping):
        return []
    problems: list[Problem] = []
    for key, flag in flags.items():
        targeting = flag.get("targeting") if isinstance(flag, Mapping) else None
        if not isinstance(targeting, Mapping) or not targeting:
            continue
        try:
            compile_targeting(
                targeting,
                evaluators=evaluators if isinstance(evaluators, Mapping) else {},
                path=f"flags.{key}.targeting",
            )
        except DocumentError as exc:
            problems.extend(exc.problems)
    return problems


_UNION_MEMBER_TAGS = frozenset({"bool", "int", "float", "str", "dict[str,any]"})
_UNION_MESSAGES = {
    "metadata": "must be a boolean, string or number",
    "variants": "must be a boolean, string, number or object",
}


def _problems_from(exc: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        # A value that fits no member of a union gets one error per member; say it once.
        if loc and loc[-1] in _UNION_MEMBER_TAGS:
            loc.pop()
            field = next((part for part in reversed(loc) if part in _UNION_MESSAGES), None)
            message = _UNION_MESSAGES.get(field or "", message)
        if error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        path = ".".join(loc)
        problems.setdefault(f"{path}\0{message}", Problem(path, message))
    return list(problems.values())


def _compile_flags(document: FlagDocument, *, strict: bool) -> dict[str, CompiledFlag]:
    compiled: dict[str, CompiledFlag] = {}
    problems: list[Problem] = []
    for key, flag in document.flags.items():
        path = f"flags.{key}"
        if (
            strict
            and flag.default_variant is not None
            and flag.default_variant not in flag.variants
        ):
            problems.append(
                Problem(f"{path}.defaultVariant", f"names no variant: {flag.default_variant!r}")
            )
        rule, broken = None, None
        if flag.targeting:
            try:
                rule = compile_targeting(
                    flag.targeting,
                    evaluators=document.evaluators,
                    path=f"{path}.targeting",
                    strict=strict,
                )
            except DocumentError as exc:
                if strict:
                    problems.extend(exc.problems)
                broken = "; ".join(str(problem) for problem in exc.problems)
        fingerprint = _fingerprint(document, flag)
        compiled[key] = CompiledFlag(
            key=key,
            enabled=flag.state == "ENABLED",
            variants=flag.variants,
            default_variant=flag.default_variant,
            rule=rule,
            metadata=MappingProxyType({**document.metadata, **flag.metadata}),
            broken=broken,
            fingerprint=fingerprint,
            reads=_injected_reads(fingerprint),
        )
    if problems:
        raise DocumentError(problems)
    return compiled


def _injected_reads(fingerprint: str) -> frozenset[str]:
    # Which injected values a rule may read, judged from its text (evaluators included):
    # a rule that reads none of them is given the caller's attributes without a copy.
    # Over-approximating is safe; it only costs the copy.
    if '"var": {' in fingerprint or '"var": [{' in fingerprint:
        return frozenset({"targetingKey", "$flagd", "$flagd.timestamp"})  # a computed path
    reads = set()
    if "targetingKey" in fingerprint or '"fractional"' in fingerprint:
        reads.add("targetingKey")
    if "$flagd" in fingerprint or '"fractional"' in fingerprint:
        reads.add("$flagd")
    if "timestamp" in fingerprint:
        reads.add("$flagd.timestamp")
    return frozenset(reads)


def _fingerprint(document: FlagDocument, flag: FlagDefinition) -> str:
    definition = flag.model_dump(mode="json", by_alias=True)
    text = json.dumps([definition, document.metadata], sort_keys=True)
    if '"$ref"' not in text:
        return text
    # Only a flag whose targeting uses $ref depends on the evaluators.
    return json.dumps([definition, document.metadata, document.evaluators], sort_keys=True)


class _DocumentYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans, no aliases and no duplicate keys.

    PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are booleans; flagd
    (YAML 1.2) reads them as strings, and ``on``/``off`` are the most common variant
    names. Aliases are refused because they let a small text expand into a huge document.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not supported", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
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
_DocumentYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_IMPLICIT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _refuse_non_json(_loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"{node.tag} values have no JSON form", node.start_mark
    )


for _tag in ("binary", "timestamp", "set", "omap", "pairs"):
    _DocumentYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_non_json)
_DocumentYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(_YAML_12_BOOL), list("tTfF")
)


class _DocumentYamlDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, double-quoting strings with characters YAML folds as breaks.

    In a plain or single-quoted scalar, NEL and the Unicode line/paragraph separators
    read back as spaces; only double quotes (with escapes) keep them.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(char in value for char in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_DocumentYamlDumper.add_representer(str, _represent_str)


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
    return yaml.load(text, Loader=_DocumentYamlLoader)  # noqa: S506 - a SafeLoader subclass


def parse_document(
    text: str | bytes,
    *,
    format: DocumentFormat = "auto",  # noqa: A002 - the natural name for a format option
    strict: bool = True,
    source: str | None = None,
) -> FlagDocument:
    """Parse and validate a flag document from JSON or YAML text.

    Args:
        text: The document; bytes are decoded as UTF-8.
        format: ``"json"``, ``"yaml"`` or ``"auto"`` (JSON when the text starts with
            ``{``, else YAML, which also reads JSON).
        strict: Reject targeting that cannot work as written (see the module docs);
            ``False`` behaves like flagd.
        source: A name for the text in error messages, such as a file name.

    Returns:
        The validated, compiled document.

    Raises:
        DocumentError: The text is too large, is not valid JSON/YAML, or is not a valid
            flag document; ``problems`` lists every problem with its path.
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
        problem = Problem("", f"not valid {chosen.upper()}: {exc}")
        raise DocumentError([problem], source=source) from None
    return document_from_data(data, strict=strict, source=source)


def document_from_data(
    data: Mapping[str, Any], *, strict: bool = True, source: str | None = None
) -> FlagDocument:
    """Validate and compile a flag document given as parsed JSON data.

    Args:
        data: The document as a mapping (``{"flags": {...}}``).
        strict: See :func:`parse_document`.
        source: A name for the data in error messages.

    Raises:
        DocumentError: The data is not a valid flag document.
    """
    value: object = data  # callers without type checking may pass anything
    if not isinstance(value, Mapping):
        kind = type(value).__name__
        raise DocumentError([Problem("", f"a document is an object, not {kind}")], source=source)
    return FlagDocument._from_data(data, strict=strict, source=source)  # noqa: SLF001


def load_document(path: str | os.PathLike[str], *, strict: bool = True) -> FlagDocument:
    """Read, validate and compile a flag document from a JSON or YAML file.

    The format follows the file's suffix (``.json``; ``.yaml``/``.yml``), else the content.

    Raises:
        DocumentError: The file is not a valid flag document.
        OSError: The file cannot be read.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    document_format: DocumentFormat = (
        "json" if suffix == ".json" else "yaml" if suffix in {".yaml", ".yml"} else "auto"
    )
    with file.open("rb") as stream:
        text = stream.read(MAX_DOCUMENT_BYTES + 1)
    return parse_document(text, format=document_format, strict=strict, source=str(file))


def dump_document(
    document: FlagDocument,
    *,
    format: Literal["json", "yaml"] = "json",  # noqa: A002 - mirrors parse_document
) -> str:
    """Write ``document`` as JSON (indented) or YAML text that loads back to an equal document."""
    data = document.dump()
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(data, Dumper=_DocumentYamlDumper, sort_keys=False, allow_unicode=True)

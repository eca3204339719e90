"""The flag document model: Pydantic models of flagd's format, validated and compiled whole."""

from __future__ import annotations

import itertools

# Mapping and CompiledFlag at run time: Pydantic and typing.get_type_hints(FlagDocument)
# resolve the annotation of FlagDocument._compiled.
from collections.abc import Mapping  # noqa: TC003
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from openfeature_litestar._engine import (
    DEFAULT_FRACTIONAL,
    MAX_DOCUMENT_NODES,
    CompiledFlag,
    FractionalVersion,
    fractional_version,
)
from openfeature_litestar._errors import DocumentError, Problem
from openfeature_litestar._pacing import give_way

from ._collector import collector_paused
from ._compile import CompiledDocument, compile_flags, recompile_flags
from ._daemon_format import flags_array_to_map
from ._limits import MAX_FLAG_KEY_LENGTH, MAX_FLAGS, is_valid_flag_key, nesting_problems
from ._reporting import problems_from, raw_targeting_problems

if TYPE_CHECKING:
    from collections.abc import Iterator

    from typing_extensions import Self

__all__ = ["FlagDefinition", "FlagDocument"]

MetadataValue: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr
VariantValue: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr | dict[str, Any]
_V = TypeVar("_V")


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

    def dump(self) -> dict[str, Any]:
        """The flag as plain JSON data, with flagd's field names and only the fields set.

        .. versionadded:: 0.2.0
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# One call into pydantic-core validates or dumps this many flags. A whole large document
# in one call would hold the interpreter lock for its whole length (about 20 ms a
# megabyte), stalling an event loop that serves requests while a worker thread validates
# or dumps; per call this many flags hold it for a fraction of a millisecond, at almost
# the cost of one call (one call per flag costs a quarter more).
_FLAGS_PER_CALL: Final = 64
_FLAG_MAP: Final = TypeAdapter(dict[str, FlagDefinition])


def _in_parts(flags: Mapping[str, _V]) -> Iterator[dict[str, _V]]:
    items = iter(flags.items())
    while part := dict(itertools.islice(items, _FLAGS_PER_CALL)):
        give_way()
        yield part


def _as_data(flags: Mapping[str, FlagDefinition | Mapping[str, Any]]) -> dict[str, Any]:
    # A definition given as a model is validated again from its data, as a dict is.
    return {
        key: flag.dump() if isinstance(flag, FlagDefinition) else dict(flag)
        for key, flag in flags.items()
    }


def _with_flags_validated(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` with its flags validated a few at a time, or ``data`` if one is invalid.

    The document's own validation then takes the validated flags as they are (pydantic
    does not validate a model instance again). An invalid flag leaves the whole document
    to the document's validation, which reports every problem with its full path.
    """
    flags = data.get("flags")
    if not isinstance(flags, dict):
        return data
    validated: dict[str, FlagDefinition] = {}
    try:
        for part in _in_parts(flags):
            validated.update(_FLAG_MAP.validate_python(part))
    except ValidationError:
        return data
    return {**data, "flags": validated}


def _checked_flag_keys(flags: dict[str, FlagDefinition]) -> dict[str, FlagDefinition]:
    """``flags``, if there are not too many of them and every key is valid.

    Raises:
        ValueError: Too many flags, or invalid keys (named).
    """
    if len(flags) > MAX_FLAGS:
        raise ValueError(f"a document holds at most {MAX_FLAGS} flags, this one {len(flags)}")
    bad = [key for key in flags if not is_valid_flag_key(key)]
    if bad:
        raise ValueError(
            f"invalid flag keys {bad!r}: a key is 1-{MAX_FLAG_KEY_LENGTH} printable "
            "characters without leading or trailing whitespace"
        )
    return flags


class FlagDocument(BaseModel):
    """A whole flag document: flags, reusable ``$evaluators`` and flag-set metadata.

    Build one with :func:`load_document`, :func:`parse_document` or
    :func:`document_from_data`; they validate and compile it. The model is immutable.

    Read leniently (the default), a document may hold rules flagd accepts but that
    cannot work as written; they evaluate as flagd evaluates them and are listed in
    :attr:`warnings`. Writes through a store refuse them (see :meth:`with_flags`).

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
    _max_nodes: int = PrivateAttr(default=MAX_DOCUMENT_NODES)
    _strict: bool = PrivateAttr(default=True)
    # Flag key to what compiling that flag tolerated; None until compiled.
    _warnings: Mapping[str, tuple[Problem, ...]] | None = PrivateAttr(default=None)
    # Compiled with other fractional versions than the default, on first request.
    _compiled_as: dict[str, Mapping[str, CompiledFlag]] = PrivateAttr(default_factory=dict)
    # Each flag's share of the node budget, with the default version (see CompiledDocument).
    _nodes: Mapping[str, int] | None = PrivateAttr(default=None)

    @field_validator("flags")
    @classmethod
    def _limits_and_keys(cls, flags: dict[str, FlagDefinition]) -> dict[str, FlagDefinition]:
        return _checked_flag_keys(flags)

    def compiled_flags(
        self, fractional: FractionalVersion = DEFAULT_FRACTIONAL
    ) -> Mapping[str, CompiledFlag]:
        """The flags compiled for evaluation, keyed by flag key.

        Documents from the loading functions are compiled as they load, with the default
        bucketing version; a document built another way is compiled (strictly) on the
        first call. Another version compiles the document again, on its first call for
        that version, as strictly as it was loaded; the result is kept.

        Args:
            fractional: The ``fractional`` bucketing version to compile with (see
                :data:`~openfeature_litestar.FractionalVersion`).

        Raises:
            DocumentError: The document was not loaded and does not compile strictly.
            ConfigurationError: ``fractional`` names no bucketing version.

        .. versionchanged:: 0.2.0
           The ``fractional`` option.
        """
        if fractional == DEFAULT_FRACTIONAL:
            if self._compiled is None:
                self._compiled = self._compile(DEFAULT_FRACTIONAL)
            return self._compiled
        compiled = self._compiled_as.get(fractional)
        if compiled is None:
            version = fractional_version(fractional)
            # Loaded leniently: broken flags stay broken (PARSE_ERROR) in every version.
            compiled = self._compile(version)
            self._compiled_as[version] = compiled
        return compiled

    def _compile(self, fractional: FractionalVersion) -> Mapping[str, CompiledFlag]:
        result = compile_flags(
            self, strict=self._strict, max_nodes=self._max_nodes, fractional=fractional
        )
        if self._warnings is None:
            self._warnings = result.warnings
        if fractional == DEFAULT_FRACTIONAL:
            self._nodes = result.nodes
        return result.flags

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems flagd tolerates that this document has, each with its path.

        A document read leniently (the default) keeps a rule that cannot work as
        written; it evaluates as flagd evaluates it (see :doc:`/flag-format`, "Lenient
        reading, strict writing"), and each such problem is listed here in document
        order: an unknown operator, a ``$ref`` to a missing evaluator, a
        ``defaultVariant`` that names no variant, operator arguments flagd evaluates to
        ``null``. Empty for a document read strictly (it would have been refused) or
        without such problems. A document built without compiling (for a write)
        compiles on the first access.

        .. versionadded:: 0.2.0
        """
        if self._warnings is None:
            self.compiled_flags()
        assert self._warnings is not None  # noqa: S101 - set by compiling
        return tuple(warning for found in self._warnings.values() for warning in found)

    def flag_warnings(self, key: str) -> tuple[Problem, ...]:
        """The :attr:`warnings` of flag ``key`` (empty for a flag without any, or none).

        .. versionadded:: 0.2.0
        """
        if self._warnings is None:
            self.compiled_flags()
        assert self._warnings is not None  # noqa: S101 - set by compiling
        return self._warnings.get(key, ())

    def dump(self) -> dict[str, Any]:
        """The document as plain JSON data, with flagd's field names.

        Fields the source left out stay out, so load → dump → load gives the same document.
        """
        flags: dict[str, Any] = {}
        for part in _in_parts(self.flags):
            flags.update(
                _FLAG_MAP.dump_python(part, mode="json", by_alias=True, exclude_unset=True)
            )
        shared = self.dump_shared()
        data: dict[str, Any] = {}
        for name, field in type(self).model_fields.items():
            alias = field.alias or name
            if name == "flags":
                data[alias] = flags
            elif alias in shared:
                data[alias] = shared[alias]
        return data

    def dump_shared(self) -> dict[str, Any]:
        """The document's fields other than its flags, as :meth:`dump` gives them.

        .. versionadded:: 0.2.0
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"flags"})

    def with_flags(self, flags: Mapping[str, FlagDefinition | Mapping[str, Any]]) -> Self:
        """A copy of this document with ``flags`` replacing its flags, validated afresh.

        This is a write, and writes are strict about what they write: the copy is
        refused for the problems (the :attr:`warnings` a lenient read would tolerate) of
        every flag it adds or changes. A flag it keeps as this document has it is not
        checked again: this document was accepted as it is, so a write of one flag never
        fails for another flag's old problem, and deleting a flag always works.

        Raises:
            DocumentError: The result is not a valid document, or a flag it adds or
                changes has problems (each with its path).

        .. versionchanged:: 0.2.0
           Strict only about the flags that are added or changed; the others are
           compiled as leniently as flagd compiles them.
        """
        changed = {key for key, flag in flags.items() if not self._keeps(key, flag)}
        document = self._with_changed_flags(flags, changed)
        if document is None:
            data = self.dump()
            data["flags"] = {
                key: flag.dump() if isinstance(flag, FlagDefinition) else dict(flag)
                for key, flag in flags.items()
            }
            document = self._from_data(data, strict=False, source=None, max_nodes=self._max_nodes)
        problems = [
            problem for key in flags if key in changed for problem in document.flag_warnings(key)
        ]
        if problems:
            raise DocumentError(problems)
        return document

    def _with_changed_flags(
        self, flags: Mapping[str, FlagDefinition | Mapping[str, Any]], changed: set[str]
    ) -> Self | None:
        """:meth:`with_flags`' result, validating and compiling only the ``changed`` flags.

        A write of one flag to a document of 10,000 used to validate and compile all of
        them again (about a second). The flags it keeps are this document's own objects,
        already validated and compiled against the same evaluators and metadata.
        ``None`` when only the whole document's validation can say what is wrong (an
        invalid flag, with every problem and its full path), when this document was not
        compiled here, or when only a whole compile can tell whether the node budget
        holds; :meth:`with_flags` then builds the document in full.
        """
        if self._compiled is None or self._warnings is None or self._nodes is None:
            return None
        try:
            with collector_paused():
                fresh: dict[str, FlagDefinition] = {}
                for part in _in_parts({key: flags[key] for key in flags if key in changed}):
                    fresh.update(_FLAG_MAP.validate_python(_as_data(part)))
                merged = {key: fresh[key] if key in changed else self.flags[key] for key in flags}
                _checked_flag_keys(merged)
                document = self.model_copy(update={"flags": merged})
                previous = CompiledDocument(
                    dict(self._compiled), dict(self._warnings), dict(self._nodes)
                )
                result = recompile_flags(document, previous, changed, max_nodes=self._max_nodes)
        except (ValidationError, ValueError):
            return None
        if result is None:
            return None
        # model_copy copies the private attributes too: set every one afresh.
        document._compiled = result.flags  # noqa: SLF001 - own class
        document._warnings = result.warnings  # noqa: SLF001 - own class
        document._nodes = result.nodes  # noqa: SLF001 - own class
        document._compiled_as = {}  # noqa: SLF001 - own class
        document._strict = False  # noqa: SLF001 - own class
        document._max_nodes = self._max_nodes  # noqa: SLF001 - own class
        return document

    def _keeps(self, key: str, flag: FlagDefinition | Mapping[str, Any]) -> bool:
        """Whether ``flag`` is flag ``key`` as this document has it."""
        old = self.flags.get(key)
        if old is None:
            return False
        if flag is old:
            return True
        new = flag.dump() if isinstance(flag, FlagDefinition) else dict(flag)
        return bool(new == old.dump())

    @classmethod
    def _from_data(
        cls,
        data: Mapping[str, Any],
        *,
        strict: bool,
        source: str | None,
        max_nodes: int = MAX_DOCUMENT_NODES,
        compiled: bool = True,
    ) -> Self:
        with collector_paused():
            return cls._validate_and_compile(
                data, strict=strict, source=source, max_nodes=max_nodes, compiled=compiled
            )

    @classmethod
    def _validate_and_compile(
        cls,
        data: Mapping[str, Any],
        *,
        strict: bool,
        source: str | None,
        max_nodes: int,
        compiled: bool,
    ) -> Self:
        problems = nesting_problems(data)
        if problems:
            raise DocumentError(problems, source=source)
        data, problems = flags_array_to_map(data)
        if problems:
            raise DocumentError(problems, source=source)
        try:
            document = cls.model_validate(_with_flags_validated(data))
        except ValidationError as exc:
            # Report targeting problems too, so one round of fixes is enough (only when
            # strict: lenient loading tolerates them, as flagd does).
            targeting = raw_targeting_problems(data, max_nodes=max_nodes) if strict else []
            problems = [*problems_from(exc), *targeting]
            raise DocumentError(problems, source=source) from None
        document._max_nodes = max_nodes  # noqa: SLF001 - own class
        document._strict = strict  # noqa: SLF001 - own class
        if not compiled:
            return document
        try:
            document._compiled = document._compile(DEFAULT_FRACTIONAL)  # noqa: SLF001 - own class
        except DocumentError as exc:
            raise DocumentError(exc.problems, source=source) from None
        return document

    def __eq__(self, other: object) -> bool:
        """Documents are equal when their content is (compiled rules never compare equal)."""
        if not isinstance(other, FlagDocument):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable dict fields: not hashable

"""Unit tests of openfeature_litestar._document: loading, validating, compiling, dumping.

The flagd-schemas test documents (``fixtures/flagd-schemas``) are the acceptance suite:
every positive document must load strictly, every negative one must be rejected with a
problem that points at what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfeature_litestar import (
    DocumentError,
    FlagDefinition,
    FlagDocument,
    MemoryStore,
    OpenFeatureLitestarError,
    Problem,
    document_from_data,
    dump_document,
    load_document,
    parse_document,
)
from openfeature_litestar._document import (
    MAX_DOCUMENT_BYTES,
    MAX_FLAG_KEY_LENGTH,
    MAX_FLAGS,
    is_valid_flag_key,
)
from openfeature_litestar._engine import MAX_TARGETING_DEPTH
from tests.support import ABSENT, flag

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature_litestar._document import DocumentFormat

FIXTURES = Path(__file__).parent / "fixtures" / "flagd-schemas" / "flags"
POSITIVE = sorted((FIXTURES / "positive").glob("*.json"))
NEGATIVE = sorted((FIXTURES / "negative").glob("*.json"))
DAEMON_SCHEMA = "https://flagd.dev/schema/v0/flagd.json"


def _problems(call: Callable[[], object]) -> tuple[Problem, ...]:
    """The problems of the DocumentError that ``call`` raises."""
    with pytest.raises(DocumentError) as info:
        call()
    assert info.value.problems, "a DocumentError must name at least one problem"
    return info.value.problems


def _nested_not(levels: int) -> Any:
    """``{"!": [{"!": [... true ...]}]}``, ``levels`` operators deep."""
    rule: Any = True
    for _ in range(levels):
        rule = {"!": [rule]}
    return rule


def _assert_round_trips(document: FlagDocument) -> None:
    for fmt in ("json", "yaml"):
        text = dump_document(document, format=fmt)
        again = parse_document(text, format=fmt)
        assert again.dump() == document.dump(), fmt
        assert again == document, fmt


# --- Acceptance: the flagd-schemas test documents ---------------------------------------


def test_the_schema_test_documents_are_all_there() -> None:
    assert len(POSITIVE) == 9
    assert len(NEGATIVE) == 9


@pytest.mark.parametrize("path", POSITIVE, ids=lambda path: path.name)
def test_every_positive_document_loads_strictly(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    document = load_document(path)

    expected_keys = (
        [flag["key"] for flag in raw["flags"]]
        if isinstance(raw["flags"], list)
        else list(raw["flags"])
    )
    assert list(document.flags) == expected_keys
    assert list(document.compiled_flags()) == expected_keys
    assert all(flag.broken is None for flag in document.compiled_flags().values())


def test_the_array_import_document_equals_the_map_import_document() -> None:
    from_array = load_document(FIXTURES / "positive" / "example.flagdimport.array.json")
    from_map = load_document(FIXTURES / "positive" / "example.flagdimport.map.json")

    assert from_array.flags == from_map.flags
    assert from_array.evaluators == from_map.evaluators


# (file, where a problem must be, a word its message must hold)
NEGATIVE_EXPECTATIONS = [
    ("empty-variants.json", "flags.myBoolFlag.variants", "at least 1"),
    ("malformed-flag.json", "flags.not-a-flag.state", "required"),
    ("malformed-flag.json", "flags.not-a-flag.variants", "required"),
    ("missing-variants.json", "flags.myBoolFlag.variants", "required"),
    ("mixed-variant-types.ffconfig.json", "flags.myBoolFlag.variants", "one type"),
    ("state-set-incorrectly.json", "flags.myBoolFlag.state", "DISABLED"),
    ("with-array-flags.json", "flags", "array"),
    ("with-invalid-flag-metadata.json", "flags.myBoolFlag.metadata.invalid", "boolean"),
    ("with-invalid-flag-set-metadata.json", "metadata.invalid", "boolean"),
    ("with-invalid-targeting.json", "flags.targetedFlag.targeting", "not-a-real-rule"),
]


def test_every_negative_document_has_an_expectation() -> None:
    assert {path.name for path in NEGATIVE} == {name for name, _, _ in NEGATIVE_EXPECTATIONS}


@pytest.mark.parametrize(
    ("name", "where", "word"),
    NEGATIVE_EXPECTATIONS,
    ids=[f"{name}:{where}" for name, where, _ in NEGATIVE_EXPECTATIONS],
)
def test_every_negative_document_is_rejected_naming_the_problem(
    name: str, where: str, word: str
) -> None:
    path = FIXTURES / "negative" / name

    problems = _problems(lambda: load_document(path, strict=True))

    # The problem's path is the place named, or a place inside it.
    matching = [p for p in problems if p.path == where or p.path.startswith(f"{where}.")]
    assert matching, f"no problem at {where!r}: {problems}"
    assert any(word in p.message for p in matching), problems


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda path: path.name)
def test_negative_documents_are_rejected_leniently_too(path: Path) -> None:
    if path.name == "with-invalid-targeting.json":
        # Leniently, a flag whose targeting does not compile is kept (flagd behaviour).
        document = load_document(path, strict=False)
        assert document.compiled_flags()["targetedFlag"].broken
    else:
        _problems(lambda: load_document(path, strict=False))


def test_the_error_names_the_file_it_came_from() -> None:
    path = FIXTURES / "negative" / "state-set-incorrectly.json"

    with pytest.raises(DocumentError) as info:
        load_document(path)

    assert info.value.source == str(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, OpenFeatureLitestarError)


# --- Every problem in one error; nothing half-applied -----------------------------------


def test_every_structural_problem_is_reported_at_once() -> None:
    data = {
        "flags": {
            "good": flag(ABSENT),
            "badState": flag(ABSENT, state="ON"),
            "mixed": flag(ABSENT, variants={"a": 1, "b": "two"}),
            "typo": flag(ABSENT, defaultVarient="on"),
        }
    }

    problems = _problems(lambda: document_from_data(data))

    paths = {p.path for p in problems}
    assert paths == {"flags.badState.state", "flags.mixed.variants", "flags.typo.defaultVarient"}
    assert any("unknown field" in p.message for p in problems)


def test_every_targeting_problem_is_reported_at_once() -> None:
    data = {
        "flags": {
            "unknownOperator": flag(ABSENT, targeting={"no-such-operator": [1]}),
            "missingRef": flag(ABSENT, targeting={"$ref": "nowhere"}),
            "badDefault": flag("maybe"),
            "good": flag(ABSENT, targeting={"if": [True, "on", "off"]}),
        }
    }

    problems = _problems(lambda: document_from_data(data, strict=True))

    assert len(problems) == 3
    by_flag = {p.path.split(".")[1]: p for p in problems}
    assert set(by_flag) == {"unknownOperator", "missingRef", "badDefault"}
    assert by_flag["unknownOperator"].path.startswith("flags.unknownOperator.targeting")
    assert "no-such-operator" in by_flag["unknownOperator"].message
    assert by_flag["missingRef"].path.startswith("flags.missingRef.targeting")
    assert "nowhere" in by_flag["missingRef"].message
    assert by_flag["badDefault"].path == "flags.badDefault.defaultVariant"
    assert "maybe" in by_flag["badDefault"].message


def test_structural_and_targeting_problems_in_different_flags_are_reported_together() -> None:
    data = {
        "flags": {
            "badState": flag(ABSENT, state="WILL-FAIL"),
            "unknownOperator": flag(ABSENT, targeting={"no-such-operator": [1]}),
            "emptyVariants": flag(ABSENT, variants={}),
        }
    }

    problems = _problems(lambda: document_from_data(data, strict=True))

    flags_named = {p.path.split(".")[1] for p in problems if p.path.startswith("flags.")}
    assert flags_named == {"badState", "unknownOperator", "emptyVariants"}, problems


def test_the_error_message_lists_every_problem() -> None:
    error = DocumentError([Problem("flags.a.state", "bad"), Problem("", "whole")], source="f")

    assert str(error) == "invalid flag document f (2 problems):\n  - flags.a.state: bad\n  - whole"


def test_a_rejected_replacement_leaves_the_store_unchanged() -> None:
    store = MemoryStore({"flags": {"a": flag("on")}})
    before, revision = store.document, store.revision
    bad = {
        "flags": {
            "a": flag("off"),
            "b": flag(ABSENT, targeting={"no-such-operator": [1]}),
        }
    }

    with pytest.raises(DocumentError):
        store.replace(bad)

    assert store.document is before
    assert store.revision == revision
    assert store.document.flags["a"].default_variant == "on"
    assert "b" not in store.document.flags


# --- Flag keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("a", True),
        ("my-flag", True),
        ("my_flag.v2:beta/1", True),
        ("with space inside", True),
        ("ünïcödé-旗", True),
        ("$weird@key#", True),
        ("x" * MAX_FLAG_KEY_LENGTH, True),
        ("", False),
        ("x" * (MAX_FLAG_KEY_LENGTH + 1), False),
        ("flag\n", False),
        ("fl\nag", False),
        ("flag\t", False),
        ("fl\x00ag", False),
        ("fl\x1bag", False),
        ("fl\u2028ag", False),
        (" flag", False),
        ("flag ", False),
        (" ", False),
    ],
)
def test_is_valid_flag_key(key: str, valid: bool) -> None:
    assert is_valid_flag_key(key) is valid


@pytest.mark.parametrize(
    "key",
    ["a", "my-flag", "ünïcödé-旗", "with space inside", "x" * MAX_FLAG_KEY_LENGTH],
)
def test_a_document_accepts_valid_flag_keys(key: str) -> None:
    document = document_from_data({"flags": {key: flag(ABSENT)}})

    assert list(document.compiled_flags()) == [key]


@pytest.mark.parametrize(
    "key",
    ["", "flag\n", "fl\x00ag", "fl\x07ag", " flag", "flag ", "x" * (MAX_FLAG_KEY_LENGTH + 1)],
)
def test_a_document_rejects_invalid_flag_keys(key: str) -> None:
    problems = _problems(
        lambda: document_from_data({"flags": {"fine": flag(ABSENT), key: flag(ABSENT)}})
    )

    assert len(problems) == 1
    assert problems[0].path == "flags"
    assert repr(key) in problems[0].message
    assert "'fine'" not in problems[0].message


def test_a_trailing_newline_in_a_yaml_key_is_rejected() -> None:
    text = 'flags:\n  "flag\\n":\n    state: ENABLED\n    variants: {a: 1}\n'

    problems = _problems(lambda: parse_document(text, format="yaml"))

    assert problems[0].path == "flags"
    assert repr("flag\n") in problems[0].message


# --- Limits -----------------------------------------------------------------------------


def test_at_most_max_flags_flags() -> None:
    flags = {f"flag-{i}": flag(ABSENT) for i in range(MAX_FLAGS)}
    assert len(document_from_data({"flags": flags}).flags) == MAX_FLAGS

    flags[f"flag-{MAX_FLAGS}"] = flag(ABSENT)
    problems = _problems(lambda: document_from_data({"flags": flags}))

    assert [p.path for p in problems] == ["flags"]
    assert str(MAX_FLAGS) in problems[0].message
    assert str(MAX_FLAGS + 1) in problems[0].message


def test_a_document_of_exactly_max_bytes_is_accepted() -> None:
    body = '{"flags": {}}'
    text = body + " " * (MAX_DOCUMENT_BYTES - len(body))

    assert parse_document(text).flags == {}
    assert parse_document(text.encode()).flags == {}


@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_a_larger_document_is_rejected_before_parsing(as_bytes: bool) -> None:
    # The text is not even JSON; a size problem (and no parse problem) shows the size
    # is checked first.
    text = "{" + " " * MAX_DOCUMENT_BYTES

    problems = _problems(lambda: parse_document(text.encode() if as_bytes else text))

    assert len(problems) == 1
    assert "bytes" in problems[0].message
    assert str(MAX_DOCUMENT_BYTES) in problems[0].message
    assert "valid" not in problems[0].message


def test_the_size_limit_counts_utf8_bytes_not_characters() -> None:
    # Two bytes per "é": under the limit in characters, over it in bytes.
    text = '{"flags": {}, "metadata": {"x": "' + "é" * (MAX_DOCUMENT_BYTES // 2) + '"}}'
    assert len(text) < MAX_DOCUMENT_BYTES

    problems = _problems(lambda: parse_document(text))

    assert "bytes" in problems[0].message


def test_load_document_rejects_a_file_larger_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"flags": {}}' + " " * MAX_DOCUMENT_BYTES, encoding="utf-8")

    problems = _problems(lambda: load_document(path))

    assert "bytes" in problems[0].message


def test_targeting_as_deep_as_the_limit_is_accepted() -> None:
    data = {"flags": {"deep": flag(ABSENT, targeting=_nested_not(MAX_TARGETING_DEPTH))}}

    assert document_from_data(data).compiled_flags()["deep"].rule is not None


def test_targeting_deeper_than_the_limit_is_rejected() -> None:
    data = {"flags": {"deep": flag(ABSENT, targeting=_nested_not(MAX_TARGETING_DEPTH + 1))}}

    problems = _problems(lambda: document_from_data(data, strict=True))

    assert all(p.path.startswith("flags.deep.targeting") for p in problems)
    assert any(str(MAX_TARGETING_DEPTH) in p.message for p in problems)


def test_very_deep_targeting_data_is_a_document_error() -> None:
    # Far deeper than the limit and than Python's recursion limit: still a DocumentError.
    data = {"flags": {"deep": flag(ABSENT, targeting=_nested_not(5000))}}

    for strict in (True, False):
        with pytest.raises(DocumentError):
            document_from_data(data, strict=strict)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_very_deeply_nested_text_is_a_document_error(fmt: DocumentFormat) -> None:
    # A few kilobytes of brackets must not escape as RecursionError.
    text = '{"flags": {"a": {"state": "ENABLED", "variants": {"x": 1}, "targeting": '
    text += '{"!": [' * 5000 + "true" + "]}" * 5000 + "}}}"

    with pytest.raises(DocumentError):
        parse_document(text, format=fmt)


# --- JSON and YAML parsing ---------------------------------------------------------------

YAML_WITH_ON_OFF = """\
flags:
  on:
    state: ENABLED
    variants:
      on: yes
      off: no
      y: n
    defaultVariant: on
  booleans:
    state: ENABLED
    variants:
      on: true
      off: False
      "yes": TRUE
    defaultVariant: off
"""


def test_yaml_reads_on_off_yes_no_as_strings_like_flagd() -> None:
    document = parse_document(YAML_WITH_ON_OFF, format="yaml")

    assert list(document.flags) == ["on", "booleans"]
    assert document.flags["on"].variants == {"on": "yes", "off": "no", "y": "n"}
    assert document.flags["on"].default_variant == "on"
    booleans = document.flags["booleans"].variants
    assert booleans == {"on": True, "off": False, "yes": True}
    assert all(type(value) is bool for value in booleans.values())
    assert document.flags["booleans"].default_variant == "off"


def test_auto_format_reads_yaml_text() -> None:
    assert parse_document(YAML_WITH_ON_OFF) == parse_document(YAML_WITH_ON_OFF, format="yaml")


@pytest.mark.parametrize(
    ("fmt", "text", "key"),
    [
        ("json", '{"flags": {}, "flags": {}}', "flags"),
        ("json", '{"flags": {"a": {"state": "ENABLED", "variants": {"x": 1, "x": 2}}}}', "x"),
        ("yaml", "flags:\n  a: {state: ENABLED, variants: {x: 1}}\n  a: {}\n", "a"),
        ("yaml", "flags:\n  a:\n    state: ENABLED\n    state: DISABLED\n", "state"),
    ],
)
def test_duplicate_keys_are_rejected_and_named(fmt: DocumentFormat, text: str, key: str) -> None:
    problems = _problems(lambda: parse_document(text, format=fmt))

    assert "duplicate" in problems[0].message
    assert repr(key) in problems[0].message


def test_yaml_aliases_are_rejected() -> None:
    text = "flags:\n  a: &shared\n    state: ENABLED\n    variants: {x: 1}\n  b: *shared\n"

    problems = _problems(lambda: parse_document(text, format="yaml"))

    assert "alias" in problems[0].message


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("json", '{"flags": '),
        ("json", "{'flags': {}}"),
        ("json", "flags: {}"),
        ("yaml", "flags: [\n"),
        ("yaml", "flags:\n  a: {state: ENABLED\n"),
        ("yaml", "\tflags: {}"),
        ("auto", '{"flags": {'),
        ("auto", "flags: {a: [}"),
    ],
)
def test_invalid_text_is_a_document_error(fmt: DocumentFormat, text: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(text, format=fmt)

    assert type(info.value) is DocumentError
    assert info.value.problems[0].path == ""


def test_a_yaml_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("flags:\n  a: {state: ENABLED\n", encoding="utf-8")

    problems = _problems(lambda: load_document(path))

    assert f'in "{path}", line 3' in problems[0].message
    assert "<unicode string>" not in problems[0].message


def test_a_yaml_error_in_text_without_a_source_names_the_document() -> None:
    problems = _problems(lambda: parse_document("flags: [\n", format="yaml"))

    assert 'in "the document", line 2' in problems[0].message


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[]", "list"), ("- a\n- b\n", "list"), ("just text", "str"), ("42", "int"), ("", "None")],
)
def test_a_document_must_be_an_object(text: str, kind: str) -> None:
    problems = _problems(lambda: parse_document(text))

    assert "object" in problems[0].message
    assert kind in problems[0].message


def test_bytes_are_read_as_utf8() -> None:
    text = '{"flags": {"drapeau-é": {"state": "ENABLED", "variants": {"é": "ü"}}}}'

    document = parse_document(text.encode())

    assert document.flags["drapeau-é"].variants == {"é": "ü"}


def test_bytes_that_are_not_utf8_are_a_document_error() -> None:
    problems = _problems(lambda: parse_document(b'{"flags": {"\xff": {}}}'))

    assert "UTF-8" in problems[0].message


def test_auto_format_reads_text_starting_with_a_brace_as_json() -> None:
    # Valid YAML (a flow mapping) but not JSON: "auto" must choose JSON for it.
    text = "  \n{flags: {}}"
    assert parse_document(text, format="yaml").flags == {}

    problems = _problems(lambda: parse_document(text))

    assert "json" in problems[0].message.lower()


def test_a_json_file_is_read_as_json(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text("flags:\n  a: {state: ENABLED, variants: {x: 1}}\n", encoding="utf-8")

    problems = _problems(lambda: load_document(path))

    assert "json" in problems[0].message.lower()


@pytest.mark.parametrize("name", ["flags.yaml", "flags.yml", "FLAGS.YAML", "flags.txt", "flags"])
def test_yaml_files_load(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(YAML_WITH_ON_OFF, encoding="utf-8")

    assert load_document(path) == parse_document(YAML_WITH_ON_OFF, format="yaml")


@pytest.mark.parametrize("name", ["flags.json", "flags.JSON", "flags.yaml", "flags.conf"])
def test_json_files_load(tmp_path: Path, name: str) -> None:
    source = FIXTURES / "positive" / "example.flagd.json"
    path = tmp_path / name
    path.write_bytes(source.read_bytes())

    assert load_document(path) == load_document(source)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_document(tmp_path / "absent.json")


# --- Round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("path", POSITIVE, ids=lambda path: path.name)
def test_positive_documents_round_trip(path: Path) -> None:
    _assert_round_trips(load_document(path))


def test_a_left_out_default_variant_stays_out_and_null_stays_null() -> None:
    document = document_from_data({"flags": {"absent": flag(ABSENT), "null": flag(None)}})

    for fmt in ("json", "yaml"):
        again = parse_document(dump_document(document, format=fmt), format=fmt)
        flags = again.dump()["flags"]
        assert "defaultVariant" not in flags["absent"], fmt
        assert "targeting" not in flags["absent"], fmt
        assert "metadata" not in flags["absent"], fmt
        assert flags["null"]["defaultVariant"] is None, fmt
    assert set(document.dump()) == {"flags"}


def test_variant_value_types_survive_a_round_trip() -> None:
    document = document_from_data(
        {
            "flags": {
                "numbers": {
                    "state": "ENABLED",
                    "variants": {"int": 1, "float": 1.0, "big": 10**30, "tiny": 1e-300},
                },
                "booleans": flag(ABSENT),
                "strings": {
                    "state": "DISABLED",
                    "variants": {"on": "yes", "off": "no", "one": "1", "null": "null"},
                },
                "objects": {
                    "state": "ENABLED",
                    "variants": {"a": {"n": 1, "f": 2.0, "b": True, "s": "on", "z": None}},
                },
            }
        }
    )

    for fmt in ("json", "yaml"):
        again = parse_document(dump_document(document, format=fmt), format=fmt)
        numbers = again.flags["numbers"].variants
        assert numbers == {"int": 1, "float": 1.0, "big": 10**30, "tiny": 1e-300}, fmt
        assert [type(numbers[name]) for name in ("int", "float", "big", "tiny")] == [
            int,
            float,
            int,
            float,
        ], fmt
        assert again.flags["booleans"].variants == {"on": True, "off": False}, fmt
        assert type(again.flags["booleans"].variants["on"]) is bool, fmt
        assert again.flags["strings"].variants == document.flags["strings"].variants, fmt
        assert again.flags["objects"].variants == document.flags["objects"].variants, fmt
        obj = again.flags["objects"].variants["a"]
        assert isinstance(obj, dict)
        assert [type(obj[name]) for name in ("n", "f", "b")] == [int, float, bool], fmt
        assert again == document, fmt


def test_documents_with_the_same_content_are_equal() -> None:
    path = FIXTURES / "positive" / "example.flagd.json"

    assert load_document(path) == load_document(path)
    assert load_document(path) != load_document(FIXTURES / "positive" / "with-metadata.json")


@pytest.mark.parametrize("text", ["line\x85break", "line\u2028break", "para\u2029graph", "é ü 旗"])
def test_yaml_dump_keeps_unusual_characters(text: str) -> None:
    document = document_from_data({"flags": {"a": {"state": "ENABLED", "variants": {text: text}}}})

    again = parse_document(dump_document(document, format="yaml"), format="yaml")

    assert again.flags["a"].variants == {text: text}


def test_json_dump_is_indented_json_ending_in_a_newline() -> None:
    document = load_document(FIXTURES / "positive" / "with-metadata.json")

    text = dump_document(document)

    assert text.endswith("}\n")
    assert json.loads(text) == document.dump()
    assert '\n  "flags": {' in text


_LEAF = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_VARIANT_VALUES = st.sampled_from(
    [
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        st.dictionaries(st.text(max_size=6), st.one_of(st.none(), _LEAF), max_size=3),
    ]
)
_METADATA = st.dictionaries(st.text(max_size=8), _LEAF, max_size=3)


@st.composite
def _flags(draw: st.DrawFn) -> dict[str, Any]:
    values = draw(_VARIANT_VALUES)
    variants = draw(st.dictionaries(st.text(max_size=8), values, min_size=1, max_size=4))
    definition: dict[str, Any] = {
        "state": draw(st.sampled_from(["ENABLED", "DISABLED"])),
        "variants": variants,
    }
    default = draw(st.sampled_from(["absent", "null", "variant"]))
    if default == "null":
        definition["defaultVariant"] = None
    elif default == "variant":
        definition["defaultVariant"] = draw(st.sampled_from(sorted(variants)))
    if draw(st.booleans()):
        definition["metadata"] = draw(_METADATA)
    return definition


_DOCUMENTS = st.fixed_dictionaries(
    {
        "flags": st.dictionaries(
            st.text(min_size=1, max_size=12).filter(is_valid_flag_key), _flags()
        )
    },
    optional={"metadata": _METADATA, "$schema": st.just("https://flagd.dev/schema/v0/flags.json")},
)


@settings(max_examples=60, deadline=None)
@given(_DOCUMENTS)
def test_generated_documents_round_trip(data: dict[str, Any]) -> None:
    document = document_from_data(data)

    assert document.dump() == data
    _assert_round_trips(document)


# --- strict and lenient ---------------------------------------------------------------------


def test_a_default_variant_naming_no_variant() -> None:
    data = {"flags": {"a": flag("maybe")}}

    problems = _problems(lambda: document_from_data(data, strict=True))
    assert [p.path for p in problems] == ["flags.a.defaultVariant"]
    assert "'maybe'" in problems[0].message

    lenient = document_from_data(data, strict=False)
    assert lenient.compiled_flags()["a"].default_variant == "maybe"
    assert lenient.compiled_flags()["a"].broken is None


def test_a_ref_to_a_missing_evaluator() -> None:
    data = {
        "$evaluators": {"isBeta": {"==": [{"var": "tier"}, "beta"]}},
        "flags": {
            "broken": flag(ABSENT, targeting={"if": [{"$ref": "nowhere"}, "on", "off"]}),
            "fine": flag(ABSENT, targeting={"if": [{"$ref": "isBeta"}, "on", "off"]}),
        },
    }

    problems = _problems(lambda: document_from_data(data, strict=True))
    assert len(problems) == 1
    assert problems[0].path.startswith("flags.broken.targeting")
    assert "nowhere" in problems[0].message

    compiled = document_from_data(data, strict=False).compiled_flags()
    assert compiled["broken"].broken
    assert "nowhere" in compiled["broken"].broken
    assert compiled["fine"].broken is None
    rule = compiled["fine"].rule
    assert rule is not None
    assert rule({"tier": "beta"}) == "on"
    assert rule({"tier": "gold"}) == "off"


def test_lenient_loading_still_rejects_structural_problems() -> None:
    problems = _problems(
        lambda: document_from_data({"flags": {"a": flag(ABSENT, state="ON")}}, strict=False)
    )

    assert [p.path for p in problems] == ["flags.a.state"]


# --- The model ------------------------------------------------------------------------------


def test_compiled_metadata_is_the_flag_set_metadata_overlaid_by_the_flag() -> None:
    document = document_from_data(
        {
            "metadata": {"flagSetId": "shop", "version": "1.0", "owner": "team-a"},
            "flags": {
                "own": flag(ABSENT, metadata={"owner": "team-b", "ticket": 42}),
                "plain": flag(ABSENT),
            },
        }
    )

    compiled = document.compiled_flags()
    assert compiled["own"].metadata == {
        "flagSetId": "shop",
        "version": "1.0",
        "owner": "team-b",
        "ticket": 42,
    }
    assert compiled["plain"].metadata == {"flagSetId": "shop", "version": "1.0", "owner": "team-a"}
    assert document.metadata["owner"] == "team-a"
    assert document.flags["own"].metadata == {"owner": "team-b", "ticket": 42}


def test_compiled_metadata_of_the_schema_metadata_document() -> None:
    document = load_document(FIXTURES / "positive" / "with-metadata.json")

    assert document.compiled_flags()["headerColor"].metadata == {
        "flagSetId": "sso/dev",
        "version": "1.0.0",
        "boolean": True,
        "string": "string",
        "float": 1.23,
        "int": 1,
    }


def test_compiled_flags_describe_the_flags() -> None:
    document = document_from_data(
        {
            "flags": {
                "on": flag("on", targeting={"if": [True, "off"]}),
                "off": flag(ABSENT, state="DISABLED"),
            }
        }
    )

    on, off = document.compiled_flags()["on"], document.compiled_flags()["off"]
    assert (on.key, on.enabled, on.default_variant) == ("on", True, "on")
    assert on.variants == {"on": True, "off": False}
    assert on.rule is not None
    assert on.rule({}) == "off"
    assert (off.key, off.enabled, off.default_variant, off.rule) == ("off", False, None, None)


def test_a_document_built_directly_compiles_strictly_when_first_asked() -> None:
    good = FlagDocument.model_validate({"flags": {"a": flag("on")}})
    assert good.compiled_flags()["a"].default_variant == "on"

    bad = FlagDocument.model_validate({"flags": {"a": flag("maybe")}})
    problems = _problems(bad.compiled_flags)
    assert [p.path for p in problems] == ["flags.a.defaultVariant"]


def test_documents_are_immutable() -> None:
    document = document_from_data({"flags": {"a": flag(ABSENT)}})

    with pytest.raises(ValueError, match="frozen"):
        document.metadata = {}
    with pytest.raises(ValueError, match="frozen"):
        document.flags["a"].state = "DISABLED"


def test_with_flags_replaces_the_flags_and_keeps_the_rest() -> None:
    document = document_from_data(
        {
            "$evaluators": {"isBeta": {"==": [{"var": "tier"}, "beta"]}},
            "metadata": {"flagSetId": "shop"},
            "flags": {"old": flag(ABSENT)},
        }
    )

    updated = document.with_flags(
        {
            "new": flag(ABSENT, targeting={"if": [{"$ref": "isBeta"}, "on", "off"]}),
            "model": FlagDefinition(state="DISABLED", variants={"a": "x"}),
        }
    )

    assert list(updated.flags) == ["new", "model"]
    assert updated.evaluators == document.evaluators
    assert updated.compiled_flags()["new"].metadata == {"flagSetId": "shop"}
    rule = updated.compiled_flags()["new"].rule
    assert rule is not None
    assert rule({"tier": "beta"}) == "on"
    assert "defaultVariant" not in updated.dump()["flags"]["model"]
    assert list(document.flags) == ["old"]


@pytest.mark.parametrize(
    ("definition", "where"),
    [
        (flag(ABSENT, state="ON"), "flags.new.state"),
        (flag(ABSENT, variants={}), "flags.new.variants"),
        (flag("maybe"), "flags.new.defaultVariant"),
        (flag(ABSENT, targeting={"$ref": "nowhere"}), "flags.new.targeting"),
        (flag(ABSENT, targeting={"no-such-operator": []}), "flags.new.targeting"),
    ],
)
def test_with_flags_validates_afresh(definition: dict[str, Any], where: str) -> None:
    document = document_from_data({"flags": {"old": flag(ABSENT)}})

    problems = _problems(lambda: document.with_flags({"new": definition}))

    assert any(p.path.startswith(where) for p in problems), problems


def test_with_flags_rejects_invalid_keys() -> None:
    document = document_from_data({"flags": {}})

    problems = _problems(lambda: document.with_flags({"bad\n": flag(ABSENT)}))

    assert [p.path for p in problems] == ["flags"]


# --- The flags array form (flagd's daemon format) ---------------------------------------------


def test_the_array_form_is_accepted_with_the_daemon_schema() -> None:
    document = document_from_data(
        {
            "$schema": DAEMON_SCHEMA,
            "flags": [{"key": "b", **flag(ABSENT)}, {"key": "a", **flag("on")}],
        }
    )

    assert list(document.flags) == ["b", "a"]
    assert document.flags["a"] == FlagDefinition.model_validate(flag("on"))
    assert document.schema_uri == DAEMON_SCHEMA


@pytest.mark.parametrize(
    "schema",
    [None, "https://flagd.dev/schema/v0/flags.json", "flagd.json.bak", 7],
)
def test_the_array_form_is_rejected_without_the_daemon_schema(schema: object) -> None:
    data: dict[str, Any] = {"flags": [{"key": "a", **flag(ABSENT)}]}
    if schema is not None:
        data["$schema"] = schema

    problems = _problems(lambda: document_from_data(data))

    assert any("array" in p.message and "flagd.json" in p.message for p in problems), problems


def test_duplicate_keys_in_the_array_form_are_rejected() -> None:
    data = {
        "$schema": DAEMON_SCHEMA,
        "flags": [
            {"key": "a", **flag(ABSENT)},
            {"key": "b", **flag(ABSENT)},
            {"key": "a", **flag(ABSENT)},
        ],
    }

    problems = _problems(lambda: document_from_data(data))

    assert [p.path for p in problems] == ["flags.2.key"]
    assert "duplicate" in problems[0].message
    assert "'a'" in problems[0].message


def test_array_entries_need_a_string_key() -> None:
    data = {"$schema": DAEMON_SCHEMA, "flags": [flag(ABSENT), {"key": 1, **flag(ABSENT)}]}

    problems = _problems(lambda: document_from_data(data))

    assert [p.path for p in problems] == ["flags.0.key", "flags.1.key"]


def test_array_entries_are_validated_like_map_entries() -> None:
    data = {"$schema": DAEMON_SCHEMA, "flags": [{"key": "a", **flag(ABSENT, state="ON")}]}

    problems = _problems(lambda: document_from_data(data))

    assert [p.path for p in problems] == ["flags.a.state"]


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    import gc  # noqa: PLC0415 - only this test touches the collector

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert document_from_data({"flags": {}}).flags == {}
        assert gc.isenabled() is enabled
        with pytest.raises(DocumentError):
            document_from_data({"flags": {"x": {"state": "nope"}}})
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# -- YAML that is not JSON, odd text, lenient loading (found in review) ----------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("flags:\n  f:\n    state: ENABLED\n    variants: {a: !!binary aGk=}\n", "binary"),
        ("flags: {}\n$evaluators:\n  e: {'==': [{var: d}, !!timestamp 2024-01-01]}\n", "timestamp"),
        ("? [a]\n: 1\nflags: {}\n", "key"),
    ],
)
def test_non_json_yaml_is_a_document_error(text: str, word: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_document(text, format="yaml")
    assert word in str(caught.value)


def test_a_yaml_date_is_a_string_as_in_yaml_1_2() -> None:
    text = "flags:\n  f:\n    state: ENABLED\n    variants: {a: 2024-01-01}\n"
    variants = parse_document(text, format="yaml").flags["f"].variants
    assert variants == {"a": "2024-01-01"}


def test_a_lone_surrogate_is_a_document_error_not_a_crash() -> None:
    with pytest.raises(DocumentError):
        parse_document("\ud800")


def test_lenient_loading_reports_only_structural_problems() -> None:
    data = {
        "flags": {
            "bad-state": {"state": "ON", "variants": {"a": 1}},
            "odd-rule": {
                "state": "ENABLED",
                "variants": {"a": 1},
                "targeting": {"starts_with": [{"var": "x"}]},
            },
        }
    }
    with pytest.raises(DocumentError) as strict:
        document_from_data(data, strict=True)
    assert {p.path.split(".")[1] for p in strict.value.problems} == {"bad-state", "odd-rule"}
    with pytest.raises(DocumentError) as lenient:
        document_from_data(data, strict=False)
    assert {p.path.split(".")[1] for p in lenient.value.problems} == {"bad-state"}


# --- Large documents are validated and dumped a few flags at a time ----------------------


def _many_flags_document(count: int) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for n in range(count):
        if n % 3 == 0:
            flags[f"f{n}"] = flag(ABSENT, targeting={"$ref": "beta"}, metadata={"n": n})
        elif n % 3 == 1:
            flags[f"f{n}"] = flag(None, variants={"a": {"x": [n]}, "b": {}})
        else:
            flags[f"f{n}"] = flag("on", state="DISABLED")
    return {
        "$schema": "https://flagd.dev/schema/v0/flags.json",
        "flags": flags,
        "$evaluators": {"beta": {"if": [{"in": ["@corp", {"var": "email"}]}, "on", "off"]}},
        "metadata": {"flagSetId": "many"},
    }


def test_a_large_document_dumps_as_one_model_dump_would() -> None:
    data = _many_flags_document(500)

    document = document_from_data(data)

    whole = FlagDocument.model_validate(data).model_dump(
        mode="json", by_alias=True, exclude_unset=True
    )
    dumped = document.dump()
    assert dumped == whole == data
    assert list(dumped) == list(whole)
    assert list(dumped["flags"]) == list(data["flags"])
    assert document.dump_shared() == {k: v for k, v in whole.items() if k != "flags"}


def test_a_problem_in_a_late_flag_of_a_large_document_is_reported_with_its_path() -> None:
    data = _many_flags_document(500)
    data["flags"]["f499"]["state"] = "ON"
    data["flags"]["f250"]["variants"] = {}

    problems = _problems(lambda: document_from_data(data))

    assert {p.path for p in problems} == {"flags.f499.state", "flags.f250.variants"}


def test_flag_definition_dump_leaves_out_what_was_not_written() -> None:
    definition = FlagDefinition.model_validate(flag(ABSENT, targeting={"if": [True, "on"]}))

    assert definition.dump() == {
        "state": "ENABLED",
        "variants": {"on": True, "off": False},
        "targeting": {"if": [True, "on"]},
    }

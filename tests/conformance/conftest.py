"""Step definitions and configuration shared by the flagd-testbed conformance suites.

The test modules only choose scenarios; every step lives here, so that both suites
describe an evaluation the same way: a typed flag key with a caller default, an
evaluation context built up step by step, one evaluation through an OpenFeature client,
then checks on the returned ``FlagEvaluationDetails``. The suites differ only in the
"Given" step that sets the provider up:

* ``an evaluator`` (``test_evaluator.py``): a :class:`FlagProvider` over a
  :class:`MemoryStore` holding ``testbed/evaluator/flags/testkit-flags.json``.
* ``a stable flagd provider`` / ``a metadata flagd provider``
  (``test_provider_file_mode.py``): a :class:`FlagProvider` over a :class:`FileStore`
  reading the file the ``selector`` option names, as flagd's file mode does.

Either provider buckets ``fractional`` with the version the scenario (or its Examples)
is tagged with, ``@fractional-v1``, ``@fractional-v2`` or ``@fractional-v3``; an
untagged scenario runs with the default, v2.

Documents are loaded with the defaults, which read them as flagd does: a flag whose
targeting cannot be compiled is kept and evaluates to PARSE_ERROR, and the document
carries its problems as warnings. Each scenario
registers a fresh provider under a domain of its own and evaluates through the
OpenFeature client, as an application would.

Values in steps are quoted strings, typed by the flag (or context, or metadata) type
named beside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.no_op_provider import NoOpProvider
from pytest_bdd import given, parsers, then, when

from openfeature_litestar import (
    FRACTIONAL_VERSIONS,
    FileStore,
    FlagProvider,
    MemoryStore,
    load_document,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagEvaluationDetails
    from openfeature.provider import FeatureProvider

    from openfeature_litestar import FlagDocument, FractionalVersion

TESTBED = Path(__file__).parent / "testbed"

# Scenarios (or Examples) with these tags are skipped, with the reason given.
SKIPPED_TAGS = {
    "deprecated": (
        "superseded by the @no-default-variant scenario of the same feature, "
        "whose expectations (reason DEFAULT, no error code) contradict it"
    ),
    "customCert": "flagd's TLS transport with a custom certificate; a file has none",
    "unixsocket": "flagd's Unix socket transport; a file has none",
    "targetURI": "gRPC name resolution through envoy; a file is named by its path",
    "forbidden": (
        "a gRPC PERMISSION_DENIED status; a store configuration that can never work is "
        "FATAL here, tested in tests/unit/test_provider_outages.py"
    ),
}

_TAG = re.compile(r"(?<!\S)@([^\s@]+)")


def _feature_tags() -> set[str]:
    """Every tag used in the copied feature files (pytest-bdd turns tags into markers)."""
    tags: set[str] = set()
    for feature in TESTBED.rglob("*.feature"):
        for line in feature.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("@"):
                tags.update(_TAG.findall(line))
    return tags


def pytest_configure(config: pytest.Config) -> None:
    for tag in sorted(_feature_tags()):
        description = SKIPPED_TAGS.get(tag, "a flagd-testbed tag")
        config.addinivalue_line("markers", f"{tag}: {description}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for tag, reason in SKIPPED_TAGS.items():
            if item.get_closest_marker(tag) is not None:
                item.add_marker(pytest.mark.skip(reason=f"@{tag}: {reason}"))
                break


def fractional_version(item: pytest.Item) -> FractionalVersion:
    """The bucketing version a scenario is tagged with (``@fractional-v3``); else v2."""
    tagged = [v for v in FRACTIONAL_VERSIONS if item.get_closest_marker(f"fractional-{v}")]
    assert len(tagged) <= 1, f"{item.nodeid} is tagged with versions {tagged}"
    return tagged[0] if tagged else "v2"


# --- values --------------------------------------------------------------------------


def parse_value(type_name: str, text: str) -> Any:
    """Turn the quoted text of a step into a value of the named testbed type.

    Object values are JSON; the testbed writes the quotes inside a table cell as ``\\"``.
    """
    match type_name:
        case "Boolean":
            if text not in {"true", "false"}:
                raise ValueError(f"not a Boolean: {text!r}")
            return text == "true"
        case "Integer":
            return int(text)
        case "Float":
            return float(text)
        case "String":
            return text
        case "Object":
            return json.loads(text.replace('\\"', '"'))
        case _:
            raise ValueError(f"unknown testbed type {type_name!r}")


def assert_typed_equal(actual: Any, expected: Any) -> None:
    """Assert equality with the same JSON types throughout (``1``, ``1.0``, ``True`` differ).

    Objects and lists may come back as any mapping or sequence; they are compared by
    their items.
    """
    assert _typed(actual) == _typed(expected), f"{actual!r} != {expected!r}"


def _typed(value: Any) -> Any:
    """``value`` with every leaf paired with its type, so that equality also checks types."""
    if isinstance(value, Mapping):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


# --- flag sources --------------------------------------------------------------------


@pytest.fixture(scope="session")
def testkit_document() -> FlagDocument:
    """The evaluator suite's flag document."""
    return load_document(TESTBED / "evaluator" / "flags" / "testkit-flags.json")


@pytest.fixture(scope="session")
def provider_suite_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The provider suite's flag files, by the ``selector`` value that names them.

    The testbed container mounts every file of ``flags/`` under ``rawflags/`` and
    generates ``flags/allFlags.json`` from all of them except those prefixed
    ``selector``; file mode without a selector reads ``allFlags.json``. This fixture
    lays out the same files in a temporary directory.

    Merging: the ``flags`` and ``$evaluators`` of the files are combined; a key defined
    twice with different contents is an error rather than a silent choice (the testbed
    defines none). Flag-set ``metadata`` exists only in the ``selector`` files, which
    are not merged, so a merged file carrying any would be an unforeseen case and is an
    error too: flag-set metadata applies to the flags of its own file, and merging it
    into the union would attach it to flags it does not describe.
    """
    directory = tmp_path_factory.mktemp("flagd-testbed")
    files: dict[str, Path] = {}
    merged: dict[str, dict[str, Any]] = {"flags": {}, "$evaluators": {}}
    for path in sorted((TESTBED / "flags").glob("*.json")):
        copy = directory / path.name
        copy.write_bytes(path.read_bytes())
        files[f"rawflags/{path.name}"] = copy
        if path.name.startswith("selector"):
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        assert "metadata" not in document, f"{path.name}: flag-set metadata in a merged file"
        for section, entries in merged.items():
            for key, value in document.get(section, {}).items():
                assert entries.get(key, value) == value, f"{path.name}: {key!r} redefined"
                entries[key] = value
    all_flags = directory / "allFlags.json"
    all_flags.write_text(json.dumps(merged, indent=2), encoding="utf-8")
    files["flags/allFlags.json"] = all_flags
    return files


# --- the state of one scenario -------------------------------------------------------


@dataclass
class FlagRequest:
    """The flag a scenario evaluates: its testbed type, key and the caller's default."""

    type_name: str
    key: str
    default: Any


@dataclass
class Evaluation:
    """What the steps of one scenario build up, and what the evaluation returned."""

    options: dict[str, str] = field(default_factory=dict)
    domain: str | None = None
    client: OpenFeatureClient | None = None
    flag: FlagRequest | None = None
    targeting_key: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    details: FlagEvaluationDetails[Any] | None = None

    def register(self, provider: FeatureProvider, domain: str, *, wait: bool = True) -> None:
        """Bind ``provider`` to ``domain`` of the OpenFeature API and take its client.

        With ``wait`` the provider is ready when this returns; without, it initializes
        in the background (a provider whose source is missing never becomes ready).
        """
        assert self.domain is None, "a provider was already set up"
        if wait:
            api.set_provider_and_wait(provider, domain=domain)
        else:
            api.set_provider(provider, domain=domain)
        self.domain = domain
        self.client = api.get_client(domain)

    @property
    def result(self) -> FlagEvaluationDetails[Any]:
        """The details of the evaluation (the "When" step must have run)."""
        assert self.details is not None, "the flag was not evaluated"
        return self.details


@pytest.fixture
def evaluation() -> Iterator[Evaluation]:
    state = Evaluation()
    yield state
    if state.domain is not None:
        # Unbinding the domain makes the SDK shut the scenario's provider down.
        api.set_provider(NoOpProvider(), domain=state.domain)


# --- steps: the provider -------------------------------------------------------------


@given("an evaluator")
def given_evaluator(
    evaluation: Evaluation, testkit_document: FlagDocument, request: pytest.FixtureRequest
) -> None:
    # Some fractional scenarios repeat the Background's "Given an evaluator".
    if evaluation.domain is None:
        version = fractional_version(request.node)
        provider = FlagProvider(MemoryStore(testkit_document), fractional=version)
        evaluation.register(provider, "conformance-evaluator")


@given(
    parsers.re(
        r'an option "(?P<name>[^"]*)" of type "(?P<type_name>[^"]*)"'
        r' with value "(?P<value>[^"]*)"'
    )
)
def given_option(evaluation: Evaluation, name: str, type_name: str, value: str) -> None:
    # The provider has no cache: "disabled" is the only cache setting that describes it.
    # deadlineMs bounds the first load (init_timeout), as it bounds flagd's first sync.
    known = {("cache", "CacheType"), ("selector", "String"), ("deadlineMs", "Integer")}
    assert (name, type_name) in known, name
    assert name != "cache" or value == "disabled", f"cache {value!r}"
    evaluation.options[name] = value


@given(parsers.re(r"an? (?:stable|metadata) flagd provider"))
def given_file_provider(
    evaluation: Evaluation, provider_suite_files: dict[str, Path], request: pytest.FixtureRequest
) -> None:
    path = provider_suite_files[evaluation.options.get("selector", "flags/allFlags.json")]
    version = fractional_version(request.node)
    provider = FlagProvider(FileStore(path), fractional=version)
    evaluation.register(provider, "conformance-file-mode")


# --- steps: the evaluation -----------------------------------------------------------

TYPES = "Boolean|String|Integer|Float|Object"


@given(
    parsers.re(
        rf'a (?P<type_name>{TYPES})-flag with key "(?P<key>[^"]*)"'
        r' and a (?:fallback|default) value "(?P<default>.*)"'
    )
)
def given_flag(evaluation: Evaluation, type_name: str, key: str, default: str) -> None:
    evaluation.flag = FlagRequest(type_name, key, parse_value(type_name, default))


@given(
    parsers.re(
        rf'a context containing a key "(?P<key>[^"]*)", with type "(?P<type_name>{TYPES})"'
        r' and with value "(?P<value>.*)"'
    )
)
def given_context_key(evaluation: Evaluation, key: str, type_name: str, value: str) -> None:
    evaluation.attributes[key] = parse_value(type_name, value)


@given(
    parsers.re(
        r'a context containing a nested property with outer key "(?P<outer>[^"]*)"'
        r' and inner key "(?P<inner>[^"]*)", with value "(?P<value>.*)"'
    )
)
def given_context_nested(evaluation: Evaluation, outer: str, inner: str, value: str) -> None:
    evaluation.attributes.setdefault(outer, {})[inner] = value


@given(parsers.re(r'a context containing a targeting key with value "(?P<value>.*)"'))
def given_targeting_key(evaluation: Evaluation, value: str) -> None:
    evaluation.targeting_key = value


@when("the flag was evaluated with details")
def when_evaluated(evaluation: Evaluation) -> None:
    assert evaluation.client is not None, "no provider was set up"
    assert evaluation.flag is not None, "no flag was given"
    client, flag = evaluation.client, evaluation.flag
    context = EvaluationContext(
        targeting_key=evaluation.targeting_key, attributes=dict(evaluation.attributes)
    )
    match flag.type_name:
        case "Boolean":
            evaluation.details = client.get_boolean_details(flag.key, flag.default, context)
        case "String":
            evaluation.details = client.get_string_details(flag.key, flag.default, context)
        case "Integer":
            evaluation.details = client.get_integer_details(flag.key, flag.default, context)
        case "Float":
            evaluation.details = client.get_float_details(flag.key, flag.default, context)
        case _:
            evaluation.details = client.get_object_details(flag.key, flag.default, context)


# --- steps: the checks ---------------------------------------------------------------


@then(parsers.re(r'the resolved details value should be "(?P<value>.*)"'))
def then_value(evaluation: Evaluation, value: str) -> None:
    assert evaluation.flag is not None
    assert_typed_equal(evaluation.result.value, parse_value(evaluation.flag.type_name, value))


@then(parsers.re(r'the reason should be "(?P<reason>[^"]*)"'))
def then_reason(evaluation: Evaluation, reason: str) -> None:
    assert evaluation.result.reason == reason


@then(parsers.re(r'the error-code should be "(?P<code>[^"]*)"'))
def then_error_code(evaluation: Evaluation, code: str) -> None:
    # An empty code in an Examples table means "no error".
    assert evaluation.result.error_code == (code or None)


@then("the resolved metadata should contain")
def then_metadata_contains(evaluation: Evaluation, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    assert header == ["key", "metadata_type", "value"]
    metadata = evaluation.result.flag_metadata
    for key, type_name, value in rows:
        assert key in metadata, f"metadata has no {key!r}: {dict(metadata)!r}"
        assert_typed_equal(metadata[key], parse_value(type_name, value))


@then("the resolved metadata is empty")
def then_metadata_empty(evaluation: Evaluation) -> None:
    assert dict(evaluation.result.flag_metadata) == {}

"""FlagProvider through the real OpenFeature client: results, errors, lifecycle, updates."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

from openfeature_litestar import DocumentError, FlagProvider, MemoryStore, document_from_data

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient

WAIT = 10.0  # generous: only a broken provider ever waits this long

FLAGS: dict[str, Any] = {
    "metadata": {"flagSetId": "unit-tests", "version": "7"},
    "$evaluators": {"is-admin": {"==": [{"var": "role"}, "admin"]}},
    "flags": {
        "static-bool": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
            "metadata": {"owner": "team-a"},
        },
        "targeted-string": {
            "state": "ENABLED",
            "variants": {"a": "alpha", "b": "beta"},
            "defaultVariant": "a",
            "targeting": {"if": [{"==": [{"var": "targetingKey"}, "user-1"]}, "b", None]},
        },
        "disabled-flag": {
            "state": "DISABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
        },
        "int-flag": {
            "state": "ENABLED",
            "variants": {"small": 1, "big": 10},
            "defaultVariant": "big",
        },
        "zero-one": {
            "state": "ENABLED",
            "variants": {"no": 0, "yes": 1},
            "defaultVariant": "yes",
        },
        "float-flag": {
            "state": "ENABLED",
            "variants": {"whole": 2, "half": 0.5},
            "defaultVariant": "whole",
        },
        "half-flag": {
            "state": "ENABLED",
            "variants": {"half": 0.5},
            "defaultVariant": "half",
        },
        "object-flag": {
            "state": "ENABLED",
            "variants": {"config": {"color": "red", "sizes": [1, 2, 3], "nested": {"a": None}}},
            "defaultVariant": "config",
        },
        "no-default": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
        },
        "missing-variant-rule": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "on",
            "targeting": {"if": [True, "nope", "off"]},
        },
        "flag-key-rule": {
            "state": "ENABLED",
            "variants": {"yes": "matched", "no": "unmatched"},
            "defaultVariant": "no",
            "targeting": {"if": [{"==": [{"var": "$flagd.flagKey"}, "flag-key-rule"]}, "yes"]},
        },
        "admin-flag": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"$ref": "is-admin"}, "on", "off"]},
        },
        "own-version": {
            "state": "ENABLED",
            "variants": {"on": True},
            "defaultVariant": "on",
            "metadata": {"version": "override"},
        },
    },
}

SET_METADATA = {"flagSetId": "unit-tests", "version": "7"}


class EventLog:
    """Collects one kind of provider event from a client; waits for them without sleeping."""

    def __init__(self, client: OpenFeatureClient, event: ProviderEvent) -> None:
        self._events: queue.Queue[EventDetails] = queue.Queue()
        self.seen: list[EventDetails] = []
        client.add_handler(event, self._events.put)

    def next(self) -> EventDetails:
        try:
            details = self._events.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no event within {WAIT} s")
        self.seen.append(details)
        return details


def serve(domain: str, source: Any = None) -> tuple[FlagProvider, MemoryStore, OpenFeatureClient]:
    store = MemoryStore(FLAGS if source is None else source)
    provider = FlagProvider(store)
    api.set_provider_and_wait(provider, domain=domain)
    return provider, store, api.get_client(domain)


@pytest.fixture
def client(domain: str) -> OpenFeatureClient:
    return serve(domain)[2]


def _with_flag(
    key: str, flag: dict[str, Any], data: dict[str, Any] | None = None
) -> dict[str, Any]:
    base = FLAGS if data is None else data
    return {**base, "flags": {**base["flags"], key: flag}}


# -- results --------------------------------------------------------------------------------


def test_static_flag(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("static-bool", False)
    assert details.value is True
    assert details.variant == "on"
    assert details.reason == Reason.STATIC
    assert details.error_code is None


def test_targeting_match_uses_the_targeting_key(client: OpenFeatureClient) -> None:
    details = client.get_string_details(
        "targeted-string", "fallback", EvaluationContext(targeting_key="user-1")
    )
    assert (details.value, details.variant, details.reason) == ("beta", "b", Reason.TARGETING_MATCH)


def test_targeting_null_falls_back_to_the_default_variant(client: OpenFeatureClient) -> None:
    details = client.get_string_details(
        "targeted-string", "fallback", EvaluationContext(targeting_key="user-2")
    )
    assert (details.value, details.variant, details.reason) == ("alpha", "a", Reason.DEFAULT)
    assert details.error_code is None


def test_targeting_without_a_context(client: OpenFeatureClient) -> None:
    details = client.get_string_details("targeted-string", "fallback")
    assert (details.value, details.reason) == ("alpha", Reason.DEFAULT)


def test_no_default_variant_gives_the_caller_default(client: OpenFeatureClient) -> None:
    for default in (True, False):
        details = client.get_boolean_details("no-default", default)
        assert details.value is default
        assert details.variant is None
        assert details.reason == Reason.DEFAULT
        assert details.error_code is None


def test_disabled_flag_gives_the_caller_default(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("disabled-flag", False)
    assert details.value is False
    assert details.reason == Reason.DISABLED
    assert details.error_code is None


def test_flag_key_is_available_to_rules(client: OpenFeatureClient) -> None:
    details = client.get_string_details("flag-key-rule", "fallback")
    assert (details.value, details.reason) == ("matched", Reason.TARGETING_MATCH)


def test_evaluator_reference(client: OpenFeatureClient) -> None:
    admin = EvaluationContext(attributes={"role": "admin"})
    guest = EvaluationContext(attributes={"role": "guest"})
    assert client.get_boolean_value("admin-flag", False, admin) is True
    assert client.get_boolean_value("admin-flag", True, guest) is False


def test_integer_flag(client: OpenFeatureClient) -> None:
    details = client.get_integer_details("int-flag", 0)
    assert details.value == 10
    assert type(details.value) is int


def test_float_flag_with_an_integer_variant_returns_a_float(client: OpenFeatureClient) -> None:
    details = client.get_float_details("float-flag", 0.0)
    assert details.value == 2.0
    assert type(details.value) is float
    assert details.error_code is None


def test_object_flag(client: OpenFeatureClient) -> None:
    details = client.get_object_details("object-flag", {})
    assert details.value == {"color": "red", "sizes": [1, 2, 3], "nested": {"a": None}}
    assert details.reason == Reason.STATIC


def test_metadata_includes_the_flag_set_metadata(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("static-bool", False)
    assert dict(details.flag_metadata) == {**SET_METADATA, "owner": "team-a"}
    plain = client.get_integer_details("int-flag", 0)
    assert dict(plain.flag_metadata) == SET_METADATA


def test_flag_metadata_overrides_flag_set_metadata(client: OpenFeatureClient) -> None:
    details = client.get_boolean_details("own-version", False)
    assert dict(details.flag_metadata) == {"flagSetId": "unit-tests", "version": "override"}


def test_async_results(client: OpenFeatureClient) -> None:
    async def evaluate() -> None:
        boolean = await client.get_boolean_details_async("static-bool", False)
        assert (boolean.value, boolean.reason) == (True, Reason.STATIC)
        string = await client.get_string_details_async(
            "targeted-string", "x", EvaluationContext(targeting_key="user-1")
        )
        assert (string.value, string.reason) == ("beta", Reason.TARGETING_MATCH)
        integer = await client.get_integer_details_async("int-flag", 0)
        assert integer.value == 10
        assert type(integer.value) is int
        number = await client.get_float_details_async("float-flag", 0.0)
        assert type(number.value) is float
        assert number.value == 2.0
        obj = await client.get_object_details_async("object-flag", {})
        assert obj.value == {"color": "red", "sizes": [1, 2, 3], "nested": {"a": None}}
        disabled = await client.get_boolean_details_async("disabled-flag", False)
        assert (disabled.value, disabled.reason) == (False, Reason.DISABLED)

    asyncio.run(evaluate())


# -- errors: always the caller's default -----------------------------------------------------

# (flag key, type asked for, caller default, expected error code)
ERROR_CASES: list[tuple[str, str, Any, ErrorCode]] = [
    ("no-such-flag", "boolean", True, ErrorCode.FLAG_NOT_FOUND),
    ("no-such-flag", "string", "fallback", ErrorCode.FLAG_NOT_FOUND),
    ("static-bool", "integer", 42, ErrorCode.TYPE_MISMATCH),
    ("zero-one", "boolean", False, ErrorCode.TYPE_MISMATCH),
    ("static-bool", "float", 1.5, ErrorCode.TYPE_MISMATCH),
    ("int-flag", "string", "fallback", ErrorCode.TYPE_MISMATCH),
    ("targeted-string", "object", {"default": True}, ErrorCode.TYPE_MISMATCH),
    ("object-flag", "string", "fallback", ErrorCode.TYPE_MISMATCH),
    ("half-flag", "integer", 3, ErrorCode.TYPE_MISMATCH),
    ("half-flag", "boolean", True, ErrorCode.TYPE_MISMATCH),
    ("missing-variant-rule", "boolean", False, ErrorCode.GENERAL),
]


@pytest.mark.parametrize(("key", "flag_type", "default", "code"), ERROR_CASES)
def test_errors_return_the_caller_default(
    client: OpenFeatureClient, key: str, flag_type: str, default: Any, code: ErrorCode
) -> None:
    details = getattr(client, f"get_{flag_type}_details")(key, default)
    assert details.error_code == code
    assert details.reason == Reason.ERROR
    assert details.value == default
    assert type(details.value) is type(default)
    assert details.variant is None
    assert details.error_message


@pytest.mark.parametrize(("key", "flag_type", "default", "code"), ERROR_CASES)
def test_async_errors_return_the_caller_default(
    client: OpenFeatureClient, key: str, flag_type: str, default: Any, code: ErrorCode
) -> None:
    resolve = getattr(client, f"get_{flag_type}_details_async")
    details = asyncio.run(resolve(key, default))
    assert details.error_code == code
    assert details.reason == Reason.ERROR
    assert details.value == default
    assert type(details.value) is type(default)


def test_an_integer_flag_never_returns_a_bool(client: OpenFeatureClient) -> None:
    details = client.get_integer_details("static-bool", 5)
    assert details.value == 5
    assert type(details.value) is int


def test_error_details_keep_the_flag_metadata(client: OpenFeatureClient) -> None:
    details = client.get_integer_details("static-bool", 5)
    assert dict(details.flag_metadata) == {**SET_METADATA, "owner": "team-a"}


def test_broken_flag_loaded_leniently_is_a_parse_error(domain: str) -> None:
    broken = {
        "state": "ENABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "on",
        "targeting": {"$ref": "no-such-evaluator"},
    }
    document = document_from_data(_with_flag("broken", broken), strict=False)
    _, _, client = serve(domain, document)
    for default in (True, False):
        details = client.get_boolean_details("broken", default)
        assert details.error_code == ErrorCode.PARSE_ERROR
        assert details.value is default
        async_details = asyncio.run(client.get_boolean_details_async("broken", default))
        assert async_details.error_code == ErrorCode.PARSE_ERROR
        assert async_details.value is default
    # The other flags of the document are served as usual.
    assert client.get_boolean_details("static-bool", False).value is True


# -- odd contexts never make evaluation raise -----------------------------------------------

ODD_RULES: dict[str, Any] = {
    "greater": {">": [{"var": "age"}, 18]},
    "member": {"in": ["beta", {"var": "groups"}]},
    "prefix": {"starts_with": [{"var": "email"}, "admin@"]},
    "suffix": {"ends_with": [{"var": "email"}, "@example.com"]},
    "semver": {"sem_ver": [{"var": "version"}, ">=", "1.2.0"]},
    "fraction": {"fractional": [{"var": "email"}, ["on", 50], ["off", 50]]},
    "nested": {"==": [{"var": "profile.plan"}, "pro"]},
    "concat": {"==": [{"cat": [{"var": "email"}, {"var": "groups"}]}, "x"]},
    "arith": {">": [{"+": [{"var": "age"}, {"var": "profile"}]}, 3]},
}

ODD_CONTEXTS: list[dict[str, Any]] = [
    {},
    {"age": None, "groups": None, "email": None, "version": None, "profile": None},
    {"age": [1, 2], "groups": {"beta": True}, "email": ["a", "b"], "version": {"major": 1}},
    {"age": {"n": 19}, "groups": "beta", "email": 12, "version": 1.5, "profile": [1]},
    {"age": "19", "groups": [["beta"]], "email": True, "version": "not.a.version"},
    {"profile": {"plan": ["pro"]}, "email": "", "age": float("nan"), "version": ""},
    {"profile": {"plan": {"deep": {"deeper": None}}}, "targetingKey": ["not", "a", "string"]},
]


@pytest.fixture
def odd_client(domain: str) -> OpenFeatureClient:
    flags = {
        key: {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [rule, "on", "off"]},
        }
        for key, rule in ODD_RULES.items()
    }
    return serve(domain, {"flags": flags})[2]


@pytest.mark.parametrize("attributes", ODD_CONTEXTS)
def test_odd_contexts_never_raise(
    odd_client: OpenFeatureClient, attributes: dict[str, Any]
) -> None:
    context = EvaluationContext(targeting_key="user-1", attributes=attributes)
    for key in ODD_RULES:
        details = odd_client.get_boolean_details(key, False, context)
        assert details.value in {True, False}
        assert details.error_code is None, details.error_message
        async_details = asyncio.run(odd_client.get_boolean_details_async(key, False, context))
        assert async_details.value == details.value


# -- lifecycle ------------------------------------------------------------------------------


def test_initialize_and_shutdown_are_idempotent() -> None:
    provider = FlagProvider(MemoryStore(FLAGS))
    provider.initialize(EvaluationContext())
    provider.initialize(EvaluationContext())
    assert provider.resolve_boolean_details("static-bool", False).value is True
    provider.shutdown()
    provider.shutdown()


def test_shutdown_keeps_serving_the_last_snapshot(domain: str) -> None:
    provider, _, client = serve(domain)
    provider.shutdown()
    assert client.get_boolean_value("static-bool", False) is True
    details = provider.resolve_string_details(
        "targeted-string", "x", EvaluationContext(targeting_key="user-1")
    )
    assert details.value == "beta"


def test_reinitialize_after_shutdown_follows_the_store_again(domain: str) -> None:
    provider, store, client = serve(domain)
    provider.shutdown()
    provider.initialize(EvaluationContext())
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    store.replace(
        _with_flag("int-flag", {"state": "ENABLED", "variants": {"n": 3}, "defaultVariant": "n"})
    )
    assert changed.next().flags_changed == ["int-flag"]
    assert client.get_integer_value("int-flag", 0) == 3


def test_a_document_source_is_served_from_a_memory_store(domain: str) -> None:
    provider = FlagProvider(document_from_data(FLAGS), name="from-document")
    assert isinstance(provider.store, MemoryStore)
    assert provider.get_metadata().name == "from-document"
    api.set_provider_and_wait(provider, domain=domain)
    assert api.get_client(domain).get_boolean_value("static-bool", False) is True
    assert "from-document" in repr(provider)


def test_nothing_is_served_before_initialize() -> None:
    provider = FlagProvider(MemoryStore(FLAGS))
    details = provider.resolve_boolean_details("static-bool", False)
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert details.value is False


def test_ready_after_set_provider_and_wait(domain: str) -> None:
    provider, store, client = serve(domain)
    assert client.get_provider_status() == ProviderStatus.READY
    assert provider.last_sync_error is None
    assert provider.snapshot.revision == store.revision == 1
    assert provider.snapshot.document is store.document


def test_provider_works_inside_a_running_event_loop(domain: str) -> None:
    async def main() -> tuple[bool, str, bool]:
        provider = FlagProvider(MemoryStore(FLAGS))
        api.set_provider_and_wait(provider, domain=domain)
        client = api.get_client(domain)
        sync_value = client.get_boolean_value("static-bool", False)
        async_value = await client.get_string_value_async(
            "targeted-string", "x", EvaluationContext(targeting_key="user-1")
        )
        inside = await client.get_boolean_value_async("admin-flag", False)
        return sync_value, async_value, inside

    assert asyncio.run(main()) == (True, "beta", False)


def test_many_threads_evaluate_while_the_store_changes(domain: str) -> None:
    def colour(value: str) -> dict[str, Any]:
        return {
            "flags": {
                "colour": {
                    "state": "ENABLED",
                    "variants": {"red": "red", "blue": "blue", value: value},
                    "defaultVariant": value,
                    "targeting": {"if": [{"==": [{"var": "targetingKey"}, "odd"]}, "red"]},
                }
            }
        }

    documents = [document_from_data(colour(value)) for value in ("red", "blue", "green")]
    _, store, client = serve(domain, documents[0])
    done = threading.Event()
    start = threading.Barrier(9)

    def replace_repeatedly() -> int:
        start.wait(WAIT)
        count = 0
        while not done.is_set():
            count += 1
            store.replace(documents[count % len(documents)])
        return count

    def evaluate(worker: int) -> set[str]:
        start.wait(WAIT)
        context = EvaluationContext(targeting_key="odd" if worker % 2 else "even")
        results = [client.get_string_details("colour", "fallback", context) for _ in range(1_000)]

        async def evaluate_async() -> None:
            for _ in range(1_000):
                details = await client.get_string_details_async("colour", "fallback", context)
                results.append(details)

        asyncio.run(evaluate_async())
        assert len(results) == 2_000
        errors = [details.error_message for details in results if details.error_code is not None]
        assert errors == []
        return {details.value for details in results}

    with ThreadPoolExecutor(max_workers=9) as pool:
        replacer = pool.submit(replace_repeatedly)
        workers = [pool.submit(evaluate, worker) for worker in range(8)]
        try:
            results = [future.result(timeout=60) for future in workers]
        finally:
            done.set()
        assert replacer.result(timeout=WAIT) > 0
    for worker, answers in enumerate(results):
        expected = {"red"} if worker % 2 else {"red", "blue", "green"}
        assert answers <= expected


# -- live updates ---------------------------------------------------------------------------


def test_replace_announces_exactly_the_changed_flags(domain: str) -> None:
    provider, store, client = serve(domain)
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    flags = dict(FLAGS["flags"])
    del flags["disabled-flag"]  # removed
    flags["int-flag"] = {**flags["int-flag"], "defaultVariant": "small"}  # modified
    flags["brand-new"] = {"state": "ENABLED", "variants": {"x": "y"}, "defaultVariant": "x"}
    revision = store.replace({**FLAGS, "flags": flags})
    details = changed.next()
    assert details.flags_changed == ["brand-new", "disabled-flag", "int-flag"]
    assert details.provider_name == "openfeature-litestar"
    assert client.get_integer_value("int-flag", 0) == 1
    assert client.get_string_value("brand-new", "") == "y"
    gone = client.get_boolean_details("disabled-flag", True)
    assert gone.error_code == ErrorCode.FLAG_NOT_FOUND
    assert provider.snapshot.revision == revision == 2


def test_changing_an_evaluator_changes_the_flags_that_use_it(domain: str) -> None:
    _, store, client = serve(domain)
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    guest = EvaluationContext(attributes={"role": "guest"})
    assert client.get_boolean_value("admin-flag", True, guest) is False
    store.replace({**FLAGS, "$evaluators": {"is-admin": {"==": [{"var": "role"}, "guest"]}}})
    assert changed.next().flags_changed == ["admin-flag"]
    assert client.get_boolean_value("admin-flag", False, guest) is True


def test_changing_flag_set_metadata_changes_every_flag(domain: str) -> None:
    _, store, client = serve(domain)
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    store.replace({**FLAGS, "metadata": {"flagSetId": "unit-tests", "version": "8"}})
    assert changed.next().flags_changed == sorted(FLAGS["flags"])
    details = client.get_boolean_details("static-bool", False)
    assert details.flag_metadata["version"] == "8"


def test_a_replace_that_changes_nothing_announces_nothing(domain: str) -> None:
    provider, store, client = serve(domain)
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    store.replace(FLAGS)  # an equal document
    store.replace(store.document)  # the very same document
    final = _with_flag(
        "int-flag", {"state": "ENABLED", "variants": {"n": 5}, "defaultVariant": "n"}
    )
    store.replace(final)
    assert changed.next().flags_changed == ["int-flag"]
    assert client.get_integer_value("int-flag", 0) == 5
    # The no-op replaces were announced before the real one, if at all: none arrived.
    assert [event.flags_changed for event in changed.seen] == [["int-flag"]]
    assert provider.snapshot.revision == 4


def test_api_level_handlers_see_changes(domain: str) -> None:
    _, store, client = serve(domain)
    events: queue.Queue[EventDetails] = queue.Queue()
    api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, events.put)
    store.replace(
        _with_flag("static-bool", {**FLAGS["flags"]["static-bool"], "defaultVariant": "off"})
    )
    assert events.get(timeout=WAIT).flags_changed == ["static-bool"]
    assert client.get_boolean_value("static-bool", True) is False


def test_an_invalid_replace_changes_nothing(domain: str) -> None:
    provider, store, client = serve(domain)
    with pytest.raises(DocumentError, match=r"flags\.bad\.state"):
        store.replace({"flags": {"bad": {"state": "MAYBE", "variants": {}}}})
    assert store.revision == 1
    assert provider.snapshot.revision == 1
    assert client.get_boolean_value("static-bool", False) is True


def test_any_type_resolution_serves_every_type(domain: str) -> None:
    provider = FlagProvider(document_from_data(FLAGS))
    api.set_provider_and_wait(provider, domain)
    assert provider.resolve_any_details("int-flag").value == 10
    assert provider.resolve_any_details("static-bool").value is True
    targeted = provider.resolve_any_details(
        "targeted-string", EvaluationContext(targeting_key="user-1")
    )
    assert (targeted.value, targeted.variant, targeted.reason) == ("beta", "b", "TARGETING_MATCH")
    missing = provider.resolve_any_details("no-such-flag")
    assert (missing.value, missing.error_code) == (None, ErrorCode.FLAG_NOT_FOUND)


def test_bulk_resolution_covers_every_flag_of_one_snapshot(domain: str) -> None:
    provider = FlagProvider(document_from_data(FLAGS))
    api.set_provider_and_wait(provider, domain)
    revision, details = provider.resolve_all_details(EvaluationContext(targeting_key="user-1"))
    assert revision == provider.snapshot.revision
    assert list(details) == list(FLAGS["flags"])
    assert details["targeted-string"].value == "beta"
    assert details["disabled-flag"].reason == Reason.DISABLED


def test_any_type_object_values_are_copies(domain: str) -> None:
    provider = FlagProvider(document_from_data(FLAGS))
    api.set_provider_and_wait(provider, domain)
    first = provider.resolve_any_details("object-flag").value
    assert isinstance(first, dict)
    first["mutated"] = True
    assert "mutated" not in (provider.resolve_any_details("object-flag").value or {})


# -- object values and shared stores (found in review) ----------------------------------

OBJECT_FLAGS: dict[str, Any] = {
    "flags": {
        "o": {"state": "ENABLED", "variants": {"a": {"x": 1}}, "defaultVariant": "a"},
    }
}


def test_a_caller_changing_an_object_value_changes_nothing_else(domain: str) -> None:
    store = MemoryStore(OBJECT_FLAGS)
    api.set_provider_and_wait(FlagProvider(store), domain=domain)
    client = api.get_client(domain)
    first = client.get_object_value("o", {})
    assert isinstance(first, dict)
    first["x"] = 999
    assert client.get_object_value("o", {}) == {"x": 1}
    assert store.document.dump()["flags"]["o"]["variants"]["a"] == {"x": 1}


def test_shutting_down_one_provider_keeps_another_on_the_same_store_in_sync() -> None:
    store = MemoryStore(OBJECT_FLAGS)
    first, second = FlagProvider(store), FlagProvider(store)
    first.initialize(EvaluationContext())
    second.initialize(EvaluationContext())
    try:
        first.shutdown()
        revision = store.replace({"flags": {}})
        for _ in range(200):
            if second.snapshot.revision == revision:
                break
            time.sleep(0.01)
        assert second.snapshot.revision == revision
        assert "o" not in second.snapshot.flags
    finally:
        second.shutdown()


# -- lenient reading: the warnings of each new document are logged once -----------------------

ODD_FLAG = {
    "state": "ENABLED",
    "variants": {"on": True, "off": False},
    "defaultVariant": "off",
    "targeting": {"if": [{"ends_with": [{"var": "email"}, 3]}, "on", None]},
}
ODD_WARNING = "flags.odd.targeting.if.0.ends_with.1: ends_with compares strings, got 3"


def _warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "openfeature_litestar.provider" and record.levelname == "WARNING"
    ]


def test_the_follower_logs_a_documents_warnings_once(
    domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="openfeature_litestar.provider")
    provider, store, client = serve(domain, _with_flag("odd", ODD_FLAG))
    assert client.get_boolean_details("odd", True).value is False  # served, as flagd does
    (logged,) = _warnings_logged(caplog)
    assert "1 problems flagd tolerates" in logged
    assert ODD_WARNING in logged

    # Reloading the same document (the store returns the object it keeps) logs nothing.
    follower = provider._follower
    assert asyncio.run(follower._reload()) is None
    assert len(_warnings_logged(caplog)) == 1

    # A new document still holding the problem is logged once more.
    changed = EventLog(client, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    asyncio.run(store.put_flag("fresh", FLAGS["flags"]["static-bool"], actor="test"))
    changed.next()
    logged_now = _warnings_logged(caplog)
    assert len(logged_now) == 2
    assert ODD_WARNING in logged_now[1]

"""AuditHook: the record's fields, registration levels, sampling, and failure isolation."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationOptions, FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from openfeature_litestar import HASH_KEY_ENV, REDACTED, IdentifierHasher, Sanitizer
from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar.hooks import AuditHook
from openfeature_litestar.hooks._audit import (
    CONTEXT,
    CONTEXT_ID,
    ERROR_MESSAGE,
    ERROR_TYPE,
    FLAG_KEY,
    FLAG_SET_ID,
    FLAG_TYPE,
    FLAG_VERSION,
    MIN_SCRUBBED_LENGTH,
    PROVIDER_NAME,
    REASON,
    VALUE,
    VARIANT,
    _escaped_forms,
    _may_hold_escaped,
)
from tests.support import HOSTILE_TEXTS, QUOTINGS, written_forms

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from openfeature.client import OpenFeatureClient

WAIT = 10.0
EMAIL = "ada.lovelace@example.com"
USER = "user-7f3a9c"


def _context(**attributes: Any) -> EvaluationContext:
    return EvaluationContext(
        targeting_key=USER, attributes={"email": EMAIL, "plan": "pro", **attributes}
    )


class Collector:
    """A sink that keeps every record; it can be told to block or to raise."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self, record: Mapping[str, Any]) -> None:
        self.entered.set()
        self.release.wait()
        if self.fail:
            raise RuntimeError("the sink is down")
        self.records.append(dict(record))


@pytest.fixture
def sink() -> Collector:
    return Collector()


@pytest.fixture
def audit(hasher: IdentifierHasher, sink: Collector) -> Iterator[AuditHook]:
    hook = AuditHook(hasher=hasher, sink=sink)
    yield hook
    sink.release.set()
    hook.close()


def _records(hook: AuditHook, sink: Collector) -> list[dict[str, Any]]:
    assert hook.flush(WAIT)
    return sink.records


# --- the record -------------------------------------------------------------------------


def test_a_targeted_evaluation_is_recorded_with_the_appendix_names(
    client: OpenFeatureClient,
    provider_kind: str,
    audit: AuditHook,
    sink: Collector,
    hasher: IdentifierHasher,
) -> None:
    client.add_hooks([audit])
    assert client.get_boolean_value("vip", False, _context()) is True
    (record,) = _records(audit, sink)
    provider_name = "openfeature-litestar" if provider_kind == "ours" else "In-Memory Provider"
    assert record == {
        FLAG_KEY: "vip",
        FLAG_TYPE: "boolean",
        PROVIDER_NAME: provider_name,
        VARIANT: "on",
        REASON: "targeting_match",
        FLAG_SET_ID: "checkout-service",
        FLAG_VERSION: "7",
        CONTEXT_ID: hasher(USER),
        CONTEXT: {"email": REDACTED, "plan": "pro"},
    }


def test_the_value_is_left_out_unless_asked_for(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    with_value = AuditHook(hasher=hasher, sink=sink, include_value=True)
    try:
        ours.add_hooks([with_value])
        assert ours.get_string_value("greeting", "?", _context()) == "hello"
        (record,) = _records(with_value, sink)
    finally:
        with_value.close()
    assert record[VALUE] == "hello"
    assert record[FLAG_TYPE] == "string"
    assert record[REASON] == "static"


def test_a_sensitive_value_is_sanitised_when_included(
    domain: str, hasher: IdentifierHasher, sink: Collector
) -> None:
    profile = {"email": EMAIL, "theme": "dark"}
    api.set_provider_and_wait(
        InMemoryProvider({"profile": InMemoryFlag("p", {"p": profile})}), domain=domain
    )
    hook = AuditHook(hasher=hasher, sink=sink, include_value=True)
    try:
        client = api.get_client(domain)
        client.add_hooks([hook])
        assert client.get_object_value("profile", {}, _context()) == profile
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert record[VALUE] == {"email": REDACTED, "theme": "dark"}
    assert record[FLAG_TYPE] == "object"


def test_without_a_targeting_key_there_is_no_context_id(
    ours: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    ours.add_hooks([audit])
    ours.get_boolean_value("vip", False, EvaluationContext(attributes={"plan": "pro"}))
    (record,) = _records(audit, sink)
    assert CONTEXT_ID not in record
    assert record[CONTEXT] == {"plan": "pro"}


def test_include_context_false_leaves_the_context_out(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    hook = AuditHook(hasher=hasher, sink=sink, include_context=False)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("vip", False, _context())
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert CONTEXT not in record
    assert record[VARIANT] == "on"


def test_the_hooks_policy_decides_what_the_context_keeps(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    policy = Sanitizer(allow=frozenset({"plan"}))
    hook = AuditHook(hasher=hasher, sink=sink, sanitizer=policy)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("vip", False, _context(country="DE"))
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert record[CONTEXT] == {"plan": "pro"}


# --- errors -----------------------------------------------------------------------------


def test_a_missing_flag_is_recorded_with_its_error(
    client: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    client.add_hooks([audit])
    details = client.get_boolean_details("no-such-flag", False, _context())
    assert details.value is False
    (record,) = _records(audit, sink)
    assert record[ERROR_TYPE] == "flag_not_found"
    assert record[REASON] == "error"
    assert "no-such-flag" in record[ERROR_MESSAGE]
    assert VARIANT not in record


def test_a_type_mismatch_is_recorded(
    client: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    client.add_hooks([audit])
    assert client.get_boolean_value("limit", False, _context()) is False
    (record,) = _records(audit, sink)
    assert record[ERROR_TYPE] == "type_mismatch"


def _quoting(_flag: InMemoryFlag[bool], context: EvaluationContext) -> FlagResolutionDetails[bool]:
    # A provider whose error message quotes the context (ours no longer does).
    return FlagResolutionDetails(
        False,
        error_code=ErrorCode.GENERAL,
        error_message=f"targeting of 'echo' found no variant {context.attributes.get('email')!r}",
        reason=Reason.ERROR,
    )


def test_an_error_message_loses_the_context_values_it_quotes(
    domain: str, audit: AuditHook, sink: Collector
) -> None:
    flag = InMemoryFlag("off", {"on": True, "off": False}, context_evaluator=_quoting)
    api.set_provider_and_wait(InMemoryProvider({"echo": flag}), domain=domain)
    client = api.get_client(domain)
    client.add_hooks([audit])
    details = client.get_boolean_details("echo", False, _context())
    assert details.error_message is not None
    assert EMAIL in details.error_message
    (record,) = _records(audit, sink)
    assert record[ERROR_TYPE] == "general"
    assert EMAIL not in record[ERROR_MESSAGE]
    assert REDACTED in record[ERROR_MESSAGE]
    assert "'echo'" in record[ERROR_MESSAGE]


def test_scrubbing_cuts_out_strings_and_long_numbers_at_any_depth(audit: AuditHook) -> None:
    context = EvaluationContext(
        targeting_key="tk-123",
        attributes={"a": {"b": [{"c": "deep-secret"}]}, "n": 987654, "short": "DE", "flag": True},
    )
    message = "tk-123 deep-secret 987654 DE True"
    assert audit.scrub_message(message, context) == (f"{REDACTED} {REDACTED} {REDACTED} DE True")


@pytest.mark.parametrize("quoting", sorted(QUOTINGS))
@pytest.mark.parametrize("value", HOSTILE_TEXTS)
def test_a_value_is_cut_out_however_the_message_quotes_it(
    audit: AuditHook, value: str, quoting: str
) -> None:
    # "CORP\\jsmith" quoted with repr() is "'CORP\\\\jsmith'": cutting out only the
    # value as it is would leave it there.
    quoted = QUOTINGS[quoting](value)
    for context in (EvaluationContext(value), EvaluationContext(USER, {"a": {"b": [value]}})):
        scrubbed = audit.scrub_message(f"no user {quoted} in the directory", context)
        assert scrubbed.startswith("no user ")  # cut out, not the whole message withheld
        assert scrubbed.endswith(" in the directory")
        assert REDACTED in scrubbed
        assert [form for form in written_forms(value) if form in scrubbed] == []


def test_the_issue_s_backslash_key_is_cut_out_of_a_repr_quoted_path(audit: AuditHook) -> None:
    message = "evaluation context rejected: attribute 'votes.CORP\\\\jsmith' is a string"
    scrubbed = audit.scrub_message(message, EvaluationContext("CORP\\jsmith"))
    assert scrubbed == f"evaluation context rejected: attribute 'votes.{REDACTED}' is a string"


def test_escaped_forms_are_cut_out_longest_first(audit: AuditHook) -> None:
    # "\\ab" is inside "\\\\ab" (its repr() form): cut first, it would leave a backslash.
    context = EvaluationContext("\\ab", {"other": "plain-value"})
    scrubbed = audit.scrub_message("keys '\\\\ab' and \\ab and plain-value", context)
    assert scrubbed == f"keys '{REDACTED}' and {REDACTED} and {REDACTED}"


def test_values_shorter_than_the_minimum_are_kept_escaped_or_not(audit: AuditHook) -> None:
    context = EvaluationContext(attributes={"sep": "\\n", "q": "'"})
    message = "split at '\\\\n' or \\n, quote \\'"
    assert MIN_SCRUBBED_LENGTH > 2
    assert audit.scrub_message(message, context) == message


def test_a_large_context_of_escaped_values_is_scrubbed_whole(audit: AuditHook) -> None:
    many = [f"CORP\\user{n}" for n in range(9_000)]  # under the cap of values walked
    message = f"unknown users {many[-1]!r} and {json.dumps(many[0])}"
    scrubbed = audit.scrub_message(message, EvaluationContext(attributes={"many": many}))
    assert scrubbed == f"unknown users '{REDACTED}' and \"{REDACTED}\""


def test_a_message_that_may_hold_too_many_values_escaped_is_withheld(audit: AuditHook) -> None:
    # Non-ASCII values have no run of plain characters to rule them out by: each would
    # cost ten searches of the message, so beyond 1,000 of them the message is dropped.
    many = [f"例{chr(0x4E00 + n)}え" for n in range(1_001)]
    context = EvaluationContext(attributes={"many": many})
    assert audit.scrub_message(f"unknown user {many[0]!a}", context) == REDACTED
    # Without a backslash, no value can be there escaped: the values as they are go.
    assert audit.scrub_message(f"unknown user {many[0]}", context) == f"unknown user {REDACTED}"
    few = EvaluationContext(attributes={"many": many[:1_000]})
    assert audit.scrub_message(f"unknown user {many[0]!a}", few) == f"unknown user '{REDACTED}'"


@given(st.text())
def test_every_escaped_form_holds_a_backslash(text: str) -> None:
    # scrub_message builds the escaped forms only for a message with a backslash in it.
    forms = _escaped_forms(text)
    assert text not in forms
    assert all("\\" in form for form in forms)
    assert forms <= written_forms(text)


@given(st.text(), st.sampled_from(sorted(QUOTINGS)))
def test_the_quick_check_never_rules_out_a_message_that_quotes_the_value(
    text: str, quoting: str
) -> None:
    # scrub_message skips a value's escaped forms when this says the message lacks them.
    assert _may_hold_escaped(f"see {QUOTINGS[quoting](text)}", text)


def test_plain_ascii_has_no_escaped_form() -> None:
    assert _escaped_forms("user-7f3a9c ada@example.com 42") == set()


def test_a_message_that_still_looks_sensitive_is_withheld(audit: AuditHook) -> None:
    message = "lookup failed for grace@example.org"
    assert audit.scrub_message(message, EvaluationContext()) == REDACTED


def test_secrets_in_urls_are_masked_in_error_messages(audit: AuditHook) -> None:
    message = "store at redis://app:hunter2-long-pass@cache:6379/0 is unreachable"
    scrubbed = audit.scrub_message(message, EvaluationContext())
    assert "hunter2-long-pass" not in scrubbed
    assert "cache:6379" in scrubbed


def test_a_context_too_large_to_scrub_withholds_the_message(audit: AuditHook) -> None:
    context = EvaluationContext(attributes={"many": [str(n) for n in range(20_000)]})
    assert audit.scrub_message("nothing personal", context) == REDACTED


def test_error_messages_can_be_left_out(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    hook = AuditHook(hasher=hasher, sink=sink, include_error_message=False)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("no-such-flag", False, _context())
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert record[ERROR_TYPE] == "flag_not_found"
    assert ERROR_MESSAGE not in record


# --- registration and both call paths -------------------------------------------------


def test_registered_on_the_api_it_records_every_client(
    ours: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    api.add_hooks([audit])
    try:
        ours.get_boolean_value("vip", False, _context())
        ours.get_string_value("greeting", "?", _context())
    finally:
        api.clear_hooks()
    assert [record[FLAG_KEY] for record in _records(audit, sink)] == ["vip", "greeting"]


def test_registered_per_invocation_it_records_that_call_only(
    ours: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    options = FlagEvaluationOptions(hooks=[audit])
    ours.get_boolean_value("vip", False, _context(), options)
    ours.get_boolean_value("vip", False, _context())
    assert len(_records(audit, sink)) == 1


def test_async_calls_are_recorded(
    client: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    client.add_hooks([audit])

    async def evaluate() -> bool:
        return await client.get_boolean_value_async("vip", False, _context())

    assert asyncio.run(evaluate()) is True
    (record,) = _records(audit, sink)
    assert record[VARIANT] == "on"


# --- sampling ---------------------------------------------------------------------------


def test_sample_rate_zero_records_nothing(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    hook = AuditHook(hasher=hasher, sink=sink, sample_rate=0.0)
    try:
        ours.add_hooks([hook])
        for _ in range(50):
            assert ours.get_boolean_value("vip", False, _context()) is True
        assert _records(hook, sink) == []
    finally:
        hook.close()


def test_sample_rate_records_about_that_share(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    hook = AuditHook(hasher=hasher, sink=sink, sample_rate=0.5)
    try:
        ours.add_hooks([hook])
        for _ in range(2000):
            ours.get_boolean_value("vip", False, _context())
        recorded = len(_records(hook, sink))
    finally:
        hook.close()
    # Binomial(2000, 0.5): outside [700, 1300] with a probability below 1e-40.
    assert 700 <= recorded <= 1300


# --- logging ----------------------------------------------------------------------------


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_without_a_sink_records_are_logged_with_the_dict_attached(
    ours: OpenFeatureClient, hasher: IdentifierHasher
) -> None:
    logger = logging.getLogger("tests.hooks.audit")
    keep = _Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    hook = AuditHook(hasher=hasher, logger=logger, level=logging.DEBUG)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("vip", False, _context())
        assert hook.flush(WAIT)
    finally:
        hook.close()
        logger.removeHandler(keep)
    (log_record,) = keep.records
    assert log_record.levelno == logging.DEBUG
    audit_record = log_record.__dict__["audit"]
    assert audit_record[FLAG_KEY] == "vip"
    assert log_record.getMessage().startswith("feature flag evaluated: ")
    rendered = json.loads(log_record.getMessage().split(": ", 1)[1])
    assert rendered == audit_record
    assert hook.emitted == 1


def test_a_logger_name_is_accepted(hasher: IdentifierHasher) -> None:
    hook = AuditHook(hasher=hasher, logger="tests.hooks.named")
    assert hook.logger is logging.getLogger("tests.hooks.named")
    assert "tests.hooks.named" in repr(hook)


# --- configuration ----------------------------------------------------------------------


def test_without_a_hashing_key_it_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)
    with pytest.raises(ConfigurationError, match=HASH_KEY_ENV):
        AuditHook()


def test_the_key_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, ours: OpenFeatureClient, sink: Collector
) -> None:
    key = "an-environment-key-of-32-bytes!!"
    monkeypatch.setenv(HASH_KEY_ENV, key)
    hook = AuditHook(sink=sink)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("vip", False, _context())
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert record[CONTEXT_ID] == IdentifierHasher(key)(USER)
    assert key not in repr(hook)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_a_sample_rate_outside_zero_to_one_is_refused(
    hasher: IdentifierHasher, rate: float
) -> None:
    with pytest.raises(ConfigurationError, match="sample_rate"):
        AuditHook(hasher=hasher, sample_rate=rate)


@pytest.mark.parametrize("size", [0, -1, True])
def test_a_queue_size_that_is_not_positive_is_refused(hasher: IdentifierHasher, size: int) -> None:
    with pytest.raises(ConfigurationError, match="queue_size"):
        AuditHook(hasher=hasher, queue_size=size)


# --- capture ----------------------------------------------------------------------------


def test_capture_adds_sanitised_fields_but_never_overrides_the_hooks_own(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    def capture() -> dict[str, Any]:
        return {"trace_id": "4bf92f3577b34da6", "session": "s-1", FLAG_KEY: "forged"}

    hook = AuditHook(hasher=hasher, sink=sink, capture=capture)
    try:
        ours.add_hooks([hook])
        ours.get_boolean_value("vip", False, _context())
        (record,) = _records(hook, sink)
    finally:
        hook.close()
    assert record["trace_id"] == "4bf92f3577b34da6"
    assert record["session"] == REDACTED
    assert record[FLAG_KEY] == "vip"


# --- failure isolation ------------------------------------------------------------------


def test_a_raising_sink_changes_no_result_and_is_counted(
    client: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    sink.fail = True
    client.add_hooks([audit])
    results = [client.get_boolean_details("vip", False, _context()) for _ in range(5)]
    assert [details.value for details in results] == [True] * 5
    assert all(details.error_code is None for details in results)
    assert audit.flush(WAIT)
    assert audit.failed == 5
    assert audit.emitted == 0


def test_a_raising_capture_changes_no_result_and_is_counted(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    def capture() -> dict[str, Any]:
        raise RuntimeError("no span")

    hook = AuditHook(hasher=hasher, sink=sink, capture=capture)
    try:
        ours.add_hooks([hook])
        details = ours.get_boolean_details("vip", False, _context())
        assert hook.flush(WAIT)
    finally:
        hook.close()
    assert details.value is True
    assert details.error_code is None
    assert hook.failed == 1
    assert sink.records == []


def test_a_blocked_sink_fills_the_queue_then_drops_and_counts(
    client: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    sink.release.clear()
    hook = AuditHook(hasher=hasher, sink=sink, queue_size=5)
    try:
        client.add_hooks([hook])
        assert client.get_boolean_value("vip", False, _context()) is True
        assert hook.flush(0.0) is False
        # The drain thread holds the first record inside the blocked sink.
        assert sink.entered.wait(WAIT)
        results = [client.get_boolean_value("vip", False, _context()) for _ in range(49)]
        assert results == [True] * 49
        assert hook.dropped == 44
        assert hook.flush(0.05) is False
        sink.release.set()
        assert hook.flush(WAIT)
    finally:
        sink.release.set()
        hook.close()
    assert hook.emitted == 6
    assert len(sink.records) == 6
    assert hook.dropped == 44


def test_after_close_records_are_dropped_and_counted(
    ours: OpenFeatureClient, audit: AuditHook, sink: Collector
) -> None:
    ours.add_hooks([audit])
    ours.get_boolean_value("vip", False, _context())
    audit.close()
    assert ours.get_boolean_value("vip", False, _context()) is True
    assert audit.emitted == 1
    assert audit.dropped == 1
    audit.close()  # idempotent
    assert len(sink.records) == 1


def test_close_gives_up_on_a_blocked_sink_and_counts_what_is_left(
    ours: OpenFeatureClient, hasher: IdentifierHasher, sink: Collector
) -> None:
    sink.release.clear()
    hook = AuditHook(hasher=hasher, sink=sink)
    ours.add_hooks([hook])
    ours.get_boolean_value("vip", False, _context())
    assert sink.entered.wait(WAIT)
    for _ in range(3):
        ours.get_boolean_value("vip", False, _context())
    hook.close(timeout=0.05)
    assert hook.dropped == 3
    sink.release.set()


def test_repr_shows_counters_not_the_key(audit: AuditHook) -> None:
    text = repr(audit)
    assert text.startswith("AuditHook(sink, sample_rate=1.0")
    assert "a-test-hashing-key" not in text


# --- the cache of recent pseudonyms ------------------------------------------------------


class CountingHasher(IdentifierHasher):
    """A real hasher that counts its calls."""

    calls = 0

    def __call__(self, value: str) -> str:
        type(self).calls += 1
        return super().__call__(value)


@pytest.mark.parametrize("size", [0, 2])
def test_recent_subjects_are_hashed_once_and_the_cache_is_bounded(
    ours: OpenFeatureClient, size: int
) -> None:
    CountingHasher.calls = 0
    hasher = CountingHasher("a-test-hashing-key-of-32-bytes!!")
    records: list[Mapping[str, Any]] = []
    hook = AuditHook(hasher=hasher, sink=records.append, pseudonym_cache_size=size)
    ours.add_hooks([hook])
    try:
        users = ["u-1", "u-2", "u-1", "u-2", "u-3", "u-1"]
        for user in users:
            ours.get_boolean_value("vip", False, EvaluationContext(user))
        assert hook.flush(10.0)
    finally:
        hook.close()
    # Each record has its own subject's pseudonym, whatever was cached.
    assert [record[CONTEXT_ID] for record in records] == [hasher(user) for user in users]
    made = CountingHasher.calls - len(users)  # the calls of the line above
    # Size 2: u-1, u-2 hashed, then u-3 (evicting u-1), then u-1 again.
    assert made == (len(users) if size == 0 else 4)
    assert len(hook._recent) == size  # the bound itself is the point


@pytest.mark.parametrize("size", [-1, 1.5, True, "8"])
def test_a_bad_cache_size_is_refused(hasher: IdentifierHasher, size: Any) -> None:
    with pytest.raises(ConfigurationError, match="pseudonym_cache_size"):
        AuditHook(hasher=hasher, pseudonym_cache_size=size)

"""AuditHook: variants, values, context entries and error messages that repeat the subject
are redacted."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import (
    FlagEvaluationDetails,
    FlagResolutionDetails,
    FlagType,
    Reason,
)
from openfeature.hook import HookContext
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from openfeature.provider.metadata import Metadata

from openfeature_litestar import REDACTED, IdentifierHasher
from openfeature_litestar.hooks import AuditHook
from openfeature_litestar.hooks._audit import (
    CONTEXT,
    CONTEXT_ID,
    ERROR_MESSAGE,
    MIN_SCRUBBED_LENGTH,
    VALUE,
    VARIANT,
)
from tests.support import QUOTINGS, written_forms

from .conftest import TEST_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

WAIT = 10.0
USER = "user-8c1f2a"
HASHER = IdentifierHasher(TEST_KEY)


def _record(
    context: EvaluationContext,
    *,
    variant: str | None = "on",
    value: Any = True,
    metadata: Mapping[str, Any] | None = None,
    include_value: bool = True,
    error_message: str | None = None,
) -> dict[str, Any]:
    """The record the hook builds for one evaluation (nothing is queued).

    With ``error_message``, the evaluation failed (``GENERAL``) with that message.
    """
    hook = AuditHook(hasher=HASHER, sink=lambda _record: None, include_value=include_value)
    try:
        hook_context = HookContext("f", FlagType.STRING, "", context, None, Metadata(name="p"))
        failed = error_message is not None
        details = FlagEvaluationDetails(
            "f",
            value,
            variant=variant,
            reason=Reason.ERROR if failed else Reason.TARGETING_MATCH,
            flag_metadata=dict(metadata or {}),
            error_code=ErrorCode.GENERAL if failed else None,
            error_message=error_message,
        )
        return hook.build_record(hook_context, details)
    finally:
        hook.close()


# --- the variant and the value ----------------------------------------------------------


def test_a_variant_equal_to_the_targeting_key_is_redacted() -> None:
    record = _record(EvaluationContext(USER), variant=USER, value=USER)
    assert record[VARIANT] == REDACTED
    assert record[VALUE] == REDACTED
    assert USER not in json.dumps(record)


def test_a_variant_equal_to_a_nested_context_value_is_redacted() -> None:
    context = EvaluationContext(USER, {"org": {"members": ["jane-doe-1970"]}})
    record = _record(context, variant="jane-doe-1970", value="jane-doe-1970")
    assert record[VARIANT] == REDACTED
    assert record[VALUE] == REDACTED


def test_a_variant_equal_to_a_number_of_the_context_is_redacted() -> None:
    record = _record(EvaluationContext(USER, {"account": 99812345}), variant="99812345")
    assert record[VARIANT] == REDACTED


def test_a_variant_that_is_an_email_address_is_redacted_even_if_not_in_the_context() -> None:
    record = _record(EvaluationContext(USER), variant="müller@bücher.de")
    assert record[VARIANT] == REDACTED


def test_a_variant_equal_to_the_providers_context_id_is_redacted() -> None:
    record = _record(
        EvaluationContext(USER), variant="ctx-5521-a", metadata={"contextId": "ctx-5521-a"}
    )
    assert record[VARIANT] == REDACTED
    assert record[CONTEXT_ID] == HASHER("ctx-5521-a")


def test_ordinary_variants_and_values_are_kept() -> None:
    context = EvaluationContext(USER, {"plan": "pro", "age": 30, "org": {"tier": "gold"}})
    assert _record(context, variant="on", value="on")[VARIANT] == "on"
    record = _record(context, variant="enabled", value="blue")
    assert record[VARIANT] == "enabled"
    assert record[VALUE] == "blue"


def test_a_variant_shorter_than_three_characters_is_kept_even_if_in_the_context() -> None:
    # As in error messages: "on" in the context identifies nobody.
    assert _record(EvaluationContext(USER, {"mode": "on"}), variant="on")[VARIANT] == "on"


def test_a_provider_returning_the_targeting_key_as_variant_is_redacted(domain: str) -> None:
    def echo(_flag: InMemoryFlag[bool], context: EvaluationContext) -> FlagResolutionDetails[bool]:
        return FlagResolutionDetails(True, variant=context.targeting_key)

    api.set_provider_and_wait(
        InMemoryProvider({"f": InMemoryFlag("on", {"on": True}, context_evaluator=echo)}),
        domain=domain,
    )
    client = api.get_client(domain)
    records: list[dict[str, Any]] = []
    hook = AuditHook(hasher=HASHER, sink=lambda record: records.append(dict(record)))
    try:
        client.add_hooks([hook])
        details = client.get_boolean_details("f", False, EvaluationContext(USER))
        assert details.variant == USER
        assert hook.flush(WAIT)
    finally:
        hook.close()
    (record,) = records
    assert record[VARIANT] == REDACTED


# --- the recorded context ---------------------------------------------------------------


def test_an_attribute_repeating_the_targeting_key_is_redacted() -> None:
    context = EvaluationContext(USER, {"userId": USER, "plan": "pro"})
    assert _record(context)[CONTEXT] == {"userId": REDACTED, "plan": "pro"}


def test_a_mapping_key_equal_to_the_targeting_key_is_redacted() -> None:
    context = EvaluationContext(USER, {"votes": {USER: 1, "other": 2}, "list": [USER, "x"]})
    assert _record(context)[CONTEXT] == {
        "votes": {REDACTED: 1, "other": 2},
        "list": [REDACTED, "x"],
    }


def test_a_number_equal_to_a_numeric_targeting_key_is_redacted() -> None:
    context = EvaluationContext("4217", {"userId": 4217, "beta": True, "count": 1})
    assert _record(context)[CONTEXT] == {"userId": REDACTED, "beta": True, "count": 1}


def test_an_attribute_repeating_the_context_id_is_redacted() -> None:
    context = EvaluationContext(USER, {"session": "ctx-5521-a", "ref": "ctx-5521-a"})
    record = _record(context, metadata={"contextId": "ctx-5521-a"})
    # "session" is a sensitive name anyway; "ref" is redacted for equalling the id.
    assert record[CONTEXT] == {"session": REDACTED, "ref": REDACTED}


def test_a_context_without_the_subject_is_recorded_as_sanitised() -> None:
    context = EvaluationContext(USER, {"plan": "pro", "org": {"tier": "gold", "n": [1, 2]}})
    assert _record(context)[CONTEXT] == {"plan": "pro", "org": {"tier": "gold", "n": [1, 2]}}


# --- property: the subject never reaches the record -------------------------------------

# "user-" keeps a subject from being found by chance inside a hash or a record key.
SUBJECT = st.text("abcdefghijkmnpqrstuvwxyz0123456789", min_size=1, max_size=12).map(
    "user-{}".format
)
LEAF = st.one_of(st.sampled_from(["pro", "DE", "on", "gold"]), st.integers(0, 99), st.booleans())


def _planted(subject: str) -> st.SearchStrategy[Any]:
    """Attributes where the subject sits as a value or a key, at any depth, among others."""
    leaf = st.one_of(LEAF, st.just(subject))
    name = st.one_of(st.sampled_from(["userId", "ref", "owner", "votes"]), st.just(subject))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(name, inner, max_size=3)
        ),
        max_leaves=12,
    )


@settings(max_examples=150)
@given(data=st.data(), subject=SUBJECT, where=st.sampled_from(["key", "context_id"]))
def test_the_subject_never_reaches_the_record(
    data: st.DataObject, subject: str, where: str
) -> None:
    attributes = data.draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), _planted(subject)))
    echoed = data.draw(st.sampled_from([subject, "on", "enabled"]))
    if where == "key":
        context, metadata = EvaluationContext(subject, attributes), None
    else:
        context, metadata = EvaluationContext("someone-else", attributes), {"contextId": subject}
    record = _record(context, variant=echoed, value=echoed, metadata=metadata)
    assert subject not in json.dumps(record, default=str)
    if echoed != subject:
        assert record[VARIANT] == echoed


# --- property: the targeting key, however quoted, never reaches error.message ------------

# Any text the hook cuts out (three characters or more), surrogates and control characters
# included, but none of "[REDACTED]": a key such as "ACT" is inside the marker that
# replaces it, so it would be found there whatever the hook did.
ANY_KEY = st.text(
    st.characters(blacklist_characters="[]REDACT"), min_size=MIN_SCRUBBED_LENGTH, max_size=16
)


@settings(max_examples=300)
@given(
    key=ANY_KEY, quoting=st.sampled_from(sorted(QUOTINGS)), where=st.sampled_from(["key", "deep"])
)
def test_the_targeting_key_never_reaches_the_error_message(
    key: str, quoting: str, where: str
) -> None:
    if where == "key":
        context = EvaluationContext(key, {"plan": "pro"})
    else:
        context = EvaluationContext(USER, {"org": {"members": [key]}})
    prefix = "no variant for "
    message = f"{prefix}{QUOTINGS[quoting](key)}, see the logs"
    record = _record(context, variant=None, error_message=message)
    scrubbed = record[ERROR_MESSAGE]
    if key not in prefix:
        assert scrubbed.startswith(prefix)  # cut out, not withheld whole
    # The message as it is and as a sink writes it (JSON, repr()), without the quotes a
    # key such as "'no" would be found next to.
    serialised = (json.dumps(scrubbed), json.dumps(scrubbed, ensure_ascii=False), repr(scrubbed))
    rendered = [scrubbed, *(text[1:-1] for text in serialised)]
    leaked = [form for form in written_forms(key) for text in rendered if form in text]
    assert leaked == []

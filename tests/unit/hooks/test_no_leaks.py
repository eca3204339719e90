"""No personal data in any log or audit record, whatever the outcome of an evaluation.

Unique sentinel strings are planted in the evaluation context: as the targeting key, as
e-mail addresses (under a sensitive name and inside a harmless-looking one), and under
sensitive names at every nesting depth. Each test runs twice: with plain sentinels, and
with hostile ones that escaping quoters write differently (a backslash as in
``CORP\\jsmith``, quotes, control characters, non-ASCII text and emoji). Evaluations then
go through every outcome the SDK knows (success and each error code, a provider that is
not ready or failed, a flag store that breaks), with both hooks registered, a root-logger
handler capturing every log record at DEBUG, and an audit sink. Every captured message,
argument, extra attribute and traceback is searched for every sentinel, as it is and in
every escaped form (``repr()``, JSON, ...), and so is every record the sink got,
serialised as JSON both ASCII-only and not.
"""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, GeneralError
from openfeature.flag_evaluation import FlagEvaluationOptions, FlagResolutionDetails, Reason
from openfeature.hook import Hook
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from openfeature_litestar import FileStore, FlagProvider, document_from_data
from openfeature_litestar.hooks import AuditHook, HookChain, SanitizingHook
from openfeature_litestar.hooks._audit import CONTEXT_ID, ERROR_MESSAGE, ERROR_TYPE
from tests.support import wait_until, written_forms

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path

    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagEvaluationDetails
    from openfeature.hook import HookContext, HookHints

    from openfeature_litestar import IdentifierHasher

WAIT = 10.0
POLL = 0.05


class Sentinels:
    """Fresh unique values for one test, and a context that carries them everywhere.

    ``hostile`` values hold what escaping quoters write differently: a backslash, single
    and double quotes, control characters (``\\n``, ``\\t``, ``\\x00``, ``\\x1b``),
    non-ASCII text and emoji. The e-mail addresses stay plain: the sanitizer must still
    recognise them.
    """

    def __init__(self, *, hostile: bool = False) -> None:
        tag = uuid.uuid4().hex[:12]
        self.email = f"leak.{tag}@example.com"
        self.second_email = f"other.{tag}@example.org"
        if hostile:
            self.targeting_key = f"CORP\\{tag}\\jsmith"
            self.password = f"pw-'{tag}'-\"hunter2\""
            self.phone = f"+44\n{tag}\tphone\x00"
            self.token = f"tok\x1b[{tag}]deep"
            self.street = f"{tag} José Núñez 例え 🚀 Straße"
        else:
            self.targeting_key = f"tk-{tag}-user"
            self.password = f"pw-{tag}-hunter2"
            self.phone = f"+44-{tag}-phone"
            self.token = f"tok-{tag}-deep"
            self.street = f"{tag} Leak Street"

    def values(self) -> list[str]:
        return [
            self.targeting_key,
            self.email,
            self.second_email,
            self.password,
            self.phone,
            self.token,
            self.street,
        ]

    def attributes(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "plan": "pro",
            "note": f"reach me at {self.second_email}",  # sensitive by value, not by name
            "password": self.password,
            "profile": {
                "contacts": [{"phone": self.phone}],
                "a": {"b": {"c": {"d": {"token": self.token}}}},
            },
            "address": {"street": self.street},
        }

    def context(self, **extra: Any) -> EvaluationContext:
        return EvaluationContext(self.targeting_key, {**self.attributes(), **extra})


class Capture(logging.Handler):
    """Every log record in the process, rendered every way a handler could render it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def rendered(self) -> Iterator[str]:
        for record in self.records:
            yield self.format(record)  # message, and the traceback when there is one
            yield repr(record.args)
            yield repr(record.msg)
            yield repr(vars(record))  # extra attributes, such as the audit dict
            # repr() escapes a message's text once more: search the audit dict's own texts
            # too, or a sentinel the message quotes escaped would be escaped twice.
            yield from _strings(getattr(record, "audit", None))
            if record.exc_info and record.exc_info[1] is not None:
                yield repr(record.exc_info[1].args)


@pytest.fixture
def capture() -> Iterator[Capture]:
    root = logging.getLogger()
    handler = Capture()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _leaks(texts: Iterator[str] | list[str], sentinels: Sentinels) -> list[str]:
    """Each sentinel found in ``texts``, as it is or in one of its escaped forms."""
    forms = {form: value for value in sentinels.values() for form in written_forms(value)}
    return [
        f"{value!r} (as {form!r}) in {text[:300]!r}"
        for text in texts
        for form, value in forms.items()
        if form in text
    ]


def _strings(value: Any) -> Iterator[str]:
    """Every key and value of ``value`` as text, at any depth (nothing for ``None``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _serialised(records: list[dict[str, Any]]) -> list[str]:
    """The records' texts, and the records as a sink would write them (JSON, repr()).

    Serialising escapes what the texts hold: a sentinel a message quotes escaped is
    written escaped twice, so the texts themselves are searched as well.
    """
    return [
        text
        for record in records
        for text in (
            *_strings(record),
            json.dumps(record, default=str),
            json.dumps(record, default=str, ensure_ascii=False),
            repr(record),
        )
    ]


class Audited:
    """Both hooks on a client: validation first, and the audit log both ways."""

    def __init__(self, client: OpenFeatureClient, hasher: IdentifierHasher) -> None:
        self.records: list[dict[str, Any]] = []
        self.logged = AuditHook(hasher=hasher, level=logging.DEBUG)
        self.sunk = AuditHook(hasher=hasher, sink=self._keep)
        self.client = client
        client.add_hooks([SanitizingHook(), self.logged, HookChain(self.sunk)])

    def _keep(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    def settle(self) -> list[dict[str, Any]]:
        assert self.logged.flush(WAIT)
        assert self.sunk.flush(WAIT)
        return self.records

    def close(self) -> None:
        self.logged.close()
        self.sunk.close()


@pytest.fixture(params=["plain", "hostile"])
def sentinels(request: pytest.FixtureRequest) -> Sentinels:
    return Sentinels(hostile=request.param == "hostile")


def _assert_clean(
    capture: Capture,
    audited: Audited,
    sentinels: Sentinels,
    expected_errors: set[str],
    *,
    audit_only: bool = False,
) -> None:
    """Nothing of ``sentinels`` in any log record (``audit_only``: any audit record)."""
    records = audited.settle()
    assert records, "the audit sink saw nothing: the test would prove nothing"
    assert capture.records, "no log record was captured: the test would prove nothing"
    audit_logs = [record for record in capture.records if hasattr(record, "audit")]
    assert len(audit_logs) == len(records)
    assert {record.get(ERROR_TYPE) for record in records} >= expected_errors
    assert any(CONTEXT_ID in record for record in records)
    logged = Capture()
    logged.records = audit_logs if audit_only else capture.records
    assert _leaks(list(logged.rendered()) + _serialised(records), sentinels) == []


def test_the_search_finds_a_planted_sentinel(sentinels: Sentinels, capture: Capture) -> None:
    logging.getLogger("tests.control").debug("user %s", {"nested": [sentinels.token]})
    assert _leaks(list(capture.rendered()), sentinels) != []


@pytest.mark.parametrize("quote", [repr, ascii, json.dumps, lambda text: str(KeyError(text))])
def test_the_search_finds_an_escaped_sentinel(sentinels: Sentinels, quote: Any) -> None:
    record = {ERROR_MESSAGE: f"no user {quote(sentinels.targeting_key)}"}
    assert _leaks(_serialised([record]), sentinels) != []


# --- outcomes through a ready provider ---------------------------------------------------


def _every_outcome(client: OpenFeatureClient, sentinels: Sentinels) -> list[Any]:
    context = sentinels.context()
    oversized = sentinels.context(bio=sentinels.email * 200, **{sentinels.email: "key"})
    return [
        client.get_boolean_details("vip", False, context),  # success
        client.get_string_details("greeting", "?", context),  # static
        client.get_boolean_details("no-such-flag", False, context),  # FLAG_NOT_FOUND
        client.get_boolean_details("limit", False, context),  # TYPE_MISMATCH
        client.get_boolean_details("echo", False, context),  # GENERAL
        client.get_boolean_details("broken", False, context),  # PARSE_ERROR (ours)
        client.get_boolean_details("vip", False, oversized),  # INVALID_CONTEXT
    ]


def _echo(_flag: InMemoryFlag[bool], context: EvaluationContext) -> FlagResolutionDetails[bool]:
    # A provider whose message quotes the context (our engine quotes none), escaped every
    # way: repr() (as !r and KeyError do), ascii(), JSON.
    attributes: dict[str, Any] = dict(context.attributes)
    password, street = attributes.get("password"), attributes.get("address", {}).get("street")
    return FlagResolutionDetails(
        False,
        error_code=ErrorCode.GENERAL,
        error_message=(
            f"no variant named {attributes.get('email')!r} for {context.targeting_key!r} "
            f"({json.dumps(password)}, {street!a}, {KeyError(attributes.get('phone'))})"
        ),
        reason=Reason.ERROR,
    )


VIP_RULE = {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]}


def _providers() -> dict[str, Callable[[], Any]]:
    flags: dict[str, Any] = {
        "metadata": {"flagSetId": "leak-test"},
        "flags": {
            "vip": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": VIP_RULE,
            },
            "greeting": {"state": "ENABLED", "variants": {"hi": "hi"}, "defaultVariant": "hi"},
            "limit": {"state": "ENABLED", "variants": {"n": 3}, "defaultVariant": "n"},
            "echo": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"var": "email"},
            },
            "broken": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {"no-such-operator": [{"var": "email"}]},
            },
        },
    }
    boolean = {"on": True, "off": False}
    return {
        "ours": lambda: FlagProvider(document_from_data(flags, strict=False)),
        "in-memory": lambda: InMemoryProvider(
            {
                "vip": InMemoryFlag("on", dict(boolean)),
                "greeting": InMemoryFlag("hi", {"hi": "hi"}),
                "limit": InMemoryFlag("n", {"n": 3}),
                "echo": InMemoryFlag("off", dict(boolean), context_evaluator=_echo),
            }
        ),
    }


@pytest.mark.parametrize("kind", sorted(_providers()))
def test_every_outcome_sync_and_async_leaks_nothing(
    kind: str, domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    api.set_provider_and_wait(_providers()[kind](), domain=domain)
    audited = Audited(api.get_client(domain), hasher)
    try:
        outcomes = _every_outcome(audited.client, sentinels)

        async def evaluate_async() -> list[FlagEvaluationDetails[bool]]:
            context = sentinels.context()
            return [
                await audited.client.get_boolean_details_async(key, False, context)
                for key in ("vip", "no-such-flag", "echo", "limit")
            ]

        outcomes += asyncio.run(evaluate_async())
        codes = {details.error_code for details in outcomes}
        expected = {
            ErrorCode.FLAG_NOT_FOUND,
            ErrorCode.TYPE_MISMATCH,
            ErrorCode.GENERAL,
            ErrorCode.INVALID_CONTEXT,
        }
        if kind == "ours":
            expected.add(ErrorCode.PARSE_ERROR)
        assert codes >= expected
        if kind != "ours":
            # The caller gets the provider's own message (which here quotes the e-mail):
            # the search would find a leak if the audit log copied it. Our engine's
            # messages quote no context value at all.
            assert any(sentinels.email in (details.error_message or "") for details in outcomes)
        _assert_clean(
            capture,
            audited,
            sentinels,
            {"flag_not_found", "type_mismatch", "general", "invalid_context"},
        )
    finally:
        audited.close()


# --- what quotes the targeting key escaped: our validation, the SDK ------------------------


class Quoting(Hook):
    """A ``before`` hook that fails quoting the targeting key, as a lookup by key does.

    The SDK turns the exception into the evaluation's message with ``str()``, which for
    a ``KeyError`` is the key's ``repr()``: ``'CORP\\\\jsmith'`` for ``CORP\\jsmith``.
    """

    def before(self, hook_context: HookContext, hints: HookHints) -> None:  # noqa: ARG002 - the SDK's signature
        raise KeyError(hook_context.evaluation_context.targeting_key)


@pytest.mark.parametrize("kind", sorted(_providers()))
def test_a_targeting_key_quoted_escaped_leaks_nothing(
    kind: str, domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    api.set_provider_and_wait(_providers()[kind](), domain=domain)
    audited = Audited(api.get_client(domain), hasher)
    try:
        client = audited.client
        # A map keyed by user, one of whose entries breaks a limit: SanitizingHook names
        # the entry's path, the targeting key in it.
        keyed = sentinels.context(votes={sentinels.targeting_key: "x" * 2000})
        rejected = client.get_boolean_details("vip", False, keyed)
        assert rejected.error_code == ErrorCode.INVALID_CONTEXT
        assert sentinels.targeting_key in (rejected.error_message or "")
        # A hook of the application that fails with the key: the SDK's message is repr().
        options = FlagEvaluationOptions(hooks=[Quoting()])
        failed = client.get_boolean_details("vip", False, sentinels.context(), options)
        assert failed.error_code == ErrorCode.GENERAL
        assert failed.error_message == repr(sentinels.targeting_key)
        # The SDK also logs the hook's exception with its traceback, the key in it: that
        # is the application's hook, not ours, so only the audit records are searched.
        _assert_clean(capture, audited, sentinels, {"invalid_context", "general"}, audit_only=True)
    finally:
        audited.close()


# --- providers that are not ready, or failed ---------------------------------------------


class SlowStart(InMemoryProvider):
    """An InMemoryProvider whose initialize() waits until released."""

    def __init__(self) -> None:
        super().__init__({"vip": InMemoryFlag("on", {"on": True})})
        self.release = threading.Event()

    def initialize(self, evaluation_context: EvaluationContext) -> None:  # noqa: ARG002 - SDK signature
        self.release.wait(WAIT)


def test_a_provider_that_is_not_ready_leaks_nothing(
    domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    provider = SlowStart()
    api.set_provider(provider, domain=domain)
    audited = Audited(api.get_client(domain), hasher)
    try:
        details = audited.client.get_boolean_details("vip", False, sentinels.context())
        assert details.error_code == ErrorCode.PROVIDER_NOT_READY
        provider.release.set()
        _assert_clean(capture, audited, sentinels, {"provider_not_ready"})
    finally:
        provider.release.set()
        audited.close()


def _write(path: Path, content: str | dict[str, Any]) -> None:
    text = content if isinstance(content, str) else json.dumps(content)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


FILE_FLAGS = {
    "flags": {
        "vip": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": VIP_RULE,
        }
    }
}


def test_a_provider_in_error_leaks_nothing(
    tmp_path: Path, domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    provider = FlagProvider(FileStore(tmp_path / "absent.json", poll_interval=POLL))
    with pytest.raises(GeneralError):
        api.set_provider_and_wait(provider, domain=domain)
    audited = Audited(api.get_client(domain), hasher)
    try:
        details = audited.client.get_boolean_details("vip", False, sentinels.context())
        assert details.value is False
        assert details.error_code is not None
        _assert_clean(capture, audited, sentinels, {str(details.error_code).lower()})
    finally:
        audited.close()


def test_a_store_that_breaks_and_disappears_leaks_nothing(
    tmp_path: Path, domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    path = tmp_path / "flags.json"
    _write(path, FILE_FLAGS)
    provider = FlagProvider(FileStore(path, poll_interval=POLL))
    api.set_provider_and_wait(provider, domain=domain)
    audited = Audited(api.get_client(domain), hasher)
    try:
        client = audited.client
        assert client.get_boolean_value("vip", False, sentinels.context()) is True
        _write(path, '{"flags": {"vip": {"state": "ENABLED", "variants": ')
        wait_until(lambda: provider.last_sync_error is not None, timeout=WAIT, interval=POLL)
        assert client.get_boolean_value("vip", False, sentinels.context()) is True
        path.unlink()
        wait_until(
            lambda: "no such file" in str(provider.last_sync_error), timeout=WAIT, interval=POLL
        )
        details = client.get_boolean_details("no-such-flag", False, sentinels.context())
        assert details.error_code == ErrorCode.FLAG_NOT_FOUND
        assert any(record.name.startswith("openfeature_litestar") for record in capture.records)
        _assert_clean(capture, audited, sentinels, {"flag_not_found"})
    finally:
        audited.close()


# --- span events (TracingHook) -----------------------------------------------------------


def _span_texts(spans: Any) -> list[str]:
    """Every name, attribute and event of ``spans``, as texts and serialised."""
    texts: list[str] = []
    for span in spans:
        texts += [span.name, *_serialised([dict(span.attributes or {})])]
        for event in span.events:
            texts += [event.name, *_serialised([dict(event.attributes or {})])]
    return texts


@pytest.mark.parametrize("kind", sorted(_providers()))
def test_span_events_leak_nothing(
    kind: str, domain: str, hasher: IdentifierHasher, sentinels: Sentinels
) -> None:
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415 - dev-only package
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: PLC0415
        InMemorySpanExporter,
    )

    from openfeature_litestar.hooks import TracingHook  # noqa: PLC0415

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    api.set_provider_and_wait(_providers()[kind](), domain=domain)
    client = api.get_client(domain)
    # The value too: the strictest setting that can be switched on.
    client.add_hooks([SanitizingHook(), TracingHook(hasher=hasher, include_value=True)])
    with tracer_provider.get_tracer("tests").start_as_current_span("request"):
        outcomes = _every_outcome(client, sentinels)
        # A default that holds personal data comes back as the value of a failed one.
        for default in (sentinels.email, sentinels.targeting_key, sentinels.street):
            outcomes.append(client.get_string_details("no-such-flag", default, sentinels.context()))
    (span,) = exporter.get_finished_spans()
    assert len(span.events) == len(outcomes), "an evaluation without its event proves nothing"
    attributes = [dict(event.attributes or {}) for event in span.events]
    assert {event.get(ERROR_TYPE) for event in attributes} >= {"flag_not_found", "general"}
    assert all(event[CONTEXT_ID] == hasher(sentinels.targeting_key) for event in attributes)
    assert _leaks(_span_texts([span]), sentinels) == []


# --- tracking events (FlagProvider.track, TrackingRecorder) -------------------------------


def test_tracking_events_leak_nothing(
    domain: str, hasher: IdentifierHasher, capture: Capture, sentinels: Sentinels
) -> None:
    from openfeature.track import TrackingEventDetails  # noqa: PLC0415

    from openfeature_litestar.hooks import TrackingRecorder  # noqa: PLC0415

    records: list[dict[str, Any]] = []
    sunk = TrackingRecorder(hasher=hasher, sink=lambda record: records.append(dict(record)))
    logged = TrackingRecorder(hasher=hasher, level=logging.DEBUG)

    def both(*args: Any) -> None:
        sunk(*args)
        logged(*args)

    provider = FlagProvider(_providers()["ours"]().store, tracking=both)
    api.set_provider_and_wait(provider, domain=domain)
    client = api.get_client(domain)
    try:
        details = TrackingEventDetails(value=9.5, attributes=sentinels.attributes())
        details.add("buyer", sentinels.targeting_key)
        client.track("checkout", sentinels.context(), details)
        # Names that are personal data, or hold it.
        client.track(sentinels.email, sentinels.context())
        client.track(sentinels.targeting_key, sentinels.context())
        assert sunk.flush(WAIT)
        assert logged.flush(WAIT)
    finally:
        sunk.close()
        logged.close()
    assert len(records) == 3, "the sink saw nothing: the test would prove nothing"
    assert all(record[CONTEXT_ID] == hasher(sentinels.targeting_key) for record in records)
    counted = [str(name) for name in provider.usage.tracked]
    texts = list(capture.rendered()) + _serialised(records) + counted
    assert _leaks(texts, sentinels) == []

"""AuditHook: one structured, privacy-safe record per flag evaluation.

The record is a flat dict whose keys follow the OpenFeature observability conventions
(Appendix D of the specification, which maps to OpenTelemetry's feature-flag event
records). Three things never reach it:

* the raw targeting key: ``feature_flag.context.id`` is its keyed hash
  (:class:`~openfeature_litestar.IdentifierHasher`), and a variant, a value
  or a context entry equal to it is ``[REDACTED]``;
* the raw evaluation context: ``openfeature_litestar.context`` is the context's
  attributes after the :class:`~openfeature_litestar.Sanitizer` policy, and a
  variant (or included value) equal to a context value, or that looks sensitive, is
  ``[REDACTED]``;
* context values quoted in an error message: ``error.message`` has every string
  (and longer number) of the evaluation's context cut out, as written and as ``repr()``,
  ``ascii()``, JSON and the ``unicode_escape`` codec escape it, secrets in URLs masked,
  and is replaced whole by ``[REDACTED]`` if it still looks sensitive.

The flag's value is left out unless asked for (``include_value=True``): a value can be
personal (a per-user setting) or large.

The hook runs in OpenFeature's ``finally_after`` stage, so failed evaluations are
recorded too. It builds the record on the evaluating thread (so raw context values never
leave the call) and appends it to a bounded queue; a daemon thread hands records to the
logger or the sink. A slow, blocked or failing sink never delays or changes an
evaluation: a full queue drops new records and counts them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from random import random
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from openfeature.flag_evaluation import FlagType, Reason
from openfeature.hook import Hook

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._masking import mask_secrets
from openfeature_litestar._privacy._hashing import IdentifierHasher
from openfeature_litestar._privacy._sanitizer import REDACTED, Sanitizer
from openfeature_litestar._validation import positive_int

from ._drain import DrainQueue

if TYPE_CHECKING:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import FlagEvaluationDetails, FlagValueType
    from openfeature.hook import HookContext, HookHints

__all__ = [
    "CONTEXT",
    "CONTEXT_ID",
    "ERROR_MESSAGE",
    "ERROR_TYPE",
    "FLAG_KEY",
    "FLAG_SET_ID",
    "FLAG_TYPE",
    "FLAG_VERSION",
    "MIN_SCRUBBED_LENGTH",
    "PROVIDER_NAME",
    "REASON",
    "VALUE",
    "VARIANT",
    "AuditHook",
    "AuditSink",
]

AuditSink: TypeAlias = Callable[[Mapping[str, Any]], object]
"""A sink: called with each audit record, on the hook's drain thread."""

# The record's keys: OpenFeature's observability appendix, then our own two.
FLAG_KEY: Final = "feature_flag.key"
"""The flag's key."""
VARIANT: Final = "feature_flag.result.variant"
"""The variant served, when there is one."""
VALUE: Final = "feature_flag.result.value"
"""The value served (only with ``include_value=True``)."""
REASON: Final = "feature_flag.result.reason"
"""Why the value was served: OpenFeature's reason (``TARGETING_MATCH``, ``DEFAULT``, ...)."""
ERROR_TYPE: Final = "error.type"
"""The OpenFeature error code, when the evaluation ended in one."""
ERROR_MESSAGE: Final = "error.message"
"""The error's message, with context values cut out."""
PROVIDER_NAME: Final = "feature_flag.provider.name"
"""The name of the provider that answered."""
FLAG_SET_ID: Final = "feature_flag.set.id"
"""The flag set's id, from the flag's metadata (``flagSetId``)."""
FLAG_VERSION: Final = "feature_flag.version"
"""The flag's version, from its metadata (``version``)."""
CONTEXT_ID: Final = "feature_flag.context.id"
"""A keyed hash of the targeting key (a pseudonym), never the key itself."""
FLAG_TYPE: Final = "openfeature_litestar.flag_type"
"""The type the caller asked for (``boolean``, ``string``, ...); our own field."""
CONTEXT: Final = "openfeature_litestar.context"
"""The sanitized context attributes (only with ``include_context=True``); our own field."""

MIN_SCRUBBED_LENGTH: Final = 3
"""Context values shorter than this (as text) are not cut out of error messages.

One- and two-character values (``"DE"``, ``7``) identify nobody, and cutting them out
would garble every message that happens to contain those characters.
"""

_MAX_SCRUBBED_VALUES: Final = 10_000
# The most values whose escaped forms are cut out of one message (each costs about ten
# searches of it); a message that may hold more of them escaped is dropped.
_MAX_ESCAPED_VALUES: Final = 1_000
_MAX_DECIMAL_SUBJECT: Final = 4_000  # longer digit strings cannot become an int
_NUMBER_START: Final = frozenset("-0123456789in")  # "inf" and "nan" are floats too
_MESSAGE: Final = "feature flag evaluated: %s"
_BOTH_QUOTES: Final = "'\""  # after a text, makes repr() and ascii() escape its single quotes
# Characters that repr(), ascii(), JSON and the unicode_escape codec all write as they are:
# printable ASCII but the backslash and the quotes.
_UNESCAPED_RUN: Final = re.compile(r"[ !#-&(-\[\]-~]+")
_MASK: Final = "***"  # what mask_secrets puts in place of a secret

# The appendix wants OpenTelemetry's lower snake_case for reasons and error codes.
_REASONS: Final[dict[str, str]] = {str(reason): str(reason).lower() for reason in Reason}
_FLAG_TYPES: Final[dict[FlagType, str]] = {kind: kind.value.lower() for kind in FlagType}


class _Rendered:
    """Renders a record as JSON only if a handler formats the log message."""

    __slots__ = ("record",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record

    def __str__(self) -> str:
        return json.dumps(self.record, default=str, ensure_ascii=False)


class AuditHook(Hook):
    """An OpenFeature hook that records every flag evaluation, without personal data.

    Register it like any hook: ``api.add_hooks([AuditHook()])`` for every client,
    ``client.add_hooks([...])`` for one client, or per call through
    ``FlagEvaluationOptions(hooks=[...])``. It works with any provider.

    Each record is a flat dict (see the module documentation and the audit guide for
    every key). By default it is logged on ``logger`` at ``level`` as
    ``"feature flag evaluated: <record as JSON>"`` with the dict itself in the log
    record's ``audit`` attribute (``extra={"audit": record}``), which structured
    handlers (structlog's ``ProcessorFormatter`` with ``ExtraAdder``, JSON formatters)
    pick up. With ``sink``, records go to the sink instead of the logger.

    Args:
        hasher: Hashes the targeting key for ``feature_flag.context.id``. ``None`` builds
            ``IdentifierHasher()``, which reads the key from the
            ``OPENFEATURE_LITESTAR_HASH_KEY`` environment variable and refuses to run
            without one; pass ``IdentifierHasher(ephemeral=True)`` in development.
        sanitizer: The policy applied to the context's attributes (and to the value,
            when included). ``None`` uses ``Sanitizer()``, the default policy.
        sink: Called with each record on the drain thread, instead of logging it.
        logger: The logger (or its name) records go to when there is no sink.
        level: The logging level of the records.
        sample_rate: The share of evaluations recorded, from 0.0 to 1.0; decided first,
            so an evaluation not sampled costs one ``random()`` call.
        queue_size: The most records waiting for the drain thread; beyond it, new
            records are dropped and counted in :attr:`dropped`.
        include_value: Add the flag's value (``feature_flag.result.value``), passed
            through the sanitizer.
        include_context: Add the sanitised context (``openfeature_litestar.context``).
        include_error_message: Add ``error.message`` (scrubbed) when the evaluation
            failed; ``error.type`` is always there.
        capture: Called on the evaluating thread for each sampled record; what it
            returns (sanitised, and never overriding the hook's own keys) is added to
            the record. Use it for what only the request's thread knows, such as a
            trace id or a request id.
        pseudonym_cache_size: How many recent subjects (targeting key and the
            provider's ``contextId``) keep their pseudonym in memory, so that a subject
            evaluated again is not hashed again; the oldest goes first. The cache holds
            raw identifiers in this process's memory only (never in a record, a log or
            a file), like the evaluation contexts themselves; ``0`` turns it off.

    Raises:
        ConfigurationError: ``hasher`` is ``None`` and no hashing key is configured;
            ``sample_rate`` is outside [0, 1]; ``queue_size`` is not a positive integer;
            ``pseudonym_cache_size`` is negative or not an integer.

    .. versionchanged:: 0.2.0
       ``pseudonym_cache_size`` (it was one subject, the last).
    """

    def __init__(
        self,
        *,
        hasher: IdentifierHasher | None = None,
        sanitizer: Sanitizer | None = None,
        sink: AuditSink | None = None,
        logger: logging.Logger | str = "openfeature_litestar.audit",
        level: int = logging.INFO,
        sample_rate: float = 1.0,
        queue_size: int = 10_000,
        include_value: bool = False,
        include_context: bool = True,
        include_error_message: bool = True,
        capture: Callable[[], Mapping[str, Any]] | None = None,
        pseudonym_cache_size: int = 1024,
    ) -> None:
        """Create the hook; its drain thread starts with the first record."""
        if (
            not isinstance(pseudonym_cache_size, int)
            or isinstance(pseudonym_cache_size, bool)
            or pseudonym_cache_size < 0
        ):
            raise ConfigurationError(
                "pseudonym_cache_size must be an integer of at least 0, "
                f"not {pseudonym_cache_size!r}"
            )
        if not 0.0 <= sample_rate <= 1.0:
            raise ConfigurationError(f"sample_rate must be between 0 and 1, not {sample_rate!r}")
        positive_int("queue_size", queue_size)
        self.hasher = hasher if hasher is not None else IdentifierHasher()
        self.sanitizer = sanitizer if sanitizer is not None else Sanitizer()
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        self.sample_rate = sample_rate
        self.include_value = include_value
        self.include_context = include_context
        self.include_error_message = include_error_message
        self._sink = sink
        self._capture = capture
        self._sampled = sample_rate < 1.0
        self._unrecorded = 0
        # (targeting key, contextId) -> (pseudonym, subjects) of recent subjects; see
        # pseudonym_cache_size. Never written anywhere: it only saves the HMAC.
        self._recent: dict[tuple[object, object], tuple[str | None, frozenset[object]]] = {}
        self._recent_size = pseudonym_cache_size
        self._queue = DrainQueue(
            sink if sink is not None else self._log, size=queue_size, name="openfeature-audit"
        )

    # -- counters and lifecycle ---------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Records dropped: the queue was full (a slow sink) or the hook was closed."""
        return self._queue.dropped

    @property
    def emitted(self) -> int:
        """Records handed to the logger or the sink, which returned without raising."""
        return self._queue.emitted

    @property
    def failed(self) -> int:
        """Records whose sink call raised, plus evaluations the hook could not record."""
        return self._queue.failed + self._unrecorded

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued record has been emitted.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            True when nothing is left queued; False when ``timeout`` ran out first.
        """
        return self._queue.flush(timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Emit what is queued (within ``timeout``), then stop; idempotent.

        Records still queued at the timeout, and records of later evaluations, are
        dropped and counted in :attr:`dropped`.

        Args:
            timeout: Seconds to wait for the queue to drain.
        """
        self._queue.close(timeout)

    # -- the OpenFeature hook -----------------------------------------------------------

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,  # noqa: ARG002 - the SDK's signature
    ) -> None:
        """Record the evaluation (sampled); never raises and never blocks.

        Args:
            hook_context: The evaluation's flag, context and provider.
            details: The evaluation's outcome, errors included.
            hints: Unused.
        """
        try:
            if self._sampled and random() >= self.sample_rate:  # noqa: S311 - sampling, not a secret
                return
            self._queue.put(self.build_record(hook_context, details))
        except Exception:
            # The SDK would log a traceback, whose message could quote context values.
            self._unrecorded += 1

    def build_record(
        self, hook_context: HookContext, details: FlagEvaluationDetails[FlagValueType]
    ) -> dict[str, Any]:
        """Build the audit record of one evaluation, without queueing it.

        Useful for a hook of your own that must act on the evaluating thread (adding a
        span event to the current span, for example).

        Args:
            hook_context: The evaluation's flag, context and provider.
            details: The evaluation's outcome.

        Returns:
            The record: a new flat dict, safe to log.
        """
        record: dict[str, Any] = {
            FLAG_KEY: hook_context.flag_key,
            FLAG_TYPE: _FLAG_TYPES.get(hook_context.flag_type, "unknown"),
        }
        provider = hook_context.provider_metadata
        if provider is not None:
            record[PROVIDER_NAME] = provider.name
        variant = details.variant
        if variant is not None:
            record[VARIANT] = variant  # checked below, once the subject is known
        reason = details.reason
        if reason is not None:
            record[REASON] = _REASONS.get(reason) or str(reason).lower()
        context = hook_context.evaluation_context
        subjects = self._add_subject(record, context.targeting_key, details.flag_metadata)
        if variant is not None and self._discloses(variant, context, subjects):
            record[VARIANT] = REDACTED
        if details.error_code is not None or self.include_value:
            self._add_extras(record, context, details, subjects)
        if self.include_context:
            attributes = self.sanitizer.sanitize(context.attributes)
            record[CONTEXT] = _without_subjects(attributes, subjects) if subjects else attributes
        if self._capture is not None:
            for key, value in self.sanitizer.sanitize(self._capture()).items():
                record.setdefault(key, value)
        return record

    def _add_extras(
        self,
        record: dict[str, Any],
        context: EvaluationContext,
        details: FlagEvaluationDetails[FlagValueType],
        subjects: frozenset[object],
    ) -> None:
        """Add the error and, when asked for, the value: the less common keys."""
        if details.error_code is not None:
            record[ERROR_TYPE] = str(details.error_code).lower()
            if self.include_error_message and details.error_message:
                record[ERROR_MESSAGE] = self.scrub_message(details.error_message, context)
        if self.include_value:
            value = details.value
            if isinstance(value, str) and self._discloses(value, context, subjects):
                record[VALUE] = REDACTED
            else:
                record[VALUE] = self.sanitizer.sanitize({VALUE: value}).get(VALUE, REDACTED)

    def _discloses(self, text: object, context: Any, subjects: frozenset[object]) -> bool:
        """Whether a variant or value would show a context value or sensitive data.

        A rule may name variants after users, and a provider may return the targeting
        key as the variant: such a text equals a value of the context. The cheap checks
        come first, so a variant such as ``"on"`` costs a few comparisons.
        """
        if not isinstance(text, str):
            text = str(text)
        if len(text) < MIN_SCRUBBED_LENGTH:
            return False  # as in scrub_message: too short to identify anybody
        if text in subjects or _in_context(text, context):
            return True
        return self.sanitizer.is_sensitive_value(text)

    def _add_subject(
        self, record: dict[str, Any], targeting_key: object, metadata: Mapping[str, Any]
    ) -> frozenset[object]:
        """Add the flag metadata and the pseudonym; return the subject's identifiers."""
        context_id = _add_flag_metadata(record, metadata) if metadata else None
        try:
            known = self._recent[(targeting_key, context_id)]
        except (KeyError, TypeError):  # not seen lately, or not hashable
            known = self._remember(targeting_key, context_id)
        if known[0] is not None:
            record[CONTEXT_ID] = known[0]
        return known[1]

    def _remember(
        self, targeting_key: object, context_id: object
    ) -> tuple[str | None, frozenset[object]]:
        """Hash a subject not seen lately and keep it among the recent ones."""
        # The appendix prefers the provider's contextId to the targeting key.
        subject = context_id or targeting_key
        known = (
            self._pseudonym(str(subject)) if subject else None,
            _subjects(targeting_key, context_id),
        )
        recent, size = self._recent, self._recent_size
        if size:
            try:
                while len(recent) >= size:
                    # Dicts keep insertion order: the first entry is the oldest.
                    recent.pop(next(iter(recent)), None)
                recent[(targeting_key, context_id)] = known
            except (TypeError, RuntimeError, StopIteration):
                pass  # unhashable, or another thread changed the cache: just not kept
        return known

    def _pseudonym(self, subject: str) -> str:
        return self.hasher(subject)

    def scrub_message(self, message: str, context: Any) -> str:
        """Return ``message`` with the evaluation context's values cut out.

        Every string value of the context (the targeting key included, at any depth)
        and every number of at least :data:`MIN_SCRUBBED_LENGTH` characters is replaced
        by ``[REDACTED]``, longest first: as it is, and as a message that quotes it
        escaped writes it (``repr()`` and ``ascii()``, JSON, the ``unicode_escape``
        codec, the ``repr()`` of its UTF-8 bytes). Then passwords in URLs and
        ``key=value`` secrets are masked. A message that still looks sensitive to the
        sanitizer (an e-mail address, a token), or whose context was too large to scrub
        completely (more than 10,000 values, or more than 1,000 values that the message
        may hold escaped), becomes ``[REDACTED]`` whole.

        Args:
            message: An error message from the provider or the SDK.
            context: The evaluation's ``EvaluationContext``.

        Returns:
            The scrubbed message, at most the sanitizer's ``max_string_length`` long.
        """
        values = _context_texts(context)
        if values is None:
            return REDACTED
        if "\\" in message:
            # Every escape starts with a backslash: without one, only the values as they
            # are can be in the message, and no escaped form is worth building.
            escaped = _escaped_in(message, values)
            if escaped is None:
                return REDACTED
            values |= escaped
        for value in sorted(values, key=len, reverse=True):
            message = message.replace(value, REDACTED)
        message = mask_secrets(message)
        # A masked secret ("user:***@host", "password=***") is safe; whatever else
        # still matches a sensitive pattern is not.
        if self.sanitizer.is_sensitive_value(message.replace(_MASK, "")):
            return REDACTED
        return message[: self.sanitizer.max_string_length]

    def _log(self, record: Mapping[str, Any]) -> None:
        self.logger.log(self.level, _MESSAGE, _Rendered(record), extra={"audit": record})

    def __repr__(self) -> str:
        """Show the settings and counters (never the key)."""
        target = "sink" if self._sink is not None else f"logger={self.logger.name!r}"
        return (
            f"AuditHook({target}, sample_rate={self.sample_rate}, "
            f"emitted={self.emitted}, dropped={self.dropped}, failed={self.failed})"
        )


def _add_flag_metadata(record: dict[str, Any], metadata: Mapping[str, Any]) -> object:
    """Add the flag set and the version to ``record``; return the provider's contextId.

    The appendix prefers a provider's ``contextId`` to the targeting key as the
    subject; it identifies a person too, so the caller hashes it.
    """
    flag_set = metadata.get("flagSetId")
    if flag_set is not None:
        record[FLAG_SET_ID] = str(flag_set)
    version = metadata.get("version")
    if version is not None:
        record[FLAG_VERSION] = str(version)
    return metadata.get("contextId")


def _subjects(targeting_key: object, context_id: object) -> frozenset[object]:
    """The identifiers of the evaluation's subject, as text and, if all digits, as numbers."""
    subjects: set[object] = set()
    for subject in (targeting_key, context_id):
        if subject is None or subject == "" or isinstance(subject, bool):
            continue
        text = subject if isinstance(subject, str) else str(subject)
        subjects.add(text)
        if text.isdecimal() and len(text) <= _MAX_DECIMAL_SUBJECT:
            # An attribute such as {"userId": 42} equals the targeting key "42".
            subjects.add(int(text))
    return frozenset(subjects)


def _in_context(text: str, context: Any) -> bool:
    """Whether ``text`` equals the text of a value of the context, at any depth.

    The top level is looked at first, without building anything; only a context with
    containers or other objects in it is walked through completely. A context too large
    (or too strange) to walk counts as containing ``text``.
    """
    attributes = getattr(context, "attributes", None)
    if not attributes:
        return False
    # Only a text that starts like a number can equal a number's str().
    numeric = text[0] in _NUMBER_START
    try:
        found = _in_top_level(text, attributes, numeric=numeric)
        if found is None:
            found = any(
                value == text
                if type(value) is str
                else (numeric or not isinstance(value, (int, float))) and str(value) == text
                for value in _context_scalars(context)
            )
    except Exception:  # too large, a mapping that cannot be read, an unprintable value
        return True
    return found


def _in_top_level(text: str, attributes: Mapping[str, Any], *, numeric: bool) -> bool | None:
    """Whether a top-level string or number equals ``text``; None: look deeper too."""
    deeper = False
    for value in attributes.values():
        kind = type(value)
        if kind is str:
            if value == text:
                return True
        elif kind is int or kind is float:
            if numeric and str(value) == text:
                return True
        elif kind is not bool and value is not None:
            deeper = True  # a container or another object
    return None if deeper else False


def _without_subjects(value: Any, subjects: frozenset[object]) -> Any:
    """``value`` (a sanitised copy) with every value and key equal to a subject redacted.

    An attribute such as ``userId`` often repeats the targeting key, which the record
    otherwise only ever shows hashed. A mapping that holds no subject is returned as it
    is.
    """
    kind = type(value)
    if kind is dict:
        try:
            # The common case, at C speed: no key or value equals a subject. A nested
            # container raises TypeError (unhashable) and a mere equal (True == 1)
            # returns False: both take the exact path below.
            if subjects.isdisjoint(value) and subjects.isdisjoint(value.values()):
                return value
        except TypeError:
            pass
        return {
            REDACTED if _is_subject(key, subjects) else key: _without_subjects(item, subjects)
            for key, item in value.items()
        }
    if kind is list:
        return [_without_subjects(item, subjects) for item in value]
    return REDACTED if _is_subject(value, subjects) else value


def _is_subject(value: object, subjects: frozenset[object]) -> bool:
    # bool is an int (True == 1): a flag such as {"beta": True} is not the user "1".
    kind = type(value)
    return (kind is str or kind is int or kind is float) and value in subjects


class _ContextTooLargeError(Exception):
    """The context has more values than are walked through."""


def _context_scalars(context: Any) -> Iterator[object]:
    """Yield every scalar of ``context``: the targeting key, then attribute values.

    Booleans and ``None`` are skipped; mappings, lists, tuples and sets are walked into.

    Raises:
        _ContextTooLargeError: More than ``_MAX_SCRUBBED_VALUES`` values.
    """
    stack: list[Any] = [
        getattr(context, "targeting_key", None),
        getattr(context, "attributes", None),
    ]
    visited = 0
    while stack:
        visited += 1
        if visited > _MAX_SCRUBBED_VALUES:
            raise _ContextTooLargeError
        value = stack.pop()
        kind = type(value)
        # Exact types first: isinstance() against an ABC is slow, and this runs for
        # variants on every evaluation whose context has nested values.
        if kind is str or kind is int or kind is float:
            yield value
        elif kind is dict:
            stack.extend(value.values())
        elif kind is list or kind is tuple:
            stack.extend(value)
        elif kind is bool or value is None:
            continue
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend(value)
        else:
            yield value


def _context_texts(context: Any) -> set[str] | None:
    """Return the text of every scalar in ``context`` worth cutting out of a message.

    ``None`` when the context is too large (or too strange) to go through completely:
    the caller must then drop the message rather than trust a partial scrub.
    """
    texts: set[str] = set()
    try:
        for value in _context_scalars(context):
            text = value if isinstance(value, str) else str(value)
            if len(text) >= MIN_SCRUBBED_LENGTH:
                texts.add(text)
    except Exception:  # too large, an attribute whose str() raises, a number too long to print
        return None
    return texts


def _escaped_in(message: str, texts: set[str]) -> set[str] | None:
    """The escaped forms of those of ``texts`` that ``message`` may hold escaped.

    ``None`` when more than ``_MAX_ESCAPED_VALUES`` texts may be there: the caller must
    then drop the message, as for a context too large to go through.
    """
    forms: set[str] = set()
    candidates = 0
    for text in texts:
        if _is_plain(text) or not _may_hold_escaped(message, text):
            continue
        candidates += 1
        if candidates > _MAX_ESCAPED_VALUES:
            return None
        forms |= _escaped_forms(text)
    return forms


def _is_plain(text: str) -> bool:
    """Whether every escaping quoter writes ``text`` as it is (printable ASCII, no quotes)."""
    plain = text.isascii() and text.isprintable()
    return plain and not ("\\" in text or "'" in text or '"' in text)


def _may_hold_escaped(message: str, text: str) -> bool:
    """Whether ``message`` may hold ``text`` in one of its escaped forms.

    Every form keeps each run of the characters that no quoter escapes (printable ASCII
    but the backslash and the quotes) as it is: a message that lacks one of the runs
    holds no form. The longest run is looked for first: it is the most telling.
    """
    runs = _UNESCAPED_RUN.findall(text)
    runs.sort(key=len, reverse=True)
    return all(run in message for run in runs)


def _escaped_forms(text: str) -> set[str]:
    """``text`` as escaping quoters write it inside a quoted string, without the quotes.

    The forms are ``repr()``'s and ``ascii()``'s (which escape the backslash, control and
    non-printable characters, ``ascii()`` every non-ASCII one too; each written both as
    alone, where a single quote is left as it is, and inside a text holding both kinds
    of quote, where ``repr()`` escapes the single quote), JSON's (``json.dumps``, ASCII
    only or not: the backslash, the double quote, control characters), the
    ``unicode_escape`` codec's, and the ``repr()`` of the text's UTF-8 bytes. A message
    that quotes a value with ``!r``, through ``KeyError`` (whose ``str()`` is the key's
    ``repr()``), in a JSON document or as bytes therefore loses it as well.

    Each form that differs from ``text`` holds a backslash; a text of printable ASCII
    without a backslash or a quote has no other form (the empty set).
    """
    if _is_plain(text):
        return set()
    text = str.__str__(text)  # a str subclass's own __repr__ is not what a message shows
    quoted = text + _BOTH_QUOTES  # written as repr(quoted)[1:-4]: the suffix is \'" and '
    encoded = text.encode("utf-8", "surrogatepass")
    forms = {
        repr(text)[1:-1],
        repr(quoted)[1:-4],
        ascii(text)[1:-1],
        ascii(quoted)[1:-4],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        text.encode("unicode_escape").decode("ascii"),
        repr(encoded)[2:-1],
        repr(encoded + b"'\"")[2:-4],
    }
    forms.discard(text)
    return forms

"""The context sanitizer: a copy of evaluation attributes with sensitive data removed.

:class:`Sanitizer` copies evaluation attributes with sensitive fields and values
dropped, redacted or hashed, and with their size bounded. What is sensitive by default
is :data:`~openfeature_litestar.DEFAULT_SENSITIVE_FIELDS` and
:data:`~openfeature_litestar.DEFAULT_SENSITIVE_PATTERNS`; the hashing of ``"hash"``
actions in :mod:`openfeature_litestar._privacy._hashing`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

from openfeature_litestar._errors import ConfigurationError
from openfeature_litestar._privacy._hashing import HASH_LENGTH, IdentifierHasher
from openfeature_litestar._privacy._patterns import (
    DEFAULT_SENSITIVE_FIELDS,
    DEFAULT_SENSITIVE_PATTERNS,
    _compile_patterns,
    _name_words,
    _normalise_name,
)

__all__ = ["REDACTED", "TOO_DEEP", "TRUNCATED", "Action", "Sanitizer"]

Action = Literal["drop", "redact", "hash"]
"""What happens to a sensitive value: removed, replaced by :data:`REDACTED`, or hashed."""

_ACTIONS: Final = frozenset(get_args(Action))
# When one name matches several sensitive names with different actions, the strictest wins.
_STRICTNESS: Final[dict[str, int]] = {"hash": 0, "redact": 1, "drop": 2}

REDACTED: Final = "[REDACTED]"
"""What a redacted value is replaced with."""

TRUNCATED: Final = "...[TRUNCATED]"
"""The suffix of a string cut to :attr:`Sanitizer.max_string_length` characters."""

TOO_DEEP: Final = "[TOO DEEP]"
"""What a container nested deeper than :attr:`Sanitizer.max_depth` is replaced with."""

_SCAN_MARGIN: Final = 1024
_CACHE_LIMIT: Final = 4096
_CACHED_VALUE_LENGTH: Final = 256
_SCALARS: Final = (type(None), bool, int, float)
_TEMPORAL: Final = (dt.date, dt.time, dt.timedelta)
_FLAT_SCALARS: Final = frozenset({float, bool, type(None)})
# Integers this large (13 digits or more, the shortest payment card) are scanned as text;
# smaller ones cannot match a default pattern and pass as they are.
_SCANNED_INT: Final = 10**12
# A plural field name ("passwords", "api_keys", "addresses") is read as its singular too.
_PLURAL_ENDINGS: Final = ("s", "es")
_LONGEST_ENDING: Final = max(map(len, _PLURAL_ENDINGS))
_DROP: Final[Any] = object()


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} is a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class Sanitizer:
    """A policy that copies attributes with sensitive data removed and size bounded.

    :meth:`sanitize` walks mappings, lists, tuples and sets recursively and returns new
    plain ``dict``/``list`` structures; the input is never mutated.

    **Sensitive field names.** A name is split into words at ``-``, ``_``, ``.``, spaces
    and other punctuation and at camelCase boundaries, and compared case-insensitively
    (``str.casefold``). It is sensitive when one word, or a run of adjacent words joined
    together, equals a sensitive name with its separators removed. So with ``api_key`` in
    the set, ``X-Api-Key``, ``x_api_key``, ``apiKey`` and ``APIKEY`` are sensitive, and
    ``db_password``, ``user.email`` and ``remoteIp`` are too (through ``password``,
    ``email``, ``ip``), while ``zip``, ``description``, ``hotel`` (not ``tel``) or
    ``mailbox`` (not ``mail``) are not: a sensitive name is whole words, never part of
    one, so a name glued into one word (``cellphone``) matches only when it is in the
    set itself (``cell_phone`` is, for that reason). A word run ending in ``s`` or
    ``es`` at the *end* of the name also matches the sensitive name it is the plural
    of: ``passwords``, ``api_keys``, ``cookies``, ``addresses`` and ``userIps`` are
    sensitive (and so is ``max_tokens``, as ``max_token`` is), while ``tokens_used`` and
    ``cookies_enabled`` are not, as the last word names what a field holds. A name
    listed in :attr:`actions` is sensitive as well. A sensitive field's whole value (a
    nested structure included) gets the field's action.

    **Sensitive values.** A string value in which one of :attr:`sensitive_patterns` is
    found gets :attr:`default_action`, wherever it sits. Strings are scanned, and so are
    integers of 13 digits or more, as their decimal text (a card number stored as a
    number); of a long string, the first ``max_string_length + 1024`` characters are,
    which covers everything that is kept. A mapping key that matches a pattern (an e-mail
    address or a card number used as a key) removes its entry. Floats are not scanned.

    **Actions.** ``"drop"`` removes the entry (or list item), ``"redact"`` replaces the
    value with :data:`REDACTED`, ``"hash"`` replaces a scalar (string, number, boolean,
    ``None``, date) with ``hasher(str(value))`` and a container with :data:`REDACTED`. A
    field uses its own entry in :attr:`actions` when its whole (normalised) name has one;
    otherwise the strictest (drop, then redact, then hash) of the sensitive names it
    matches, each with its action or :attr:`default_action`.

    **Allow-list mode.** With :attr:`allow` set, only top-level attributes with those
    names (compared casefolded, separators removed) are kept; sensitive names and values
    inside them are still handled.

    **Limits.** Of each mapping and list, the first :attr:`max_attributes` entries in
    iteration order are looked at and the rest dropped; a string longer than
    :attr:`max_string_length` is cut so that, with the :data:`TRUNCATED` suffix, it is
    exactly that long; a container that would make the output nested deeper than
    :attr:`max_depth` (the attributes mapping is level 1) becomes :data:`TOO_DEEP`; at
    most :attr:`max_values` values are visited in all, the rest dropped. A key longer
    than :attr:`max_string_length` drops its entry.

    **Other values.** ``None``, booleans, numbers, strings and :mod:`datetime` values are
    kept as they are (strings subject to the rules above). Tuples and sets become lists.
    Any other object becomes ``"[TypeName]"``: calling its ``str`` could run arbitrary
    code or print a secret. A non-string key is kept when it is ``None``, a boolean or a
    number and drops its entry otherwise.

    Extend the defaults with :meth:`extended` rather than copying them.

    Attributes:
        sensitive_fields: Sensitive field names (matched as described above).
        sensitive_patterns: Sensitive value patterns, RE2 syntax.
        allow: Allow-list mode: the only top-level names kept; ``None`` keeps all.
        actions: Per-field actions by name (normalised like field names).
        default_action: The action for sensitive fields without an own action and for
            sensitive values.
        hasher: Hashes values for ``"hash"`` actions; required when any action is
            ``"hash"``.
        max_attributes: Entries looked at per mapping or list.
        max_string_length: The longest string (and key) kept; at least
            :data:`HASH_LENGTH`, so that every replacement fits.
        max_depth: The deepest nesting of the output, the attributes mapping included.
        max_values: The most values visited in one :meth:`sanitize` call.
    """

    sensitive_fields: frozenset[str] = DEFAULT_SENSITIVE_FIELDS
    sensitive_patterns: tuple[str, ...] = DEFAULT_SENSITIVE_PATTERNS
    allow: frozenset[str] | None = None
    actions: Mapping[str, Action] = field(default_factory=dict, hash=False)
    default_action: Action = "redact"
    hasher: IdentifierHasher | None = None
    max_attributes: int = 64
    max_string_length: int = 1024
    max_depth: int = 8
    max_values: int = 4096
    _table: Mapping[str, Action] = field(init=False, repr=False, compare=False, hash=False)
    _longest: int = field(init=False, repr=False, compare=False, hash=False)
    _allowed: frozenset[str] | None = field(init=False, repr=False, compare=False, hash=False)
    _regex: Any = field(init=False, repr=False, compare=False, hash=False)
    _scan_limit: int = field(init=False, repr=False, compare=False, hash=False)
    _flat_limit: int = field(init=False, repr=False, compare=False, hash=False)
    _cached_length: int = field(init=False, repr=False, compare=False, hash=False)
    _names: dict[str, tuple[Action | None, bool]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _clean: set[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        """Validate the policy and precompute the name table and the combined pattern.

        Raises:
            ConfigurationError: A limit is not a positive integer, an action is unknown,
                a ``"hash"`` action has no hasher, a name is empty or a pattern is
                rejected by RE2.
        """
        for name in ("max_attributes", "max_string_length", "max_depth", "max_values"):
            _positive(name, getattr(self, name))
        if self.max_string_length < HASH_LENGTH:
            # Every replacement (a hash, a marker) must itself fit in the limit.
            raise ConfigurationError(
                f"max_string_length is at least {HASH_LENGTH}, got {self.max_string_length}"
            )
        fields = frozenset(self.sensitive_fields)
        patterns = tuple(self.sensitive_patterns)
        allow = None if self.allow is None else frozenset(self.allow)
        actions = MappingProxyType(dict(self.actions))
        set_ = object.__setattr__
        set_(self, "sensitive_fields", fields)
        set_(self, "sensitive_patterns", patterns)
        set_(self, "allow", allow)
        set_(self, "actions", actions)
        for action in (self.default_action, *actions.values()):
            if action not in _ACTIONS:
                raise ConfigurationError(
                    f"unknown action {action!r}: use 'drop', 'redact' or 'hash'"
                )
        if self.hasher is None and "hash" in (self.default_action, *actions.values()):
            raise ConfigurationError(
                "a 'hash' action needs a hasher: pass hasher=IdentifierHasher(...)"
            )
        table: dict[str, Action] = {}
        for name in fields:
            table[self._checked_name(name, "sensitive field")] = self.default_action
        for name, action in actions.items():
            table[self._checked_name(name, "action field")] = action
        set_(self, "_table", MappingProxyType(table))
        set_(self, "_longest", max(map(len, table), default=0))
        set_(
            self,
            "_allowed",
            None
            if allow is None
            else frozenset(self._checked_name(name, "allowed field") for name in allow),
        )
        set_(self, "_regex", _compile_patterns(patterns))
        set_(self, "_scan_limit", self.max_string_length + _SCAN_MARGIN)
        set_(self, "_flat_limit", min(self.max_attributes, self.max_values))
        # A string in the clean cache is never longer than max_string_length, so the
        # fast path may return it as it is.
        set_(self, "_cached_length", min(_CACHED_VALUE_LENGTH, self.max_string_length))
        set_(self, "_names", {})
        set_(self, "_clean", set())

    @staticmethod
    def _checked_name(name: object, what: str) -> str:
        if not isinstance(name, str):
            raise ConfigurationError(f"a {what} name is a string, got {name!r}")
        normalised = _normalise_name(name)
        if not normalised:
            raise ConfigurationError(f"the {what} name {name!r} has no letters or digits")
        return normalised

    # -- public helpers

    def extended(
        self,
        *,
        sensitive_fields: Iterable[str] = (),
        sensitive_patterns: Iterable[str] = (),
        actions: Mapping[str, Action] | None = None,
        **changes: Any,
    ) -> Sanitizer:
        """A new sanitizer with more sensitive names, patterns and actions, and other changes.

        The names and patterns are added to this sanitizer's (duplicates ignored), the
        actions laid over its own; any other field is replaced by a keyword of the same
        name. ``Sanitizer().extended(sensitive_fields={"user_id"}, default_action="hash",
        hasher=hasher)`` keeps every default and adds ``user_id``.

        Args:
            sensitive_fields: Names to add.
            sensitive_patterns: Value patterns to add (RE2 syntax).
            actions: Per-field actions to add or replace.
            **changes: Other fields to replace, such as ``allow``, ``hasher``,
                ``default_action`` or the limits.

        Returns:
            The new sanitizer; this one is unchanged.

        Raises:
            ConfigurationError: The result is not a valid policy.
            TypeError: A keyword names no field.
        """
        extra_patterns = tuple(p for p in sensitive_patterns if p not in self.sensitive_patterns)
        return dataclasses.replace(
            self,
            sensitive_fields=self.sensitive_fields | frozenset(sensitive_fields),
            sensitive_patterns=self.sensitive_patterns + tuple(dict.fromkeys(extra_patterns)),
            actions={**self.actions, **(actions or {})},
            **changes,
        )

    def is_sensitive_field(self, name: str) -> bool:
        """Whether a field called ``name`` is sensitive (see the class for the matching)."""
        return self._field_action(name) is not None

    def is_sensitive_value(self, value: str) -> bool:
        """Whether one of the sensitive patterns is found in the string ``value``."""
        return self._sensitive_text(value[: self._scan_limit])

    def sanitize(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """A sanitized copy of ``attributes`` (see the class for the rules).

        Args:
            attributes: Evaluation attributes (or any mapping); not modified.

        Returns:
            A new ``dict``. It never raises: an input that cannot even be read (a mapping
            whose iteration fails) gives an empty dict.
        """
        try:
            if type(attributes) is dict and len(attributes) <= self._flat_limit:
                flat = self._known_flat(attributes)
                if flat is not None:
                    return flat
            return self._mapping(attributes, 1, _Budget(self.max_values), top=True)
        except Exception:  # never raise into a hook; dropping everything leaks nothing
            return {}

    def _known_flat(self, attributes: dict[Any, Any]) -> dict[Any, Any] | None:
        # The common case, made cheap: a flat dict whose names were all seen before and
        # are not sensitive, with numbers and strings already known to be clean. Anything
        # else gives None and takes the general path.
        names, clean, allow_mode = self._names, self._clean, self._allowed is not None
        out: dict[Any, Any] = {}
        for key, value in attributes.items():
            rule = names.get(key) if type(key) is str else None
            if rule is None or rule[0] is not None:
                return None
            if allow_mode and not rule[1]:
                continue
            kind = type(value)
            if (
                (kind is str and value in clean)
                or kind in _FLAT_SCALARS
                or (kind is int and -_SCANNED_INT < value < _SCANNED_INT)
            ):
                out[key] = value
            else:
                return None
        return out

    # -- names

    def _field_action(self, name: str) -> Action | None:
        table = self._table
        words = _name_words(name)
        whole = "".join(words)
        action = table.get(whole) or self._plural_action(whole)
        if action is not None:
            return action
        found: Action | None = None
        longest = self._longest
        last = len(words) - 1
        for start in range(len(words)):
            joined = ""
            for end in range(start, len(words)):
                joined += words[end]
                if len(joined) > longest + _LONGEST_ENDING:
                    break
                action = table.get(joined)
                if action is None and end == last:
                    # Only a run at the end of the name is read as a plural: the last
                    # word names the thing ("user_passwords"), an earlier one
                    # qualifies it ("tokens_used" is a count).
                    action = self._plural_action(joined)
                if action is not None and (
                    found is None or _STRICTNESS[action] > _STRICTNESS[found]
                ):
                    found = action
        return found

    def _plural_action(self, name: str) -> Action | None:
        """The action of the singular of ``name`` (a normalised name ending in s or es)."""
        for ending in _PLURAL_ENDINGS:
            if name.endswith(ending) and len(name) > len(ending):
                action = self._table.get(name[: -len(ending)])
                if action is not None:
                    return action
        return None

    def _name_rule(self, name: str) -> tuple[Action | None, bool]:
        cached = self._names.get(name)
        if cached is not None:
            return cached
        rule: tuple[Action | None, bool]
        if len(name) > self.max_string_length or self._sensitive_text(name):
            rule = ("drop", False)
        else:
            allowed = self._allowed is None or _normalise_name(name) in self._allowed
            rule = (self._field_action(name), allowed)
        if len(self._names) >= _CACHE_LIMIT:
            self._names.clear()
        self._names[name] = rule
        return rule

    # -- values

    def _sensitive_text(self, text: str) -> bool:
        regex = self._regex
        if regex is None:
            return False
        short = len(text) <= self._cached_length
        if short and text in self._clean:
            return False
        found = regex.search(text.encode("utf-8", "surrogatepass")) is not None
        # Only verdicts of "clean" are cached: a cache of sensitive values would keep
        # personal data in memory for longer than the evaluation that carried it.
        if short and not found:
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean.add(text)
        return found

    def _act(self, action: Action, value: Any) -> Any:
        if action == "redact":
            return REDACTED
        if action == "drop":
            return _DROP
        if isinstance(value, (str, *_SCALARS, *_TEMPORAL)) and self.hasher is not None:
            return self.hasher(str(value))
        return REDACTED

    def _integer(self, value: int) -> Any:
        """``value``, or its action when its digits match a pattern (a card number)."""
        if -_SCANNED_INT < value < _SCANNED_INT:
            return value
        try:
            text = str(int(value))  # int(): an IntEnum's str() is its name
        except ValueError:  # more digits than Python prints: nobody's card number
            return REDACTED
        if self._sensitive_text(text[: self._scan_limit]):
            return self._act(self.default_action, text)
        return value

    def _string(self, value: str) -> Any:
        scanned = value if len(value) <= self._scan_limit else value[: self._scan_limit]
        if self._sensitive_text(scanned):
            return self._act(self.default_action, value)
        limit = self.max_string_length
        if len(value) <= limit:
            return value
        return value[: limit - len(TRUNCATED)] + TRUNCATED

    def _value(self, value: Any, depth: int, budget: _Budget) -> Any:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return self._string(value) if isinstance(value, str) else self._integer(value)
        if isinstance(value, (*_SCALARS, *_TEMPORAL)):
            return value
        is_mapping = isinstance(value, Mapping)
        if not is_mapping and not isinstance(value, (list, tuple, set, frozenset)):
            return f"[{type(value).__name__[: self.max_string_length - 2]}]"
        if depth >= self.max_depth:
            return TOO_DEEP
        if is_mapping:
            return self._mapping(value, depth + 1, budget, top=False)
        return self._sequence(value, depth + 1, budget)

    def _sequence(self, items: Iterable[Any], depth: int, budget: _Budget) -> list[Any]:
        out: list[Any] = []
        for item in islice(items, self.max_attributes):
            budget.left -= 1
            if budget.left < 0:
                break
            cleaned = self._value(item, depth, budget)
            if cleaned is not _DROP:
                out.append(cleaned)
        return out

    def _mapping(
        self, mapping: Mapping[Any, Any], depth: int, budget: _Budget, *, top: bool
    ) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        allow_mode = top and self._allowed is not None
        for key, value in islice(mapping.items(), self.max_attributes):
            budget.left -= 1
            if budget.left < 0:
                break
            cleaned = self._entry(key, value, depth, budget, allow_mode=allow_mode)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out

    def _entry(self, key: Any, value: Any, depth: int, budget: _Budget, *, allow_mode: bool) -> Any:
        if isinstance(key, str):
            action, allowed = self._names.get(key) or self._name_rule(key)
            if allow_mode and not allowed:
                return _DROP
            if action is not None:
                return self._act(action, value)
        elif (
            allow_mode
            or not isinstance(key, _SCALARS)
            or (isinstance(key, int) and self._integer(key) is not key)
        ):
            return _DROP
        kind = type(value)
        # The common flat case (short strings and numbers) is handled without a call.
        if kind is str:
            return self._string(value)
        if kind is int or kind is bool or kind is float or value is None:
            return self._integer(value) if kind is int else value
        return self._value(value, depth, budget)

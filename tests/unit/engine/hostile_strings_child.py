"""Fuzz every string path of an evaluation with arbitrary code points; run as a child process.

``test_hostile_strings.py`` runs this file with ``python`` in a subprocess, because the
failure it guards against is a crash of the interpreter (``mmh3`` 5.3 dies with SIGSEGV
on a lone surrogate), which would otherwise take the whole test run with it. Exit status
0 means every property held; an assertion exits 1 with hypothesis' report; a crash exits
with the signal.

Strings with any code point, lone surrogates included, go where a context string meets a
hash (``fractional``, the shorthand and an explicit bucketing value), a regular
expression (``matches``, the Sanitizer's patterns), or a comparison (``==``, ``<``,
``in``, ``starts_with``, ``ends_with``, ``sem_ver``, ``cat``/``substr``), through the
provider and through the SDK client with the audit and sanitizing hooks.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from typing import Any

import mmh3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from openfeature_litestar import (
    AuditHook,
    FlagProvider,
    IdentifierHasher,
    MemoryStore,
    Sanitizer,
    SanitizingHook,
    hash_identifier,
)
from openfeature_litestar._engine import compile_targeting
from openfeature_litestar._engine._text import well_formed

# Every code point, the surrogates (category Cs) included.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
SURROGATE = st.characters(categories=["Cs"])

STRING_RULES: dict[str, Any] = {
    "shorthand": {"fractional": [["a", 50], ["b", 50]]},
    "bucketed": {"fractional": [{"var": "name"}, ["a", 1], ["b", 1], ["c", 1]]},
    "computed": {"fractional": [{"cat": [{"var": "name"}, "x"]}, ["a", {"var": "w"}], ["b", 1]]},
    "matches": {"if": [{"matches": [{"var": "name"}, "^[a-z]+\\d?$"]}, "a", "b"]},
    "equals": {"if": [{"==": [{"var": "name"}, {"var": "other"}]}, "a", "b"]},
    "less": {"if": [{"<": [{"var": "name"}, {"var": "other"}]}, "a", "b"]},
    "in": {"if": [{"in": [{"var": "other"}, {"var": "name"}]}, "a", "b"]},
    "in_list": {"if": [{"in": [{"var": "name"}, ["a", "\ufffd", "z"]]}, "a", "b"]},
    "starts": {"if": [{"starts_with": [{"var": "name"}, {"var": "other"}]}, "a", "b"]},
    "ends": {"if": [{"ends_with": [{"var": "name"}, "z"]}, "a", "b"]},
    "semver": {"if": [{"sem_ver": [{"var": "name"}, ">=", "1.0.0"]}, "a", "b"]},
    "substr": {"if": [{"==": [{"substr": [{"var": "name"}, 1, 2]}, "bc"]}, "a", "b"]},
}
VARIANTS = {"a": "a", "b": "b", "c": "c"}


def _document() -> dict[str, Any]:
    flags = {
        key: {"state": "ENABLED", "variants": VARIANTS, "defaultVariant": "c", "targeting": rule}
        for key, rule in STRING_RULES.items()
    }
    return {"flags": flags}


PROVIDER = FlagProvider(MemoryStore(_document()))
PROVIDER.initialize(EvaluationContext())
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _context(key: str, name: str, other: str) -> EvaluationContext:
    return EvaluationContext(key, {"name": name, "other": other, "w": 1, name: other})


def _resolve(flag_key: str, context: EvaluationContext) -> tuple[object, object, object]:
    details = PROVIDER.resolve_string_details(flag_key, "default", context)
    assert details.error_code is None, (flag_key, details)
    assert details.reason in {Reason.TARGETING_MATCH, Reason.DEFAULT}, (flag_key, details)
    return details.value, details.variant, details.reason


@FUZZ
@given(key=ANY_TEXT, name=ANY_TEXT, other=ANY_TEXT)
def every_rule_answers(key: str, name: str, other: str) -> None:
    """No string, however malformed, makes a rule fail, and hashes see it as flagd does."""
    context = _context(key, name, other)
    cleaned = _context(well_formed(key), well_formed(name), well_formed(other))
    for flag_key in STRING_RULES:
        answer = _resolve(flag_key, context)
        if flag_key in {"shorthand", "bucketed", "computed", "matches"}:
            # Where a string is encoded (hashes, RE2), a lone surrogate reads as U+FFFD.
            assert answer == _resolve(flag_key, cleaned), (flag_key, key, name)


@FUZZ
@given(
    head=ANY_TEXT,
    surrogate=SURROGATE,
    tail=ANY_TEXT,
)
def a_lone_surrogate_buckets_as_the_replacement_character(
    head: str, surrogate: str, tail: str
) -> None:
    """flagd (Go's JSON decoder, JavaScript's TextEncoder) reads a lone surrogate as U+FFFD."""
    with_surrogate = _context(head + surrogate + tail, head + surrogate + tail, "")
    replaced = _context(head + "\ufffd" + tail, head + "\ufffd" + tail, "")
    for flag_key in ("shorthand", "bucketed", "matches"):
        assert _resolve(flag_key, with_surrogate) == _resolve(flag_key, replaced)


@FUZZ
@given(key=ANY_TEXT, name=ANY_TEXT, other=ANY_TEXT)
def hooks_and_privacy_helpers_survive(key: str, name: str, other: str) -> None:
    """The hashing, sanitizing and audit hooks take the same strings without failing."""
    assert HASHER(key) == HASHER(key)
    assert len(hash_identifier(key, ephemeral=True)) == len(HASHER(key))
    SANITIZER.sanitize({"name": name, "other": other, name: other})
    context = _context(key, name, other)
    details = CLIENT.get_string_details("shorthand", "default", context)
    assert details.error_code in {None, ErrorCode.INVALID_CONTEXT}, details
    if details.error_code is None and key:  # the SDK's merge drops an empty targeting key
        assert details.value == _resolve("shorthand", context)[0]


HASHER = IdentifierHasher(b"0123456789abcdef0123456789abcdef")
SANITIZER = Sanitizer()
RECORDS: list[object] = []
api.set_provider(PROVIDER, domain="hostile-strings")
CLIENT = api.get_client("hostile-strings")
CLIENT.add_hooks([SanitizingHook(), AuditHook(hasher=HASHER, sink=RECORDS.append)])


def _flagd_bucket(flagd_string: str, buckets: int) -> int:
    # flagd v2 from its definition, on the string Go's JSON decoder makes of the key.
    slot = (mmh3.hash(flagd_string.encode(), 0, signed=False) * buckets) >> 32
    return bisect_right(list(range(1, buckets + 1)), slot)


def lone_surrogate_keys_bucket_as_flagd_decodes_them() -> None:
    """Go's ``encoding/json`` decodes a lone surrogate to U+FFFD; flagd hashes that UTF-8."""
    variants = [f"v{i}" for i in range(10)]
    rule = compile_targeting({"fractional": [[variant, 1] for variant in variants]})
    for user in ["\ud800", "user-\udc00-7", "\ud800x\ud801", "\ud83d\ude00"]:
        data = {"targetingKey": user, "$flagd": {"flagKey": "flag", "timestamp": 0}}
        as_go_decodes = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in user)
        assert rule(data) == variants[_flagd_bucket("flag" + as_go_decodes, 10)], user


def main() -> int:
    """Run every property; hypothesis raises with a minimal example when one fails."""
    lone_surrogate_keys_bucket_as_flagd_decodes_them()
    every_rule_answers()
    a_lone_surrogate_buckets_as_the_replacement_character()
    hooks_and_privacy_helpers_survive()
    PROVIDER.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

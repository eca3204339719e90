"""The three benchmark cases, their inputs, and the plain Python answers they must give.

Each case is one boolean flag. The same flagd document serves every implementation that
reads flagd's format; the others get the equivalent rules in their own terms (see
:mod:`benchmarks.peers`). Inputs are neutral :class:`Subject` records, turned into each
implementation's context type before timing.

The reference functions here are deliberately naive: they state what the answer must be,
so that a fast implementation that does less work than the others is caught before its
numbers are printed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

import mmh3

STATIC_FLAG: Final = "static-flag"
TARGETED_FLAG: Final = "targeted-flag"
ROLLOUT_FLAG: Final = "rollout-flag"

COUNTRIES: Final = ("US", "DE", "FR")
PLAN: Final = "pro"
MIN_AGE: Final = 18
ROLLOUT_PERCENT: Final = 50

TARGETED_SUBJECTS: Final = 1024
ROLLOUT_SUBJECTS: Final = 100_000

_SEED: Final = 20_240_601
_BOOLEAN_VARIANTS: Final = {"on": True, "off": False}

TARGETING_RULE: Final[dict[str, Any]] = {
    "if": [
        {
            "and": [
                {"in": [{"var": "country"}, list(COUNTRIES)]},
                {"==": [{"var": "plan"}, PLAN]},
                {">=": [{"var": "age"}, MIN_AGE]},
            ]
        },
        "on",
        "off",
    ]
}
ROLLOUT_RULE: Final[dict[str, Any]] = {
    "fractional": [["on", ROLLOUT_PERCENT], ["off", 100 - ROLLOUT_PERCENT]]
}


def flagd_flags() -> dict[str, Any]:
    """Return the ``flags`` object of the flagd document shared by the flagd-format engines.

    Returns:
        A fresh mapping of flag key to flagd flag definition for the three cases.
    """
    return {
        STATIC_FLAG: {
            "state": "ENABLED",
            "variants": dict(_BOOLEAN_VARIANTS),
            "defaultVariant": "on",
        },
        TARGETED_FLAG: {
            "state": "ENABLED",
            "variants": dict(_BOOLEAN_VARIANTS),
            "defaultVariant": "off",
            "targeting": TARGETING_RULE,
        },
        ROLLOUT_FLAG: {
            "state": "ENABLED",
            "variants": dict(_BOOLEAN_VARIANTS),
            "defaultVariant": "off",
            "targeting": ROLLOUT_RULE,
        },
    }


@dataclass(frozen=True)
class Subject:
    """One evaluation input, independent of any library's context type.

    Attributes:
        targeting_key: The user id (OpenFeature targeting key).
        country: ISO country code attribute.
        plan: Subscription plan attribute.
        age: Age attribute, an integer.
    """

    targeting_key: str
    country: str
    plan: str
    age: int

    def attributes(self) -> dict[str, Any]:
        """Return the attributes as a fresh dict (the targeting key excluded).

        Returns:
            ``{"country": ..., "plan": ..., "age": ...}``.
        """
        return {"country": self.country, "plan": self.plan, "age": self.age}


@dataclass(frozen=True)
class Case:
    """One benchmark case: a flag, the inputs it is evaluated on, and their sizes.

    Attributes:
        key: Short name used on the command line and in the table (``a``, ``b``, ``c``).
        title: Short name of the case, for the table.
        description: What the case measures, for the notes under the table.
        flag_key: The flag evaluated.
        subjects: The inputs, cycled in order during timing.
    """

    key: str
    title: str
    description: str
    flag_key: str
    subjects: tuple[Subject, ...]


def user_id(index: int) -> str:
    """Return the deterministic user id number ``index`` (all ids have the same length).

    Args:
        index: A non-negative integer below one million.

    Returns:
        ``"user-000042"`` for 42.
    """
    return f"user-{index:06d}"


def targeted_subjects(count: int = TARGETED_SUBJECTS) -> tuple[Subject, ...]:
    """Build a shuffled mix of subjects: half match the three conditions, half do not.

    The non-matching half fails on each of the three conditions in turn, so that an
    engine that stops at the first false condition does not always stop at the same one.

    Args:
        count: How many subjects to build.

    Returns:
        The subjects, in a fixed pseudo-random order.
    """
    rng = random.Random(_SEED)
    subjects: list[Subject] = []
    for index in range(count):
        country = rng.choice(COUNTRIES)
        plan = PLAN
        age = rng.randint(MIN_AGE, 80)
        kind = index % 6
        if kind == 3:  # noqa: PLR2004 - the six kinds are spelled out here
            country = rng.choice(("GB", "JP", "BR", "CA"))
        elif kind == 4:  # noqa: PLR2004 - same
            plan = rng.choice(("free", "team"))
        elif kind == 5:  # noqa: PLR2004 - same
            age = rng.randint(10, MIN_AGE - 1)
        subjects.append(Subject(user_id(index), country, plan, age))
    rng.shuffle(subjects)
    return tuple(subjects)


def rollout_subjects(count: int = ROLLOUT_SUBJECTS) -> tuple[Subject, ...]:
    """Build ``count`` subjects with distinct user ids and ordinary attributes.

    Args:
        count: How many distinct user ids.

    Returns:
        The subjects, ids in increasing order.
    """
    rng = random.Random(_SEED + 1)
    return tuple(
        Subject(user_id(index), rng.choice(COUNTRIES), PLAN, rng.randint(MIN_AGE, 80))
        for index in range(count)
    )


def build_cases(*, rollout_users: int = ROLLOUT_SUBJECTS) -> tuple[Case, ...]:
    """Build the three cases.

    Args:
        rollout_users: Number of distinct user ids for case (c).

    Returns:
        Cases ``a``, ``b`` and ``c`` in that order.
    """
    targeted = targeted_subjects()
    return (
        Case(
            "a",
            "(a) static",
            "(a) a boolean flag with no targeting",
            STATIC_FLAG,
            targeted,
        ),
        Case(
            "b",
            "(b) 3 conditions",
            f'(b) country in [US,DE,FR] and plan == "pro" and age >= 18 -> on/off, over '
            f"{len(targeted):,} pre-built contexts (half match; the others fail each "
            "condition in turn)",
            TARGETED_FLAG,
            targeted,
        ),
        Case(
            "c",
            "(c) 50% rollout",
            f"(c) a 50/50 fractional split keyed on the targeting key, over "
            f"{rollout_users:,} distinct user ids",
            ROLLOUT_FLAG,
            rollout_subjects(rollout_users),
        ),
    )


# --- Plain Python references ------------------------------------------------------------


def targeted_answer(subject: Subject) -> bool:
    """Return what the three-condition rule must answer for ``subject``.

    Args:
        subject: The input.

    Returns:
        True when country is one of US/DE/FR, plan is "pro" and age is at least 18.
    """
    return subject.country in COUNTRIES and subject.plan == PLAN and subject.age >= MIN_AGE


def flagd_v2_rollout(flag_key: str, targeting_key: str) -> bool:
    """Return flagd's "v2" fractional answer: MurmurHash3 of flagKey + targetingKey.

    Args:
        flag_key: The flag's key.
        targeting_key: The user id.

    Returns:
        True when the user falls in the first (``"on"``) bucket.
    """
    digest = mmh3.hash((flag_key + targeting_key).encode(), 0, signed=False)
    return (digest * 100) >> 32 < ROLLOUT_PERCENT


def cbor_text_array(items: tuple[str, ...]) -> bytes:
    """Encode a short array of text strings as canonical CBOR (RFC 8949).

    Only what the reference needs: definite-length arrays and text strings.

    Args:
        items: The strings.

    Returns:
        The CBOR bytes.
    """

    def head(major: int, length: int) -> bytes:
        if length < 24:  # noqa: PLR2004 - CBOR's immediate-length limit
            return bytes([major << 5 | length])
        for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if length < 1 << (8 * width):
                return bytes([major << 5 | extra]) + length.to_bytes(width, "big")
        raise ValueError("length too large for CBOR")

    out = bytearray(head(4, len(items)))
    for item in items:
        data = item.encode()
        out += head(3, len(data)) + data
    return bytes(out)


def flagd_v3_rollout(flag_key: str, targeting_key: str) -> bool:
    """Return flagd's "v3" fractional answer: MurmurHash3 of CBOR ``[flagKey, targetingKey]``.

    This is the bucketing that openfeature-flagd-core 2.x implements.

    Args:
        flag_key: The flag's key.
        targeting_key: The user id.

    Returns:
        True when the user falls in the first (``"on"``) bucket.
    """
    digest = mmh3.hash(cbor_text_array((flag_key, targeting_key)), 0, signed=False)
    return (digest * 100) >> 32 < ROLLOUT_PERCENT


def litestar_flags_rollout(flag_key: str, targeting_key: str) -> bool:
    """Return litestar-flags' percentage-rollout answer.

    litestar-flags hashes ``"flagKey:targetingKey"`` with MurmurHash3 and keeps the user
    when ``hash % 100 + 1`` is at most the percentage.

    Args:
        flag_key: The flag's key.
        targeting_key: The user id.

    Returns:
        True when the user is in the rollout.
    """
    digest = mmh3.hash(f"{flag_key}:{targeting_key}".encode(), 0, signed=False)
    return digest % 100 + 1 <= ROLLOUT_PERCENT

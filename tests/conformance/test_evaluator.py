"""The flagd-testbed evaluator conformance suite: every scenario of ``testbed/evaluator``.

The steps are in ``conftest.py``; "an evaluator" is a :class:`FlagProvider` over a
:class:`MemoryStore` holding ``testbed/evaluator/flags/testkit-flags.json``.

Scenarios and Examples tagged ``@fractional-v1`` are skipped (``conftest.SKIPPED_TAGS``):
they pin the results of a legacy bucketing algorithm the engine does not implement.
"""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("testbed/evaluator/gherkin")

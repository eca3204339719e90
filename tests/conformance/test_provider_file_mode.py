"""The flagd-testbed provider suite, in file mode, as far as it applies to this provider.

A file-backed in-process provider is what flagd's file mode is, so the scenarios bound
here are those about evaluation semantics: the steps are in ``conftest.py``, and "a
stable flagd provider" is a :class:`FlagProvider` over a :class:`FileStore` reading
the testbed's ``flags/*.json`` merged into one ``allFlags.json``, as the testbed does
(the merge is described in ``conftest.provider_suite_files``). The ``selector`` option
names another file to read instead, the testbed's way of choosing a flag set:
``rawflags/<file>`` is one file of ``flags/`` on its own.

Bound (the features copied into ``testbed/gherkin``):

* ``evaluation.feature``: every scenario except the ``@deprecated`` one, which is
  skipped: it expects FLAG_NOT_FOUND for a flag without a default variant, which the
  ``@no-default-variant`` scenario beside it replaces with reason DEFAULT and no error.
* ``targeting.feature``: every scenario; those (and the Examples) tagged
  ``@fractional-v1``, ``@fractional-v2`` or ``@fractional-v3`` run with a provider of
  that bucketing version, the others with the default (v2).
* ``disabled.feature``: both scenarios. The feature is tagged ``@in-process @rpc``, not
  ``@file``, but a disabled flag is evaluation semantics; "Flag disabled in one flag
  set, enabled in another" selects ``flags/allFlags.json`` or
  ``rawflags/selector-flags.json``, which are files here too.
* ``metadata.feature``: every scenario, the ``@metadata-provider`` ones included: their
  ``selector`` names ``rawflags/selector-flag-combined-metadata.json``, whose flag-set
  metadata the flags inherit.

``events.feature`` and ``connection.feature`` (a source lost and back) are bound in
``test_provider_events.py``.

Not copied, so not collected: ``config.feature`` (the options of flagd providers),
``selector.feature`` and ``sync-payload.feature`` (flagd's gRPC sync stream),
``rpc-caching.feature`` (the RPC resolver's cache), and ``contextEnrichment.feature``
(context injected from the sync stream's metadata, which a file does not carry).
"""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios(
    "testbed/gherkin/evaluation.feature",
    "testbed/gherkin/targeting.feature",
    "testbed/gherkin/disabled.feature",
    "testbed/gherkin/metadata.feature",
)

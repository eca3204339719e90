"""A complete Litestar application using feature flags as a real team would.

* :mod:`.auth`: a bearer-token authentication middleware that sets ``scope["user"]``.
* :mod:`.app`: the plugin, configured so that the targeting key is the user's id;
  ``require_flag`` and ``require_variant`` guards; a handler that reads a variant
  through the injected OpenFeature client.
* ``flags.yaml``: the application's flags.

Run it with ``python -m examples.litestar_app``; its tests are
``tests/integration/test_example_litestar_app.py``.
"""

"""The demo application ``openfeature-litestar demo`` runs (shipped in the package).

Private: it is the command's app, not an API. The repository's ``examples/`` holds the
example applications to learn from.
"""

from __future__ import annotations

from ._app import SEED_FILE, cli_options, create_app

__all__ = ["SEED_FILE", "cli_options", "create_app"]

"""An application with the plugin and an OFREP event stream, for plain ``uvicorn`` runs.

``uvicorn streams_app:app`` (no ``serve``, no ``--timeout-graceful-shutdown``): the test
stops it with a signal while a stream is open. Flags come from the file named by
``FLAGS_FILE``; OFREP is public, so the stream needs no ticket.
"""

from __future__ import annotations

import os

from litestar import Litestar, get

from openfeature_litestar.web import OFREPConfig, OpenFeatureConfig, OpenFeaturePlugin


@get("/health", sync_to_thread=False)
def health() -> str:
    """Answer once the application is up."""
    return "ok"


app = Litestar(
    [health],
    plugins=[
        OpenFeaturePlugin(
            OpenFeatureConfig(
                store=f"file:{os.environ['FLAGS_FILE']}", ofrep=OFREPConfig(public=True)
            )
        )
    ],
)

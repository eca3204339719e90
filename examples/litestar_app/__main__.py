"""Run the example application with uvicorn: ``python -m examples.litestar_app``.

Run it from the repository root (the directory that holds ``examples/``);
``--host`` and ``--port`` default to 127.0.0.1 and 8000.
"""

from __future__ import annotations

import argparse

import uvicorn


def main(argv: list[str] | None = None) -> None:
    """Parse the options and serve the application until interrupted.

    Args:
        argv: The command-line arguments; ``None`` reads :data:`sys.argv`.
    """
    parser = argparse.ArgumentParser(
        prog="python -m examples.litestar_app", description="Serve the example application."
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind (default: %(default)s)"
    )
    options = parser.parse_args(argv)
    uvicorn.run("examples.litestar_app.app:app", host=options.host, port=options.port)


if __name__ == "__main__":
    main()

"""Nox sessions: every check, each in its own environment from ``uv.lock``.

``tests`` runs the suite on every supported Python (3.10 to 3.13); ``lint``, ``typecheck``
and ``docs`` run ruff, mypy --strict and Sphinx with warnings as errors; ``bench-smoke``
runs every benchmark briefly (they still run and cross-check their answers); ``bench``
times the evaluation benchmark for real. ``uv run nox`` runs all but ``bench``;
``uv run nox -l`` lists them and ``uv run nox -s tests-3.12`` runs one. CI
(``.ci/run``) runs these sessions for the declared minimum Python, 3.10, and the README's
own commands (the demo and ``uv run pytest``) on the locked one. Each session's virtual
environment (under ``.nox/``) is created by uv with exactly the dependency groups the
session needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import nox

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lint", "typecheck", "docs", "bench-smoke"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The docs and bench groups only resolve on Python 3.11+ (see pyproject.toml).
TOOLS_PYTHON = "3.11"
# Every benchmark, each run as ``python -m <module>``.
BENCHMARKS = [
    "benchmarks",
    "benchmarks.stores",
    "benchmarks.plugin",
    "benchmarks.plugin_overhead",
    "benchmarks.ofrep",
    "benchmarks.event_streams",
    "benchmarks.documents",
    "benchmarks.write_stall",
    "benchmarks.workers",
    "benchmarks.usage",
    "benchmarks.metrics",
    "benchmarks.fanout",
    "benchmarks.pgbouncer",
]


def _expose_pyenv_versions(versions: list[str]) -> None:
    """Let nox find pyenv-installed interpreters that are not pyenv's active version.

    pyenv's shims only run the active versions, and interpreter discovery follows the
    shims. When pyenv is installed, this sets ``PYENV_VERSION`` to the active versions
    followed by the newest installed patch release of each of ``versions``, so that
    ``tests-3.10`` ... ``tests-3.13`` find their interpreters. The active version stays
    first, so a plain ``python`` is unchanged. On machines without pyenv it does nothing.

    Args:
        versions: The ``X.Y`` versions the sessions ask for.
    """
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return

    def ask(*args: str) -> str | None:
        # Fixed arguments to the pyenv found on PATH; no shell, no user input.
        result = subprocess.run(  # noqa: S603 - see the comment above
            [pyenv, *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else None

    active = (os.environ.get("PYENV_VERSION") or ask("version-name") or "").split(":")
    found = [name for version in versions if (name := ask("latest", version))]
    names = [name for name in dict.fromkeys([*active, *found]) if name and name != "system"]
    if names:
        os.environ["PYENV_VERSION"] = ":".join(names)


_expose_pyenv_versions(PYTHONS)


def _sync(session: nox.Session, *groups: str, extras: bool = False) -> None:
    """Install the project and ``groups``, as locked, into the session's environment.

    Args:
        session: The session whose virtual environment receives the packages.
        groups: The dependency groups to install.
        extras: Whether to install every optional extra (Litestar, the store drivers).
    """
    args = ["uv", "sync", "--locked", "--no-default-groups"]
    if extras:
        args.append("--all-extras")
    for group in groups:
        args += ["--group", group]
    session.run_install(
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite; extra arguments go to pytest (``-- -k name``).

    The benchmark peers are installed too (on Python 3.11+, where they exist), because
    the benchmark harness's tests cross-check them.
    """
    _sync(session, "dev", "bench", extras=True)
    session.run("pytest", *session.posargs)


@nox.session(python=TOOLS_PYTHON)
def lint(session: nox.Session) -> None:
    """Check lint and formatting with ruff, and the layer contracts (changes nothing)."""
    _sync(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=TOOLS_PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check the package, tests, benchmarks and tooling with mypy --strict."""
    # docs: docs/conf.py is type-checked too, against Sphinx's own annotations.
    _sync(session, "dev", "bench", "docs", extras=True)
    session.run("mypy", *session.posargs)


@nox.session(python=TOOLS_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the HTML documentation with warnings as errors."""
    _sync(session, "docs", extras=True)  # autodoc imports every documented module
    session.run(
        "sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(name="bench-smoke", python=TOOLS_PYTHON)
def bench_smoke(session: nox.Session) -> None:
    """Run every benchmark with ``--quick`` (the figures come from full runs, not this)."""
    # The store benchmark talks to Redis and PostgreSQL, the others start uvicorn servers.
    _sync(session, "dev", "bench", extras=True)
    for module in BENCHMARKS:
        session.run("python", "-m", module, "--quick")


@nox.session(python=TOOLS_PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks against the peers; extra arguments go to the benchmark runner."""
    _sync(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)

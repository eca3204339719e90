"""The commands that run a server until stopped: ``demo`` (the example app) and ``serve``."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import TYPE_CHECKING, Final, TextIO

from openfeature_litestar._engine import DEFAULT_FRACTIONAL
from openfeature_litestar._errors import DocumentError, StoreError
from openfeature_litestar._masking import mask_url
from openfeature_litestar._stores import store_from_url

from ._outcomes import EXIT_OK, UsageError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

    from openfeature_litestar._stores import StoredDocument

__all__ = ["demo", "serve"]

# The addresses that listen on every interface, so reach beyond this machine.
_EVERY_INTERFACE: Final = frozenset({"0.0.0.0", "::", "[::]", ""})  # noqa: S104 - compared, not bound


def _demo_module() -> ModuleType:
    """The demo app's module (it needs Litestar, which only the ``server`` extra brings)."""
    try:
        from openfeature_litestar import _demo  # noqa: PLC0415 - only the demo needs Litestar
    except ImportError as exc:
        raise UsageError(
            f"the demo needs {exc.name or 'Litestar'}: pip install 'openfeature-litestar[server]'"
        ) from None
    return _demo


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """``demo``: run the example Litestar app under uvicorn on the store ``--store`` names."""
    try:
        import uvicorn  # noqa: PLC0415 - only the demo needs a server
    except ImportError:
        raise UsageError("the demo runs under uvicorn: install it (pip install uvicorn)") from None
    module = _demo_module()
    app = module.create_app(args.store, namespace=args.namespace)
    # Nothing is created before a failure: a port that is taken is found before the
    # store is touched (an embedded SQLite store is created by its first read).
    _check_port_free(args.host, args.port)
    # The app seeds its store as it starts; a store that cannot be reached would end in
    # uvicorn's startup traceback, so it is tried here first and reported in one line.
    _check_reachable(args.store, args.namespace)
    base = f"http://{_url_host(args.host)}:{args.port}"
    options = module.cli_options(args.store, args.namespace)
    print(
        f"openfeature-litestar demo: flags from {mask_url(args.store)}\n"
        f"  open  {base}/?user=alice&plan=pro&country=DE  (and {base}/api/flags)\n"
        f"  flip  uv run openfeature-litestar disable checkout-rollout{options}",
        file=out,
        flush=True,
    )
    try:
        # proxy_headers off, as in serve: the client address is the real peer's.
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False)
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
        if exc.code not in (None, 0):
            raise UsageError("the demo could not start (see the messages above)") from None
    return EXIT_OK


def serve(args: argparse.Namespace, out: TextIO) -> int:
    """``serve``: the standalone OFREP (and admin API) server on one namespace of a store."""
    from openfeature_litestar.web._server import serve as run_server  # noqa: PLC0415 - only this command needs Litestar

    _print_startup(args, out)
    try:
        run_server(
            host=args.host,
            port=args.port,
            workers=args.workers,
            store=args.store,
            namespace=args.namespace,
            public=args.public,
            sanitize=args.sanitize,
            cors_origins=args.cors_origins,
            fractional=args.fractional or DEFAULT_FRACTIONAL,
        )
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
        if exc.code not in (None, 0):
            raise UsageError("the server could not start (see the messages above)") from None
    return EXIT_OK


def _environment_list(given: Sequence[str], env: str) -> list[str]:
    """``given``, else the comma-separated values of ``env``: as the server reads them."""
    if given:
        return list(given)
    return [value.strip() for value in os.environ.get(env, "").split(",") if value.strip()]


def _served_now(url: str, namespace: str) -> str:
    """What the store holds now: ``revision 3, 8 flags``, or why that is not known yet."""
    store = store_from_url(url, namespace=namespace)

    async def read_once() -> StoredDocument:
        try:
            return await store.load()
        finally:
            await store.close()

    try:
        stored = asyncio.run(read_once())
    except (StoreError, DocumentError) as exc:
        first_line = str(exc).splitlines()[0]
        return f"not read yet ({first_line}); the server keeps trying"
    count = len(stored.document.flags)
    return f"revision {stored.revision}, {count} flag{'' if count == 1 else 's'}"


def _print_startup(args: argparse.Namespace, out: TextIO) -> None:
    """Say what ``serve`` is about to serve, where, to whom; warn about risky exposure."""
    from openfeature_litestar.web._server import (  # noqa: PLC0415 - only this command needs Litestar
        ADMIN_TOKENS_ENV,
        CORS_ORIGINS_ENV,
        METRICS_TOKENS_ENV,
        TOKENS_ENV,
    )

    namespace = store_from_url(args.store, namespace=args.namespace).namespace
    base = f"http://{_url_host(args.host)}:{args.port}"
    tokens = _environment_list((), TOKENS_ENV)
    admin_tokens = _environment_list((), ADMIN_TOKENS_ENV)
    metrics_tokens = _environment_list((), METRICS_TOKENS_ENV)
    origins = _environment_list(args.cors_origins, CORS_ORIGINS_ENV)
    ofrep = (
        "public: no token asked for (--public)"
        if args.public
        else f"{len(tokens)} bearer token{'' if len(tokens) == 1 else 's'} from {TOKENS_ENV}"
    )
    admin = (
        f"{base}/admin/v1  ({len(admin_tokens)} token{'' if len(admin_tokens) == 1 else 's'} "
        f"from {ADMIN_TOKENS_ENV}; schema at {base}/schema)"
        if admin_tokens
        else f"off (set {ADMIN_TOKENS_ENV} to mount it)"
    )
    metrics = (
        f"{base}/metrics  ({len(metrics_tokens)} token{'' if len(metrics_tokens) == 1 else 's'} "
        f"from {METRICS_TOKENS_ENV})"
        # Each worker counts its own evaluations; a scrape reaches one of them.
        + ("; each scrape reads one worker's counts" if args.workers > 1 else "")
        if metrics_tokens
        else f"off (set {METRICS_TOKENS_ENV} to mount it)"
    )
    lines = [
        f"openfeature-litestar serve: namespace {namespace!r} of {mask_url(args.store)}",
        (
            f"  flags      {_served_now(args.store, namespace)}; fractional "
            f"{args.fractional or DEFAULT_FRACTIONAL}"
        ),
        f"  OFREP      {base}/ofrep/v1  ({ofrep}); events at {base}/ofrep/v1/events",
        f"  admin API  {admin}",
        f"  metrics    {metrics}",
        f"  CORS       {', '.join(origins) if origins else 'off (no --cors-origin)'}",
        (
            f"  health     {base}/healthz, {base}/readyz; {args.workers} worker"
            f"{'' if args.workers == 1 else 's'}"
        ),
    ]
    print("\n".join(lines), file=out, flush=True)
    if args.host in _EVERY_INTERFACE and "*" in origins:
        sys.stderr.write(
            f"warning: --host {args.host} with --cors-origin '*': every web page any visitor "
            "opens may call this server from their browser; name the origins that need it\n"
        )


def _check_reachable(url: str, namespace: str) -> None:
    """Read the store once.

    Raises:
        StoreError: The store cannot be reached.
        DocumentError: It holds an invalid document.
    """
    store = store_from_url(url, namespace=namespace)

    async def read_once() -> None:
        try:
            await store.load()
        finally:
            await store.close()

    asyncio.run(read_once())


def _check_port_free(host: str, port: int) -> None:
    """Bind the demo's address once, and let it go.

    Raises:
        UsageError: The address cannot be bound (in use, or not this machine's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port in TIME_WAIT after the last run is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"the demo could not start: cannot listen on {_url_host(host)}:{port} "
                f"({exc.strerror or exc}); choose another with --port"
            ) from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

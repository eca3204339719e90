"""What the HTTP benchmarks share: an application under uvicorn in a process of its own."""

from __future__ import annotations

import importlib.metadata
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["ROOT", "Server", "free_port", "package_version", "start_server", "stop_server"]

ROOT: Final = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """One uvicorn process (one worker, no access log) and its port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int


def free_port() -> int:
    """A port no one listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(factory: str, name: str = "") -> Server:
    """Start ``factory`` (``module:function`` returning an ASGI app) on a free local port."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 - this interpreter, fixed arguments
    return Server(name or factory, process, port)


def stop_server(server: Server) -> None:
    """Stop the server as Ctrl-C would, killing it if it does not stop within 20 s."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def package_version(package: str) -> str:
    """The installed version of ``package``, or ``?``."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"

"""Private Redis deployments for tests and benchmarks: a cluster, and a Sentinel set-up.

Failover tests kill servers, so they never use the shared Redis on 6379: each deployment
here runs its own ``redis-server`` processes on free loopback ports, in a temporary
directory, and stops them afterwards. Import it as ``from tests.redis_servers import ...``.

Without ``redis-server`` and ``redis-cli`` on ``PATH`` the tests skip with the reason,
except under CI (``CI`` set), where they fail: Debian's ``redis-server`` package has both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "Cluster",
    "Sentinels",
    "require_redis_binaries",
    "running_cluster",
    "running_sentinels",
]

_BUS_OFFSET = 10_000  # a cluster node also listens on its port + 10000 (the cluster bus)
_START_TIMEOUT = 30.0


def require_redis_binaries() -> None:
    """Skip (fail under CI) unless ``redis-server`` and ``redis-cli`` are installed."""
    missing = [name for name in ("redis-server", "redis-cli") if shutil.which(name) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not on PATH (Debian package redis-server)"
    if os.environ.get("CI"):
        pytest.fail(f"under CI the Redis binaries must be installed: {reason}")
    pytest.skip(reason)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports(count: int, *, with_bus: bool) -> list[int]:
    """``count`` ports free now (and, for cluster nodes, their bus ports too)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port in ports or port + _BUS_OFFSET > 65535:
            continue
        if with_bus and not _port_free(port + _BUS_OFFSET):
            continue
        ports.append(port)
    return ports


@dataclass
class _Server:
    port: int
    args: list[str]
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            ["redis-server", *self.args],  # noqa: S607 - found on PATH on purpose
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        """Kill the process at once (SIGKILL): a crash, not a shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=2, decode_responses=True
        )

    def wait_up(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.1)

    def _answers(self) -> bool:
        with contextlib.suppress(redis.RedisError), self.client() as client:
            return bool(client.ping())
        return False


@dataclass
class Cluster:
    """A local Redis Cluster: 3 primaries with a replica each.

    Attributes:
        nodes: The six servers, by port.
    """

    nodes: dict[int, _Server] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """A ``redis+cluster://`` URL naming every node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.nodes) + "/"

    def primary_of(self, key: str) -> int:
        """The port of the primary that owns ``key``'s slot now."""
        for server in self.nodes.values():
            if server.process is None or server.process.poll() is not None:
                continue
            with contextlib.suppress(redis.RedisError), server.client() as client:
                slot = client.execute_command("CLUSTER KEYSLOT", key)
                for start, end, primary, *_ in client.execute_command("CLUSTER SLOTS"):
                    if start <= slot <= end:
                        return int(primary[1])
        raise RuntimeError("no cluster node answers")

    def kill(self, port: int) -> None:
        """Kill the node on ``port`` (SIGKILL)."""
        self.nodes[port].kill()

    def stop(self) -> None:
        for server in self.nodes.values():
            server.kill()


def _wait_cluster_ok(cluster: Cluster) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        states = []
        replicas_linked = 0
        for server in cluster.nodes.values():
            with contextlib.suppress(redis.RedisError), server.client() as client:
                states.append(client.execute_command("CLUSTER INFO").get("cluster_state"))
                replication = client.info("replication")
                # A replica that has not synchronised yet cannot take over its primary.
                replicas_linked += replication.get("master_link_status") == "up"
        if states == ["ok"] * len(cluster.nodes) and replicas_linked == len(cluster.nodes) // 2:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the local Redis Cluster did not reach cluster_state:ok")
        time.sleep(0.2)


@contextlib.contextmanager
def running_cluster(node_timeout_ms: int = 1000) -> Iterator[Cluster]:
    """Start a 3-primary, 3-replica cluster on free loopback ports; stop it afterwards.

    Args:
        node_timeout_ms: ``cluster-node-timeout``: how long a primary may be silent before
            its replica takes over.
    """
    require_redis_binaries()
    cluster = Cluster()
    with tempfile.TemporaryDirectory(prefix="redis-cluster-") as root:
        try:
            for port in _free_ports(6, with_bus=True):
                server = _Server(
                    port,
                    [
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        str(node_timeout_ms),
                        "--appendonly",
                        "no",
                        "--save",
                        "",
                        "--daemonize",
                        "no",
                    ],
                    Path(root) / str(port),
                )
                cluster.nodes[port] = server
                server.start()
            for server in cluster.nodes.values():
                server.wait_up()
            subprocess.run(  # noqa: S603 - fixed arguments
                [  # noqa: S607 - found on PATH on purpose
                    "redis-cli",
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{port}" for port in cluster.nodes),
                    "--cluster-replicas",
                    "1",
                    "--cluster-yes",
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            _wait_cluster_ok(cluster)
            yield cluster
        finally:
            cluster.stop()


@dataclass
class Sentinels:
    """A primary, its replica and three sentinels watching them as service ``flags``.

    Attributes:
        primary: The server that starts as primary.
        replica: The server that starts as its replica.
        sentinels: The three sentinels.
        service: The name the sentinels know the primary by.
    """

    primary: _Server
    replica: _Server
    sentinels: list[_Server]
    service: str = "flags"

    @property
    def url(self) -> str:
        """A ``redis+sentinel://`` URL naming every sentinel, the service and database 0."""
        hosts = ",".join(f"127.0.0.1:{server.port}" for server in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/0"

    def current_primary(self) -> int:
        """The port the sentinels name as the primary now."""
        for sentinel in self.sentinels:
            with contextlib.suppress(redis.RedisError), sentinel.client() as client:
                _, port = client.execute_command("SENTINEL GET-MASTER-ADDR-BY-NAME", self.service)
                return int(port)
        raise RuntimeError("no sentinel answers")

    def server(self, port: int) -> _Server:
        """The data server (primary or replica) on ``port``."""
        return self.primary if self.primary.port == port else self.replica

    def stop(self) -> None:
        for server in [*self.sentinels, self.replica, self.primary]:
            server.kill()


@contextlib.contextmanager
def running_sentinels(down_after_ms: int = 1000) -> Iterator[Sentinels]:
    """Start a primary, a replica and three sentinels on free ports; stop them afterwards.

    Args:
        down_after_ms: ``down-after-milliseconds``: how long the primary may be silent
            before the sentinels fail over.
    """
    require_redis_binaries()
    with tempfile.TemporaryDirectory(prefix="redis-sentinel-") as root:
        primary_port, replica_port, *sentinel_ports = _free_ports(5, with_bus=False)
        common = ["--bind", "127.0.0.1", "--appendonly", "no", "--save", ""]
        primary = _Server(
            primary_port, ["--port", str(primary_port), *common], Path(root) / "primary"
        )
        replica = _Server(
            replica_port,
            ["--port", str(replica_port), *common, "--replicaof", "127.0.0.1", str(primary_port)],
            Path(root) / "replica",
        )
        sentinels = []
        for port in sentinel_ports:
            directory = Path(root) / f"sentinel-{port}"
            directory.mkdir(parents=True)
            # A sentinel rewrites its configuration file, so each has its own.
            (directory / "sentinel.conf").write_text(
                f"port {port}\nbind 127.0.0.1\n"
                f"sentinel monitor flags 127.0.0.1 {primary_port} 2\n"
                f"sentinel down-after-milliseconds flags {down_after_ms}\n"
                "sentinel failover-timeout flags 10000\n"
                "sentinel parallel-syncs flags 1\n"
            )
            sentinels.append(_Server(port, ["sentinel.conf", "--sentinel"], directory))
        deployment = Sentinels(primary, replica, sentinels)
        try:
            for server in [primary, replica, *sentinels]:
                server.start()
            for server in [primary, replica, *sentinels]:
                server.wait_up()
            _wait_replicating(deployment)
            yield deployment
        finally:
            deployment.stop()


def _wait_replicating(deployment: Sentinels) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        with contextlib.suppress(redis.RedisError), deployment.replica.client() as client:
            if client.info("replication").get("master_link_status") == "up":
                known = 0
                for sentinel in deployment.sentinels:
                    with sentinel.client() as sentinel_client:
                        replicas = sentinel_client.execute_command(
                            "SENTINEL REPLICAS", deployment.service
                        )
                        known += bool(replicas)
                if known == len(deployment.sentinels):
                    return
        if time.monotonic() > deadline:
            raise RuntimeError("the local Sentinel set-up did not come up")
        time.sleep(0.2)

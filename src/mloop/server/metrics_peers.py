"""One `/metrics` for all the workers of a server: each worker shares its counts with the others.

Workers of one server (`--workers N`) take connections from one port, so a scrape reaches any
one of them. Each worker answers on a Unix socket in a directory of its server
(`<dir>/<pid>.sock`) with a snapshot of its counters; the worker that gets the scrape asks every
other socket there and sums the answers, sample by sample. Counting stays in memory, so a
request costs the same as with one worker; only a scrape asks the others. A worker that died
is skipped (its socket refuses, and is removed): its counts leave the totals with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

ASK_TIMEOUT_S = 2.0
# (family name, documentation, type, [(sample name, labels, value)]).
Family = tuple[str, str, str, list[tuple[str, dict[str, str], float]]]


def snapshot(registry: CollectorRegistry) -> list[Family]:
    """Every sample of a registry, as plain data that travels as JSON."""
    out: list[Family] = []
    for family in registry.collect():
        samples = [(s.name, s.labels, s.value) for s in family.samples]
        out.append((family.name, family.documentation, family.type, samples))
    return out


class MetricPeers:
    """The workers of one server, met through Unix sockets in `directory`.

    Args:
        directory: a directory of this server's only (made by the parent before the workers).
        registry: this worker's counters.
    """

    def __init__(self, directory: str | os.PathLike[str], registry: CollectorRegistry) -> None:
        self.directory = Path(directory)
        self.registry = registry
        self.path = self.directory / f"{os.getpid()}.sock"

    def start(self) -> None:
        """Answer the other workers' questions from a daemon thread."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        listener.listen(16)
        threading.Thread(
            target=self._answer, args=(listener,), name="mloop-metrics-peer", daemon=True
        ).start()

    def _answer(self, listener: socket.socket) -> None:
        while True:
            conn, _ = listener.accept()
            with conn, contextlib.suppress(OSError):  # the asker gave up: nothing to do
                conn.sendall(json.dumps(snapshot(self.registry)).encode())

    def exposition(self) -> bytes:
        """The Prometheus text of every worker's counts, summed."""
        families = [snapshot(self.registry)]
        for path in sorted(self.directory.glob("*.sock")):
            if path != self.path:
                answer = _ask(path)
                if answer is not None:
                    families.append(answer)
        merged = CollectorRegistry(auto_describe=False)
        merged.register(_Summed(families))
        return generate_latest(merged)


def _ask(path: Path) -> list[Family] | None:
    """A peer's snapshot; None when it is gone (its socket is then removed)."""
    chunks = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(ASK_TIMEOUT_S)
            conn.connect(str(path))
            while chunk := conn.recv(1 << 16):
                chunks.append(chunk)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    except OSError:  # busy or stuck past the timeout: this scrape goes without it
        return None
    try:
        data: list[Family] = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return data


class WorkerMetrics:
    """One worker's Prometheus registry, answered alone or summed with its peers' once joined.

    The tracking server's and the inference server's metrics both build on this; they add
    their own counters to `registry`.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.peers: MetricPeers | None = None

    def join_peers(self, directory: str) -> None:
        """Share counts with the other workers of this server (sockets in `directory`)."""
        peers = MetricPeers(directory, self.registry)
        try:
            peers.start()
        except OSError:  # e.g. a socket path too long for AF_UNIX: scrapes see this worker only
            return
        self.peers = peers

    def exposition(self) -> bytes:
        """The Prometheus text of this worker's counts, or of every worker's, summed."""
        if self.peers is not None:
            return self.peers.exposition()
        return generate_latest(self.registry)


class _Summed(Collector):
    """Families of several workers as one: values summed, `_created` the earliest."""

    def __init__(self, snapshots: list[list[Family]]) -> None:
        self.snapshots = snapshots

    def collect(self) -> Iterator[Metric]:
        heads: dict[str, tuple[str, str]] = {}
        values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for families in self.snapshots:
            for name, documentation, kind, samples in families:
                heads.setdefault(name, (documentation, kind))
                into = values.setdefault(name, {})
                for sample_name, labels, value in samples:
                    key = (sample_name, tuple(sorted(labels.items())))
                    if key not in into:
                        into[key] = value
                    elif sample_name.endswith("_created"):
                        into[key] = min(into[key], value)
                    else:
                        into[key] += value
        for name, (documentation, kind) in heads.items():
            family = Metric(name, documentation, kind)
            for (sample_name, pairs), value in values[name].items():
                family.add_sample(sample_name, dict(pairs), value)
            yield family

"""The prediction log's converter: a child process turning spooled segments into Parquet.

`python -m mloop.serving.predlog_convert --spool DIR --sink URI` is started by the serving
process (spawned, never forked: it shares no state and no lock with the server) at a lower CPU
priority and, when the server is pinned to some cores, on the others. It converts what it finds
at start (what a killed server left behind), then again whenever the server writes a line to
its stdin (a segment closed) and every `--interval` seconds. When its stdin closes (the server
stopped, or died: the kernel closes the pipe), it converts what is left and exits, so it never
outlives its server for longer than that. It ignores SIGINT and SIGTERM (it has its own
session, and a signal meant for the server must not cut the last conversion short).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from mloop.serving.predlog_sinks import open_sink_uri
from mloop.serving.predlog_spool import convert_ready

logger = logging.getLogger("mloop.serving")
NICENESS = 10


class ConverterProcess:
    """The server's handle on its converter process.

    Args:
        spool: the spool folder.
        sink_uri: the sink's URI (`PredictionSink.uri`).
        interval_s: how often the converter looks at the spool without being told.
    """

    def __init__(self, spool: Path, sink_uri: str, *, interval_s: float) -> None:
        self.spool = spool
        self.sink_uri = sink_uri
        self.interval_s = interval_s
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The converter's process id (None before `start`)."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Start the converter process."""
        command = [
            sys.executable,
            "-m",
            "mloop.serving.predlog_convert",
            "--spool",
            str(self.spool),
            "--sink",
            self.sink_uri,
            "--interval",
            str(self.interval_s),
        ]
        self._process = subprocess.Popen(  # noqa: S603 - our own module, no shell
            command, stdin=subprocess.PIPE, start_new_session=True
        )

    def notify(self) -> None:
        """Tell the converter that a segment is ready; restart it if it died."""
        process = self._process
        if process is None:
            return
        if process.poll() is not None:
            logger.warning(
                "the prediction-log converter exited with code %s; starting it again",
                process.returncode,
            )
            self.restarts += 1
            self.start()
            return  # a fresh converter converts what is there when it starts
        try:
            if process.stdin is not None:
                process.stdin.write(b"\n")
                process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it is exiting; the next notification restarts it

    def stop(self, *, timeout_s: float = 60.0) -> int | None:
        """Close its stdin (it converts what is left, then exits) and wait for it.

        Returns:
            its exit code, or None when it did not exit in time (the spool keeps what it did
            not convert; the next start converts it).
        """
        process, self._process = self._process, None
        if process is None:
            return None
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning(
                "the prediction-log converter did not finish within %.0f s; what it did not "
                "convert stays in %s and is converted at the next start",
                timeout_s,
                self.spool,
            )
            return None


def run(spool: Path, sink_uri: str, *, interval_s: float) -> None:
    """The converter's loop (see the module doc)."""
    sink = open_sink_uri(sink_uri)
    parent = os.getppid()
    stdin = sys.stdin.fileno()
    convert_ready(spool, sink)
    while True:
        ready, _, _ = select.select([stdin], [], [], interval_s)
        if ready and not os.read(stdin, 4096):
            break  # the server closed the pipe: it stopped or died
        if os.getppid() != parent:
            break  # orphaned (a pipe kept open elsewhere must not keep us alive)
        convert_ready(spool, sink)
    convert_ready(spool, sink)


def _leave_the_server_cores() -> None:
    """Run on the CPUs the server is not pinned to, when it is pinned to some (`taskset`).

    The converter inherits the server's CPU affinity; a server pinned to one core would share
    it with the converter's Parquet encoding. When the machine has other cores, the converter
    moves to them (a cpuset that forbids them leaves it where it is).
    """
    if not hasattr(os, "sched_getaffinity"):  # pragma: no cover - not on Linux
        return
    server = os.sched_getaffinity(0)
    others = set(range(os.cpu_count() or 1)) - server
    if others:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, others)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: `python -m mloop.serving.predlog_convert --spool DIR --sink URI`."""
    parser = argparse.ArgumentParser(description="Convert spooled prediction-log segments.")
    parser.add_argument("--spool", type=Path, required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(format="%(asctime)s mloop prediction-log converter: %(message)s")
    with contextlib.suppress(OSError):  # not allowed on some systems
        os.nice(NICENESS)  # the server comes first when both want the CPU
    _leave_the_server_cores()
    run(args.spool, args.sink, interval_s=args.interval)


if __name__ == "__main__":
    main()

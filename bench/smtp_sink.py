"""An SMTP sink on 127.0.0.1 (aiosmtpd) that accepts every message and only counts it.

It runs as its own process (``python -m bench.smtp_sink PORT``), so its work does not
share a GIL with the client being measured. It prints ``ready`` once listening, and the
number of messages it accepted when its standard input closes; then it exits. Parsing
nothing keeps the server's share of each round trip as small as aiosmtpd allows: the
same for every client measured.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from typing import Any

from bench.env import REPO


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Counter:
    """aiosmtpd handler: 250 to every message, a count of them."""

    def __init__(self) -> None:
        self.accepted = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.accepted += 1
        return "250 2.0.0 accepted"


def main() -> None:
    from aiosmtpd.controller import Controller

    port = int(sys.argv[1])
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10.0)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our standard input (or exits)
    finally:
        controller.stop()
        print(handler.accepted, flush=True)


class Sink:
    """The sink process, seen from the benchmark: start, settings, stop (with a count)."""

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise RuntimeError(f"the SMTP sink did not start (said {line!r})")

    def stop(self) -> int | None:
        """Stop the process; the number of messages it accepted (None if unknown)."""
        process, self._process = self._process, None
        if process is None:
            return None
        try:
            out, _ = process.communicate(input="", timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
        lines = out.split()
        return int(lines[-1]) if lines and lines[-1].isdigit() else None


if __name__ == "__main__":
    main()

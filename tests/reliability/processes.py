"""Worker processes: started with ``subprocess.Popen``, told when to go, killed by pid."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

WORKER = Path(__file__).resolve().with_name("worker.py")
START_TIMEOUT = 30.0
RUN_TIMEOUT = 120.0


def _clean_env() -> dict[str, str]:
    """This environment without JOURNEY_* settings: each worker gets its settings in full."""
    return {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}


class Worker:
    """A worker process: started, then ``ready`` (imports done), then told to go."""

    def __init__(self, config: dict[str, Any], log: Path) -> None:
        self.name = str(config["worker"])
        self._log = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=_clean_env(),
        )
        self.log = log

    @property
    def _stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def wait_ready(self) -> None:
        ready, _, _ = select.select([self._stdout], [], [], START_TIMEOUT)
        line = self._stdout.readline() if ready else ""
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"worker {self.name} did not start: {self._errors()}")

    def go(self, now: datetime | None = None) -> None:
        """Start the run; with ``now``, the run's clock starts there (not at the config's)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"go {now.isoformat()}\n" if now is not None else "go\n")
        self.proc.stdin.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def finish(self) -> dict[str, Any]:
        """Wait for the run to end; its counts."""
        out, _ = self.proc.communicate(timeout=RUN_TIMEOUT)
        self._log.close()
        if self.proc.returncode != 0:
            raise RuntimeError(
                f"worker {self.name} exited {self.proc.returncode}: {self._errors()}"
            )
        counts: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return counts

    def kill(self) -> None:
        """SIGKILL, by pid: no clean-up, no rollback but the database's own."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=RUN_TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()

    def _errors(self) -> str:
        return self.log.read_text(encoding="utf-8")[-2000:] or "(nothing on stderr)"


@contextmanager
def workers() -> Iterator[list[Worker]]:
    """Started workers go in the list; any still running at the end is killed."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()

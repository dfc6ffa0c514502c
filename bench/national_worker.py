"""A delivery worker for the national bench: a process that runs the ``deliver-notices``
flow whenever it is told to (``python -m bench.national_worker``).

It starts Prefect (its own ephemeral API, in its own ``PREFECT_HOME``) with a trivial
flow, prints ``ready``, then reads one JSON command a line from standard input:
``{"url": …, "now": …, "smtp_host": …, "smtp_port": …}``. For each it runs
``deliver_notices(now)`` against that database and that sink, as the CLI runs flows
(``flows_here``), and prints one JSON line: when the run started and ended
(``time.time()``, comparable between workers), what it sent, and its batches. It exits
when its standard input closes.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any


def _one(command: dict[str, Any]) -> dict[str, Any]:
    from bench.context import process_settings
    from journey.flows.deliver_notices import deliver_notices
    from journey.services.outcomes import DeliverySummary
    from journey.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=command["url"],
        smtp_host=command["smtp_host"],
        smtp_port=command["smtp_port"],
        smtp_starttls=False,
        smtp_ssl=False,
        smtp_timeout=10.0,
        smtp_retry_delays=[0.5, 1.0],
        sender=command["sender"],
        outbox_dir=command["outbox_dir"],
    )
    with process_settings(settings):
        start = time.time()
        state = deliver_notices(now=datetime.fromisoformat(command["now"]), return_state=True)
        end = time.time()
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, DeliverySummary):
        return {"start": start, "end": end, "error": str(summary)}
    from journey.db import get_engine

    get_engine(command["url"]).dispose()  # the copy can be dropped
    return {"start": start, "end": end, "sent": summary.sent, "batches": summary.batches}


def main() -> None:
    from prefect import flow

    from journey.prefect_env import flows_here

    @flow(name="bench-worker-warm-up")
    def warm_up() -> int:
        return 1

    with flows_here():
        warm_up()
        print("ready", flush=True)
        for line in sys.stdin:
            try:
                answer = _one(json.loads(line))
            except Exception as exc:  # reported to the parent, which records it
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

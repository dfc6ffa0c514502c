"""Issue 13: Prefect holds no addresses. Every flow runs against a real Prefect server of
its own (a mail server refusing one trainee, quoting her address); then its API (flow and
task runs, states, logs, events, every artifact version), its database and this run's
``$PREFECT_HOME`` are searched for every address the database holds. Addresses are found
only in the parameters of the runs that take them, and :mod:`journey.prefect_runs` finds
and deletes exactly those runs."""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings
from prefect.states import State
from sqlalchemy import select

from journey.db import session_scope
from journey.flows.launch_cohort import launch_cohort
from journey.flows.record_completion import record_completion
from journey.flows.send_reminders import send_reminders
from journey.flows.trainee_journey import trainee_journey
from journey.flows.withdraw_trainee import withdraw_trainee
from journey.models import Enrolment, Person
from journey.prefect_runs import delete_runs, runs_concerning
from journey.settings import Settings
from tests.conftest import EXAMPLES, utc
from tests.prefect_server import BIN, PrefectServer, events_to, quiet_env, stop
from tests.smtp_server import SmtpServer, free_port

pytestmark = pytest.mark.prefect

AISHA = "aisha.rahman@example.org"
GHOST = "ghost@example.org"  # in no cohort
REFUSAL = f"550 5.1.1 <{AISHA}>: Recipient address rejected"
TRAINED = utc("2026-09-26T18:00")


def roster() -> list[tuple[str, str]]:
    with (EXAMPLES / "roster.csv").open(newline="") as f:
        return [(row["name"], row["email"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A Prefect server for this module alone, so what is searched is only what these
    runs left (the session's server also holds other tests' runs)."""
    import urllib.request

    home = tmp_path_factory.mktemp("own-prefect-server")
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=quiet_env(home, PREFECT_SERVER_API_PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectServer(f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}", home, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{server.api_url}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"prefect server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield server
    finally:
        stop(process)


class Addresses:
    """Every address the database holds (trainees, mentors, facilitators, the organiser)
    and one that is nowhere; which of them a text holds."""

    def __init__(self, url: str) -> None:
        with session_scope(url) as session:
            stored = session.scalars(select(Person.email).where(Person.email.is_not(None)))
            self.all = sorted({str(e) for e in stored} | {GHOST})

    def within(self, text: str) -> set[str]:
        lowered = text.lower()
        return {a for a in self.all if a in lowered}


def enrolment_id(url: str, email: str) -> int:
    with session_scope(url) as session:
        found = session.scalar(
            select(Enrolment.id)
            .join(Person, Enrolment.person_id == Person.id)
            .where(Person.email == email)
        )
        assert found is not None
        return int(found)


def run_id(state: State[Any]) -> UUID:
    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    return flow_run_id


def run_everything(cohort_id: str, emails: list[str]) -> dict[str, State[Any]]:
    """Each flow that takes or meets an address, failing where it can, as return states."""
    withdrawing, ben = emails[5], emails[1]
    return {
        "launch": launch_cohort(cohort_id, now=utc("2026-09-01T09:00"), return_state=True),
        "sweep": send_reminders(
            now=utc("2026-09-18T08:00"), cohort_ids=[cohort_id], return_state=True
        ),
        "journey": trainee_journey(cohort_id, ben, now=utc("2026-09-18T08:30"), return_state=True),
        "ghost journey": trainee_journey(
            cohort_id, GHOST, now=utc("2026-09-18T08:30"), return_state=True
        ),
        "withdraw": withdraw_trainee(
            cohort_id,
            withdrawing,
            on=date(2026, 9, 17),
            now=utc("2026-09-18T09:00"),
            return_state=True,
        ),
        "record unknown": record_completion(
            cohort_id, [emails[2], GHOST, emails[3]], "training", now=TRAINED, return_state=True
        ),
        "record withdrawn": record_completion(
            cohort_id, [withdrawing], "training", now=TRAINED, return_state=True
        ),
        "record": record_completion(
            cohort_id, emails[:5], "training", now=TRAINED, return_state=True
        ),
    }


def everything_but_parameters(client: SyncPrefectClient) -> dict[str, Any]:
    """What the API holds, as JSON-ready data: flow runs (all but their parameters) and
    their states, task runs, logs, events and every artifact version; and the parameters."""
    runs = paged(client.read_flow_runs)
    held: dict[str, Any] = {
        "flow runs": [r.model_dump(mode="json", exclude={"parameters"}) for r in runs],
        "states": [
            s.model_dump(mode="json") for r in runs for s in client.read_flow_run_states(r.id)
        ],
        "task runs": [t.model_dump(mode="json") for t in paged(client.read_task_runs)],
        "logs": [log.model_dump(mode="json") for log in paged(client.read_logs)],
        "artifacts": [a.model_dump(mode="json") for a in paged(client.read_artifacts)],
        "events": [e.model_dump(mode="json") for e in all_events(client)],
    }
    return {"held": held, "parameters": {str(r.id): r.parameters for r in runs}}


def paged(read: Callable[..., list[Any]], size: int = 200) -> list[Any]:
    """Everything a ``read_*`` call of the client finds, page by page (at most 200 each)."""
    found: list[Any] = []
    while True:
        page = read(limit=size, offset=len(found))
        found += page
        if len(page) < size:
            return found


def all_events(client: SyncPrefectClient, settle: float = 3.0) -> list[Any]:
    """Every event the server has stored, once their number has stopped growing."""
    seen, steady_since = -1, time.monotonic()
    while True:
        page = client.read_events(limit=50)
        events = list(page.events)
        while page.next_page is not None:
            page = client.read_events_page(str(page.next_page))
            events += page.events
        if len(events) != seen:
            seen, steady_since = len(events), time.monotonic()
        elif time.monotonic() - steady_since >= settle:
            return events
        time.sleep(0.5)


def database_rows(path: Path, skip: set[tuple[str, str]]) -> dict[str, str]:
    """Each table of the server's database as one text (``skip``: (table, column) pairs
    left out), read through SQLite, so rows deleted are not read."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        texts = {}
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # names from the schema
            columns = [d[0] for d in cursor.description]
            keep = [i for i, c in enumerate(columns) if (table, c) not in skip]
            texts[table] = "\n".join(repr([row[i] for i in keep]) for row in cursor)
    return texts


def files_holding(folder: Path, addresses: Addresses) -> dict[str, set[str]]:
    """Each file under ``folder`` that holds an address, and which."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = addresses.within(path.read_bytes().decode("utf-8", "replace"))
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


@pytest.fixture
def info_logs() -> Iterator[None]:
    """Run logs at INFO reach the server (the suite keeps Prefect at WARNING)."""
    logger = logging.getLogger("prefect")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


@pytest.mark.usefixtures("info_logs")
def test_prefect_holds_addresses_only_in_the_parameters_that_forget_deletes(
    use_smtp: Settings,
    cohort_id: str,
    smtp_server: SmtpServer,
    own_server: PrefectServer,
    tmp_path: Path,
) -> None:
    url = use_smtp.database_url
    named = roster()
    emails = [e for _, e in named]
    addresses = Addresses(url)
    assert AISHA in addresses.all and len(addresses.all) > len(emails)
    smtp_server.refuse_recipient(AISHA, REFUSAL)
    home = tmp_path / "prefect-home"
    with (
        temporary_settings({PREFECT_API_URL: own_server.api_url, PREFECT_HOME: str(home)}),
        events_to(own_server.api_url),
    ):
        states = run_everything(cohort_id, emails)
        APILogHandler().flush()
        with get_client(sync_client=True) as client:
            api = everything_but_parameters(client)
            names = {key: client.read_flow_run(run_id(s)).name for key, s in states.items()}

    # What each run was called, and how the failing ones failed: without an address.
    withdrawn = enrolment_id(url, emails[5])
    assert names == {
        "launch": "launch mk-2026",
        "sweep": "reminders 2026-09-18",
        "journey": f"journey mk-2026 / {named[1][0]}",
        "ghost journey": "journey mk-2026 / someone not in the cohort",
        "withdraw": f"withdraw mk-2026 / {named[5][0]}",
        "record unknown": "record mk-2026 training",
        "record withdrawn": "record mk-2026 training",
        "record": "record mk-2026 training",
    }
    failed = {k: str(s.message) for k, s in states.items() if s.is_failed()}
    assert sorted(failed) == [
        "ghost journey",
        "launch",
        "record unknown",
        "record withdrawn",
        "sweep",  # her reminder is refused too
    ]
    for refused in (failed["launch"], failed["sweep"]):
        assert "1 notice failed for good: notice " in refused
        assert refused.endswith(": 550 5.1.1 <address>: Recipient address rejected")
    assert "no trainee of cohort 'mk-2026' has the address given" in failed["ghost journey"]
    assert (
        "1 of the 3 addresses given belongs to no trainee of cohort 'mk-2026'"
        in (failed["record unknown"])
    )
    assert f"enrolment {withdrawn} withdrew from mk-2026" in failed["record withdrawn"]
    assert states["record"].is_completed() and states["withdraw"].is_completed()

    # The API: something of each kind was read, and no address is in any of it.
    held = api["held"]
    assert len(held["flow runs"]) == 8 and len(held["task runs"]) > 10
    assert any(log["message"].startswith("batch: ") for log in held["logs"])
    kinds = {e["event"] for e in held["events"]}
    assert {"journey.notice.failed", "prefect.flow-run.Failed", "prefect.task-run.Failed"} <= kinds
    keys = {a["key"] for a in held["artifacts"]}
    assert {"mk-2026-progress-table", "mk-2026-summary"} <= keys
    table = next(a for a in held["artifacts"] if a["key"] == "mk-2026-progress-table")
    assert "Aisha Rahman" in table["data"] and "MK Central Mosque" not in table["data"]
    leaks = {kind: addresses.within(json.dumps(items)) for kind, items in held.items()}
    assert leaks == {kind: set() for kind in held}

    # This run's $PREFECT_HOME holds none either: each failed run's exception is stored.
    assert len(list((home / "storage").iterdir())) == len(failed)
    assert files_holding(home, addresses) == {}

    # The server's database: only the parameters of the runs that take addresses.
    db = own_server.home / "prefect.db"
    rows = database_rows(db, skip={("flow_run", "parameters")})
    assert {t: addresses.within(text) for t, text in rows.items() if addresses.within(text)} == {}
    with_addresses = {
        run: sorted(addresses.within(json.dumps(p))) for run, p in api["parameters"].items()
    }
    ids = {key: str(run_id(s)) for key, s in states.items()}
    assert {k for k, i in ids.items() if with_addresses[i]} == {
        "journey",
        "ghost journey",
        "withdraw",
        "record unknown",
        "record withdrawn",
        "record",
    }

    # `person forget` finds exactly those runs for an address, and deletes them.
    with temporary_settings({PREFECT_API_URL: own_server.api_url}):
        concerning = {a: [str(i) for i in runs_concerning(a.upper())] for a in addresses.all}
        assert concerning[emails[5]] == [ids["withdraw"], ids["record withdrawn"]]
        assert concerning[GHOST] == [ids["ghost journey"], ids["record unknown"]]
        assert concerning[AISHA] == [ids["record"]]
        assert runs_concerning(AISHA, cohort_ids=["mk-2025"]) == []
        every = {UUID(i) for found in concerning.values() for i in found}
        assert len(every) == 6
        assert delete_runs(sorted(every)) == 6
        assert delete_runs(sorted(every)) == 0  # deleted already
        assert all(runs_concerning(a) == [] for a in addresses.all)
    rows = database_rows(db, skip=set())
    assert {t: addresses.within(text) for t, text in rows.items() if addresses.within(text)} == {}

"""Monitoring through real Prefect runs: keyed artifacts with history, events, the docs' example."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from prefect.events.schemas.automations import AutomationCore, EventTrigger
from prefect.events.schemas.events import Event
from prefect.server.utilities.user_templates import render_user_template_sync
from prefect.settings import PREFECT_API_URL, temporary_settings

from journey.cohort.file import read_cohort
from journey.db import session_scope
from journey.flows.launch_cohort import launch_cohort
from journey.flows.send_reminders import send_reminders
from journey.services.cohorts import import_cohort
from journey.services.delivery import NoticeOutcome
from journey.services.record import record
from journey.services.sweep import launch
from journey.settings import Settings, get_settings
from journey.tasks.publish import (
    emit_completions,
    emit_failures,
    emit_sent,
    prefect_api,
    publish_cohort,
    publish_cohorts,
)
from tests.conftest import EXAMPLES, utc

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "EVENTS.md"
REFUSED = "550 5.1.1 <aisha.rahman@example.org>: Recipient address rejected"
OUTCOMES = [
    NoticeOutcome(41, "mk-2026", "welcome", "sent"),
    NoticeOutcome(42, "mk-2026", "stage-overdue", "failed", REFUSED),
    NoticeOutcome(43, "mk-2026", "welcome", "sent"),
    NoticeOutcome(44, "mk-2026", "mentor-assigned", "sent"),
    NoticeOutcome(45, "mk-2026", "welcome", "retry", "451 try later"),
]


@flow(name="publish-twice-and-emit")
def publish_twice_and_emit(cohort_id: str) -> dict[str, Any]:
    """Publish at two moments, then emit a completion and the events of delivery outcomes
    as delivery does: failures (per batch), then what was sent (per run)."""
    publish_cohort(cohort_id, utc("2026-09-01T09:00"))
    keys = publish_cohort(cohort_id, utc("2026-11-28T12:00"))
    completions = emit_completions(cohort_id, "listening", [5], date(2026, 11, 5))
    return {"keys": keys, "emitted": completions + emit_failures(OUTCOMES) + emit_sent(OUTCOMES)}


def run_id(state: Any) -> UUID:
    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    return flow_run_id


def wait_for_events(
    client: SyncPrefectClient, flow_run_id: UUID, count: int, within: float = 30
) -> list[Any]:
    """The run's journey.* events, once the server has stored ``count`` (or ``within`` s
    have passed)."""
    query = EventFilter(
        event=EventNameFilter(prefix=["journey."]),
        related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )
    deadline = time.monotonic() + within
    while True:
        events = client.read_events(filter=query, limit=50).events
        if len(events) >= count or time.monotonic() > deadline:
            return sorted(events, key=lambda e: e.resource.id)
        time.sleep(0.5)


@pytest.fixture
def published(settings: Settings, cohort_id: str) -> tuple[dict[str, Any], UUID]:
    """The example cohort launched, Aisha's training and listening recorded, then published
    twice and events emitted, in one flow run."""
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    with session_scope(settings.database_url) as session:
        for milestone in ("training", "listening"):
            record(
                session=session,
                cohort_id=cohort_id,
                emails=["aisha.rahman@example.org"],
                milestone=milestone,
                on=None,
                now=utc("2026-11-05T12:00"),
            )
    state = publish_twice_and_emit(cohort_id, return_state=True)
    assert state.is_completed()
    return state.result(), run_id(state)


def test_publishing_twice_keeps_each_key_with_its_history(
    published: tuple[dict[str, Any], UUID],
) -> None:
    result, flow_run_id = published
    keys = result["keys"]
    assert keys == {
        "table": "mk-2026-progress-table",
        "progress": "mk-2026-progress",
        "summary": "mk-2026-summary",
    }
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=list(keys.values())),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            )
        )
    by_key: dict[str, list[Any]] = {}
    for artifact in sorted(artifacts, key=lambda a: a.created or datetime.min):
        by_key.setdefault(artifact.key or "", []).append(artifact)
    assert {k: [a.type for a in v] for k, v in by_key.items()} == {
        "mk-2026-progress-table": ["table", "table"],
        "mk-2026-progress": ["progress", "progress"],
        "mk-2026-summary": ["markdown", "markdown"],
    }
    table = json.loads(by_key["mk-2026-progress-table"][-1].data)
    assert len(table) == 20 and table[4]["trainee"] == "Aisha Rahman"
    assert list(table[4])[:3] == ["trainee", "position", "training"]  # no institution, place
    assert (table[4]["listening"], table[4]["mentoring-1"]) == ("done", "overdue")
    assert table[1]["mentoring-1"] == "n/a"
    share = round(100 * 2 / 266, 1)  # published to one decimal
    assert [a.data for a in by_key["mk-2026-progress"]] == [share, share]
    summary = by_key["mk-2026-summary"][-1]
    assert summary.data.startswith("# Two-Day Training 2026 (mk-2026)\n")
    assert summary.description == (
        "Summary for the organiser: Two-Day Training 2026 (mk-2026) at Sat 28 Nov 2026 12:00"
    )
    assert "@" not in json.dumps([a.data for a in artifacts])


def test_events_name_ids_only_and_redact_the_servers_reply(
    published: tuple[dict[str, Any], UUID],
) -> None:
    result, flow_run_id = published
    assert result["emitted"] == 3  # 3 sent in one batch event, 1 failed, 1 completion
    with get_client(sync_client=True) as client:
        events = wait_for_events(client, flow_run_id, 3)
    assert [(e.event, e.resource.id) for e in events] == [
        ("journey.notices.sent", "journey.cohort.mk-2026.sent"),
        ("journey.notice.failed", "journey.notice.42"),
        ("journey.milestone.completed", "journey.trainee.mk-2026.5"),
    ]
    sent, failed, completed = events
    assert sent.payload == {
        "cohort": "mk-2026",
        "count": 3,
        "templates": {"mentor-assigned": 1, "welcome": 2},
        "notice_ids": [41, 43, 44],
    }
    assert sent.resource["journey.cohort"] == "mk-2026"
    assert dict(completed.resource.items()) == {
        "prefect.resource.id": "journey.trainee.mk-2026.5",
        "prefect.resource.name": "enrolment 5",
        "journey.cohort": "mk-2026",
        "journey.milestone": "listening",
    }
    assert completed.payload == {
        "cohort": "mk-2026",
        "enrolment_id": 5,
        "milestone": "listening",
        "on": "2026-11-05",
    }
    assert failed.resource["journey.template"] == "stage-overdue"
    assert failed.payload["detail"] == "550 5.1.1 <address>: Recipient address rejected"
    roles = {r.role for r in failed.related}
    assert {"cohort", "flow-run"} <= roles
    assert "@" not in json.dumps([e.model_dump(mode="json") for e in events])


def test_a_delivery_run_tells_each_cohort_once_whatever_its_batches(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_BATCH_SIZE", "10")
    get_settings.cache_clear()
    state = launch_cohort(cohort_id, now=utc("2026-09-01T09:00"), return_state=True)
    delivery = state.result().delivery
    assert (delivery.sent, delivery.batches) == (25, 3)
    with get_client(sync_client=True) as client:
        [sent] = wait_for_events(client, run_id(state), 1)
        assert len(wait_for_events(client, run_id(state), 2, within=3)) == 1  # no more come
    assert (sent.event, sent.resource.id) == ("journey.notices.sent", "journey.cohort.mk-2026.sent")
    assert sent.payload["count"] == 25
    assert sent.payload["templates"] == {
        "facilitator-assignment": 2,
        "mentor-assignment": 3,
        "welcome": 20,
    }
    assert len(set(sent.payload["notice_ids"])) == 25


def test_what_was_sent_is_told_even_when_a_later_batch_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from journey.services.delivery import DeliveryResult
    from journey.tasks import deliver

    batches = [DeliveryResult("smtp", sent=2, batches=1, outcomes=OUTCOMES[:2])]

    def one_batch(now: datetime, worker: str) -> DeliveryResult:
        if not batches:
            raise RuntimeError("the database went away")
        return batches.pop()

    told: list[list[NoticeOutcome]] = []
    monkeypatch.setattr(deliver, "deliver_one_batch", one_batch)
    monkeypatch.setattr(deliver, "emit_sent", lambda outcomes: told.append(list(outcomes)))
    with pytest.raises(RuntimeError, match="went away"):
        deliver.deliver_until_done(utc("2026-09-01T09:00"))
    assert told == [OUTCOMES[:2]]


def test_emitting_nothing_emits_nothing() -> None:
    assert emit_completions("mk-2026", "listening", [], None) == 0
    retry = [NoticeOutcome(1, "mk-2026", "welcome", "retry")]
    assert emit_failures(retry) + emit_sent(retry) == 0


def doc_block(language: str) -> str:
    """The one ``language`` code block of docs/EVENTS.md's automation example."""
    example = EVENTS_DOC.read_text().split("## Example: alert when a notice fails")[1]
    blocks: list[str] = re.findall(rf"```{language}\n(.*?)```", example, flags=re.DOTALL)
    [block] = blocks
    return block


def unknown_fields(data: dict[str, Any], model: type[Any]) -> set[str]:
    return set(data) - set(model.model_fields)


def test_the_documented_automation_is_one_prefect_accepts() -> None:
    trigger_json = json.loads(doc_block("json"))
    automation_yaml = yaml.safe_load(doc_block("yaml"))
    assert automation_yaml["trigger"] == trigger_json
    assert unknown_fields(trigger_json, EventTrigger) == set()
    assert unknown_fields(automation_yaml, AutomationCore) == set()
    automation = AutomationCore.model_validate(automation_yaml)
    [action] = automation.actions
    assert unknown_fields(automation_yaml["actions"][0], type(action)) == set()
    with get_client(sync_client=True) as client:
        automation_id = client.create_automation(automation)
        try:
            stored = client.read_automation(automation_id)
            assert stored is not None
            assert stored.trigger.model_dump() == automation.trigger.model_dump()
        finally:
            client.delete_automation(automation_id)


def test_the_documented_notification_renders_from_a_failure_event() -> None:
    body = yaml.safe_load(doc_block("yaml"))["actions"][0]["body"]
    event = Event(
        event="journey.notice.failed",
        resource={"prefect.resource.id": "journey.notice.42"},
        payload={"notice_id": 42, "cohort": "mk-2026", "template": "welcome", "detail": "550 no"},
    )
    text = render_user_template_sync(body, {"event": event})
    assert text == (
        "Notice 42 (welcome) for cohort\nmk-2026 was refused: 550 no\n"
        "The full reply is in the outbox, on the notice's row (last_error)."
    )


# Publishing only what changed.

SWEPT = utc("2026-11-28T12:00")
AISHA = "aisha.rahman@example.org"


@flow(name="publish-changed-cohorts")
def publish_now(cohort_ids: list[str], now: datetime) -> dict[str, Any]:
    return publish_cohorts(cohort_ids, now)


def artifact_keys_of(flow_run_id: UUID) -> list[str]:
    """The keys of the artifacts one flow run created, sorted."""
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return sorted(a.key or "" for a in artifacts)


def published_by(cohort_ids: list[str], now: datetime) -> tuple[dict[str, Any], list[str]]:
    """Run ``publish_now``: what it returned, and the artifact keys Prefect holds from it."""
    state = publish_now(cohort_ids, now, return_state=True)
    assert state.is_completed()
    return state.result(), artifact_keys_of(run_id(state))


def all_keys(*cohort_ids: str) -> list[str]:
    return sorted(f"{c}-{k}" for c in cohort_ids for k in ("progress", "progress-table", "summary"))


@pytest.fixture
def two_cohorts(settings: Settings, cohort_id: str, tmp_path: Path) -> list[str]:
    """The example cohort and a copy of it (``mk-2027``, the same people), both launched."""
    text = (EXAMPLES / "cohort.yaml").read_text().replace("id: mk-2026", "id: mk-2027")
    (tmp_path / "cohort.yaml").write_text(text)
    spec = read_cohort(tmp_path / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    ids = [cohort_id, spec.id]
    for cid in ids:
        with session_scope(settings.database_url) as session:
            launch(session=session, cohort_id=cid, now=utc("2026-09-01T09:00"))
    return ids


def test_a_second_sweep_with_nothing_changed_publishes_nothing(two_cohorts: list[str]) -> None:
    first = send_reminders(now=SWEPT, return_state=True)
    assert artifact_keys_of(run_id(first)) == all_keys(*two_cohorts)
    later = send_reminders(now=utc("2026-11-28T12:05"), return_state=True)  # a new moment only
    assert later.is_completed()
    assert artifact_keys_of(run_id(later)) == []


def test_a_completion_republishes_its_cohort_only(
    settings: Settings, two_cohorts: list[str]
) -> None:
    result, keys = published_by(two_cohorts, SWEPT)
    assert (result, keys) == ({"published": two_cohorts, "unchanged": 0}, all_keys(*two_cohorts))
    with session_scope(settings.database_url) as session:
        record(
            session=session,
            cohort_id="mk-2027",
            emails=[AISHA],
            milestone="training",
            on=None,
            now=SWEPT,
        )
    result, keys = published_by(two_cohorts, SWEPT)
    assert (result, keys) == ({"published": ["mk-2027"], "unchanged": 1}, all_keys("mk-2027"))
    assert published_by(two_cohorts, SWEPT) == ({"published": [], "unchanged": 2}, [])


def test_another_prefect_api_gets_every_cohort(two_cohorts: list[str]) -> None:
    assert published_by(two_cohorts, SWEPT)[0]["published"] == two_cohorts
    here = prefect_api()
    assert "127.0.0.1" in here
    with temporary_settings({PREFECT_API_URL: here.replace("127.0.0.1", "localhost")}):
        assert prefect_api() != here
        result, keys = published_by(two_cohorts, SWEPT)  # the same server, by another name
    assert (result, keys) == ({"published": two_cohorts, "unchanged": 0}, all_keys(*two_cohorts))
    assert published_by(two_cohorts, SWEPT)[0]["published"] == []  # back at the first


def test_publish_cohort_returns_its_keys_whether_or_not_it_published(
    settings: Settings, cohort_id: str
) -> None:
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))

    @flow(name="publish-one-twice")
    def twice() -> list[dict[str, str]]:
        return [publish_cohort(cohort_id, SWEPT), publish_cohort(cohort_id, SWEPT)]

    state = twice(return_state=True)
    keys = {
        "table": "mk-2026-progress-table",
        "progress": "mk-2026-progress",
        "summary": "mk-2026-summary",
    }
    assert state.result() == [keys, keys]
    assert artifact_keys_of(run_id(state)) == all_keys(cohort_id)  # published once

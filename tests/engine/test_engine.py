"""The journey engine: pure functions of programme, cohort dates, records and a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.engine import (
    CohortPlan,
    JourneyView,
    PlannedNotice,
    Planner,
    Slot,
    State,
    TraineeRecord,
    effective_from,
    evaluate,
    is_done,
    notice_key,
    occurrences,
)
from journey.engine.notices import _rule_timing
from journey.programme import load_programme

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
PROGRAMME = load_programme("default")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def slot(n: int, start: str, end: str, event_id: int) -> Slot:
    return Slot(n, local(start), local(f"{start[:10]}T{end}"), event_id)


def make_plan(launched_at: datetime | None = None, **overrides: object) -> CohortPlan:
    values: dict[str, object] = {
        "cohort_id": "mk-2026",
        "timezone": "Europe/London",
        "training": (
            slot(1, "2026-09-25T09:30", "16:30", 1),
            slot(2, "2026-09-26T09:30", "16:30", 2),
        ),
        "learning_sets": {
            7: (
                slot(1, "2026-12-03T17:30", "19:30", 3),
                slot(2, "2027-02-04T17:30", "19:30", 4),
                slot(3, "2027-04-01T17:30", "19:30", 5),
            )
        },
        "graduation": slot(1, "2027-06-17T18:00", "20:00", 6),
        "launched_at": launched_at or local("2026-09-01T10:00"),
    }
    values.update(overrides)
    return CohortPlan(**values)  # type: ignore[arg-type]


def make_trainee(**overrides: object) -> TraineeRecord:
    values: dict[str, object] = {
        "ref": "17",
        "follow_up": True,
        "learning_set_id": 7,
        "has_mentor": True,
    }
    values.update(overrides)
    return TraineeRecord(**values)  # type: ignore[arg-type]


ALL_RECORDS = [(m.id, n) for m in PROGRAMME.milestones for n in (1, 2)]
moments = st.datetimes(
    min_value=datetime(2026, 8, 1), max_value=datetime(2027, 8, 1), timezones=st.just(UTC)
)
records = st.sets(st.sampled_from(ALL_RECORDS), max_size=len(ALL_RECORDS))


def state_of(view: JourneyView, milestone_id: str) -> State:
    """One milestone's state in a trainee's view, found as status and the report find it."""
    return next(v.state for v in view.milestones if v.id == milestone_id)


def with_done(done: set[tuple[str, int]], **overrides: object) -> TraineeRecord:
    return make_trainee(done={key: date(2026, 10, 1) for key in done}, **overrides)


@given(done=records, now=moments, follow_up=st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_done_milestone_never_produces_a_notice(
    done: set[tuple[str, int]], now: datetime, follow_up: bool
) -> None:
    trainee = with_done(done, follow_up=follow_up)
    plan = make_plan()
    done_ids = {
        o.milestone.id
        for o in occurrences(PROGRAMME, plan, trainee)
        if state_of(evaluate(PROGRAMME, plan, trainee, now), o.milestone.id) is State.DONE
    }
    assert not [n for n in Planner(PROGRAMME, plan).due(trainee, now) if n.milestone in done_ids]


@given(done=records, now=moments)
@settings(max_examples=100, deadline=None)
def test_no_two_due_notices_share_a_key(done: set[tuple[str, int]], now: datetime) -> None:
    keys = [n.key for n in Planner(PROGRAMME, make_plan()).due(with_done(done), now)]
    assert len(set(keys)) == len(keys)


# Training done on 1 October; on 20 November these are due, in this order. The keys are what
# makes a notice sent once, so they are pinned here, not compared with a second call.
KEYS_ON_20_NOVEMBER = [
    "mk-2026/17/training/-7d@09:00>trainee/2026-09-25",
    "mk-2026/17/training/-1d@09:00>trainee/2026-09-25",
    "mk-2026/17/training/+3d@09:00>organiser/2026-09-25",
    "mk-2026/17/mentoring-1/open@09:00>trainee/2026-11-21",
    "mk-2026/17/listening/-7d@09:00>trainee/2026-11-07",
    "mk-2026/17/listening/on-day@08:00>trainee/2026-11-07",
    "mk-2026/17/mentoring-1/-7d@09:00>trainee/2026-11-21",
    "mk-2026/17/learning-set-1/-14d@09:00>trainee/2026-12-03",
]


def keys_on_20_november() -> list[str]:
    trainee = with_done({("training", 1)})
    return [n.key for n in Planner(PROGRAMME, make_plan()).due(trainee, local("2026-11-20T09:00"))]


def test_the_notice_keys_are_pinned() -> None:
    assert keys_on_20_november() == KEYS_ON_20_NOVEMBER


def test_the_notice_keys_are_the_same_in_another_process_under_any_hash_seed() -> None:
    """A worker on another machine must plan the same keys: nothing may hang on the order
    of a set of strings, which Python changes from process to process."""
    code = (
        "import json\nfrom tests.engine.test_engine import keys_on_20_november\n"
        "print(json.dumps(keys_on_20_november()))"
    )
    for seed in ("0", "1"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            timeout=60,
            check=True,
        )
        assert json.loads(done.stdout) == KEYS_ON_20_NOVEMBER, seed


@given(now=moments, launch=moments, adopted=moments)
@settings(max_examples=200, deadline=None)
def test_notices_are_never_due_before_their_rules_effective_time(
    now: datetime, launch: datetime, adopted: datetime
) -> None:
    plan = make_plan(launched_at=launch, rule_adopted={"listening/-7d@09:00>trainee": adopted})
    for n in Planner(PROGRAMME, plan).due(make_trainee(), now):
        assert launch <= n.due_at <= now
        if n.milestone == "listening" and n.rule == "-7d@09:00>trainee":
            assert n.due_at >= adopted


def test_a_reminder_is_at_nine_local_on_both_sides_of_the_clock_change() -> None:
    """-7d@09:00 before a stage due in BST and one due in GMT: 09:00 on the wall both times."""
    plan = make_plan()
    notices = Planner(PROGRAMME, plan).planned(make_trainee())
    listening = next(n for n in notices if n.key.endswith("listening/-7d@09:00>trainee/2026-11-07"))
    by_summer = next(n for n in notices if n.milestone == "training" and n.rule.startswith("-7d"))
    assert listening.due_at.astimezone(LONDON).hour == 9  # 31 Oct 2026, after the change
    assert listening.due_at.hour == 9  # GMT: UTC 09:00
    assert by_summer.due_at.astimezone(LONDON).hour == 9  # 18 Sep 2026, BST
    assert by_summer.due_at.hour == 8  # UTC 08:00


def test_the_march_clock_change_keeps_local_time() -> None:
    plan = make_plan()
    notices = Planner(PROGRAMME, plan).planned(make_trainee())
    set3 = next(n for n in notices if n.milestone == "learning-set-3" and n.rule.startswith("-14d"))
    assert set3.due_at.astimezone(LONDON).hour == 9  # 18 Mar 2027, GMT
    late = next(n for n in notices if n.milestone == "learning-set-3" and n.rule.startswith("-1d"))
    assert late.due_at.astimezone(LONDON).hour == 9  # 31 Mar 2027, BST
    assert late.due_at.hour == 8


def test_a_cohort_launched_late_sends_nothing_for_milestones_already_past() -> None:
    plan = make_plan(launched_at=local("2026-11-20T10:00"))
    due = Planner(PROGRAMME, plan).due(make_trainee(), local("2026-11-20T10:00"))
    assert due == []
    later = Planner(PROGRAMME, plan).due(make_trainee(), local("2026-11-21T10:00"))
    # Only what comes due after the launch: listening's overdue nudges on 21 Nov, 09:00.
    assert sorted(n.rule for n in later) == ["+14d@09:00>organiser", "+14d@09:00>trainee"]
    assert {n.milestone for n in later} == {"listening"}


def test_a_late_joiner_gets_nothing_for_moments_before_their_join() -> None:
    """Their join plays the part of the launch: the training and Set 1's invitation are past."""
    joined = local("2026-11-20T10:00")
    trainee = make_trainee(active_from=joined)
    assert Planner(PROGRAMME, make_plan()).due(trainee, joined) == []
    later = Planner(PROGRAMME, make_plan()).due(trainee, local("2026-11-21T10:00"))
    assert sorted(n.rule for n in later) == ["+14d@09:00>organiser", "+14d@09:00>trainee"]
    coming = Planner(PROGRAMME, make_plan()).between(trainee, joined, local("2026-12-03T12:00"))
    assert [(n.milestone, n.rule) for n in coming] == [
        ("listening", "+14d@09:00>organiser"),
        ("listening", "+14d@09:00>trainee"),
        ("issues", "-7d@09:00>trainee"),
        ("mentoring-2", "open@09:00>trainee"),
        ("learning-set-1", "-1d@09:00>trainee"),  # its -14d invitation came before the join
    ]


def test_sessions_over_before_a_late_join_do_not_apply_to_them() -> None:
    trainee = make_trainee(active_from=local("2026-11-20T10:00"))
    view = evaluate(PROGRAMME, make_plan(), trainee, local("2026-11-21T10:00"))
    assert state_of(view, "training") is State.NOT_APPLICABLE
    assert state_of(view, "listening") is State.OVERDUE  # a stage: still theirs to do
    assert view.position == "listening"


def test_states_position_and_graduation() -> None:
    done = {
        ("training", 1): date(2026, 9, 25),
        ("training", 2): date(2026, 9, 26),
        ("listening", 1): date(2026, 11, 1),
    }
    view = evaluate(PROGRAMME, make_plan(), make_trainee(done=done), local("2026-11-28T12:00"))
    assert state_of(view, "training") is State.DONE
    assert state_of(view, "listening") is State.DONE
    assert state_of(view, "issues") is State.DUE  # due 5 Dec, within 14 days
    assert state_of(view, "research") is State.UPCOMING
    assert state_of(view, "mentoring-1") is State.OVERDUE  # window closed 21 Nov
    assert view.position == "mentoring-1"
    assert view.eligible is False
    assert view.missing[0].startswith("3 of 4 mentoring")


def test_graduation_eligibility_follows_the_programme_rule() -> None:
    done = {
        ("training", 1): date(2026, 9, 25),
        ("training", 2): date(2026, 9, 26),
        ("presentation", 1): date(2027, 4, 1),
        ("learning-set-1", 1): date(2026, 12, 3),
        ("learning-set-3", 1): date(2027, 4, 1),
    }
    done |= {(f"mentoring-{n}", 1): date(2027, 1, n) for n in (1, 2, 3)}
    view = evaluate(PROGRAMME, make_plan(), make_trainee(done=done), local("2027-06-01T12:00"))
    assert view.eligible is True and view.missing == ()
    one_day = {k: v for k, v in done.items() if k != ("training", 2)}
    view = evaluate(PROGRAMME, make_plan(), make_trainee(done=one_day), local("2027-06-01T12:00"))
    assert view.eligible is False
    assert view.missing == ("Two-Day Training (every session)",)


def test_follow_up_milestones_do_not_apply_without_follow_up() -> None:
    view = evaluate(
        PROGRAMME,
        make_plan(),
        make_trainee(follow_up=False, learning_set_id=None, has_mentor=False),
        local("2026-11-28T12:00"),
    )
    assert state_of(view, "mentoring-1") is State.NOT_APPLICABLE
    assert state_of(view, "graduation") is State.NOT_APPLICABLE
    assert view.eligible is None


def test_withdrawn_trainees_get_nothing_and_not_launched_cohorts_send_nothing() -> None:
    now = local("2027-01-01T12:00")
    assert Planner(PROGRAMME, make_plan()).due(make_trainee(active=False), now) == []
    unlaunched = CohortPlan(**{**make_plan().__dict__, "launched_at": None})
    assert Planner(PROGRAMME, unlaunched).due(make_trainee(), now) == []


def test_a_moved_session_changes_the_notice_key() -> None:
    moved = make_plan(
        learning_sets={
            7: (slot(1, "2026-12-10T17:30", "19:30", 3), *make_plan().learning_sets[7][1:])
        }
    )
    before = {n.key for n in Planner(PROGRAMME, make_plan()).planned(make_trainee())}
    after = {n.key for n in Planner(PROGRAMME, moved).planned(make_trainee())}
    assert "mk-2026/17/learning-set-1/-1d@09:00>trainee/2026-12-03" in before - after
    assert "mk-2026/17/learning-set-1/-1d@09:00>trainee/2026-12-10" in after - before


def test_notices_between_lists_what_comes_due_in_a_window() -> None:
    start = local("2026-10-30T00:00")
    window = Planner(PROGRAMME, make_plan()).between(
        make_trainee(), start, start + timedelta(days=2)
    )
    assert [n.key for n in window] == ["mk-2026/17/listening/-7d@09:00>trainee/2026-11-07"]


def plain_live(plan: CohortPlan, trainee: TraineeRecord) -> list[PlannedNotice]:
    """The engine's rules spelled out for one trainee, with nothing shared or remembered."""
    if not trainee.active or plan.launched_at is None:
        return []
    out = []
    for occ in occurrences(PROGRAMME, plan, trainee):
        if is_done(occ, trainee):
            continue
        for rule in occ.milestone.notices:
            if rule.to == "mentor" and not trainee.has_mentor:
                continue
            due_at, useful = _rule_timing(occ, rule, plan.timezone)
            start = effective_from(plan, occ.milestone.id, rule.id)
            if start is None or due_at < start:
                continue
            if trainee.active_from is not None and due_at < trainee.active_from:
                continue
            when = occ.on.isoformat()
            key = notice_key(plan.cohort_id, trainee.ref, occ.milestone.id, rule.id, when)
            out.append(
                PlannedNotice(
                    key, occ.milestone.id, rule.id, when, rule.to, rule.template,
                    due_at, useful, rule.ics and bool(occ.slots),
                )
            )  # fmt: skip
    return sorted(out, key=lambda n: (n.due_at, n.key))


trainees = st.builds(
    make_trainee,
    ref=st.integers(1, 10_000).map(str),
    follow_up=st.booleans(),
    learning_set_id=st.sampled_from([None, 7, 8]),
    has_mentor=st.booleans(),
    active=st.booleans(),
    active_from=st.one_of(st.none(), moments),
    done=records.map(lambda done: {key: date(2026, 10, 1) for key in done}),
)


@given(people=st.lists(trainees, min_size=1, max_size=12), now=moments, adopted=moments)
@settings(max_examples=150, deadline=None)
def test_one_planner_for_a_cohort_answers_as_each_trainee_alone(
    people: list[TraineeRecord], now: datetime, adopted: datetime
) -> None:
    """The planner remembers what trainees of one shape share, and nothing of who they are."""
    plan = make_plan(rule_adopted={"issues/-7d@09:00>trainee": adopted})
    planner = Planner(PROGRAMME, plan)
    end = now + timedelta(days=9)
    for person in people:
        live = plain_live(plan, person)
        assert planner.live(person) == live
        assert planner.due(person, now) == [n for n in live if n.due_at <= now]
        assert planner.between(person, now, end) == [n for n in live if now < n.due_at <= end]
        assert evaluate(PROGRAMME, plan, person, now, planner) == evaluate(
            PROGRAMME, plan, person, now
        )

"""``journey evaluation record``: one trainee's response entered by hand, corrected with
``--replace`` and taken back with ``--undo``, each change in the history and in the
funder's report; bad input refused in one line (run through the real CLI, on SQLite, or
Postgres with JOURNEY_TEST_DATABASE=postgres)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from journey.db import session_scope
from journey.models import EvaluationAnswer, EvaluationComment, EvaluationResponse, HistoryEntry
from journey.services.membership import withdraw
from journey.settings import Settings
from tests.cli.test_bad_inputs import database_snapshot
from tests.cli.test_commands import journey
from tests.conftest import utc

AISHA, YUSUF = "aisha.rahman@example.org", "yusuf.patel@example.org"
NOW = "2026-10-01T10:00"
AISHA_ANSWERS = ("score=9", "relational-power-before=4", "relational-power-after=8")
AISHA_SAID = "score=9 relational-power-before=4 relational-power-after=8"
COMMENT = ("--comment", "comments=More role play please")


def run(*args: str, now: str = NOW) -> tuple[int, str, str]:
    """``journey evaluation record mk-2026 ARGS --now NOW``: exit code, output, errors."""
    result = journey("evaluation", "record", "mk-2026", *args, "--now", now, probe_prefect=True)
    assert result.stderr.endswith("no prefect\n"), result.stderr
    return result.returncode, result.stdout, result.stderr.removesuffix("no prefect\n")


def ok(*args: str, now: str = NOW) -> str:
    code, out, err = run(*args, now=now)
    assert (code, err) == (0, ""), err
    return out


def after_training() -> dict[str, Any] | None:
    """The after-training questionnaire of ``journey report mk-2026 --format json`` (None
    while it has no responses: the report leaves such questionnaires out)."""
    result = journey("report", "mk-2026", "--format", "json", "--now", "2026-10-02T09:00")
    assert result.returncode == 0, result.stderr
    evaluation = json.loads(result.stdout)["cohorts"][0]["evaluation"]
    found = [q for q in evaluation["questionnaires"] if q["id"] == "after-training"]
    return found[0] if found else None


def figures(q: dict[str, Any] | None) -> tuple[Any, ...]:
    """Responses (named, anonymous), the score's n and mean, relational power's n and
    means before and after, and the comments."""
    assert q is not None
    score = q["scores"][0]
    power = next(c for c in q["changes"] if c["item"] == "relational-power")
    return (
        (q["named"], q["anonymous"]),
        (score["n"], score["mean"]),
        (power["n"], power["mean_before"], power["mean_after"]),
        q["comments"],
    )


def history(url: str) -> list[tuple[str, str, str, int | None]]:
    """The evaluation lines of history: (action, by, detail, whose enrolment)."""
    with session_scope(url) as session:
        rows = session.execute(
            select(
                HistoryEntry.action, HistoryEntry.by, HistoryEntry.detail, HistoryEntry.person_id
            )
            .where(HistoryEntry.action.like("evaluation-%"))
            .order_by(HistoryEntry.id)
        )
        return [(a, b, d, p) for a, b, d, p in rows]


def counts(url: str) -> tuple[int, ...]:
    """Responses, answers and comments stored."""
    with session_scope(url) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (EvaluationResponse, EvaluationAnswer, EvaluationComment)
        )


def test_a_response_is_recorded_corrected_and_taken_back_and_the_report_follows(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    assert after_training() is None
    out = ok(AISHA, *AISHA_ANSWERS, *COMMENT, "--by", "fatima")
    assert out == f"after-training: response of {AISHA} recorded ({AISHA_SAID}), 1 comment kept.\n"
    assert counts(url) == (1, 2, 1)
    assert figures(after_training()) == (
        (1, 0),
        (1, "9.0"),
        (1, "4.0", "8.0"),
        ["More role play please"],
    )
    # the same numbers again (any order, any case): nothing changes, the comment not kept twice
    before = database_snapshot(url)
    out = ok(
        AISHA.upper(), "relational-power-after=8", "relational-power-before=4", "score=9", *COMMENT
    )
    assert out == (
        f"after-training: response of {AISHA} already stored ({AISHA_SAID}); nothing changed"
        " (comments given again are not kept twice).\n"
    )
    assert database_snapshot(url) == before
    # other numbers: refused, saying how to correct them
    code, out, err = run(AISHA, "score=7", "relational-power-before=3", "relational-power-after=8")
    assert (code, out) == (1, "")
    assert err == (
        f"Error: '{AISHA}' already has a different response to after-training stored"
        f" ({AISHA_SAID}); add --replace to correct it\n"
    )
    assert database_snapshot(url) == before
    # --replace corrects them; the comment given before stays
    out = ok(AISHA, "score=7", "relational-power-before=3", "relational-power-after=8", "--replace")
    assert out == (
        f"after-training: response of {AISHA} corrected ({AISHA_SAID} -> score=7"
        " relational-power-before=3 relational-power-after=8), 0 comments kept.\n"
    )
    assert counts(url) == (1, 2, 1)
    assert figures(after_training()) == (
        (1, 0),
        (1, "7.0"),
        (1, "3.0", "8.0"),
        ["More role play please"],
    )
    # --undo takes it back; the comment stays, unlinked
    out = ok(AISHA, "--undo", "--by", "fatima", now="2026-10-03T09:00")
    assert out == (
        f"after-training: response of {AISHA} taken back (score=7 relational-power-before=3"
        " relational-power-after=8); comments given with it stay, unlinked.\n"
    )
    assert counts(url) == (0, 0, 1)
    assert after_training() is None  # no responses left to report
    lines = history(url)
    aisha = lines[0][3]
    assert aisha is not None
    assert lines == [
        ("evaluation-record", "fatima", f"after-training: {AISHA_SAID}; 1 comment kept", aisha),
        (
            "evaluation-replace",
            lines[1][1],  # the OS user
            f"after-training: {AISHA_SAID} -> score=7 relational-power-before=3"
            " relational-power-after=8; 0 comments kept",
            aisha,
        ),
        (
            "evaluation-undo",
            "fatima",
            "after-training: score=7 relational-power-before=3 relational-power-after=8 taken"
            " back; comments given with it stay, unlinked",
            aisha,
        ),
    ]
    assert all("role play" not in detail for _, _, detail, _ in lines)


def test_a_dry_run_says_what_would_happen_and_writes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    before = database_snapshot(url)
    out = ok(YUSUF, "score=8", *COMMENT, "--dry-run")
    assert out == (
        f"after-training: response of {YUSUF} would be recorded (score=8), 1 comment would be"
        " kept.\n"
    )
    assert database_snapshot(url) == before
    ok(YUSUF, "score=8")
    before = database_snapshot(url)
    out = ok(YUSUF, "score=6", "--replace", "--dry-run")
    assert out == (
        f"after-training: response of {YUSUF} would be corrected (score=8 -> score=6),"
        " 0 comments would be kept.\n"
    )
    out = ok(YUSUF, "--undo", "--dry-run")
    assert out == (
        f"after-training: response of {YUSUF} would be taken back (score=8); comments given"
        " with it stay, unlinked.\n"
    )
    assert database_snapshot(url) == before


def test_a_withdrawn_trainee_and_another_questionnaire(settings: Settings, cohort_id: str) -> None:
    with session_scope(settings.database_url) as session:
        withdraw(
            session=session,
            cohort_id=cohort_id,
            email=YUSUF,
            on=utc("2026-09-30T12:00").date(),
            reason=None,
            by="test",
            now=utc("2026-09-30T12:00"),
        )
    out = ok(
        YUSUF,
        "score=6",
        "leadership-before=2",
        "leadership-after=7",
        "--questionnaire",
        "at-graduation",
    )
    assert out == (
        f"at-graduation: response of {YUSUF} recorded (score=6 leadership-before=2"
        " leadership-after=7), 0 comments kept.\n"
    )
    assert after_training() is None
    assert counts(settings.database_url) == (1, 2, 0)


def test_a_response_imported_from_a_file_can_be_corrected_by_hand(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "responses.csv"
    path.write_text(f"email,score\n{AISHA},10\n,8\n", encoding="utf-8")
    imported = journey("evaluation", "import", "mk-2026", str(path), "--now", NOW)
    assert imported.returncode == 0, imported.stderr
    out = ok(AISHA, "score=9", "--replace")
    assert out == (
        f"after-training: response of {AISHA} corrected (score=10 -> score=9), 0 comments kept.\n"
    )
    assert figures(after_training())[:2] == ((1, 1), (2, "8.5"))
    ok(AISHA, "--undo")
    assert figures(after_training())[:2] == ((0, 1), (1, "8.0"))  # the anonymous one stays


UNDO = "Error: nothing to undo: {email} has no record of a response to after-training\n"
COLUMNS = (
    "score, relational-power-before, relational-power-after, leadership-before,"
    " leadership-after, motivation-before, motivation-after, comments"
)
BAD = [
    ("score-11", [AISHA, "score=11"], "Error: score: 11 is outside 0 to 10\n"),
    (
        "score-not-whole",
        [AISHA, "score=7.5"],
        "Error: score: '7.5' is not a whole number; give a whole number from 0 to 10\n",
    ),
    (
        "unknown-item-near",
        [AISHA, "leadershp-before=4"],
        "Error: unknown column 'leadershp-before' (did you mean 'leadership-before'?)\n",
    ),
    (
        "unknown-item-far",
        [AISHA, "name=Aisha"],
        f"Error: unknown column 'name'; the columns are {COLUMNS}\n",
    ),
    (
        "before-without-after",
        [AISHA, "leadership-before=5"],
        "Error: leadership-after: missing: 'leadership-before' is given, so give"
        " 'leadership-after' too (or neither)\n",
    ),
    (
        "unknown-trainee",
        ["nobody@example.org", "score=9"],
        "Error: 'nobody@example.org' is not a trainee of cohort 'mk-2026'\n",
    ),
    (
        "unknown-questionnaire",
        [AISHA, "score=9", "--questionnaire", "at-graduaton"],
        "Error: unknown questionnaire 'at-graduaton' (did you mean 'at-graduation'?);"
        " the programme has: after-training, after-last-set, at-graduation\n",
    ),
    (
        "no-answers",
        [AISHA],
        "Error: no answers given: give each answer as COLUMN=VALUE, e.g. score=9\n",
    ),
    ("not-column-value", [AISHA, "9"], "Error: '9': give it as COLUMN=VALUE, e.g. score=9\n"),
    (
        "comment-as-a-number",
        [AISHA, "comments=Great"],
        "Error: 'comments' is free text: give it as --comment comments=TEXT\n",
    ),
    (
        "number-as-a-comment",
        [AISHA, "--comment", "score=9"],
        "Error: 'score' takes a number: give it as score=VALUE, not with --comment\n",
    ),
    (
        "comment-too-long",
        [AISHA, "score=9", "--comment", "comments=" + "x" * 2001],
        "Error: comments: too long: 2001 characters (at most 2000)\n",
    ),
    ("item-twice", [AISHA, "score=9", "score=8"], "Error: column 'score' appears twice\n"),
    ("nothing-to-undo", [AISHA, "--undo"], UNDO.format(email=AISHA)),
    (
        "undo-with-answers",
        [AISHA, "score=9", "--undo"],
        "Error: --undo takes the whole response back: give no answers with it\n",
    ),
    (
        "undo-and-replace",
        [AISHA, "--undo", "--replace"],
        "Error: --undo and --replace do not go together: give one of them\n",
    ),
]


@pytest.mark.parametrize(("args", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_clear_message_and_writes_nothing(
    args: list[str], message: str, settings: Settings, cohort_id: str
) -> None:
    before = database_snapshot(settings.database_url)
    assert run(*args) == (1, "", message)
    assert database_snapshot(settings.database_url) == before


def test_several_problems_are_each_named(settings: Settings, cohort_id: str) -> None:
    code, _, err = run(AISHA, "score=11", "motivation-after=9", "leadership-before=x")
    assert code == 1
    assert err == (
        "Error: 3 problems found; nothing was written\n"
        "score: 11 is outside 0 to 10\n"
        "leadership-before: 'x' is not a number; give a whole number from 0 to 10\n"
        "motivation-before: missing: 'motivation-after' is given, so give 'motivation-before'"
        " too (or neither)\n"
    )


def test_an_unknown_cohort_is_named(settings: Settings, cohort_id: str) -> None:
    result = journey("evaluation", "record", "nope", AISHA, "score=9")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "Error: unknown cohort 'nope'; known cohorts: mk-2026\n"

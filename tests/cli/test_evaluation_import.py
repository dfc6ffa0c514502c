"""``journey evaluation import``: responses stored with comments apart from names, and
every bad file refused whole with each problem named (run through the real CLI, on
SQLite, or Postgres with JOURNEY_TEST_DATABASE=postgres)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from journey.db import get_engine, session_scope
from journey.models import (
    Enrolment,
    EvaluationAnswer,
    EvaluationComment,
    EvaluationImport,
    EvaluationResponse,
    HistoryEntry,
    Person,
)
from journey.services.evaluation import evaluation_results
from journey.settings import Settings
from tests.cli.test_bad_inputs import database_snapshot
from tests.cli.test_commands import journey

HEADER = (
    "email,score,relational-power-before,relational-power-after,leadership-before,"
    "leadership-after,motivation-before,motivation-after,comments\n"
)
GOOD = HEADER + (
    "aisha.rahman@example.org,10,4,8,5,9,6,9,Loved the one-to-ones\n"
    "Yusuf.Patel@example.org,9,3,8,,,5,8,\n"
    ',9,0,7,4,8,5,9,"A great two days,\nthank you"\n'
    ",8,5,8,5,7,6,8,\n"
)
NOW = "2026-10-01T10:00"
NOTHING_WRITTEN = "Error: {n} problem{s} found; nothing was written\n"


def run_import(folder: Path, text: str, *args: str) -> tuple[int, str, str]:
    path = folder / "responses.csv"
    path.write_text(text, encoding="utf-8")
    result = journey("evaluation", "import", "mk-2026", str(path), "--now", NOW, *args)
    return result.returncode, result.stdout, result.stderr


def test_a_good_file_stores_responses_and_comments_apart(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    code, out, err = run_import(tmp_path, GOOD)
    assert (code, err) == (0, "")
    assert out == "after-training: 4 responses stored (2 named, 2 anonymous), 2 comments kept.\n"
    with session_scope(settings.database_url) as session:
        named = session.scalars(
            select(Person.email)
            .join(Enrolment, Enrolment.person_id == Person.id)
            .join(EvaluationResponse, EvaluationResponse.enrolment_id == Enrolment.id)
            .order_by(Person.email)
        ).all()
        assert named == ["aisha.rahman@example.org", "yusuf.patel@example.org"]
        assert session.scalar(select(func.count()).select_from(EvaluationAnswer)) == 15
        comments = session.scalars(select(EvaluationComment.text).order_by(EvaluationComment.id))
        assert list(comments) == ["A great two days,\nthank you", "Loved the one-to-ones"]
        results = evaluation_results(session=session, cohort_ids=[cohort_id])[cohort_id]
    with get_engine(settings.database_url).connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("evaluation_comments")}
    assert columns == {"id", "cohort_id", "questionnaire", "item", "text"}  # no way back
    after_training = results[0]
    assert [r.questionnaire.id for r in results] == [
        "after-training",
        "after-last-set",
        "at-graduation",
    ]
    assert (after_training.named, after_training.anonymous) == (2, 2)
    score, power, leadership, motivation, remarks = after_training.items
    assert score.scores == (10, 9, 9, 8)
    assert power.pairs == ((4, 8), (3, 8), (0, 7), (5, 8))
    assert leadership.pairs == ((5, 9), (4, 8), (5, 7))  # Yusuf left it blank
    assert motivation.pairs == ((6, 9), (5, 8), (5, 9), (6, 8))
    assert remarks.comments == ("A great two days,\nthank you", "Loved the one-to-ones")
    assert results[2].responses == 0 and results[2].items[0].scores == ()


def test_the_same_responses_again_are_refused_when_some_are_anonymous(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    run_import(tmp_path, GOOD)
    before = database_snapshot(settings.database_url)
    resaved = GOOD.replace("\n", "\r\n")  # saved again by a spreadsheet: same responses
    code, out, err = run_import(tmp_path, resaved)
    assert (code, out) == (1, "")
    assert err == NOTHING_WRITTEN.format(n=1, s="") + (
        f"{tmp_path / 'responses.csv'}: file: these responses were imported into 'mk-2026'"
        " on 2026-10-01; anonymous responses cannot be told apart from new ones, so they"
        " are not imported twice\n"
    )
    assert database_snapshot(settings.database_url) == before


def test_named_responses_again_are_already_stored(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    named = HEADER + "aisha.rahman@example.org,10,4,8,5,9,6,9,Loved it\n"
    assert run_import(tmp_path, named)[0] == 0
    more = named + "tomasz.nowak@example.org,7,,,,,,,\n"
    code, out, _ = run_import(tmp_path, more, "--by", "fatima")
    assert code == 0
    assert out == (
        "after-training: 1 response stored (1 named, 0 anonymous), 0 comments kept;"
        " 1 already stored.\n"
    )
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(EvaluationResponse)) == 2
        assert session.scalar(select(func.count()).select_from(EvaluationComment)) == 1
        assert session.scalar(select(func.count()).select_from(EvaluationImport)) == 2
        history = session.scalars(
            select(HistoryEntry.detail).where(HistoryEntry.by == "fatima")
        ).all()
    assert history == ["after-training: 1 responses, 0 comments"]


def test_dry_run_stores_nothing(settings: Settings, cohort_id: str, tmp_path: Path) -> None:
    before = database_snapshot(settings.database_url)
    code, out, _ = run_import(tmp_path, GOOD, "--dry-run")
    assert code == 0
    assert out == (
        "after-training: 4 responses would be stored (2 named, 2 anonymous),"
        " 2 comments would be kept.\n"
    )
    assert database_snapshot(settings.database_url) == before


def test_another_questionnaire_by_its_id(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    text = "score,comments\n9,Thank you\n"
    code, out, _ = run_import(tmp_path, text, "--questionnaire", "after-last-set")
    assert (code, out) == (
        0,
        "after-last-set: 1 response stored (0 named, 1 anonymous), 1 comment kept.\n",
    )


F = "{file}"
BAD = [
    ("score-above-10", HEADER + ",11,,,,,,,\n", [f"{F}:2: score: 11 is outside 0 to 10"]),
    (
        "score-not-a-number",
        HEADER + ",ten,,,,,,,\n",
        [f"{F}:2: score: 'ten' is not a number; give a whole number from 0 to 10"],
    ),
    (
        "score-not-whole",
        HEADER + ",7.5,,,,,,,\n",
        [f"{F}:2: score: '7.5' is not a whole number; give a whole number from 0 to 10"],
    ),
    (
        "before-without-after",
        HEADER + ",8,,,5,,,,\n",
        [
            f"{F}:2: leadership-after: missing: 'leadership-before' is given, so give"
            " 'leadership-after' too (or neither)"
        ],
    ),
    (
        "after-without-before",
        HEADER + ",8,7,,,,,,\n".replace(",8,7,,", ",8,,7,"),
        [
            f"{F}:2: relational-power-before: missing: 'relational-power-after' is given, so"
            " give 'relational-power-before' too (or neither)"
        ],
    ),
    (
        "unknown-trainee",
        HEADER + "nobody@example.org,8,,,,,,,\n",
        [f"{F}:2: email: 'nobody@example.org' is not a trainee of cohort 'mk-2026'"],
    ),
    (
        "bad-email",
        HEADER + "aisha.rahman,8,,,,,,,\n",
        [
            f"{F}:2: email: 'aisha.rahman' is not a valid email address: An email address"
            " must have an @-sign."
        ],
    ),
    (
        "twice-in-the-file",
        HEADER + "aisha.rahman@example.org,8,,,,,,,\nAISHA.RAHMAN@example.org,9,,,,,,,\n",
        [f"{F}:3: email: 'aisha.rahman@example.org' already answered on row 2"],
    ),
    (
        "unknown-column-near",
        "email,scor\n,8\n",
        [f"{F}:1: header: unknown column 'scor' (did you mean 'score'?)"],
    ),
    (
        "unknown-column-far",
        "email,score,name\n,8,Aisha\n",
        [
            f"{F}:1: header: unknown column 'name'; the columns are email, score,"
            " relational-power-before, relational-power-after, leadership-before,"
            " leadership-after, motivation-before, motivation-after, comments"
        ],
    ),
    (
        "half-a-pair-of-columns",
        "score,leadership-before\n8,5\n",
        [
            f"{F}:1: header: column 'leadership-before' without 'leadership-after': give"
            " both, or neither"
        ],
    ),
    (
        "no-answers",
        HEADER + "aisha.rahman@example.org,,,,,,,,\n",
        [f"{F}:2: row: no answers given"],
    ),
    ("header-only", HEADER, [f"{F}: file: no responses below the header"]),
    (
        "empty-file",
        "",
        [
            f"{F}:1: header: missing; the columns are email, score, relational-power-before,"
            " relational-power-after, leadership-before, leadership-after, motivation-before,"
            " motivation-after, comments"
        ],
    ),
    (
        "all-at-once",
        HEADER + ",11,4,,,,,,\nnobody@example.org,x,,,,,,,\n",
        [
            f"{F}:2: score: 11 is outside 0 to 10",
            f"{F}:2: relational-power-after: missing: 'relational-power-before' is given, so"
            " give 'relational-power-after' too (or neither)",
            f"{F}:3: score: 'x' is not a number; give a whole number from 0 to 10",
            f"{F}:3: email: 'nobody@example.org' is not a trainee of cohort 'mk-2026'",
        ],
    ),
]


@pytest.mark.parametrize(("text", "problems"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_file_names_every_problem_and_stores_nothing(
    text: str, problems: list[str], settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    before = database_snapshot(settings.database_url)
    code, out, err = run_import(tmp_path, text)
    file = str(tmp_path / "responses.csv")
    s = "" if len(problems) == 1 else "s"
    expected = NOTHING_WRITTEN.format(n=len(problems), s=s)
    assert (code, out) == (1, "")
    assert err == expected + "".join(p.replace(F, file) + "\n" for p in problems)
    assert database_snapshot(settings.database_url) == before


def test_a_different_response_from_someone_who_answered_is_refused(
    settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    assert run_import(tmp_path, HEADER + "aisha.rahman@example.org,10,,,,,,,\n")[0] == 0
    before = database_snapshot(settings.database_url)
    code, _, err = run_import(tmp_path, HEADER + "aisha.rahman@example.org,6,,,,,,,\n")
    assert code == 1
    assert err == NOTHING_WRITTEN.format(n=1, s="") + (
        f"{tmp_path / 'responses.csv'}:2: email: 'aisha.rahman@example.org' already has a"
        " different response stored\n"
    )
    assert database_snapshot(settings.database_url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nope", "responses.csv"],
            "Error: unknown cohort 'nope'; known cohorts: mk-2026\n",
        ),
        (
            ["mk-2026", "responses.csv", "--questionnaire", "at-graduaton"],
            "Error: unknown questionnaire 'at-graduaton' (did you mean 'at-graduation'?);"
            " the programme has: after-training, after-last-set, at-graduation\n",
        ),
        (
            ["mk-2026", "missing.csv"],
            "Error: 1 problem found; nothing was written\nmissing.csv: file: not found\n",
        ),
    ],
    ids=["unknown-cohort", "unknown-questionnaire", "no-file"],
)
def test_a_bad_argument_gets_one_clear_message(
    args: list[str], message: str, settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    (tmp_path / "responses.csv").write_text(GOOD, encoding="utf-8")
    before = database_snapshot(settings.database_url)
    result = journey("evaluation", "import", *args, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", message)
    assert database_snapshot(settings.database_url) == before

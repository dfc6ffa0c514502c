"""Evaluation: trainees' answers to the programme's questionnaires, for the funder's report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import (
    ByOption,
    DryRun,
    NowOption,
    cohort_now,
    database_url,
    evaluation_app,
)
from journey.errors import InputProblem, InvalidInput

if TYPE_CHECKING:
    from journey.services.evaluation import ImportResult
    from journey.services.evaluation_entry import EntryResult


QuestionnaireOption = Annotated[
    str | None,
    typer.Option(
        "--questionnaire",
        help="Questionnaire id in the cohort's programme. Default: its first "
        "(after-training in the default programme).",
    ),
]


@evaluation_app.command("import")
def import_(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    file: Annotated[Path, typer.Argument(help="Responses CSV: email (optional), then answers.")],
    questionnaire: QuestionnaireOption = None,
    by: ByOption = None,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Import responses to a questionnaire, as typed from paper or exported from a form.

    Columns: email (leave it empty, or leave the column out, for an anonymous response),
    then one per item: score, ID-before and ID-after for each statement, comments. Every
    number is a whole number from 0 to 10; a blank cell is a question not answered.
    Everything is checked first, and every problem is listed with its row and column;
    nothing is stored unless the whole file is right. Comments are stored apart from
    names. Importing again is safe for named responses (the same answers are 'already
    stored'; different ones are refused). Anonymous ones cannot be told apart, so the
    same responses are refused a second time; but rows added to a file imported before
    would store its old anonymous rows again: import each new batch as a file of its own.

    \b
    Example: journey evaluation import mk-2026 after-training.csv
    Example: journey evaluation import mk-2026 graduation.csv --questionnaire at-graduation
    """
    from journey.cohort.reading import read_text
    from journey.db import session_scope
    from journey.services.evaluation import import_responses

    problems: list[InputProblem] = []
    text = read_text(file, problems)  # as a roster is read: missing, unreadable, not UTF-8
    if text is None:
        raise InvalidInput(problems)
    with session_scope(database_url()) as session:
        result = import_responses(
            session=session,
            cohort_id=cohort,
            file=str(file),
            text=text,
            questionnaire_id=questionnaire,
            now=cohort_now(session, cohort, now),
            dry_run=dry_run,
            by=by,
        )
    typer.echo(_summary(result, dry_run))


def _summary(result: ImportResult, dry_run: bool) -> str:
    """``after-training: 5 responses stored (3 named, 2 anonymous), 2 comments kept.``"""
    stored, kept = ("would be stored", "would be kept") if dry_run else ("stored", "kept")
    noun = "response" if result.stored == 1 else "responses"
    line = (
        f"{result.questionnaire}: {result.stored} {noun} {stored} ({result.named} named,"
        f" {result.anonymous} anonymous), {result.comments}"
        f" comment{'' if result.comments == 1 else 's'} {kept}"
    )
    if result.already:
        line += f"; {result.already} already stored"
    return line + "."


@evaluation_app.command("record")
def record_(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    email: Annotated[str, typer.Argument(help="The trainee's email.")],
    answers: Annotated[
        list[str] | None,
        typer.Argument(
            help="Numbers as COLUMN=VALUE, the columns of a responses file: score=9,"
            " leadership-before=4 leadership-after=8.",
            metavar="COLUMN=VALUE",
            show_default=False,
        ),
    ] = None,
    questionnaire: QuestionnaireOption = None,
    comment: Annotated[
        list[str] | None,
        typer.Option(
            "--comment",
            help='A comment as ITEM=TEXT (comments="More role play please"); kept apart from'
            " the name. Give it again for another item.",
            metavar="ITEM=TEXT",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Correct the trainee's stored response with these."),
    ] = False,
    undo: Annotated[
        bool, typer.Option("--undo", help="Take the trainee's response back (give no answers).")
    ] = False,
    by: ByOption = None,
    now: NowOption = None,
    dry_run: DryRun = False,
) -> None:
    """Enter one trainee's response to a questionnaire, by hand; correct it or take it back.

    Answers are named as the columns of a responses file (see journey evaluation import)
    and checked by the same rules: whole numbers from 0 to 10, an ID-before with its
    ID-after. Withdrawn trainees count: they may have answered before they left. The same
    numbers again change nothing; other numbers are refused unless --replace is given.
    --undo takes the response back. Each change is kept in the history, with the numbers
    but never the comments. Comments are stored apart from names, so nothing leads back
    from a comment to its response: after --replace or --undo, the comments given with
    the response stay, unlinked.

    \b
    Example: journey evaluation record mk-2026 a@example.org leadership-before=4 leadership-after=8
    Example: journey evaluation record mk-2026 a@example.org score=9 --comment comments="Thank you"
    Example: journey evaluation record mk-2026 a@example.org score=8 --replace
    Example: journey evaluation record mk-2026 a@example.org --undo
    """
    from journey.db import session_scope
    from journey.services.evaluation_entry import record_response

    with session_scope(database_url()) as session:
        result = record_response(
            session=session,
            cohort_id=cohort,
            email=email,
            questionnaire_id=questionnaire,
            answers=answers or [],
            comments=comment or [],
            now=cohort_now(session, cohort, now),
            replace=replace,
            undo=undo,
            dry_run=dry_run,
            by=by,
        )
    typer.echo(_entry_summary(result, dry_run))


def _entry_summary(result: EntryResult, dry_run: bool) -> str:
    """``after-training: response recorded for a@x.org (score=9), 1 comment kept.``"""
    from journey.services.evaluation_entry import columns

    def verb(done: str) -> str:
        return f"would be {done}" if dry_run else done

    head = f"{result.questionnaire}: response"
    who, numbers = result.email, columns(result.answers)
    noun = "comment" if result.comments == 1 else "comments"
    kept = f"{result.comments} {noun} {verb('kept')}"
    if result.outcome == "already":
        again = " (comments given again are not kept twice)" if result.comments else ""
        return f"{head} of {who} already stored ({numbers}); nothing changed{again}."
    if result.outcome == "undone":
        return (
            f"{head} of {who} {verb('taken back')} ({numbers}); comments given with it stay,"
            " unlinked."
        )
    if result.outcome == "replaced":
        change = f"{columns(result.replaced)} -> {numbers}"
        return f"{head} of {who} {verb('corrected')} ({change}), {kept}."
    return f"{head} of {who} {verb('recorded')} ({numbers}), {kept}."

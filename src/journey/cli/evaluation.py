"""Evaluation: trainees' answers to the programme's questionnaires, for the funder's report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import DryRun, NowOption, app, database_url, now_from
from journey.errors import InputProblem, InvalidInput

if TYPE_CHECKING:
    from journey.services.evaluation import ImportResult

evaluation_app = typer.Typer(
    help="Evaluation: answers to the programme's questionnaires (after the training, after "
    "the last learning set, at graduation).\n\n"
    "Example: journey evaluation import mk-2026 after-training.csv",
    no_args_is_help=True,
)
app.add_typer(evaluation_app, name="evaluation")


@evaluation_app.command("import")
def import_(
    cohort: Annotated[str, typer.Argument(help="Cohort id.")],
    file: Annotated[Path, typer.Argument(help="Responses CSV: email (optional), then answers.")],
    questionnaire: Annotated[
        str | None,
        typer.Option(
            "--questionnaire",
            help="Questionnaire id in the cohort's programme. Default: its first "
            "(after-training in the default programme).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who imports, for the history. Default: the OS user."),
    ] = None,
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
    from journey.cohort_input import read_text
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
            now=now_from(now),
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

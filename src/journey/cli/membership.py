"""Who takes part: a trainee withdrawing or coming back, and a person's consent to email."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from journey.cli._app import (
    ByOption,
    NowOption,
    app,
    cohort_now,
    database_url,
    now_from,
    person_app,
)

if TYPE_CHECKING:
    from journey.services.membership import EmailConsent, Withdrawal

CohortArg = Annotated[str, typer.Argument(help="Cohort id.")]
TraineeArg = Annotated[str, typer.Argument(help="The trainee's email address.")]
PersonArg = Annotated[str, typer.Argument(help="The person's email address.")]


@app.command()
def withdraw(
    cohort: CohortArg,
    email: TraineeArg,
    on: Annotated[
        str | None, typer.Option("--on", help="The day they withdrew (YYYY-MM-DD). Default: now.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, in a few words, for the history.")
    ] = None,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Withdraw a trainee: every notice still queued for them is cancelled at once and
    nothing more is sent to them; their mentor and learning-set facilitator are told in
    their daily digest. `journey reinstate` brings them back.

    \b
    Example: journey withdraw mk-2026 aisha.rahman@example.org --on 2026-11-03 --reason "moved away"
    """
    from journey.db import session_scope
    from journey.services.membership import withdraw as withdraw_trainee
    from journey.timeutil import parse_day

    day = parse_day(on) if on else None
    with session_scope(database_url()) as session:
        result = withdraw_trainee(
            session=session,
            cohort_id=cohort,
            email=email,
            on=day,
            reason=reason,
            by=by,
            now=cohort_now(session, cohort, now),
        )
    typer.echo(_withdrawal_line(result))


def _withdrawal_line(result: Withdrawal) -> str:
    """What ``journey withdraw`` says it did."""
    if result.already:
        return (
            f"{result.email} already withdrew from {result.cohort_id} on "
            f"{result.on.isoformat()}; nothing changed."
        )
    n = result.cancelled
    cancelled = f"{n} queued notice{'' if n == 1 else 's'} cancelled"
    if not result.launched:
        told = "the cohort is not launched yet, so nobody else is told"
    elif result.told:
        told = f"their {' and '.join(result.told)} will be told in their daily digest"
    else:
        told = "they have no mentor or facilitator to tell"
    return (
        f"Withdrew {result.email} from {result.cohort_id} on {result.on.isoformat()}: "
        f"{cancelled}; {told}."
    )


@app.command()
def reinstate(
    cohort: CohortArg, email: TraineeArg, by: ByOption = None, now: NowOption = None
) -> None:
    """Bring a withdrawn trainee back. Their notices count from now: what falls due from
    now on is sent, and nothing that came due while they were away is sent late.

    \b
    Example: journey reinstate mk-2026 aisha.rahman@example.org
    """
    from journey.db import session_scope
    from journey.services.membership import reinstate as reinstate_trainee

    with session_scope(database_url()) as session:
        result = reinstate_trainee(
            session=session,
            cohort_id=cohort,
            email=email,
            by=by,
            now=cohort_now(session, cohort, now),
        )
    if result.already:
        typer.echo(f"{result.email} is active in {result.cohort_id}; nothing changed.")
        return
    since = f" (withdrawn on {result.withdrawn_on.isoformat()})" if result.withdrawn_on else ""
    typer.echo(
        f"Reinstated {result.email} in {result.cohort_id}{since}: their notices count from "
        "now; nothing that came due while they were away is sent."
    )


@person_app.command("opt-out")
def opt_out(email: PersonArg, by: ByOption = None, now: NowOption = None) -> None:
    """Send this person no more email. A trainee stays on the programme and counts as
    active: tell them what they would have been sent by other means.

    \b
    Example: journey person opt-out aisha.rahman@example.org
    """
    from journey.db import session_scope
    from journey.services.membership import opt_out as stop_email

    with session_scope(database_url()) as session:
        result = stop_email(session=session, email=email, by=by, now=now_from(now))
    typer.echo(_consent_line(result))


@person_app.command("opt-in")
def opt_in(email: PersonArg, by: ByOption = None, now: NowOption = None) -> None:
    """Email this person again, from the next delivery on (notices cancelled while they
    were opted out stay cancelled).

    \b
    Example: journey person opt-in aisha.rahman@example.org
    """
    from journey.db import session_scope
    from journey.services.membership import opt_in as resume_email

    with session_scope(database_url()) as session:
        result = resume_email(session=session, email=email, by=by, now=now_from(now))
    typer.echo(_consent_line(result))


def _consent_line(result: EmailConsent) -> str:
    """What ``journey person opt-out``/``opt-in`` says it did."""
    if result.already and result.opted_out:
        return f"{result.email} has already opted out of email; nothing changed."
    if result.already:
        return f"{result.email} already gets email; nothing changed."
    if result.opted_out:
        return (
            f"{result.email} will get no more email; `journey upcoming` lists what they "
            "would have been sent, to tell them by other means."
        )
    return f"{result.email} will get email again, from the next delivery on."

"""What every task needs: the database URL and settings of this process, the clock, and
errors that say what went wrong without the addresses a run was given."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from pydantic import SecretStr

from journey.errors import BadSettings, JourneyError, UnknownTrainee
from journey.mail.redact import ADDRESS, WITHHELD
from journey.settings import Settings, get_settings
from journey.timeutil import wall_clock


def settings() -> Settings:
    """This process's settings, with the SMTP password from its Prefect Secret block if named.

    The secret stays a ``SecretStr``: it is never logged, returned or put in an artifact.
    """
    config = get_settings()
    if not config.smtp_password_block:
        return config
    from prefect.blocks.system import Secret

    block = Secret.load(config.smtp_password_block)
    if not isinstance(block, Secret):  # a sync call gives the block, never a coroutine
        name = config.smtp_password_block
        raise BadSettings([f"setting JOURNEY_SMTP_PASSWORD_BLOCK: {name!r} is not a Secret block"])
    return config.model_copy(update={"smtp_password": SecretStr(str(block.get()))})


def resolve_now(now: datetime | None) -> datetime:
    """The time a flow was asked to act at; the wall clock when none was given."""
    return now if now is not None else wall_clock()


class AddressesWithheld(JourneyError):
    """A flow's input could not be used, said without the addresses it was given: the
    trainees are named by enrolment id (the addresses stay in the run's parameters, which
    ``person forget`` deletes). Prefect keeps an error's message in its states, events and
    logs; the CLI, which runs the services itself, keeps the full message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


@contextmanager
def addresses_withheld(cohort_id: str, given: Sequence[str]) -> Iterator[None]:
    """Re-raise a service's error that quotes an address as :class:`AddressesWithheld`.

    ``given`` are the addresses the run was given. An unknown address is counted, a
    trainee's is replaced by their enrolment id, any other by ``<address>``.
    """
    try:
        yield
    except JourneyError as exc:
        text = str(exc)
        if ADDRESS.search(text) is None:
            raise
        raise AddressesWithheld(withhold(exc, text, cohort_id, len(given))) from None


def withhold(exc: JourneyError, text: str, cohort_id: str, given: int) -> str:
    """``text`` (``exc``'s message) with its addresses taken out; see
    :func:`addresses_withheld`."""
    if isinstance(exc, UnknownTrainee):
        return unknown_addresses(cohort_id, len(ADDRESS.findall(text)), given)
    found = [m.strip("<>").lower() for m in ADDRESS.findall(text)]
    ids = enrolment_ids(cohort_id, found)
    return ADDRESS.sub(lambda m: _enrolment(ids.get(m[0].strip("<>").lower())), text)


def unknown_addresses(cohort_id: str, unknown: int, given: int) -> str:
    """How many of the addresses given are not in the cohort, without them."""
    if given <= 1:
        return f"no trainee of cohort {cohort_id!r} has the address given"
    verb = "belongs" if unknown == 1 else "belong"
    return f"{unknown} of the {given} addresses given {verb} to no trainee of cohort {cohort_id!r}"


def enrolment_ids(cohort_id: str, emails: Sequence[str]) -> dict[str, int]:
    """The enrolment ids, in the cohort, of the people with these addresses."""
    from sqlalchemy import select

    from journey.db import session_scope
    from journey.models import Enrolment, Person

    with session_scope(get_settings().database_url) as session:
        rows = session.execute(
            select(Person.email, Enrolment.id)
            .join(Enrolment, Enrolment.person_id == Person.id)
            .where(Enrolment.cohort_id == cohort_id, Person.email.in_(list(emails)))
        )
        return {str(email): int(enrolment_id) for email, enrolment_id in rows}


def _enrolment(enrolment_id: int | None) -> str:
    return WITHHELD if enrolment_id is None else f"enrolment {enrolment_id}"

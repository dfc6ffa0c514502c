"""Domain errors. The CLI prints each as one line ``Error: …`` and exits with code 1."""

from __future__ import annotations

from collections.abc import Sequence


class JourneyError(Exception):
    """Base of every error a user can cause and fix."""


class InputProblem:
    """One problem in an input file: where it is and what is wrong."""

    __slots__ = ("field", "file", "message", "row")

    def __init__(self, file: str, row: int | None, field: str, message: str) -> None:
        self.file, self.row, self.field, self.message = file, row, field, message

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        return f"{where}: {self.field}: {self.message}"

    def __repr__(self) -> str:
        return f"InputProblem({str(self)!r})"


class InvalidInput(JourneyError):
    """An input file (cohort, roster, programme, attendance) has problems; nothing was written."""

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was written"
        super().__init__("\n".join([head, *map(str, self.problems)]))


class UnknownCohort(JourneyError):
    """No cohort has the id given. ``known`` (the ids there are, from
    ``journey.services.loading.known_cohort_ids``) lets the message say which would do,
    or that there are none yet; without it, it points at ``journey cohort list``."""

    def __init__(self, cohort_id: str, *, known: Sequence[str] | None = None) -> None:
        if known is None:
            hint = " (see: journey cohort list)"
        elif known:
            hint = f"; known cohorts: {', '.join(known)}"
        else:
            hint = "; there are no cohorts yet: journey cohort import COHORT.yaml"
        super().__init__(f"unknown cohort {cohort_id!r}{hint}")


class UnknownTrainee(JourneyError):
    """The email is not enrolled in the cohort."""

    def __init__(self, cohort_id: str, email: str) -> None:
        super().__init__(f"{email!r} is not a trainee of cohort {cohort_id!r}")


class UnknownMilestone(JourneyError):
    """The milestone id is not in the cohort's programme."""

    def __init__(self, milestone: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown milestone {milestone!r}; the programme has: {', '.join(known)}")


class NotApplicable(JourneyError):
    """The milestone does not apply to this trainee (e.g. follow-up they did not opt into)."""


class BadDate(JourneyError):
    """A date or time given on the command line could not be read."""


class DatabaseNotReady(JourneyError):
    """The database has no schema yet, or an older one."""

    def __init__(self, url: str) -> None:
        super().__init__(f"the database at {url} is not initialised; run: journey db upgrade")


class ProgrammeError(JourneyError):
    """A programme file is malformed."""


class CohortNotLaunched(JourneyError):
    """The operation needs a launched cohort."""


class UnknownSession(JourneyError):
    """The cohort has no such session (training day, learning-set session or graduation),
    or more than one matches; the message lists the cohort's sessions."""


class UnknownPerson(JourneyError):
    """No one (trainee, mentor, facilitator or organiser) has the email given."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no one with the email {email!r} is known")


class DateOutOfRange(JourneyError):
    """A date given is readable but cannot be right: before the cohort existed, or to come."""


class NothingToUndo(JourneyError):
    """``journey record --undo`` for someone with no such record; nothing was taken back."""

    def __init__(self, emails: Sequence[str], what: str) -> None:
        has = "has" if len(emails) == 1 else "have"
        super().__init__(f"nothing to undo: {', '.join(emails)} {has} no record of {what}")

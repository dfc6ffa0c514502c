"""Domain errors. The CLI prints each as one line ``Error: …`` and exits with code 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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


class BadAddress(JourneyError):
    """An email address given on the command line that notices could not be sent to."""


class DatabaseNotReady(JourneyError):
    """The database has no schema yet, or an older one."""

    def __init__(self, url: str) -> None:
        super().__init__(f"the database at {url} is not initialised; run: journey db upgrade")


class ProgrammeError(JourneyError):
    """A programme file is malformed."""


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


class BadSettings(JourneyError):
    """Settings (``JOURNEY_*`` in the environment or ``.env``) that cannot be used, one line
    each, so a bad value is named before anything runs rather than met half-way."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)  # "setting JOURNEY_NAME: what is wrong", or the file's
        lines = list(self.problems)
        if len(lines) > 1:
            lines.insert(0, f"{len(lines)} settings are wrong")
        super().__init__("\n".join(lines))


class DatabaseUnavailable(JourneyError):
    """The database server cannot be reached or is busy now (refused, timed out, locked):
    nothing is wrong with what was asked, so the CLI exits 75, try again later."""

    exit_code = 75


class DeliveryIncomplete(JourneyError):
    """A delivery run recorded what it did but could not deliver everything: the mail
    server or outbox folder was unavailable, or notices were deferred (``exit_code`` 75,
    try again later; the notices stay pending, each with the reason), or notices failed
    for good (1: a person must look). The flows raise it last, so their Prefect run ends
    Failed with this message; ``summary`` is what the run did (the flow's result, one of
    :mod:`journey.services.outcomes`; typed ``object`` as errors import nothing of the
    services), for the CLI to print."""

    TRY_LATER = 75
    FAILED_FOR_GOOD = 1

    def __init__(self, message: str, exit_code: int = 1, summary: object = None) -> None:
        super().__init__(message)
        self.exit_code, self.summary = exit_code, summary

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the code and summary through pickling
        return (type(self), (str(self), self.exit_code, self.summary))


class NotADemoFolder(JourneyError):
    """``journey demo --dir`` names a folder that holds something a demo does not leave;
    the demo empties its folder first, so it refuses rather than delete someone's files."""


class TraineeWithdrawn(JourneyError):
    """Progress recorded for a trainee who withdrew: their record stays as it was until
    they are reinstated (``journey reinstate``), so a slip of the list cannot revive them."""


class SessionNotHeld(JourneyError):
    """Attendance recorded for a session that has not started yet, or was cancelled."""


class NotEligible(JourneyError):
    """Graduation recorded for a trainee who has not met the programme's requirements;
    the message says what each still needs (``journey record --force`` records it anyway)."""


class UnknownQuestionnaire(JourneyError):
    """The cohort's programme has no questionnaire with the id given (or none at all)."""

    def __init__(self, questionnaire: str, known: Sequence[str]) -> None:
        import difflib

        if known:
            close = difflib.get_close_matches(questionnaire, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            ending = f"{hint}; the programme has: {', '.join(known)}"
        else:
            ending = "; the cohort's programme has no questionnaires"
        super().__init__(f"unknown questionnaire {questionnaire!r}{ending}")


class ReportNotWritten(JourneyError):
    """``journey report --out PATH`` (or ``person export --out``) cannot write its file (no
    such folder, no permission, a folder of that name): one line naming the path and the
    system's reason."""

    def __init__(self, path: str, reason: str, what: str = "the report") -> None:
        super().__init__(f"cannot write {what} to {path}: {reason}")


class BadPeriod(JourneyError):
    """``journey prune --older-than`` that cannot be read as a period (``90d``, ``2y``)."""


class PrefectUnavailable(JourneyError):
    """The Prefect server configured (``PREFECT_API_URL``) does not answer, or refuses
    (``journey serve``, ``person forget`` and ``export``); nothing was changed. Try again
    later (exit 75)."""

    exit_code = 75

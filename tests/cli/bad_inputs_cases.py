"""The bad inputs of ``tests/cli/test_bad_inputs.py``, one row each, and what each must get.

A row says what to write in the case's own folder (the example cohort's files with one
small change, a ``.env``, a programme), the command to run there, the environment it
runs with, how to prepare the database beyond the example cohort's import, and the exact
stderr and exit code expected. The database is always the test's own (the ``settings``
fixture); a row that points ``JOURNEY_DATABASE_URL`` elsewhere still has that one checked.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest

from journey.db import EXAMPLE_URLS, session_scope
from journey.models import EventKind
from journey.services.changes import cancel_session, find_session
from journey.services.membership import withdraw
from journey.services.sweep import launch
from tests.conftest import EXAMPLES, utc
from tests.pg import SERVER
from tests.test_settings_faults import postgres_answers

COHORT = (EXAMPLES / "cohort.yaml").read_text()
ROSTER = (EXAMPLES / "roster.csv").read_text()
HEADER = ROSTER.splitlines(keepends=True)[0]
DAVID = "David Okonkwo,david.okonkwo@example.org,St Mary's Church,fee,no,,"  # roster.csv:3
AISHA, YUSUF = "aisha.rahman@example.org", "yusuf.patel@example.org"
IMPORTED, NOW = "2026-08-02T09:00", "2026-11-28T12:00"
IMPORT = ("cohort", "import", "cohort.yaml", "--now", IMPORTED)
WITH_ROSTER = (*IMPORT, "--roster", "roster.csv")
ADD = ("cohort", "add", "mk-2026", "--roster", "new.csv", "--now", IMPORTED)
STATUS, UPGRADE = ("status", "mk-2026"), ("db", "upgrade")
URL = "JOURNEY_DATABASE_URL"
RENAME = "use the same name, or import with --rename to rename them"
ASCII_ONLY = "is not an address this system can send to: use an ASCII address"
OUTSIDE = "is outside the cohort file's folder: give default, or the path of a programme file"
NOT_YET = "has not happened yet: it starts"


@dataclass(frozen=True)
class Case:
    """One bad input: run ``args`` in a folder holding ``files`` (text or bytes, by path)
    and ``links`` (symlink -> target), with ``env``, after ``prepare(url)``; expect
    ``message`` (the whole stderr) and ``code``."""

    id: str
    args: tuple[str, ...]
    message: str
    code: int = 1
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    prepare: Callable[[str], None] | None = None
    marks: tuple[Any, ...] = ()


def edited(text: str, *changes: tuple[str, str]) -> str:
    """``text`` with each ``(old, new)`` replaced once; ``old`` must be there."""
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the first line of ``text`` containing ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def problems(*lines: str) -> str:
    """The stderr of :class:`~journey.errors.InvalidInput` listing ``lines``."""
    count = len(lines)
    head = f"Error: {count} problem{'s' if count != 1 else ''} found; nothing was written"
    return "\n".join([head, *lines]) + "\n"


def error(message: str) -> str:
    return f"Error: {message}\n"


def usage(command: str, arguments: str, message: str) -> str:
    """Click's usage error (exit 2): the usage line, where to find help, the error."""
    return (
        f"Usage: journey {command} [OPTIONS]{arguments}\n"
        f"Try 'journey {command} --help' for help.\n\nError: {message}\n"
    )


def cohort_case(case_id: str, needle: str, problem: str, *changes: tuple[str, str]) -> Case:
    """``journey cohort import`` of the example cohort file changed by ``changes``: one
    problem, on the first line holding ``needle``."""
    text = edited(COHORT, *changes)
    found = problems(f"cohort.yaml:{line_of(text, needle)}: {problem}")
    return Case(case_id, IMPORT, found, files={"cohort.yaml": text})


def roster_case(case_id: str, *problem_lines: str, row: str = DAVID, new: str = "") -> Case:
    """``journey cohort import --roster`` with the example roster's ``row`` replaced."""
    roster = edited(ROSTER, (row, new))
    return Case(case_id, WITH_ROSTER, problems(*problem_lines), files={"roster.csv": roster})


def add_case(case_id: str, rows: str, *problem_lines: str) -> Case:
    """``journey cohort add mk-2026`` of ``rows`` (the roster's columns)."""
    return Case(case_id, ADD, problems(*problem_lines), files={"new.csv": HEADER + rows})


def record(*args: str, now: str = NOW) -> tuple[str, ...]:
    """``journey record mk-2026 ARGS --now NOW``."""
    return ("record", "mk-2026", *args, "--now", now)


def setting(case_id: str, name: str, value: str, message: str) -> Case:
    """``journey status mk-2026`` with one bad setting in the environment."""
    return Case(case_id, STATUS, error(f"setting {name}: {message}"), env={name: value})


def url_case(case_id: str, url: str, message: str, args: tuple[str, ...] = STATUS) -> Case:
    """``args`` with ``JOURNEY_DATABASE_URL=url``: one line naming the setting."""
    return Case(case_id, args, error(f"setting {URL}: {message}"), env={URL: url})


# --- how a case's database is prepared beyond the import ------------------------------


def launched(url: str) -> None:
    with session_scope(url) as session:
        launch(session=session, cohort_id="mk-2026", now=utc("2026-09-01T09:00"))


def yusuf_withdrawn(url: str) -> None:
    with session_scope(url) as session:
        withdraw(
            session=session,
            cohort_id="mk-2026",
            email=YUSUF,
            on=date(2026, 11, 10),
            reason=None,
            by="test",
            now=utc("2026-11-10T12:00"),
        )


def set_b_first_session_cancelled(url: str) -> None:
    with session_scope(url) as session:
        event, _ = find_session(
            session=session,
            cohort_id="mk-2026",
            kind=EventKind.LEARNING_SET,
            number=1,
            set_name="Set B",
        )
        cancel_session(session=session, cohort_id="mk-2026", event_id=event.id, now=utc(NOW))


# The rows, one per bad input, kept as a table: one to four lines each, not one per field.
# fmt: off

# --- the cohort file (journey cohort import cohort.yaml) ----------------------------------

GRADUATION = 'at: "2027-06-17T18:00/20:00"'
TYPO = edited(COHORT, ("title:", "tittle:"))
LINKED = edited(COHORT, ("programme: default ", "programme: link.yaml "))
NOT_YAML = edited(COHORT, ("programme: default ", "programme: custom.yaml "))
PROGRAMME_LINE = line_of(COHORT, "programme:")
TO_MK_2027 = ("id: mk-2026", "id: mk-2027")

COHORT_FILE = [
    Case("cohort-file-missing", ("cohort", "import", "nothere.yaml", "--now", IMPORTED),
         problems("nothere.yaml: file: not found")),
    Case("cohort-file-not-yaml", IMPORT, problems(
        "cohort.yaml:2: yaml: not valid YAML: expected ',' or ']', but got '<stream end>'"),
        files={"cohort.yaml": "id: [broken\n"}),
    Case("cohort-field-misspelt", IMPORT, problems(
        "cohort.yaml:1: title: required",
        f"cohort.yaml:{line_of(TYPO, 'tittle')}: tittle: unknown field (did you mean 'title'?)"),
        files={"cohort.yaml": TYPO}),
    cohort_case("cohort-unknown-time-zone", "timezone:", "timezone: unknown time zone"
                " 'Europe/Londn' (use an IANA name such as Europe/London)",
                ("timezone: Europe/London", "timezone: Europe/Londn")),
    cohort_case("cohort-session-not-a-range", "days:", "training.days[0]: bad date"
                " '2026-09-25 09:30-16:30': expected YYYY-MM-DDTHH:MM/HH:MM",
                ("2026-09-25T09:30/16:30", "2026-09-25 09:30-16:30")),
    cohort_case("cohort-fee-in-words", "fee:", "fee: expected a number, 0 or more, got 'sixty'",
                ("fee: 60 ", "fee: sixty ")),
    cohort_case("cohort-fee-1e30", "fee:", "fee: expected less than 100000000, got '1e30'",
                ("fee: 60 ", "fee: 1e30 ")),
    cohort_case("cohort-fee-in-fractions-of-a-penny", "fee:",
                "fee: expected at most 2 decimal places, got 12.345", ("fee: 60 ", "fee: 12.345 ")),
    cohort_case("cohort-title-5000-characters", "title:",
                "title: too long: 5000 characters (at most 200)",
                ("title: Two-Day Training 2026", "title: " + "T" * 5000)),
    cohort_case("cohort-organiser-name-10000-characters", "organiser:",
                "organiser.name: too long: 10000 characters (at most 200)",
                ("name: Sam Rivers", "name: " + "N" * 10000)),
    cohort_case("cohort-id-65-characters", "id: aaa", "id: too long: 65 characters (at most 64)",
                ("id: mk-2026", "id: " + "a" * 65)),
    cohort_case("cohort-id-not-an-id", "id: MK", "id: 'MK 2026!' is not a valid id: use 2 to 63"
                " lowercase letters, digits and dashes, not starting with a dash",
                ("id: mk-2026", "id: MK 2026!")),
    cohort_case("cohort-set-name-101-characters", "name: SSS",
                "learning_sets[0].name: too long: 101 characters (at most 100)",
                ("name: Set A", "name: " + "S" * 101)),
    cohort_case("cohort-graduation-before-the-training", "graduation:",
                "graduation.at: starts before the training ends (2026-09-26 16:30)",
                (GRADUATION, 'at: "2026-09-01T18:00/20:00"')),
    cohort_case("cohort-set-session-before-the-training-ends", '"2026-09-26T12:00',
                "learning_sets[0].sessions[0]: starts before the training ends (2026-09-26 16:30)",
                ("2026-12-03T17:30/19:30", "2026-09-26T12:00/13:00")),
    cohort_case("cohort-programme-etc-passwd", "programme:",
                f"programme: '/etc/passwd' {OUTSIDE} in that folder",
                ("programme: default ", "programme: /etc/passwd ")),
    Case("cohort-programme-linked-out-of-the-folder",
         ("cohort", "import", "cohorts/cohort.yaml", "--now", IMPORTED),
         problems(f"cohorts/cohort.yaml:{PROGRAMME_LINE}: programme: 'link.yaml' {OUTSIDE} in"
                  " that folder"),
         files={"cohorts/cohort.yaml": LINKED, "elsewhere/x.yaml": "id: x\n"},
         links={"cohorts/link.yaml": "../elsewhere/x.yaml"}),
    Case("cohort-programme-not-yaml", IMPORT, problems(
        f"cohort.yaml:{PROGRAMME_LINE}: programme: custom.yaml: not valid YAML at line 4"),
        files={"cohort.yaml": NOT_YAML,
               "custom.yaml": "id: custom\ntitle: Custom\nsecret: [hunter2\nmilestones: []\n"}),
    cohort_case("cohort-mentor-address-not-ascii", "tím@",
                f"mentors[0].email: 'tím@example.org' {ASCII_ONLY}",
                ("email: tim@example.org", "email: tím@example.org")),
    cohort_case("cohort-renames-a-mentor", "Timothy", "mentors[0].email: 'tim@example.org' is Tim"
                f" Norwood (mentor in mk-2026), not 'Timothy Norwood'; {RENAME}",
                TO_MK_2027, ("name: Tim Norwood", "name: Timothy Norwood")),
    cohort_case("cohort-renames-the-organiser", "Samantha", "organiser.email:"
                " 'organiser@example.org' is Sam Rivers (organiser of mk-2026), not"
                f" 'Samantha Rivers'; {RENAME}",
                TO_MK_2027, ("name: Sam Rivers", "name: Samantha Rivers")),
]

# --- the roster (journey cohort import --roster roster.csv), and journey cohort add ------

MARGARET = ROSTER.splitlines()[1]  # roster.csv:2, Set A, mentor tim@example.org
NEWCOMER = "Tom Hale,tom.hale@example.org,Greenleys Residents,fee,yes,grace.adeyemi@example.org,"
TIM_LINE = line_of(COHORT, "Tim Norwood")
ADD_RENAME = "use the same name, or add them with --rename to rename them"

ROSTER_CASES = [
    Case("roster-missing", (*IMPORT, "--roster", "nothere.csv"),
         problems("nothere.csv: file: not found")),
    Case("roster-not-utf8", WITH_ROSTER, problems(
        "roster.csv: encoding: not UTF-8 text (byte 0xe9 at offset 65); save it as UTF-8"),
        files={"roster.csv": edited(ROSTER, ("Margaret", "Margarét")).encode("latin-1")}),
    Case("roster-column-misspelt", WITH_ROSTER, problems(
        "roster.csv:1: header: unknown column 'e-mail' (did you mean 'email'?)",
        "roster.csv:1: header: missing column 'email'"),
        files={"roster.csv": edited(ROSTER, ("name,email,", "name,e-mail,"))}),
    roster_case("roster-row-with-an-extra-cell",
                "roster.csv:3: row: 8 cells but the header has 7 columns", new=DAVID + ",extra"),
    roster_case("roster-unknown-institution",
                "roster.csv:3: institution: unknown institution 'St Marys Church'",
                new=DAVID.replace("St Mary's", "St Marys")),
    roster_case("roster-follow-up-without-mentor-or-set",
                "roster.csv:3: mentor: follow_up is yes but no mentor is given",
                "roster.csv:3: learning_set: follow_up is yes but no learning set is given",
                new=DAVID.replace(",no,", ",yes,")),
    roster_case("roster-unknown-mentor", "roster.csv:2: mentor: unknown mentor 'tom@example.org'",
                row=MARGARET, new=MARGARET.replace("tim@", "tom@")),
    roster_case("roster-address-twice",
                "roster.csv:3: email: 'margaret.oconnor@example.org' is already on row 2",
                new=DAVID.replace("david.okonkwo", "margaret.oconnor")),
    roster_case("roster-address-without-a-domain", "roster.csv:3: email: 'david.okonkwo@example'"
                " is not a valid email address: The part after the @-sign is not valid. It"
                " should have a period.", new=DAVID.replace("example.org", "example")),
    roster_case("roster-address-not-ascii", f"roster.csv:3: email: 'jösé@exämple.org' {ASCII_ONLY}",
                new=DAVID.replace("david.okonkwo@example.org", "jösé@exämple.org")),
    roster_case("roster-name-201-characters",
                "roster.csv:3: name: too long: 201 characters (at most 200)",
                new=DAVID.replace("David Okonkwo", "D" * 201)),
    roster_case("roster-own-mentor", "roster.csv:3: mentor: a trainee cannot be their own mentor",
                new="Tim Norwood,tim@example.org,St Mary's Church,fee,yes,tim@example.org,Set A"),
    roster_case("roster-in-the-set-they-facilitate", "roster.csv:3: learning_set: a trainee"
                " cannot be in the set they facilitate ('Set A')",
                new="Revd Helen Okafor,helen.okafor@example.org,St Mary's Church,fee,yes,"
                "tim@example.org,Set A"),
    roster_case("roster-mentor-under-another-name", "roster.csv:3: email: 'tim@example.org' is"
                f" Tim Norwood (cohort.yaml:{TIM_LINE}, mentors[0].email), not 'Timothy Norwood';"
                " use the same name",
                new="Timothy Norwood,tim@example.org,St Mary's Church,fee,no,,"),
    Case("roster-renames-a-trainee-of-a-launched-cohort", WITH_ROSTER, problems(
        f"roster.csv:6: email: '{AISHA}' is Aisha Rahman (trainee in mk-2026), not 'Aisha Khan';"
        f" {RENAME}"),
        files={"roster.csv": edited(ROSTER, ("Aisha Rahman", "Aisha Khan"))}, prepare=launched),
    add_case("add-renames-a-mentor", NEWCOMER.replace("Tom Hale,tom.hale", "T. Norwood,tim")
             + "Set A\n", "new.csv:2: email: 'tim@example.org' is Tim Norwood (mentor in"
             f" mk-2026), not 'T. Norwood'; {ADD_RENAME}"),
    replace(add_case(
        "add-own-mentor-and-facilitator-launched",
        "Tim Norwood,tim@example.org,Greenleys Residents,fee,yes,tim@example.org,Set B\n"
        "Revd Helen Okafor,helen.okafor@example.org,Greenleys Residents,fee,yes,"
        "grace.adeyemi@example.org,Set A\n",
        "new.csv:2: mentor: a trainee cannot be their own mentor",
        "new.csv:3: learning_set: a trainee cannot be in the set they facilitate ('Set A')"),
        prepare=launched),
    Case("add-to-an-unknown-cohort",
         ("cohort", "add", "mk-2099", "--roster", "new.csv", "--now", IMPORTED),
         error("unknown cohort 'mk-2099'; known cohorts: mk-2026"),
         files={"new.csv": HEADER + NEWCOMER + "Set A\n"}),
]

# --- record and the other commands --------------------------------------------------------

MILESTONES = (
    "training, listening, issues, research, action, negotiation, evaluation, mentoring-1,"
    " mentoring-2, mentoring-3, mentoring-4, learning-set-1, learning-set-2, learning-set-3,"
    " presentation, graduation"
)
SESSIONS = "training 1-2, learning-set 1-3 of Set A, learning-set 1-3 of Set B, graduation"
TO_COME = "is in the future (today is 2026-11-28 in Europe/London)"
BEFORE_IMPORT = "is before cohort 'mk-2026' was imported (2026-08-01)"

COMMANDS = [
    Case("record-a-date-to-come", record(AISHA, "listening", "--on", "2099-01-01"),
         error(f"listening date 2099-01-01 {TO_COME}")),
    Case("record-a-date-to-come-launched", record(AISHA, "mentoring-1", "--on", "2026-11-29"),
         error(f"mentoring-1 date 2026-11-29 {TO_COME}"), prepare=launched),
    Case("record-a-date-before-the-import", record(AISHA, "listening", "--on", "2026-07-31"),
         error(f"listening date 2026-07-31 {BEFORE_IMPORT}")),
    Case("record-a-session-to-come", record(AISHA, "learning-set-1"),
         error(f"learning-set-1 {NOT_YET} 2026-12-08 18:30 (Europe/London), after now"
               " (2026-11-28 12:00); record it once it has")),
    Case("record-a-session-far-from-its-day",
         record(AISHA, "learning-set-1", "--on", "2027-01-05", now="2027-01-10T12:00"),
         error("learning-set-1 was held on 2026-12-08; attendance on another day must be within"
               " 14 days of it, and 2027-01-05 is not")),
    Case("record-a-withdrawn-trainee", record(f"{AISHA},{YUSUF}", "listening"),
         error(f"{YUSUF} withdrew from mk-2026 on 2026-11-10; reinstate them first:"
               f" journey reinstate mk-2026 {YUSUF}"), prepare=yusuf_withdrawn),
    Case("record-a-cancelled-session", record(AISHA, "learning-set-1", now="2026-12-20T12:00"),
         error("learning-set-1 on 2026-12-08 was cancelled: there is no attendance to record"),
         prepare=set_b_first_session_cancelled),
    Case("record-graduation-not-eligible", record(AISHA, "graduation", now="2027-06-18T12:00"),
         error(f"{AISHA} is not eligible to graduate (still needs: Two-Day Training (every"
               " session), 3 of 4 mentoring milestones (0 so far), 2 of 3 learning-set milestones"
               " (0 so far), Final presentation (last learning set)); add --force to record it"
               " anyway")),
    Case("record-unknown-milestone", record(AISHA, "nope"),
         error(f"unknown milestone 'nope'; the programme has: {MILESTONES}")),
    Case("record-unknown-trainee", record("nobody@example.org", "listening"),
         error("'nobody@example.org' is not a trainee of cohort 'mk-2026'")),
    Case("record-a-date-not-in-the-calendar", record(AISHA, "listening", "--on", "2026-02-30"),
         error("cannot read '2026-02-30' as a date; use YYYY-MM-DD")),
    Case("record-a-list-file-missing", record("@missing.csv", "listening"),
         error("1 problem found; nothing was written\nmissing.csv: file: not found")),
    Case("upcoming-unknown-cohort", ("upcoming", "--cohort", "nope", "--now", NOW),
         error("unknown cohort 'nope'; known cohorts: mk-2026")),
    Case("now-the-clocks-skip", record(AISHA, "listening", now="2027-03-28T01:30"),
         error("--now 2027-03-28T01:30 does not exist in Europe/London (the clocks go forward);"
               " give another time")),
    Case("now-the-clocks-pass-twice", ("upcoming", "--now", "2026-10-25T01:30"),
         error("--now 2026-10-25T01:30 happens twice in Europe/London (the clocks go back); add"
               " the offset: 2026-10-25T01:30+01:00 or 2026-10-25T01:30+00:00")),
    Case("now-unreadable", ("status", "mk-2026", "--now", "soon"),
         error("cannot read 'soon' as a time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM")),
    Case("withdraw-a-date-to-come-launched",
         ("withdraw", "mk-2026", AISHA, "--on", "2099-01-01", "--now", NOW),
         error(f"withdrawal date 2099-01-01 {TO_COME}"), prepare=launched),
    Case("withdraw-a-date-before-the-import",
         ("withdraw", "mk-2026", AISHA, "--on", "2026-07-01", "--now", NOW),
         error(f"withdrawal date 2026-07-01 {BEFORE_IMPORT}")),
    Case("session-cancel-no-such-session-launched",
         ("session", "cancel", "mk-2026", "learning-set", "9", "--set", "Set A", "--now", NOW),
         error(f"cohort 'mk-2026' has no learning-set 9 of Set A. It has: {SESSIONS}"),
         prepare=launched),
    Case("person-show-unknown", ("person", "show", "nobody@example.org", "--now", NOW),
         error("no one with the email 'nobody@example.org' is known")),
    Case("usage-unknown-option", ("record", "mk-2026", AISHA, "listening", "--frobnicate"),
         usage("record", " {cohort} {emails} {milestone}",
               "No such option: --frobnicate (Possible options: --force)"), code=2),
    Case("usage-days-out-of-range", ("upcoming", "--days", "999"),
         usage("upcoming", "",
               "Invalid value for '--days': Input should be less than or equal to 400"), code=2),
    Case("usage-unknown-format", ("status", "mk-2026", "--format", "xml"),
         usage("status", " {cohort}", "Invalid value for '--format': Value error, 'xml' is not"
               " one of 'table', 'csv', 'json'."), code=2),
]

# --- settings: the environment and .env (journey status mk-2026) --------------------------

SETTINGS = [
    setting("setting-port-not-a-number", "JOURNEY_SMTP_PORT", "abc", "'abc' is not a whole number"),
    setting("setting-batch-negative", "JOURNEY_BATCH_SIZE", "-5", "'-5' must be at least 1"),
    setting("setting-lease-zero", "JOURNEY_LEASE_SECONDS", "0", "'0' must be at least 10"),
    setting("setting-timeout-in-words", "JOURNEY_SMTP_TIMEOUT", "soon", "'soon' is not a number"),
    setting("setting-starttls-maybe", "JOURNEY_SMTP_STARTTLS", "maybe",
            "'maybe' is not true or false"),
    setting("setting-retry-delays-not-a-list", "JOURNEY_SMTP_RETRY_DELAYS", "oops",
            "'oops' is not a list of seconds, e.g. 2,10,30"),
    setting("setting-retry-delay-negative", "JOURNEY_SMTP_RETRY_DELAYS", "2,-1",
            "'2,-1': each delay must be 0 to 3600 seconds"),
    setting("setting-sender-not-an-address", "JOURNEY_SENDER", "journey",
            "'journey' is not an address, e.g. Leadership Journey <journey@example.org>"),
    Case("settings-three-wrong", ("upcoming",),
         "Error: 3 settings are wrong\n"
         "setting JOURNEY_SMTP_PORT: 'abc' is not a whole number\n"
         "setting JOURNEY_BATCH_SIZE: '-5' must be at least 1\n"
         "setting JOURNEY_LEASE_SECONDS: '0' must be at least 10\n",
         env={"JOURNEY_SMTP_PORT": "abc", "JOURNEY_BATCH_SIZE": "-5",
              "JOURNEY_LEASE_SECONDS": "0"}),
    Case("dot-env-bad-values", UPGRADE,
         "Error: 2 settings are wrong\n"
         "setting JOURNEY_SMTP_PORT: 'abc' is not a whole number\n"
         "setting JOURNEY_BATCH_SIZE: '-5' must be at least 1\n",
         files={".env": "JOURNEY_SMTP_PORT=abc\nJOURNEY_BATCH_SIZE=-5\n"}),
    Case("dot-env-not-utf8", STATUS,
         error(".env: not UTF-8 text (byte 0xe9 at position 16); save it as UTF-8"),
         files={".env": "JOURNEY_SENDER=Jérôme <j@example.org>\n".encode("latin-1")}),
]

# --- the database URL (JOURNEY_DATABASE_URL; journey status or journey db upgrade) --------

NOTES = "Shopping: milk, eggs, a database.\n"
NO_SUCH_DB = SERVER.rsplit("/", 1)[0] + "/no_such_journey_db"
HAS_PSYCOPG2 = importlib.util.find_spec("psycopg2") is not None

DATABASE = [
    url_case("url-garbage", "garbage", f"'garbage' is not a database URL; e.g. {EXAMPLE_URLS}"),
    url_case("url-mysql", "mysql://journey@127.0.0.1/journey",
             f"'mysql' databases are not supported; use {EXAMPLE_URLS}", UPGRADE),
    url_case("url-async-driver", "sqlite+aiosqlite:///journey.db", "the driver 'aiosqlite' is"
             f" for asyncio, which the journey does not use; use {EXAMPLE_URLS}"),
    url_case("url-unknown-driver", "postgresql+nope://journey@127.0.0.1/journey",
             f"the driver 'nope' is not known; use {EXAMPLE_URLS}"),
    replace(url_case("url-driver-not-installed", "postgresql+psycopg2://journey@127.0.0.1/journey",
                     f"the driver 'psycopg2' is not installed; use {EXAMPLE_URLS}"),
            marks=(pytest.mark.skipif(HAS_PSYCOPG2, reason="psycopg2 is installed here"),)),
    replace(url_case("url-a-text-file", "sqlite:///notes.txt", "notes.txt is not a SQLite database",
                     UPGRADE), files={"notes.txt": NOTES * 100}),
    url_case("url-a-folder-that-is-not-there", "sqlite:///no-such-folder/journey.db",
             "the folder no-such-folder does not exist (for the SQLite file journey.db)", UPGRADE),
    replace(url_case("url-a-folder", "sqlite:///data", "data is a folder, not a SQLite file"),
            files={"data/keep": ""}),
    Case("url-a-new-file", STATUS, error("the database at sqlite:///journey.db is not"
         " initialised; run: journey db upgrade"), env={URL: "sqlite:///journey.db"}),
    Case("url-postgres-not-answering", STATUS, error(
        "the database at postgresql+psycopg://journey:***@127.0.0.1:1/journey"
        f" ({URL}) is not available: Connection refused; try again later"),
        code=75, env={URL: "postgresql+psycopg://journey:s3cret@127.0.0.1:1/journey"}),
    replace(url_case("url-postgres-database-missing", NO_SUCH_DB, f"cannot use the database at"
                     f' {NO_SUCH_DB}: database "no_such_journey_db" does not exist'),
            marks=(pytest.mark.skipif(not postgres_answers(), reason="no Postgres here"),)),
]

# --- the demo (journey demo --dir) --------------------------------------------------------

DEMO = [
    Case("demo-dir-holds-other-files", ("demo", "--dir", "mine"), error(
        "--dir mine is not a demo folder: it holds 'notes.txt' (and 1 more), which a demo does"
        " not leave; nothing was deleted. Choose a new or empty folder"),
        files={"mine/notes.txt": NOTES, "mine/thesis.md": NOTES}),
    Case("demo-dir-a-file", ("demo", "--dir", "notes.txt"),
         error("--dir notes.txt is a file, not a folder; nothing was deleted"),
         files={"notes.txt": NOTES}),
]

# fmt: on
CASES = [*COHORT_FILE, *ROSTER_CASES, *COMMANDS, *SETTINGS, *DATABASE, *DEMO]

# --- one trainee's evaluation response (journey evaluation record mk-2026 EMAIL ...) -------


def evaluation_record(*args: str) -> tuple[str, ...]:
    """``journey evaluation record mk-2026 ARGS --now NOW``."""
    return ("evaluation", "record", "mk-2026", *args, "--now", NOW)


# fmt: off
EVALUATION_RECORD = [
    Case("evaluation-record-score-11", evaluation_record(AISHA, "score=11"),
         error("score: 11 is outside 0 to 10")),
    Case("evaluation-record-unknown-item", evaluation_record(AISHA, "leadershp-before=4"),
         error("unknown column 'leadershp-before' (did you mean 'leadership-before'?)")),
    Case("evaluation-record-before-without-after",
         evaluation_record(AISHA, "score=8", "leadership-before=5"),
         error("leadership-after: missing: 'leadership-before' is given, so give"
               " 'leadership-after' too (or neither)")),
    Case("evaluation-record-unknown-trainee", evaluation_record("nobody@example.org", "score=8"),
         error("'nobody@example.org' is not a trainee of cohort 'mk-2026'")),
]
# fmt: on
CASES += EVALUATION_RECORD

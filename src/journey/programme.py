"""The programme as data: milestones, their timing and their notice rules.

A programme is YAML (see ``programmes/default.yaml``). It is parsed once into frozen
pydantic models; the engine reads nothing else. A cohort stores its programme's text at
import, so every machine that runs its flows sees the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time, timedelta
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journey.errors import ProgrammeError

Recipient = Literal["trainee", "organiser", "mentor", "facilitator"]
SessionSource = Literal["training", "learning-set", "graduation"]
ItemKind = Literal["score", "before-after", "comments"]
SCORE_RANGE = range(0, 11)  # every score and self-rating is out of 10, from 0
_SLUG = r"^[a-z][a-z0-9-]*$"

_AT = re.compile(
    r"^(?:(?P<open>open)|(?P<onday>on-day)|(?P<sign>[+-])(?P<days>\d{1,3})d)@(?P<hh>\d\d):(?P<mm>\d\d)$"
)
_SPAN = re.compile(r"^(?P<n>\d{1,3})(?P<unit>[dw])$")
_UNMARKED_MENTORING = re.compile(r"^mentoring-(?P<n>\d+)$")  # see Programme.meetings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_span(text: str) -> timedelta:
    """``6w`` or ``10d`` as a timedelta."""
    m = _SPAN.match(text)
    if not m:
        raise ValueError(f"expected a span like 6w or 10d, got {text!r}")
    n = int(m["n"])
    return timedelta(weeks=n) if m["unit"] == "w" else timedelta(days=n)


class NoticeRule(_Frozen):
    """When to send which notice to whom, relative to a milestone's date."""

    at: str = Field(description="e.g. -7d@09:00, on-day@08:00, +14d@09:00, open@09:00")
    to: Recipient
    template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    ics: bool = False
    useful_for: str | None = Field(
        default=None, description="How long a late notice stays worth sending, e.g. 3d."
    )

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        m = _AT.match(value)
        if m is None:
            raise ValueError(
                f"bad rule time {value!r}; use -7d@09:00, on-day@08:00, +14d@09:00 or open@09:00"
            )
        if int(m["hh"]) > 23 or int(m["mm"]) > 59:
            raise ValueError(f"bad clock time in {value!r}")
        return value

    @property
    def id(self) -> str:
        """Stable id within its milestone: time and recipient, e.g. ``-7d@09:00>trainee``."""
        return f"{self.at}>{self.to}"

    @property
    def day_offset(self) -> int:
        """Days from the milestone's date (0 for on-day and for open, which anchors elsewhere)."""
        return _timing(self.at)[0]

    @property
    def from_window_open(self) -> bool:
        return self.at.startswith("open@")

    @property
    def clock(self) -> time:
        return _timing(self.at)[1]

    @property
    def late_allowance(self) -> timedelta | None:
        return parse_span(self.useful_for) if self.useful_for else None


@lru_cache(maxsize=256)
def _timing(at: str) -> tuple[int, time]:
    """A rule's ``at`` (e.g. ``-7d@09:00``) as (day offset, clock time), parsed once: the
    engine asks for them for every trainee and milestone."""
    m = _AT.match(at)
    if m is None:  # NoticeRule checked it: only a rule built without validation gets here
        raise ProgrammeError(f"bad rule time {at!r}")
    days = int(m["days"]) * (1 if m["sign"] == "+" else -1) if m["sign"] else 0
    return days, time(int(m["hh"]), int(m["mm"]))


class Window(_Frozen):
    opens: str
    closes: str

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if parse_span(self.opens) >= parse_span(self.closes):
            raise ValueError("a window must open before it closes")
        return self


class Milestone(_Frozen):
    """One step of the journey."""

    id: Annotated[str, Field(pattern=_SLUG)]
    title: str
    group: Annotated[str, Field(pattern=_SLUG)]
    applies_to: Literal["all", "follow_up"] = "all"
    sessions: SessionSource | None = None
    session: int | None = Field(default=None, ge=1, description="Which session of the set.")
    after_training: str | None = None
    window: Window | None = None
    mentoring: int | None = Field(
        default=None,
        ge=1,
        description="Which mentoring meeting this is: kept as a dated meeting and nothing"
        " more (mentoring is confidential).",
    )
    notices: tuple[NoticeRule, ...] = ()

    @model_validator(mode="after")
    def _one_timing(self) -> Milestone:
        kinds = [
            self.sessions is not None,
            self.after_training is not None,
            self.window is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of sessions, after_training or window")
        if self.after_training is not None:
            parse_span(self.after_training)
        if self.session is not None and self.sessions != "learning-set":
            raise ValueError("session: N goes with sessions: learning-set")
        if self.sessions == "learning-set" and self.session is None:
            raise ValueError("sessions: learning-set needs session: N")
        ids = [rule.id for rule in self.notices]
        if len(ids) != len(set(ids)):
            raise ValueError("two notice rules with the same time and recipient")
        for rule in self.notices:
            if rule.from_window_open and self.window is None:
                raise ValueError(f"{rule.at}: open@ needs a window")
        return self

    @model_validator(mode="after")
    def _meeting_not_session(self) -> Milestone:
        if self.mentoring is not None and self.sessions is not None:
            raise ValueError(
                "mentoring: N is a meeting a trainee books with their mentor, not a session:"
                " give it a window or after_training"
            )
        return self

    @property
    def is_session(self) -> bool:
        return self.sessions is not None


class LaunchNotice(_Frozen):
    template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    to: Recipient
    ics: bool = False


class Requirement(_Frozen):
    milestone: str | None = None
    group: str | None = None
    at_least: int | None = Field(default=None, ge=1)
    all_sessions: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> Requirement:
        if (self.milestone is None) == (self.group is None):
            raise ValueError("a requirement names a milestone or a group")
        if self.group is not None and self.at_least is None:
            raise ValueError("a group requirement needs at_least")
        return self


class GraduationRule(_Frozen):
    milestone: str
    requires: tuple[Requirement, ...]


def _used_twice(ids: Iterable[str]) -> list[str]:
    """The ids that appear more than once, sorted."""
    seen = list(ids)
    return sorted({i for i in seen if seen.count(i) > 1})


class Question(_Frozen):
    """One item of a questionnaire: a score out of 10 (``score``), a self-rating out of 10
    before and after (``before-after``, two columns ``ID-before`` and ``ID-after``), or free
    ``comments``. The id names its columns in a responses file, so it must stay stable."""

    id: Annotated[str, Field(pattern=_SLUG)]
    kind: ItemKind
    text: Annotated[str, Field(min_length=1, description="The question or the statement.")]

    @property
    def columns(self) -> tuple[str, ...]:
        """Its columns in a responses file."""
        if self.kind == "before-after":
            return (f"{self.id}-before", f"{self.id}-after")
        return (self.id,)


class Questionnaire(_Frozen):
    """What trainees are asked at one point of the journey, for the funder's report."""

    id: Annotated[str, Field(pattern=_SLUG)]
    title: str
    items: Annotated[tuple[Question, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct_columns(self) -> Questionnaire:
        dupes = _used_twice(q.id for q in self.items)
        if dupes:
            raise ValueError(f"item ids used twice: {', '.join(dupes)}")
        clashes = _used_twice(c for q in self.items for c in q.columns)
        if clashes:
            raise ValueError(f"two items would share the column {clashes[0]!r}; rename one")
        if "email" in self.columns:
            raise ValueError("an item cannot be called 'email': that column names the trainee")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """Its answer columns in a responses file, in order (``email`` comes before them)."""
        return tuple(c for q in self.items for c in q.columns)


class Programme(_Frozen):
    """A whole programme, validated: ids unique, requirements refer to real milestones."""

    id: str
    title: str
    launch: tuple[LaunchNotice, ...] = ()
    milestones: tuple[Milestone, ...]
    graduation: GraduationRule | None = None
    questionnaires: tuple[Questionnaire, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        ids = [m.id for m in self.milestones]
        dupes = _used_twice(ids)
        if dupes:
            raise ValueError(f"milestone ids used twice: {', '.join(dupes)}")
        groups = {m.group for m in self.milestones}
        if self.graduation is not None:
            if self.graduation.milestone not in ids:
                raise ValueError(
                    f"graduation.milestone {self.graduation.milestone!r} is not a milestone"
                )
            for req in self.graduation.requires:
                if req.milestone is not None and req.milestone not in ids:
                    raise ValueError(f"graduation requires unknown milestone {req.milestone!r}")
                if req.group is not None and req.group not in groups:
                    raise ValueError(f"graduation requires unknown group {req.group!r}")
        dupes = _used_twice(q.id for q in self.questionnaires)
        if dupes:
            raise ValueError(f"questionnaire ids used twice: {', '.join(dupes)}")
        dupes = _used_twice(str(m.mentoring) for m in self.milestones if m.mentoring is not None)
        if dupes:
            raise ValueError(f"mentoring meetings numbered twice: {', '.join(dupes)}")
        return self

    @cached_property
    def meetings(self) -> dict[int, str]:
        """Mentoring meeting number to its milestone id (do not modify).

        A meeting is recorded apart from other completions, by number and date only. A
        programme stored with a cohort before milestones were marked ``mentoring: N`` marks
        none: there, as before the marker, a milestone ``mentoring-N`` is meeting N. This is
        the one place a milestone's id carries meaning.
        """
        marked = {m.mentoring: m.id for m in self.milestones if m.mentoring is not None}
        if marked:
            return marked
        unmarked = ((_UNMARKED_MENTORING.match(m.id), m.id) for m in self.milestones)
        return {int(found["n"]): mid for found, mid in unmarked if found is not None}

    def mentoring_number(self, milestone_id: str) -> int | None:
        """Which mentoring meeting the milestone is, or None for any other milestone."""
        return next((n for n, mid in self.meetings.items() if mid == milestone_id), None)

    def questionnaire(self, questionnaire_id: str) -> Questionnaire:
        for q in self.questionnaires:
            if q.id == questionnaire_id:
                return q
        raise KeyError(questionnaire_id)

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        raise KeyError(milestone_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.milestones)

    @property
    def learning_set_sessions(self) -> int:
        """How many sessions a learning set must have for this programme."""
        return max(
            (m.session or 0 for m in self.milestones if m.sessions == "learning-set"), default=0
        )


def default_programme_text() -> str:
    """The YAML text of the programme shipped with the package."""
    return resources.files("journey").joinpath("programmes/default.yaml").read_text("utf-8")


@lru_cache(maxsize=32)
def parse_programme(text: str, source: str = "programme") -> Programme:
    """Parse and validate programme YAML; errors name the source and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # its message quotes the file: name the line only
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ProgrammeError(f"{source}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ProgrammeError(f"{source}: expected a mapping at the top")
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "programme"
        raise ProgrammeError(f"{source}: {where}: {first['msg']}") from None


def programme_path(name: str, folder: Path) -> Path:
    """The programme file a cohort file names, as a path relative to its ``folder``.

    Only a file inside that folder is read (``..`` and symbolic links resolved first): a
    cohort file must not make the import read any file its user can, and report on it.
    Raises :class:`ProgrammeError` naming the path given.
    """
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ProgrammeError(
            f"{name!r} is outside the cohort file's folder: give default, or the path of a"
            " programme file in that folder"
        )
    if not path.is_file():
        raise ProgrammeError(f"no programme file at {path}")
    return path


def load_programme(text_or_default: str) -> Programme:
    """The programme a cohort stores: ``default`` or a programme's YAML text."""
    if text_or_default == "default":
        return parse_programme(default_programme_text(), "default programme")
    return parse_programme(text_or_default, "cohort programme")

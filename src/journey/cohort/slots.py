"""Sessions in a cohort file: the training, the learning sets and the graduation.

Each session is written ``2026-09-25T09:30/16:30`` and read as aware local datetimes.

A slot is a start date and time and an end time on the same day, or an end date and time:
``YYYY-MM-DDTHH:MM/HH:MM`` or ``YYYY-MM-DDTHH:MM/YYYY-MM-DDTHH:MM``, in the cohort's zone.
Sessions are listed in order, and learning sets and the graduation come after the
training: the journey counts from the training, so a set session before it could never be
invited to, and a graduation before it could never be earned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journey.cohort.reading import YamlDoc, child, column_length
from journey.cohort.specs import LearningSetSpec, SlotSpec
from journey.engine import DEFAULT_TIMEZONE
from journey.models import Cohort, CohortEvent, LearningSet

SLOT_FORMAT = "YYYY-MM-DDTHH:MM/HH:MM"
# The longest venue or set name: its columns' length in the models.
_TRAINING_VENUE = column_length(Cohort.training_venue, CohortEvent.venue)
_GRADUATION_VENUE = column_length(Cohort.graduation_venue, CohortEvent.venue)
_SET_NAME, _SET_VENUE = column_length(LearningSet.name), column_length(LearningSet.venue)
_SLOT = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/(?:(\d{4}-\d\d-\d\d)T)?(\d\d:\d\d)$")


class SlotError(ValueError):
    """A slot that cannot be read, or that ends before it starts."""


def zone_problem(name: object) -> str | None:
    """Why ``name`` is not a usable IANA time zone, or None if it is one."""
    if isinstance(name, str) and name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return None
    return f"unknown time zone {str(name)!r} (use an IANA name such as {DEFAULT_TIMEZONE})"


def parse_slot(value: object, zone: ZoneInfo) -> SlotSpec:
    """The slot written as ``value``, in ``zone``; raises :class:`SlotError` if it is bad."""
    bad = SlotError(f"bad date {str(value)!r}: expected {SLOT_FORMAT}")
    match = _SLOT.match(value) if isinstance(value, str) else None
    if match is None:
        raise bad
    start_day, start_clock, end_day, end_clock = match.groups()
    try:
        starts = datetime.strptime(f"{start_day}T{start_clock}", "%Y-%m-%dT%H:%M")
        ends = datetime.strptime(f"{end_day or start_day}T{end_clock}", "%Y-%m-%dT%H:%M")
    except ValueError:
        raise bad from None
    slot = SlotSpec(_local(starts, zone), _local(ends, zone))
    if slot.ends_at < slot.starts_at:
        raise SlotError("ends before it starts")
    if slot.ends_at == slot.starts_at:
        raise SlotError("ends when it starts")
    return slot


def _local(wall: datetime, zone: ZoneInfo) -> datetime:
    """``wall`` clock time in ``zone``; a time the clocks skip over is an error."""
    aware = wall.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise SlotError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward)"
        )
    return aware


def order_problems(slots: Sequence[SlotSpec | None]) -> list[tuple[int, str]]:
    """(index, message) for each slot that starts before the one before it ends."""
    problems: list[tuple[int, str]] = []
    previous: SlotSpec | None = None
    for index, slot in enumerate(slots):
        if slot is None:
            continue
        if previous is not None and slot.starts_at < previous.ends_at:
            problems.append((index, "starts before the one before it ends; list them in order"))
        previous = slot
    return problems


def before_training(slot: SlotSpec | None, training_ends: datetime | None) -> str | None:
    """Why ``slot`` (a set session or the graduation) is too early, or None."""
    if slot is None or training_ends is None or slot.starts_at >= training_ends:
        return None
    return f"starts before the training ends ({training_ends:%Y-%m-%d %H:%M})"


def read_slot(doc: YamlDoc, value: Any, path: str, zone: ZoneInfo) -> SlotSpec | None:
    """One session, or None after recording why it cannot be read."""
    try:
        return parse_slot(value, zone)
    except SlotError as exc:
        doc.add(path, str(exc))
        return None


def read_slots(
    doc: YamlDoc,
    value: Any,
    path: str,
    zone: ZoneInfo,
    training_ends: datetime | None = None,
) -> tuple[SlotSpec, ...]:
    """A required, non-empty list of sessions in increasing order, each starting after
    ``training_ends`` when it is given."""
    items = doc.items(value, path, required=True)
    if isinstance(value, list) and not items:
        doc.add(path, "give at least one session")
    slots = [read_slot(doc, item, child(path, i), zone) for i, item in enumerate(items)]
    for index, message in order_problems(slots):
        doc.add(child(path, index), message)
    for index, slot in enumerate(slots):
        early = before_training(slot, training_ends)
        if early:
            doc.add(child(path, index), early)
    return tuple(slot for slot in slots if slot is not None)


def read_training(
    doc: YamlDoc, data: dict[str, Any], zone: ZoneInfo
) -> tuple[str, tuple[SlotSpec, ...]]:
    """The Two-Day Training's venue and days."""
    fields = doc.mapping(data.get("training"), "training", ("venue", "days"))
    if fields is None:
        return "", ()
    venue = doc.text(fields, "training", "venue", _TRAINING_VENUE)
    return venue, read_slots(doc, fields.get("days"), "training.days", zone)


def read_graduation(
    doc: YamlDoc, data: dict[str, Any], zone: ZoneInfo, training_ends: datetime | None
) -> tuple[str | None, SlotSpec | None]:
    """The Graduation event's venue and slot, if the cohort file gives one."""
    if data.get("graduation") is None:
        return None, None
    fields = doc.mapping(data["graduation"], "graduation", ("venue", "at"))
    if fields is None:
        return None, None
    venue = doc.text(fields, "graduation", "venue", _GRADUATION_VENUE)
    if fields.get("at") is None:
        doc.add("graduation.at", "required")
        return venue, None
    slot = read_slot(doc, fields["at"], "graduation.at", zone)
    early = before_training(slot, training_ends)
    if early:
        doc.add("graduation.at", early)
    return venue, slot


def read_learning_sets(
    doc: YamlDoc,
    data: dict[str, Any],
    zone: ZoneInfo,
    needed: int | None,
    training_ends: datetime | None,
) -> tuple[LearningSetSpec, ...]:
    """The Action Learning Sets; names unique, each with the programme's session count."""
    found: list[LearningSetSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(doc.items(data.get("learning_sets"), "learning_sets")):
        path = child("learning_sets", index)
        fields = doc.mapping(item, path, ("name", "venue", "sessions", "facilitator"))
        if fields is None:
            continue
        name = doc.text(fields, path, "name", _SET_NAME)
        venue = doc.text(fields, path, "venue", _SET_VENUE)
        given = fields.get("sessions")
        sessions = read_slots(doc, given, child(path, "sessions"), zone, training_ends)
        if needed is not None and isinstance(given, list) and given and len(given) != needed:
            message = f"{len(given)} sessions given; the programme needs exactly {needed}"
            doc.add(child(path, "sessions"), message)
        facilitator = None
        if fields.get("facilitator") is not None:
            facilitator = doc.person(fields["facilitator"], child(path, "facilitator"))
        if doc.unique(child(path, "name"), name, seen):
            found.append(LearningSetSpec(name, venue, sessions, facilitator))
    return tuple(found)

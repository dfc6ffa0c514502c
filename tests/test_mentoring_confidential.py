"""Mentoring stays confidential by construction: nothing the product stores, takes or sends
can carry what was said in a meeting, only that it took place and when."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta
from sqlalchemy import Date, DateTime, Integer, String, Text

from journey.mail.render import _environment
from journey.models import Base, MentoringMeeting
from journey.models.base import UtcDateTime

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# Names a field would have if it held the content of a meeting.
CONTENT = re.compile(r"note|comment|discuss|summary|topic|content|said|minutes|detail", re.I)


def test_a_mentoring_meeting_row_has_no_text_column() -> None:
    columns = MentoringMeeting.__table__.columns
    assert {c.name for c in columns} == {
        "id",
        "enrolment_id",
        "number",
        "mentor_id",
        "met_on",
        "recorded_at",
    }
    for column in columns:
        assert not isinstance(column.type, String | Text), column.name
        assert isinstance(column.type, Integer | Date | DateTime | UtcDateTime), column.name


def test_no_table_has_a_column_for_what_was_said_in_mentoring() -> None:
    for table in Base.metadata.sorted_tables:
        if "mentor" in table.name:
            named = [c.name for c in table.columns if CONTENT.search(c.name)]
            assert named == [], table.name


def unconstrained_strings(schema: dict[str, Any], path: str = "") -> list[str]:
    """Where a JSON schema takes any string at all (no enum, pattern or format)."""
    found: list[str] = []
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & schema.keys():
        found.append(path)
    for key, sub in schema.get("properties", {}).items():
        found += unconstrained_strings(sub, key)
    if isinstance(schema.get("items"), dict):
        found += unconstrained_strings(schema["items"], f"{path}[]")
    for sub in schema.get("anyOf", []):
        found += unconstrained_strings(sub, path)
    return found


@pytest.mark.prefect
def test_the_record_form_takes_ids_dates_and_addresses_only() -> None:
    from prefect.utilities.callables import parameter_schema

    from journey.flows.record_completion import record_completion

    schema = parameter_schema(record_completion.fn).model_dump()
    assert not [name for name in schema["properties"] if CONTENT.search(name)]
    # The addresses are checked against the cohort's roster: free text is refused.
    assert unconstrained_strings(schema) == ["emails[]"]


def test_journey_record_has_no_option_for_what_was_said() -> None:
    from typer.main import get_command

    from journey.cli import app

    record = get_command(app).commands["record"]  # type: ignore[attr-defined]
    names = {p.name for p in record.params}
    assert names and not [n for n in names if n and CONTENT.search(n)]


@pytest.mark.parametrize(
    "template", sorted(p.name for p in TEMPLATES.glob("*.*") if "mentor" in p.name)
)
def test_mentoring_templates_have_no_variable_for_what_was_said(template: str) -> None:
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    variables = meta.find_undeclared_variables(_environment().parse(source))
    assert variables and not [v for v in variables if CONTENT.search(v)]


def test_the_reminder_asks_for_the_date_only() -> None:
    text = " ".join((TEMPLATES / "mentoring-reminder.txt").read_text(encoding="utf-8").split())
    assert "reply with the date you met" in text
    assert "Please do not send what you talked about" in text

"""Questionnaires are data in the programme file, checked when the programme is read."""

from __future__ import annotations

import pytest

from journey.errors import ProgrammeError
from journey.programme import default_programme_text, load_programme, parse_programme


def test_the_default_programme_asks_three_questionnaires() -> None:
    programme = load_programme("default")
    assert [q.id for q in programme.questionnaires] == [
        "after-training",
        "after-last-set",
        "at-graduation",
    ]
    after_training = programme.questionnaire("after-training")
    assert [(q.id, q.kind) for q in after_training.items] == [
        ("score", "score"),
        ("relational-power", "before-after"),
        ("leadership", "before-after"),
        ("motivation", "before-after"),
        ("comments", "comments"),
    ]
    assert [q.text for q in after_training.items if q.kind == "before-after"] == [
        "My awareness of tools for building relational power",
        "My confidence in my community leadership",
        "My motivation to make positive change in my community",
    ]
    assert after_training.columns[:3] == (
        "score",
        "relational-power-before",
        "relational-power-after",
    )


def test_a_cohort_programme_may_change_the_statements() -> None:
    text = default_programme_text().replace(
        "My motivation to make positive change in my community",
        "My hope for my neighbourhood",
    )
    programme = parse_programme(text, "cohort programme")
    motivation = programme.questionnaire("after-training").items[3]
    assert (motivation.id, motivation.text) == ("motivation", "My hope for my neighbourhood")


def test_a_programme_without_questionnaires_is_still_a_programme() -> None:
    text = default_programme_text().split("\nquestionnaires:")[0]
    assert parse_programme(text, "old programme").questionnaires == ()


def _with(questionnaires: str) -> str:
    return (
        default_programme_text().split("\nquestionnaires:")[0]
        + "\nquestionnaires:\n"
        + questionnaires
    )


@pytest.mark.parametrize(
    ("questionnaires", "message"),
    [
        (
            "  - {id: a, title: A, items: [{id: score, kind: rating, text: T}]}\n",
            "questionnaires.0.items.0.kind: Input should be 'score', 'before-after' or 'comments'",
        ),
        (
            "  - {id: a, title: A, items: [{id: Score, kind: score, text: T}]}\n",
            "questionnaires.0.items.0.id: String should match pattern '^[a-z][a-z0-9-]*$'",
        ),
        (
            "  - {id: a, title: A, items: []}\n",
            "questionnaires.0.items: Tuple should have at least 1 item after validation, not 0",
        ),
        (
            "  - {id: a, title: A, items: [{id: score, kind: score, text: ''}]}\n",
            "questionnaires.0.items.0.text: String should have at least 1 character",
        ),
        (
            "  - {id: a, title: A, items: [{id: s, kind: score, text: T},"
            " {id: s, kind: comments, text: U}]}\n",
            "questionnaires.0: Value error, item ids used twice: s",
        ),
        (
            "  - {id: a, title: A, items: [{id: mood, kind: before-after, text: T},"
            " {id: mood-after, kind: score, text: U}]}\n",
            "questionnaires.0: Value error, two items would share the column 'mood-after';"
            " rename one",
        ),
        (
            "  - {id: a, title: A, items: [{id: email, kind: comments, text: T}]}\n",
            "questionnaires.0: Value error, an item cannot be called 'email': that column"
            " names the trainee",
        ),
        (
            "  - {id: a, title: A, items: [{id: s, kind: score, text: T}]}\n"
            "  - {id: a, title: B, items: [{id: s, kind: score, text: T}]}\n",
            "programme: Value error, questionnaire ids used twice: a",
        ),
        (
            "  - {id: a, title: A, items: [{id: s, kind: score, text: T, scale: 5}]}\n",
            "questionnaires.0.items.0.scale: Extra inputs are not permitted",
        ),
    ],
    ids=[
        "unknown-kind",
        "id-not-a-slug",
        "no-items",
        "empty-text",
        "item-twice",
        "columns-clash",
        "item-called-email",
        "questionnaire-twice",
        "unknown-field",
    ],
)
def test_a_bad_questionnaire_is_named(questionnaires: str, message: str) -> None:
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(_with(questionnaires), "cohort programme")
    assert str(caught.value) == f"cohort programme: {message}"

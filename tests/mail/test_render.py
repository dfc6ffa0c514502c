"""Rendering notices and wrapping them in email messages."""

from __future__ import annotations

import email
import email.policy
import hashlib
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from jinja2 import TemplateNotFound

from journey.mail.render import (
    EventInfo,
    Mail,
    NoticeContext,
    RenderedNotice,
    build_message,
    format_date,
    format_short_date,
    format_span,
    message_id_for,
    render_notice,
    sanitize_header,
)

STAMP = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 9, 18, 8, 0, tzinfo=UTC)
SENDER = "Leadership Journey <journey@example.org>"
HOSTILE = "{{ 7*7 }} <script>alert(1)</script> & Co"
TEMPLATES = Path(str(files("journey") / "templates"))
HEADERS = [
    "From", "To", "Reply-To", "List-Unsubscribe", "Subject", "Date", "Message-ID",
    "X-Journey-Key", "Auto-Submitted", "MIME-Version", "Content-Type",
]  # fmt: skip


def make_event(**overrides: Any) -> EventInfo:
    """Day 1 of the training: 09:30 to 16:30 in London (BST)."""
    values: dict[str, Any] = {
        "uid": "mk-2026-training-1@leadership-journey",
        "sequence": 0,
        "title": "Two-Day Training, day 1",
        "venue": "MK Quaker Centre",
        "starts_at": datetime(2026, 9, 25, 8, 30, tzinfo=UTC),
        "ends_at": datetime(2026, 9, 25, 15, 30, tzinfo=UTC),
        "timezone": "Europe/London",
    }
    values.update(overrides)
    return EventInfo(**values)


def make_context(**overrides: Any) -> NoticeContext:
    """A context with every field filled in, for any notice kind."""
    day_two = make_event(
        uid="mk-2026-training-2@leadership-journey",
        title="Two-Day Training, day 2",
        starts_at=datetime(2026, 9, 26, 8, 30, tzinfo=UTC),
        ends_at=datetime(2026, 9, 26, 15, 30, tzinfo=UTC),
    )
    values: dict[str, Any] = {
        "template": "welcome",
        "key": "mk-2026/17/training/-7d@09:00>trainee/2026-09-18",
        "to_name": "Ann Ridley",
        "to_email": "ann@example.org",
        "cohort_id": "mk-2026",
        "cohort_title": "Two-Day Training 2026",
        "timezone": "Europe/London",
        "organiser_name": "Sam Rivers",
        "organiser_email": "organiser@example.org",
        "trainee_name": "Ann Ridley",
        "milestone_title": "Stage 1: Listening",
        "due_on": date(2026, 11, 6),
        "window_opens": date(2026, 10, 2),
        "mentor_name": "Tim Norwood",
        "mentor_email": "tim@example.org",
        "learning_set": "Set A",
        "events": (make_event(), day_two),
        "attach_ics": True,
        "people": ("Ann Ridley", "Bilal Khan"),
        "eligible": True,
        "missing": (),
    }
    values.update(overrides)
    return NoticeContext(**values)


def make_message(ctx: NoticeContext | None = None, **overrides: Any) -> Mail:
    """A built message for a context (by default a welcome with a calendar invitation)."""
    ctx = ctx or make_context(**overrides)
    return build_message(ctx, render_notice(ctx, stamp=STAMP), sender=SENDER, date=SENT_AT)


def reparse(mail: Mail) -> EmailMessage:
    """The message as a recipient would see it: its bytes, parsed."""
    parsed = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def programme_kinds() -> list[str]:
    """Every notice kind the default programme names, plus the kinds flows send directly."""
    programme = yaml.safe_load((TEMPLATES.parent / "programmes" / "default.yaml").read_text())
    kinds = {rule["template"] for rule in programme["launch"]}
    kinds |= {rule["template"] for m in programme["milestones"] for rule in m["notices"]}
    return sorted(kinds | {"session-updated", "session-cancelled"})


@pytest.mark.parametrize("kind", programme_kinds())
@pytest.mark.parametrize("eligible", [True, False])
def test_every_notice_kind_renders_with_a_full_context(kind: str, eligible: bool) -> None:
    ctx = make_context(template=kind, eligible=eligible, missing=("Mentoring meeting 3",))
    rendered = render_notice(ctx, stamp=STAMP)
    assert rendered.subject and "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.text.startswith("Dear Ann Ridley,\n")
    assert "None" not in rendered.text and "None" not in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f"<title>{rendered.subject}</title>" in rendered.html
    signoff = "Leadership Journey" if kind.endswith("-organiser") else "Sam Rivers"
    assert signoff in rendered.text and signoff in rendered.html
    assert "src=" not in rendered.html and "http" not in rendered.html
    assert rendered.ics is not None


def test_templates_come_in_text_and_html_pairs() -> None:
    names = {p.name for p in TEMPLATES.iterdir() if p.is_file() and not p.name.startswith("_")}
    stems = {name.rsplit(".", 1)[0] for name in names}
    assert names == {f"{stem}.{ext}" for stem in stems for ext in ("txt", "html")}
    assert set(programme_kinds()) <= stems


def test_welcome_lists_training_days_in_local_time() -> None:
    rendered = render_notice(make_context(), stamp=STAMP)
    assert rendered.subject == "Welcome to Two-Day Training 2026"
    assert "Friday 25 September 2026, 09:30–16:30" in rendered.text
    assert "Saturday 26 September 2026, 09:30–16:30" in rendered.html
    assert "Your mentor will be Tim Norwood" in rendered.text
    assert "You are in Set A" in rendered.text


def test_welcome_without_mentor_or_set_leaves_them_out() -> None:
    ctx = make_context(mentor_name=None, mentor_email=None, learning_set=None)
    rendered = render_notice(ctx, stamp=STAMP)
    assert "mentor" not in rendered.text.lower() and "Action Learning" not in rendered.text


def test_graduation_invitation_lists_what_is_missing_when_not_eligible() -> None:
    missing = ("Mentoring meeting 3", "Final presentation (last learning set)")
    ctx = make_context(template="graduation-invitation", eligible=False, missing=missing)
    rendered = render_notice(ctx, stamp=STAMP)
    assert rendered.subject == "Your invitation to Graduation"
    assert "- Mentoring meeting 3\n- Final presentation (last learning set)\n" in rendered.text
    eligible = render_notice(replace(ctx, eligible=True, missing=()), stamp=STAMP)
    assert eligible.subject.startswith("Congratulations!")
    assert "still need" not in eligible.text


def test_template_syntax_and_markup_in_peoples_text_are_inert() -> None:
    ctx = make_context(
        template="mentor-assignment",
        to_name=HOSTILE,
        people=(HOSTILE,),
        cohort_title=HOSTILE,
        events=(make_event(venue=HOSTILE, title=HOSTILE),),
    )
    for kind in ("mentor-assignment", "welcome"):
        rendered = render_notice(replace(ctx, template=kind), stamp=STAMP)
        assert HOSTILE in rendered.text
        assert "49" not in rendered.text and "49" not in rendered.html
        assert "<script>" not in rendered.html
        assert "{{ 7*7 }} &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in rendered.html


def test_a_missing_value_is_an_error_not_the_word_none() -> None:
    with pytest.raises(ValueError, match=r"missing \(None\)"):
        render_notice(make_context(template="overdue-organiser", trainee_name=None))
    with pytest.raises(ValueError, match="expected a date, got None"):
        render_notice(make_context(template="stage-due", due_on=None))


def test_kind_names_cannot_reach_outside_the_templates() -> None:
    with pytest.raises(ValueError, match=r"not a notice kind: '\.\./settings'"):
        render_notice(make_context(template="../settings"))
    with pytest.raises(ValueError, match="not a notice kind: '_layout'"):
        render_notice(make_context(template="_layout"))
    with pytest.raises(TemplateNotFound):
        render_notice(make_context(template="no-such-kind"))


def test_a_calendar_attachment_needs_a_stamp() -> None:
    with pytest.raises(ValueError, match="attaches a calendar entry but has no stamp"):
        render_notice(make_context())
    assert render_notice(make_context(attach_ics=False)).ics is None
    assert render_notice(make_context(events=())).ics is None


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def test_rendering_is_deterministic() -> None:
    """Golden values, computed once: they change only when a template, the layout or the
    calendar's writing changes (then check the new output and pin it again)."""
    rendered = render_notice(make_context(), stamp=STAMP)
    assert rendered.subject == "Welcome to Two-Day Training 2026"
    assert rendered.ics is not None
    assert {"text": sha256(rendered.text), "html": sha256(rendered.html)} == {
        "text": "afa1eedba75cb596d9c2e3787332cff30c4a7f586b80bf2dc376b385ba976747",
        "html": "2bbbe6d571eab77a7160a3d8866d34905bc827ac9fc84cc0759c9e825cbc7db1",
    }
    assert (
        sha256(rendered.ics) == "a2e8203dc7e238e977e1b525f49647f17f24717d7a72e7b0b8060586b3651c42"
    )


def test_format_span_shows_local_time_in_summer_and_winter() -> None:
    summer = datetime(2026, 9, 25, 8, 30, tzinfo=UTC)
    assert format_span(summer, summer + timedelta(hours=7), "Europe/London") == (
        "Friday 25 September 2026, 09:30–16:30"
    )
    winter = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)
    assert format_span(winter, winter + timedelta(hours=2), "Europe/London") == (
        "Thursday 3 December 2026, 17:30–19:30"
    )
    late = datetime(2027, 6, 17, 22, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_span(late, late + timedelta(hours=3), "Europe/London") == (
        "Thursday 17 June 2027, 22:00 – Friday 18 June 2027, 01:00"
    )
    assert format_date(date(2027, 6, 1)) == "Tuesday 1 June 2027"
    with pytest.raises(ValueError, match="must be timezone-aware"):
        format_span(datetime(2026, 9, 25, 9, 30), summer, "Europe/London")


def test_message_has_text_and_html_alternatives_and_the_invitation() -> None:
    message = reparse(make_message())
    assert message.get_content_type() == "multipart/mixed"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and "Friday 25 September 2026" in plain.get_content()
    assert html is not None and "<p>Dear Ann Ridley,</p>" in html.get_content()
    [invite] = list(message.iter_attachments())
    assert invite.get_filename() == "invite.ics"
    assert invite.get_content_type() == "application/ics"
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" and not part.is_attachment()
    assert part.get_content().encode("utf-8") == invite.get_content()
    calendar = Calendar.from_ical(invite.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert uids == [
        "mk-2026-training-1@leadership-journey",
        "mk-2026-training-2@leadership-journey",
    ]


def test_message_headers() -> None:
    message = reparse(make_message())
    assert message["From"] == SENDER
    assert message["To"].addresses[0].display_name == "Ann Ridley"
    assert message["To"].addresses[0].addr_spec == "ann@example.org"
    assert message["Reply-To"] == "Sam Rivers <organiser@example.org>"
    assert message["Subject"] == "Welcome to Two-Day Training 2026"
    assert message["Date"].datetime == SENT_AT
    assert message["X-Journey-Key"] == make_context().key
    assert message["Message-ID"] == message_id_for(make_context().key, "example.org")
    assert message["Auto-Submitted"] == "auto-generated"


def test_message_without_events_is_alternative_only() -> None:
    message = reparse(make_message(template="stage-reminder", events=(), attach_ics=False))
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


def test_cancelled_sessions_go_out_as_a_calendar_cancel() -> None:
    events = (make_event(sequence=2, cancelled=True),)
    message = reparse(make_message(template="session-cancelled", events=events))
    [invite] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "CANCEL"
    [event] = Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert (event["SEQUENCE"], str(event["STATUS"])) == (2, "CANCELLED")


def test_the_same_notice_gives_the_same_bytes() -> None:
    """A golden value, computed once: it changes only when the rendering (see
    :func:`test_rendering_is_deterministic`) or the MIME writing changes."""
    assert sha256(make_message().data) == (
        "f2bf8c94eb0d106b3cf0c9bccc6ac180bbab0bdab13e59a8fa6630620f7348bf"
    )
    assert make_message().data != make_message(to_name="Bilal Khan").data


def test_message_id_is_deterministic_per_key() -> None:
    key = make_context().key  # golden values below, computed once
    assert key == "mk-2026/17/training/-7d@09:00>trainee/2026-09-18"
    assert message_id_for(key, "example.org") == "<5dc490061ae8a5980221f067c555cc99@example.org>"
    assert message_id_for(key + "x", "example.org") == (
        "<278fbd58e94c92b3c451fa3f88a42e4f@example.org>"
    )
    assert make_message().message_id == message_id_for(key, "example.org")  # SENDER's domain
    assert reparse(make_message())["Message-ID"] == make_message().message_id


def test_line_breaks_in_a_name_do_not_add_headers() -> None:
    evil = "Ann\r\nBcc: victim@example.org\r\nX-Evil: 1"
    message = reparse(make_message(to_name=evil, cohort_title="Cohort\nBcc: x@example.org"))
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["To"].addresses[0].display_name == "Ann Bcc: victim@example.org X-Evil: 1"
    assert message["Subject"] == "Welcome to Cohort Bcc: x@example.org"
    assert message.keys() == HEADERS


@pytest.mark.parametrize("address", ["", "not an address", "a@b@c"])
def test_a_recipient_without_a_usable_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"^notice 'mk-2026/.*': not an email address: "):
        make_message(to_email=address, attach_ics=False)


def test_the_date_header_must_be_timezone_aware() -> None:
    ctx = make_context(attach_ics=False)
    with pytest.raises(ValueError, match="must be timezone-aware"):
        build_message(ctx, render_notice(ctx), sender=SENDER, date=datetime(2026, 9, 18, 9))


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_sanitize_header_leaves_one_clean_line(value: str) -> None:
    cleaned = sanitize_header(value)
    assert not any(unicodedata.category(c) in {"Cc", "Zl", "Zp"} for c in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


@settings(max_examples=40, deadline=None)
@given(name=st.text(min_size=1))
def test_no_name_can_add_a_header(name: str) -> None:
    ctx = make_context(to_name=name, attach_ics=False)
    rendered = RenderedNotice(subject=name, text="Hello\n", html="<p>Hello</p>", ics=None)
    message = reparse(build_message(ctx, rendered, sender=SENDER, date=SENT_AT))
    assert message.keys() == HEADERS


def test_non_ascii_names_and_subjects_are_encoded_and_read_back() -> None:
    ctx = make_context(
        to_name='Zoë "Zee" O\'Brien-Ñúñez, Jr',
        organiser_name="Siobhán Ó Ceallaigh",
        cohort_title="Formación 2026 – Milton Keynes",
    )
    mail = make_message(ctx)
    assert mail.data.isascii()  # 7-bit on the wire: any SMTP server takes it
    message = reparse(mail)
    assert message["To"].addresses[0].display_name == 'Zoë "Zee" O\'Brien-Ñúñez, Jr'
    assert message["To"].addresses[0].addr_spec == "ann@example.org"
    assert message["Reply-To"].addresses[0].display_name == "Siobhán Ó Ceallaigh"
    assert message["Subject"] == "Welcome to Formación 2026 – Milton Keynes"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert 'Dear Zoë "Zee" O\'Brien-Ñúñez, Jr,' in plain.get_content()
    assert "09:30–16:30" in plain.get_content()  # an en dash, through quoted-printable


def test_bodies_come_back_exactly_as_rendered() -> None:
    ctx = make_context()
    rendered = render_notice(ctx, stamp=STAMP)
    message = reparse(build_message(ctx, rendered, sender=SENDER, date=SENT_AT))
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None

    def lines(text: str) -> str:  # the wire's CRLF line ends, as a reader's \n
        return text.replace("\r\n", "\n")

    assert lines(plain.get_content()) == rendered.text
    assert lines(html.get_content()) == rendered.html
    [invite] = list(message.iter_attachments())
    assert invite.get_content() == rendered.ics  # .ics lines are CRLF already


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=400), subject=st.text(min_size=1, max_size=400))
@example(name="0 000¡¡" + "\u0800" * 12 + " ¡", subject="0 000¡¡" + "\u0800" * 12 + " ¡")
def test_any_name_or_subject_gives_a_valid_message(name: str, subject: str) -> None:
    # The example: the standard library's folding lost the space before the last "¡".
    ctx = make_context(to_name=name, attach_ics=False)
    rendered = RenderedNotice(subject=subject, text="Hello\n", html="<p>Hello</p>", ics=None)
    mail = build_message(ctx, rendered, sender=SENDER, date=SENT_AT)
    assert mail.data.isascii()
    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 998  # RFC 5322
    message = reparse(mail)
    assert message.defects == []
    assert str(message["Subject"]) == sanitize_header(subject)
    assert recipient(mail) == (sanitize_header(name), "ann@example.org")


def recipient(mail: Mail) -> tuple[str, str]:
    """The To header's name and address, decoded as RFC 2047 says: the whitespace between
    two encoded words is dropped (``policy.default``'s address parser keeps it)."""
    raw = email.message_from_bytes(mail.data)
    name, address = parseaddr(str(raw["To"]))
    return str(make_header(decode_header(name))), address


def unsubscribe_request(message: EmailMessage) -> tuple[str, str | None]:
    """The List-Unsubscribe mailto's address and subject (if any), percent-decoded as
    RFC 6068 says."""
    value = str(message["List-Unsubscribe"]).strip()
    assert value.startswith("<mailto:") and value.endswith(">")
    url = urlsplit(value[1:-1])
    if not url.query:
        return unquote(url.path), None
    name, subject = url.query.split("=", 1)
    assert name == "subject" and "&" not in subject
    return unquote(url.path), unquote(subject)


def test_every_message_says_how_to_ask_the_organiser_to_stop_the_emails() -> None:
    mail = make_message(to_email="aisha.rahman@example.org")
    assert (
        b"\r\nList-Unsubscribe:\r\n <mailto:organiser@example.org?subject=Stop%20emails%20to%20"
        b"aisha.rahman@example.org%20%28mk-2026%29>\r\n" in mail.data
    )  # too long for one line, and no whitespace may go inside the brackets: folded before
    assert unsubscribe_request(reparse(mail)) == (
        "organiser@example.org",
        "Stop emails to aisha.rahman@example.org (mk-2026)",
    )


def test_without_an_organiser_address_there_is_no_list_unsubscribe() -> None:
    message = reparse(make_message(organiser_email=""))
    assert message["List-Unsubscribe"] is None and message["Reply-To"] is None


@settings(max_examples=40, deadline=None)
@given(
    cohort_id=st.text(min_size=1, max_size=200),
    local_part=st.from_regex(r"[a-z0-9.+%&=?#/!$*'-]{1,300}", fullmatch=True),
)
@example(cohort_id="mk-2026", local_part="%" * 300)  # 900 characters encoded: no subject
def test_any_cohort_or_address_gives_a_readable_list_unsubscribe(
    cohort_id: str, local_part: str
) -> None:
    address, organiser = f"{local_part}@example.org", f"{local_part}@example.net"
    ctx = make_context(cohort_id=cohort_id, to_email=address, organiser_email=organiser)
    rendered = RenderedNotice(subject="Hello", text="Hello\n", html="<p>Hello</p>", ics=None)
    mail = build_message(ctx, rendered, sender=SENDER, date=SENT_AT)
    assert mail.data.isascii()
    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 998  # RFC 5322
    message = reparse(mail)
    assert message.defects == [] and message.keys() == HEADERS
    to, subject = unsubscribe_request(message)
    assert to == organiser
    if subject is None:  # left out only when the line would pass 998 characters
        assert len(mail_request_line(organiser, address, cohort_id)) > 998
    else:
        assert subject == f"Stop emails to {address} ({sanitize_header(cohort_id)})"


def mail_request_line(organiser: str, address: str, cohort_id: str) -> str:
    """The continuation line List-Unsubscribe would need with its subject, CRLF excluded."""
    subject = quote(f"Stop emails to {address} ({sanitize_header(cohort_id)})", safe="@")
    return f" <mailto:{quote(organiser, safe='@+')}?subject={subject}>"


def test_the_organisers_own_digest_has_no_list_unsubscribe() -> None:
    message = reparse(make_message(to_email="organiser@example.org"))
    assert message["List-Unsubscribe"] is None and message["Reply-To"] is not None


@pytest.mark.parametrize("kind", programme_kinds())
def test_a_trainees_notice_says_how_to_stop_the_emails_and_the_organisers_need_not(
    kind: str,
) -> None:
    rendered = render_notice(make_context(template=kind), stamp=STAMP)
    stop = 'To stop these emails, reply with "stop".'
    for_organiser = kind.endswith("-organiser")
    assert (f"\n{stop}\n" in rendered.text) is not for_organiser
    assert (f"<br>\n{stop}\n" in rendered.html) is not for_organiser


def sessions_of_the_training() -> tuple[EventInfo, EventInfo]:
    """The Two-Day Training as compose gives it: both days, titled by the milestone."""
    day_one, day_two = make_context().events
    return replace(day_one, title="Two-Day Training"), replace(day_two, title="Two-Day Training")


def test_session_subjects_name_the_session_and_its_day() -> None:
    training = make_context(template="session-reminder", events=sessions_of_the_training())
    assert render_notice(training, stamp=STAMP).subject == (
        "Reminder: Two-Day Training, Friday 25 September"
    )
    second_set = make_event(
        title="Action Learning Set 2 (Set A)",
        starts_at=datetime(2027, 2, 4, 17, 30, tzinfo=UTC),
        ends_at=datetime(2027, 2, 4, 19, 30, tzinfo=UTC),
    )
    for kind, word in (("session-reminder", "Reminder"), ("session-invitation", "Invitation")):
        ctx = make_context(template=kind, events=(second_set,))
        assert render_notice(ctx, stamp=STAMP).subject == (
            f"{word}: Action Learning Set 2 (Set A), Thursday 4 February"
        )


def test_a_session_subject_without_events_names_the_milestone_and_its_day() -> None:
    ctx = make_context(template="session-reminder", events=(), milestone_title="Graduation")
    assert render_notice(ctx).subject == "Reminder: Graduation, Friday 6 November"
    assert render_notice(replace(ctx, due_on=None)).subject == "Reminder: Graduation"


def test_a_subject_names_the_local_day_of_a_session() -> None:
    """Half past midnight in London is still the day before in UTC."""
    late = make_event(
        starts_at=datetime(2027, 6, 17, 23, 30, tzinfo=UTC),
        ends_at=datetime(2027, 6, 18, 1, 0, tzinfo=UTC),
    )
    assert format_short_date(late) == "Friday 18 June"
    assert format_short_date(date(2027, 6, 17)) == "Thursday 17 June"
    with pytest.raises(ValueError, match="expected a date or an event, got datetime"):
        format_short_date(late.starts_at)


@pytest.mark.parametrize(
    "subject",
    [
        "Change of plan: Action Learning Set 1 (Set A), now Thursday 10 December",
        "Attendance check: Margaret O'Connor, Action Learning Set 1 (Set A) and more words "
        "than fit on two lines of a header, so that it folds twice at least (twice)",
    ],
)
def test_a_long_ascii_subject_folds_at_spaces_and_reads_back_exactly(subject: str) -> None:
    rendered = RenderedNotice(subject=subject, text="Hello\n", html="<p>Hello</p>", ics=None)
    mail = build_message(make_context(), rendered, sender=SENDER, date=SENT_AT)
    head = mail.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    folded = head.split("\r\nSubject:", 1)[1].split("\r\nDate:", 1)[0]
    assert folded.startswith(f" {subject.split()[0]}")  # not a bare break after the colon
    assert all(len(x) <= 78 for x in f"Subject:{folded}".split("\r\n"))
    assert folded.count("\r\n") >= 1 and reparse(mail)["Subject"] == subject

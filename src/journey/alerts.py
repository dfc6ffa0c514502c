"""Alerts as code: the Prefect automations that tell the organiser when mail stops.

:func:`apply` creates, or updates in place, one automation per condition (names start
``journey: ``), each sending a notification through one block:

1. ``journey: daily sweep failed``: a send-reminders flow run ended Failed, Crashed or
   TimedOut (the server's flow-run state events, for the flow named send-reminders);
2. ``journey: daily sweep late``: no send-reminders run Completed within ``late_after``
   (26 hours by default): a proactive trigger, so a sweep that never ran is caught too;
3. ``journey: notice refused``: a ``journey.notice.failed`` event (refused for good);
4. ``journey: delivery unavailable``: a ``journey.delivery.unavailable`` event (the mail
   server or the outbox folder could not be used).

The block is one the organiser saved already (``--block slack-webhook/ops``), or by
default a :class:`journey.alert_block.JourneyEmail` named ``journey-alerts``, saved from
the JOURNEY_SMTP_* settings, to the addresses given. Messages say what happened in plain
words, with a link to the run in the UI; they never hold a trainee's address (events hold
ids only, and a server's reply is redacted before it is put in an event).

Applying again changes nothing that is already as it should be: an automation unchanged is
left alone (so the late trigger's window is not restarted), a changed one is updated, and
extra copies of the same name are deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from journey.errors import JourneyError
from journey.settings import Settings

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.events.schemas.automations import Automation, AutomationCore, EventTrigger

PREFIX = "journey: "
FLOW = "send-reminders"
EMAIL_BLOCK = "journey-alerts"
DEFAULT_LATE_AFTER = timedelta(hours=26)
MIN_LATE_AFTER = timedelta(seconds=10)  # Prefect's least window for a proactive trigger
NOTICE_FAILED = "journey.notice.failed"
DELIVERY_UNAVAILABLE = "journey.delivery.unavailable"
RUN_ENDED_BADLY = ("Failed", "Crashed", "TimedOut")
# The flow runs of send-reminders: the resources of its state events, and the flow they
# are related to.
_RUNS_OF_THE_SWEEP: dict[str, dict[str, str]] = {
    "match": {"prefect.resource.id": "prefect.flow-run.*"},
    "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": FLOW},
}

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Applied:
    """One automation after :func:`apply`: its name, id and what was done to it."""

    name: str
    id: UUID
    outcome: Outcome


@dataclass(frozen=True)
class Listed:
    """One ``journey: `` automation on the server, as ``journey alerts list`` shows it."""

    name: str
    enabled: bool
    description: str


def in_words(duration: timedelta) -> str:
    """``26 hours``, ``90 minutes``, ``15 seconds``: the largest whole unit that fits."""
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def check_addresses(to: Sequence[str]) -> list[str]:
    """The addresses given with --to, each checked to be one address; else ValueError."""
    checked = []
    for address in to:
        found = parseaddr(address)[1]
        if "@" not in found or " " in found or not found.split("@")[1]:
            raise ValueError(f"{address!r} is not an email address")
        checked.append(address.strip())
    return checked


def ui_base() -> str:
    """Where the organiser's Prefect UI is (from PREFECT_API_URL, or PREFECT_UI_URL), for
    links in the messages; empty when Prefect cannot tell."""
    from prefect.settings import PREFECT_UI_URL

    return str(PREFECT_UI_URL.value() or "").rstrip("/")


# The messages. Jinja, rendered by the Prefect server: ``event`` is the triggering event,
# ``flow_run`` the run it concerns (read from the API), ``automation`` the automation.
# ``{ui}`` and ``{window}`` are put in when applying (:func:`_fill`): the organiser's own
# Prefect address (the server may not know it), and the late trigger's window.

_RUN_LINK = (
    "{% if flow_run %}\nThe run in the Prefect UI: "
    "{ui}/runs/flow-run/{{ flow_run.id }}\n{% endif %}"
)

FAILED_SUBJECT = (
    "Leadership Journey: the daily sweep ended {{ event.resource['prefect.state-name'] }}"
)
FAILED_BODY = (
    "The daily sweep (send-reminders) run {{ flow_run.name }} ended "
    "{{ event.resource['prefect.state-name'] }} at "
    "{{ event.occurred.strftime('%Y-%m-%d %H:%M') }} UTC.\n\n"
    "Why: {{ flow_run.state.message or 'no reason was given' }}\n\n"
    "Notices it could not send stay pending: the next run sends them if they are still "
    "useful. The run's logs say more.\n" + _RUN_LINK
)
LATE_SUBJECT = "Leadership Journey: the daily sweep has not completed in {window}"
LATE_BODY = (
    "No send-reminders run has completed in the last {window}. The daily sweep failed, "
    "or did not run at all (is `journey serve` running, and the Prefect server?), so "
    "reminders are not going out.\n\n"
    "Flow runs in the Prefect UI: {ui}/runs\n"
)
REFUSED_SUBJECT = (
    "Leadership Journey: notice {{ event.payload.notice_id }} was refused "
    "({{ event.payload.cohort }})"
)
REFUSED_BODY = (
    "The mail server refused notice {{ event.payload.notice_id }} "
    "({{ event.payload.template }}, cohort {{ event.payload.cohort }}) for good:\n\n"
    "    {{ event.payload.detail }}\n\n"
    "It will not be tried again. Check the address of the person it was for; the full "
    "reply is in the outbox, on the notice's row (last_error).\n" + _RUN_LINK
)
UNAVAILABLE_SUBJECT = "Leadership Journey: mail cannot go out ({{ event.payload.destination }})"
UNAVAILABLE_BODY = (
    "Delivery stopped: {{ event.payload.reason }}\n\n"
    "{{ event.payload.pending }} notices stay pending; the next run sends them once mail "
    "can go out again, if they are still useful.\n" + _RUN_LINK
)


def _fill(template: str, ui: str, window: str) -> str:
    """The template with ``{ui}`` and ``{window}`` put in (not str.format: the Jinja
    braces must stay as they are)."""
    return template.replace("{ui}", ui).replace("{window}", window)


def automations(block_id: UUID, late_after: timedelta, ui: str) -> list[AutomationCore]:
    """The four automations, each notifying through the block ``block_id``."""
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    window = in_words(late_after)

    def notify(subject: str, body: str) -> list[Any]:
        return [SendNotification(block_document_id=block_id, subject=subject, body=body)]

    return [
        AutomationCore(
            name=f"{PREFIX}daily sweep failed",
            description=f"A {FLOW} flow run ended Failed, Crashed or TimedOut.",
            trigger=_reactive(
                {f"prefect.flow-run.{state}" for state in RUN_ENDED_BADLY}, **_RUNS_OF_THE_SWEEP
            ),
            actions=notify(FAILED_SUBJECT, _fill(FAILED_BODY, ui, window)),
        ),
        AutomationCore(
            name=f"{PREFIX}daily sweep late",
            description=f"No {FLOW} flow run Completed within {window}.",
            trigger=EventTrigger(
                **_RUNS_OF_THE_SWEEP,
                expect={"prefect.flow-run.Completed"},
                posture=Posture.Proactive,
                threshold=1,
                within=late_after,
            ),
            actions=notify(_fill(LATE_SUBJECT, ui, window), _fill(LATE_BODY, ui, window)),
        ),
        AutomationCore(
            name=f"{PREFIX}notice refused",
            description="The mail server refused a notice for good (journey.notice.failed).",
            trigger=_reactive({NOTICE_FAILED}, match={"prefect.resource.id": "journey.notice.*"}),
            actions=notify(REFUSED_SUBJECT, _fill(REFUSED_BODY, ui, window)),
        ),
        AutomationCore(
            name=f"{PREFIX}delivery unavailable",
            description="The mail server or the outbox folder could not be used "
            "(journey.delivery.unavailable).",
            trigger=_reactive(
                {DELIVERY_UNAVAILABLE}, match={"prefect.resource.id": "journey.delivery.*"}
            ),
            actions=notify(UNAVAILABLE_SUBJECT, _fill(UNAVAILABLE_BODY, ui, window)),
        ),
    ]


def _reactive(
    expect: set[str],
    *,
    match: dict[str, str],
    match_related: dict[str, str] | None = None,
) -> EventTrigger:
    """A trigger that fires at once, every time, on each event named in ``expect`` about a
    resource ``match`` describes (and related to one ``match_related`` describes).
    ``match_related`` is passed only when given, so an update sends what it always sent."""
    from prefect.events.schemas.automations import EventTrigger, Posture

    resources: dict[str, Any] = {"match": match}
    if match_related:
        resources["match_related"] = match_related
    return EventTrigger(
        **resources, expect=expect, posture=Posture.Reactive, threshold=1, within=timedelta(0)
    )


def email_block(settings: Settings, to: Sequence[str]) -> Any:
    """A :class:`JourneyEmail` from the product's SMTP settings, to ``to``. The password is
    JOURNEY_SMTP_PASSWORD, or read now from the Secret block JOURNEY_SMTP_PASSWORD_BLOCK
    names (apply again after changing it)."""
    from journey.alert_block import JourneyEmail

    if not settings.smtp_host:
        raise JourneyError(
            "alerts go by email through JOURNEY_SMTP_HOST, which is not set: set the "
            "JOURNEY_SMTP_* settings, or name a notification block with --block"
        )
    password = settings.smtp_password
    if settings.smtp_password_block:
        from prefect.blocks.system import Secret
        from pydantic import SecretStr

        secret = Secret.load(settings.smtp_password_block)
        if not isinstance(secret, Secret):  # a sync call: never a coroutine here
            raise TypeError("Secret.load gave no block")
        password = SecretStr(str(secret.get()))
    return JourneyEmail(
        host=settings.smtp_host,
        port=settings.effective_smtp_port,
        starttls=settings.smtp_starttls and not settings.smtp_ssl,
        ssl=settings.smtp_ssl,
        username=settings.smtp_username,
        password=password,
        sender=settings.sender,
        to=list(to),
        timeout=settings.smtp_timeout,
        ca_certificates=settings.smtp_ca_file.read_text() if settings.smtp_ca_file else None,
    )


def save_email_block(settings: Settings, to: Sequence[str]) -> UUID:
    """Save (or overwrite in place, keeping its id) the ``journey-alerts`` email block."""
    block_id: UUID = email_block(settings, to).save(EMAIL_BLOCK, overwrite=True)
    return block_id


def find_block(client: SyncPrefectClient, slug_and_name: str) -> UUID:
    """The id of a saved notification block named ``SLUG/NAME`` (as ``prefect block ls``
    shows it); else JourneyError saying what is wrong."""
    from prefect.exceptions import ObjectNotFound

    slug, _, name = slug_and_name.partition("/")
    if not slug or not name:
        raise JourneyError(f"--block {slug_and_name!r}: give SLUG/NAME, e.g. slack-webhook/ops")
    try:
        document = client.read_block_document_by_name(name, slug, include_secrets=False)
    except ObjectNotFound:
        raise JourneyError(
            f"no block {slug_and_name!r} is saved on the Prefect server (see: prefect block ls)"
        ) from None
    capabilities = document.block_schema.capabilities if document.block_schema else []
    if "notify" not in capabilities:
        raise JourneyError(f"block {slug_and_name!r} is not a notification block")
    return document.id


def apply(
    *,
    settings: Settings,
    to: Sequence[str] = (),
    block: str | None = None,
    late_after: timedelta = DEFAULT_LATE_AFTER,
) -> list[Applied]:
    """Create or update the four automations on the Prefect server (PREFECT_API_URL),
    notifying through ``block`` (SLUG/NAME) or, without one, by email to ``to``."""
    from prefect.client.orchestration import get_client

    from journey.prefect_env import require_server

    require_server("journey alerts")
    with get_client(sync_client=True) as client:
        if block:
            block_id = find_block(client, block)
        elif to:
            block_id = save_email_block(settings, to)
        else:
            raise JourneyError("say who gets the alerts: --to ADDRESS, or --block SLUG/NAME")
        return [_put(client, wanted) for wanted in automations(block_id, late_after, ui_base())]


def _put(client: SyncPrefectClient, wanted: AutomationCore) -> Applied:
    """Create ``wanted``, or bring the automation of its name in line with it; delete any
    further automations of the same name, so there is one of each."""
    existing = client.read_automations_by_name(wanted.name)
    if not existing:
        return Applied(wanted.name, client.create_automation(wanted), "created")
    keep, *extra = existing
    for duplicate in extra:
        client.delete_automation(duplicate.id)
    if _same(keep, wanted):
        return Applied(wanted.name, keep.id, "unchanged")
    client.update_automation(keep.id, wanted)
    return Applied(wanted.name, keep.id, "updated")


def _same(have: Automation, wanted: AutomationCore) -> bool:
    """Whether the automation on the server already does what ``wanted`` says (the
    trigger's own id aside: it is made anew with each model)."""

    def shape(automation: AutomationCore) -> tuple[Any, ...]:
        return (
            automation.description,
            automation.enabled,
            automation.trigger.model_dump(exclude={"id"}),
            [action.model_dump() for action in automation.actions],
            [action.model_dump() for action in automation.actions_on_trigger],
            [action.model_dump() for action in automation.actions_on_resolve],
        )

    return shape(have) == shape(wanted)


def listed() -> list[Listed]:
    """The ``journey: `` automations on the Prefect server, by name."""
    from prefect.client.orchestration import get_client

    from journey.prefect_env import require_server

    require_server("journey alerts")
    with get_client(sync_client=True) as client:
        found = client.read_automations()
    return sorted(
        (Listed(a.name, a.enabled, a.description) for a in found if a.name.startswith(PREFIX)),
        key=lambda item: item.name,
    )

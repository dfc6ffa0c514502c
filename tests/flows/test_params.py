"""The flows' parameter forms: typed, described and constrained (no Prefect server needed)."""

from __future__ import annotations

from prefect.utilities.callables import parameter_schema

from journey.flows.deliver_notices import deliver_notices
from journey.flows.launch_cohort import launch_cohort
from journey.flows.record_completion import record_completion
from journey.flows.send_reminders import send_reminders
from journey.flows.trainee_journey import trainee_journey


def test_every_parameter_of_every_flow_is_described() -> None:
    for flow in (
        launch_cohort,
        trainee_journey,
        send_reminders,
        deliver_notices,
        record_completion,
    ):
        properties = parameter_schema(flow).model_dump()["properties"]
        missing = [name for name, spec in properties.items() if not spec.get("description")]
        assert missing == [], flow.name


def test_record_completion_checks_its_inputs_before_running() -> None:
    properties = parameter_schema(record_completion).model_dump()["properties"]
    assert properties["cohort_id"]["pattern"] == "^[a-z0-9][a-z0-9-]{1,62}$"
    assert properties["emails"]["minItems"] == 1
    assert properties["on"]["anyOf"][0]["format"] == "date"
    assert properties["milestone"]["enum"][:2] == ["training", "listening"]  # a drop-down

"""``journey person forget`` with a Prefect server configured: the runs whose parameters
hold the address are deleted and the artifact versions naming the person rewritten with
the token; with the server down, nothing is forgotten (exit 75)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.settings import PREFECT_API_URL

from journey.db import session_scope
from journey.flows.record_completion import record_completion
from journey.flows.trainee_journey import trainee_journey
from journey.prefect_runs import runs_concerning
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc

AISHA, NAME = "aisha.rahman@example.org", "Aisha Rahman"
NOW = utc("2026-09-26T18:00")


def versions(cohort_id: str) -> list[Any]:
    """Every version of the cohort's artifacts, as the API gives them."""
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=f"{cohort_id}-%")),
            limit=200,
        )


def text(artifact: Any) -> str:
    return json.dumps([artifact.data, artifact.description], ensure_ascii=False)


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_forget_deletes_her_runs_and_takes_her_name_out_of_the_artifacts(
    settings: Settings, cohort_id: str
) -> None:
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    earlier = len(runs_concerning(AISHA))  # other tests' runs share this Prefect server
    trainee_journey(cohort_id, AISHA, now=NOW)
    record_completion(cohort_id, [AISHA], "training", now=NOW)
    holding = len(runs_concerning(AISHA))
    assert holding == earlier + 2
    assert any(NAME in text(a) for a in versions(cohort_id))

    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    exported = journey("person", "export", AISHA, "--now", "2026-09-27T09:00", env=env)
    assert exported.returncode == 0, exported.stderr
    held = json.loads(exported.stdout)["prefect_runs"]
    assert sorted(held) == sorted(str(r) for r in runs_concerning(AISHA))
    result = journey("person", "forget", AISHA, "--now", "2026-09-27T10:00", env=env)
    assert result.returncode == 0, result.stderr
    assert f"Prefect: {holding} flow runs holding the address deleted;" in result.stdout
    token = result.stdout.rsplit("they are now ", 1)[1].strip().rstrip(".")
    assert token.startswith("erased-")

    assert runs_concerning(AISHA) == []
    after = versions(cohort_id)
    assert after and not any(NAME in text(a) or AISHA in text(a) for a in after)
    assert any(token in text(a) for a in after)  # the history is kept, with the token


def test_a_prefect_server_that_does_not_answer_stops_it_with_nothing_forgotten(
    settings: Settings, cohort_id: str
) -> None:
    env = {"PREFECT_API_URL": "http://127.0.0.1:9/api"}
    result = journey("person", "forget", AISHA, env=env)
    assert (result.returncode, result.stdout) == (75, "")
    assert result.stderr == (
        "Error: the Prefect server at http://127.0.0.1:9/api cannot be used (ConnectError);"
        " nothing was forgotten: try again when it answers\n"
    )
    assert journey("person", "show", AISHA).returncode == 0  # still known

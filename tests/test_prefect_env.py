"""Prefect's defaults for flows run in this process (the CLI, the demo, the benchmarks)."""

from __future__ import annotations

import os

import pytest
from prefect import flow
from prefect.settings import get_current_settings

from journey.prefect_env import flows_here


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A copy of the environment for the test to change (``apply`` sets defaults in it)."""
    copy = dict(os.environ)
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_on_the_ephemeral_api_flow_runs_have_no_heartbeat(environ: dict[str, str]) -> None:
    environ.pop("PREFECT_API_URL", None)
    before = get_current_settings().flows.heartbeat_frequency
    with flows_here() as where:
        assert where == "Prefect's ephemeral API (runs are not kept)"
        assert get_current_settings().flows.heartbeat_frequency is None
        assert environ["PREFECT_LOGGING_LEVEL"] == "WARNING"
    assert get_current_settings().flows.heartbeat_frequency == before


def test_with_a_server_prefects_heartbeat_setting_stands(environ: dict[str, str]) -> None:
    environ["PREFECT_API_URL"] = "http://127.0.0.1:4200/api"
    environ.pop("PREFECT_LOGGING_LEVEL", None)
    before = get_current_settings().flows.heartbeat_frequency
    with flows_here() as where:
        assert where == "Prefect server http://127.0.0.1:4200/api"
        assert get_current_settings().flows.heartbeat_frequency == before
    assert "PREFECT_LOGGING_LEVEL" not in environ  # INFO logs reach the server's UI


@flow(name="heartbeat-check")
def current_heartbeat() -> int | None:
    return get_current_settings().flows.heartbeat_frequency


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_flow_run_inside_sees_no_heartbeat(environ: dict[str, str]) -> None:
    environ.pop("PREFECT_API_URL", None)  # the harness sets its URL in Prefect's settings
    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None  # Prefect 3.9 beats every 180 s unless told otherwise
    with flows_here():
        assert current_heartbeat() is None
    assert current_heartbeat() == default

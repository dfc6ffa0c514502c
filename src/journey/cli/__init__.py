"""The ``journey`` command. Thin: it calls the services the flows call.

Everyday commands (record, status, upcoming, session cancel, cohort list, person …,
withdraw, --help) never import Prefect; commands that run flows (launch, remind, demo)
import it late and show a spinner meanwhile. Each module adds the commands of one area,
to the app or to a command group, both declared in :mod:`journey.cli._app`.
"""

from journey.cli import (  # noqa: F401  (they add the commands)
    alerts,
    cohorts,
    deploy,
    directory,
    evaluation,
    joining,
    mail,
    membership,
    personal_data,
    progress,
    report,
    retention,
    sending,
    server,
)
from journey.cli._app import app, main

__all__ = ["app", "main"]

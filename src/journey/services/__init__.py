"""Services: what flows, tasks and the CLI all call. Plain Python and SQLAlchemy, no Prefect."""

"""Benchmarks for issue 5: sweep scale, delivery throughput, launch, CLI latency.

Run from the repository root: ``.venv/bin/python -m bench`` (full, ~7 minutes on 2 cores)
or ``.venv/bin/python -m bench --quick`` (smaller sizes, a smoke check). Figures are
printed as a table and written to ``bench/results.json`` (``bench/results-quick.json``
for ``--quick``). See ``docs/PERFORMANCE.md`` for the latest figures and what they mean.

Everything is offline: SQLite files and a Prefect home in a temporary folder, an SMTP
sink on 127.0.0.1, Prefect's ephemeral API. Nothing here changes the product's code.
"""

"""Run the benchmarks: ``.venv/bin/python -m bench [--quick] [--only NAME …] [--output PATH]``.

The order matters. Databases are built first; then everything measured without Prefect
(the CLI subprocesses, the services called directly), so that Prefect's ephemeral
server is not running beside them; then a trivial flow starts Prefect (its cold cost is
reported) and a second one shows a warm flow's own cost; then the flows are measured, run
as the CLI runs them (``journey.prefect_env.flows_here``: no heartbeat thread on the
ephemeral API).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import env

SECTIONS = ("sweep", "delivery", "launch", "cli", "report", "national", "server")
BUSY = 0.1  # other processes' share of the CPUs above which a step's figures are suspect


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--output", type=Path, help="where to write the results (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait (at most this long) until other processes leave the CPUs idle",
    )
    return parser.parse_args(argv)


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _step(results: dict[str, Any], name: str, fn: Callable[[], None]) -> None:
    """Run one step; a failure is recorded and the other steps go on."""
    _say(f"{name} …")
    others = env.OtherWork()
    others.start()
    start = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # a broken step must not lose the other figures
        results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    seconds = round(time.perf_counter() - start, 1)
    share = others.share()
    results.setdefault("steps", []).append(
        {"step": name, "seconds": seconds, "other_processes_cpu_share": share}
    )
    _say(f"{name} done in {seconds} s (other processes used {share} of the CPUs)")


def _wait_quiet(limit: float) -> None:
    """Wait until other processes use under BUSY of the CPUs for 5 s (at most ``limit`` s)."""
    from bench.measure import settled

    def busy(share: float) -> None:
        _say(f"waiting for a quiet machine: other processes use {share:.0%} of the CPUs")

    if not settled(limit, BUSY, window=5, on_busy=busy):
        _say("the machine is still busy; measuring anyway (see the warnings)")


def _warm_up(results: dict[str, Any]) -> None:
    """Start Prefect with a trivial flow (cold), then time warm trivial flows: as the CLI
    runs them (``flows_here``: no heartbeat thread on the ephemeral API) and with Prefect's
    default heartbeat."""
    from prefect import flow

    from bench.measure import spread, timed
    from journey.prefect_env import flows_here

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return 1

    with flows_here():
        cold, _ = timed(warm_up)
        warm = [timed(warm_up)[0] for _ in range(3)]
    heartbeat = [timed(warm_up)[0] for _ in range(3)]
    results["prefect"] = {
        "cold_first_flow_s": round(cold, 2),
        "warm_trivial_flow_s": spread(warm),
        "warm_trivial_flow_heartbeat_s": spread(heartbeat),
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench import (
        cli_timing,
        delivery,
        funder,
        launch,
        national,
        report,
        server_cli,
        sweep_scale,
    )
    from bench.context import Context, Sizes
    from bench.smtp_sink import Sink, free_port
    from journey.prefect_env import flows_here

    sizes = Sizes.quick() if args.quick else Sizes.full()
    wanted = set(args.only or SECTIONS)
    ctx = Context(work, sizes, Sink(free_port()))
    results = ctx.results
    results["machine"] = env.machine()
    results["mode"] = "quick" if args.quick else "full"
    results["sizes"] = sizes.__dict__
    started = time.perf_counter()
    code = env.source_fingerprint()
    ctx.sink.start()
    try:
        steps: list[tuple[str, str, Callable[[Context], None]]] = [
            ("sweep", "build populations", sweep_scale.prepare),
            ("delivery", "build outbox", delivery.prepare),
            ("launch", "write cohort files", launch.prepare),
            ("cli", "launch cohort for CLI", cli_timing.prepare),
            ("cli", "CLI subprocesses", cli_timing.run),
            ("server", "launch and remind with journey server", server_cli.run),
            ("sweep", "sweep direct", sweep_scale.direct),
            ("delivery", "delivery direct", delivery.direct),
            ("launch", "launch direct", launch.direct),
            ("report", "seed a grant for the funder's report", funder.prepare),
            ("report", "funder's report", funder.run),
            ("national", "national: seed SQLite and Postgres", national.prepare),
            ("national", "national: direct work and CLI", national.direct),
        ]
        if wanted & {"cli", "server"}:
            wanted.add("launch-prepare")
        for section, name, fn in steps:
            needed = section in wanted or (fn is launch.prepare and "launch-prepare" in wanted)
            if needed:
                _step(results, name, partial(fn, ctx))
        if wanted & {"sweep", "delivery", "launch", "national"}:
            _step(results, "Prefect warm-up", lambda: _warm_up(results))
            with flows_here():  # flows run as the CLI runs them
                for section, name, fn in [
                    ("sweep", "sweep flows", sweep_scale.flows),
                    ("delivery", "delivery flows", delivery.flows),
                    ("launch", "launch flows", launch.flows),
                    ("national", "national flows", national.flows),
                    ("national", "national delivery workers", national.workers),
                ]:
                    if section in wanted:
                        _step(results, name, partial(fn, ctx))
    finally:
        national.finish(ctx)
        accepted = ctx.sink.stop()
    results["smtp_sink_accepted"] = accepted
    warnings = results.setdefault("warnings", [])
    if env.source_fingerprint() != code:
        warnings.append("the product's code changed during the run: figures may mix versions")
    busy = [
        f"{s['step']} ({s['other_processes_cpu_share']:.0%})"
        for s in results["steps"]
        if (s["other_processes_cpu_share"] or 0) > BUSY
    ]
    if busy:
        warnings.append(f"other processes used the CPUs during: {', '.join(busy)}")
    if "sweep" in results:
        results["sweep"]["growth"] = report.growth(results["sweep"])
    results["targets"] = report.targets(results)
    results["duration_s"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    output = args.output or env.REPO / "bench" / (
        "results-quick.json" if args.quick else "results.json"
    )
    output = output.resolve()
    work = env.prepare()  # before anything imports Prefect or reads settings
    if args.wait_quiet:
        _wait_quiet(args.wait_quiet)
    try:
        results = run(args, work)
    finally:
        if args.keep:
            _say(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    from bench.report import render_table, table_rows

    print(render_table(table_rows(results)))
    for name, verdict in results["targets"].items():
        met = {True: "met", False: "NOT met", None: "not measured"}[verdict["met"]]
        print(f"target {name}: {verdict['figure']} -> {met}")
    for warning in results.get("warnings", []):
        print(f"WARNING: {warning}")
    print(f"duration {results['duration_s']} s; results in {output}")
    partial = output.with_name(output.name + ".tmp")
    partial.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    partial.replace(output)
    return 1 if results.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())

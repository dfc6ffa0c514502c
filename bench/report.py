"""Turning results into the figures table and the targets' verdicts."""

from __future__ import annotations

from typing import Any

from bench.funder_figures import funder_rows as _funder_rows
from bench.funder_figures import funder_targets as _funder_targets

Row = tuple[str, str, str]
CLI_TARGET = 2.0  # seconds: "answer in about 2 s or less (median of 5 runs)" (issue 5)
SWEEP_FLOW_TARGET = 1.5  # "the Prefect flow costs at most 1.5x the direct call at 10,000"
# Statements "constant, or per batch of at least 500": 10x the trainees may add the odd
# chunked insert (one per 500 rows), nothing that grows with each trainee.
SWEEP_STATEMENTS_GROWTH = 1.1


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _med(figure: dict[str, Any]) -> float:
    return float(figure["wall_s"]["median"])


def _sweep_rows(sweep: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for size, f in sweep.items():
        if not size.isdigit():
            continue
        n = f"{int(size):,}"
        today = f.get("today", {})
        rows.append(
            (
                f"sweep {n}",
                "new today",
                f"{today.get('queued_today', '?')} notices, "
                f"{today.get('share_of_trainees', 0) * 100:.1f}% of trainees, "
                f"{today.get('cohorts_with_a_notice_today', '?')} cohorts",
            )
        )
        if "direct" in f:
            d = f["direct"]
            rows.append((f"sweep {n}", "direct sweep()", f"{_s(_med(d))}, {d['statements']} SQL"))
        if "direct_equivalent" in f:
            e = f["direct_equivalent"]
            rows.append(
                (
                    f"sweep {n}",
                    "direct sweep+deliver+reports",
                    f"{_s(e['wall_s'])} (sweep {e['sweep_s']:.2f}, deliver {e['deliver_s']:.2f},"
                    f" {e['cohort_reports']} reports {e['cohort_reports_s']:.2f}), "
                    f"{e['statements']} SQL",
                )
            )
        if "flow_to_queued" in f:
            q = f["flow_to_queued"]
            rows.append(
                (
                    f"sweep {n}",
                    "flow send-reminders, to queued",
                    f"{_s(_med(q))}, {q['statements']} SQL, {q['queued']} queued",
                )
            )
        if "flow" in f:
            fl = f["flow"]
            rows.append(
                (
                    f"sweep {n}",
                    "flow send-reminders",
                    f"{_s(_med(fl))}, {fl['statements']} SQL, {fl['sent']} sent, "
                    f"{fl['task_runs']} task runs, {fl['artifacts_published']} artifacts",
                )
            )
            dry = f["flow_dry"]
            rows.append((f"sweep {n}", "flow dry run", f"{_s(_med(dry))}, {dry['statements']} SQL"))
            r = f["ratios"]
            rows.append(
                (
                    f"sweep {n}",
                    "flow / direct",
                    (
                        f"to queued {r['flow_to_queued_over_direct_sweep']}x of sweep(); "
                        if "flow_to_queued_over_direct_sweep" in r
                        else ""
                    )
                    + f"whole flow {r['flow_over_direct_equivalent']}x of the direct equivalent; "
                    f"dry {r['flow_dry_over_direct_dry']}x",
                )
            )
    growth = sweep.get("growth")
    if growth:
        rows.append(
            (
                "sweep growth",
                f"{growth['from']:,} -> {growth['to']:,}",
                f"direct x{growth['direct_time']}, SQL x{growth['direct_statements']}"
                + (f", flow x{growth['flow_time']}" if "flow_time" in growth else ""),
            )
        )
    return rows


def _delivery_rows(d: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for key, label in (
        ("ours", "deliver_all -> SMTP"),
        ("ours_gc_frozen", "deliver_all -> SMTP, heap frozen"),
        ("ours_eml", "deliver_all -> .eml"),
        ("flow", "deliver-notices flow"),
        ("flow_without_events", "flow, events patched out"),
        ("raw", "raw aiosmtplib loop"),
        ("raw_two_connections", "raw loop, 2 connections"),
    ):
        if key in d:
            f = d[key]
            extra = f", {f['commits']} commits" if "commits" in f else ""
            rows.append(
                (
                    f"delivery {d['notices']:,}",
                    label,
                    f"{f['messages_per_s']['median']:.0f} msg/s "
                    f"({f['ms_per_message']} ms each){extra}",
                )
            )
    if "unit_costs" in d:
        u = d["unit_costs"]
        rows.append(
            (
                "delivery",
                "ms per message",
                f"gate {u['gate_ms']}, render {u['render_ms']}, build (bytes) {u['build_ms']}, "
                f"raw SMTP {u.get('smtp_raw_ms', '?')}",
            )
        )
    if "commit_probe" in d:
        c = d["commit_probe"]
        rows.append(
            (
                "delivery",
                "recording an outcome",
                f"{c['ms_per_outcome']} ms each (synchronous=NORMAL "
                f"{c['ms_per_outcome_synchronous_normal']} ms; "
                f"one commit per batch {c['ms_per_outcome_one_commit_per_batch']} ms)",
            )
        )
    if "events_probe" in d:
        e = d["events_probe"]
        rows.append(
            (
                "delivery",
                "flow's extra per message",
                f"{d.get('flow_extra_ms_per_message')} ms; "
                f"an event costs the flow's process {e['ms_per_event']} ms (probe)",
            )
        )
    if "ratio_ours_over_raw" in d:
        flow = d.get("ratio_flow_over_raw")
        rows.append(
            (
                "delivery",
                "ours / raw (target >= 0.8)",
                f"{d['ratio_ours_over_raw']}" + (f"; flow {flow}" if flow is not None else ""),
            )
        )
    return rows


def _launch_rows(launch: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for size, f in launch.items():
        if not size.isdigit():
            continue
        if "direct" in f:
            d = f["direct"]
            rows.append(
                (
                    f"launch {size}",
                    "direct (no Prefect)",
                    f"{_s(_med(d))} (read {d['read_s']}, import {d['import_s']}, "
                    f"plan {d['plan_s']}, deliver {d['deliver_s']}), {d['sent']} .eml",
                )
            )
        for key, label in (
            ("to_queued", "import + flow, to notices queued"),
            ("end_to_end", "import + flow, welcomes sent"),
        ):
            if key in f:
                e = f[key]
                rows.append(
                    (
                        f"launch {size}",
                        label,
                        f"{_s(_med(e))} (read {e['read_s']}, import {e['import_s']}, "
                        f"flow {e['flow_s']}), {e['queued']} queued, {e['eml_files']} .eml, "
                        f"{e['statements']} SQL",
                    )
                )
    if "ratio_end_to_end" in launch:
        small, large = launch["sizes"]
        rows.append(
            (
                "launch",
                f"{large} / {small} (target <= 2, to queued)",
                f"{launch.get('ratio_to_queued', '?')} to queued; "
                f"{launch['ratio_end_to_end']} whole flow; {launch['ratio_direct']} direct",
            )
        )
    return rows


def _cli_rows(cli: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, f in cli.get("commands", {}).items():
        runs = len(f["wall_s"]["runs"])
        text = f"{_s(_med(f))} median of {runs}"
        if "prefect_imported" in f:
            prefect = "imports prefect" if f["prefect_imported"] else "no prefect"
            text += f", imports {f['imports_ms']:.0f} ms, {prefect}"
        rows.append(("cli", name, text))
    return rows


def _prefect_rows(p: dict[str, Any]) -> list[Row]:
    if not p:
        return []
    return [
        ("prefect", "first flow in process (cold)", _s(p["cold_first_flow_s"])),
        ("prefect", "trivial flow, warm", _s(p["warm_trivial_flow_s"]["median"])),
        *(
            [("prefect", "  the same, heartbeat on", _s(p[beat]["median"]))]
            if (beat := "warm_trivial_flow_heartbeat_s") in p
            else []
        ),
    ]


def table_rows(results: dict[str, Any]) -> list[Row]:
    return (
        _prefect_rows(results.get("prefect", {}))
        + _sweep_rows(results.get("sweep", {}))
        + _delivery_rows(results.get("delivery", {}))
        + _launch_rows(results.get("launch", {}))
        + _cli_rows(results.get("cli", {}))
        + _funder_rows(results.get("report", {}))
    )


def render_table(rows: list[Row]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(2)] if rows else [0, 0]
    lines = []
    for a, b, c in rows:
        lines.append(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}")
    return "\n".join(lines)


def growth(sweep: dict[str, Any]) -> dict[str, Any] | None:
    sizes = sorted(int(k) for k in sweep if k.isdigit())
    if len(sizes) < 2:
        return None
    a, b = (sweep[str(s)] for s in (sizes[0], sizes[-1]))
    out: dict[str, Any] = {"from": sizes[0], "to": sizes[-1], "size": sizes[-1] / sizes[0]}
    if "direct" in a and "direct" in b:
        out["direct_time"] = round(_med(b["direct"]) / _med(a["direct"]), 2)
        out["direct_statements"] = round(b["direct"]["statements"] / a["direct"]["statements"], 2)
    if "flow" in a and "flow" in b:
        out["flow_time"] = round(_med(b["flow"]) / _med(a["flow"]), 2)
        out["flow_statements"] = round(b["flow"]["statements"] / a["flow"]["statements"], 2)
    return out


def _sizes(launch: dict[str, Any]) -> str:
    small, large = launch.get("sizes", (20, 500))
    return f"{large} costs <= 2 x {small}"


def _sweep_targets(sweep: dict[str, Any]) -> dict[str, Any]:
    growth_ = sweep.get("growth") or {}
    sizes = sorted(int(k) for k in sweep if k.isdigit())
    largest = sweep.get(str(sizes[-1]), {}) if sizes else {}
    ratios = largest.get("ratios", {})
    statements = growth_.get("direct_statements")
    time_growth, size_growth = growth_.get("direct_time"), growth_.get("size")
    queued = ratios.get("flow_to_queued_over_direct_sweep")
    whole = ratios.get("flow_over_direct_equivalent")
    largest_n = f"{sizes[-1]:,}" if sizes else "?"
    return {
        "sweep: SQL statements do not grow with trainees (ratio, largest / smallest)": {
            "figure": statements,
            "met": None if statements is None else statements <= SWEEP_STATEMENTS_GROWTH,
        },
        "sweep: time grows no worse than linearly (time ratio, for the size ratio)": {
            "figure": time_growth,
            "met": None if time_growth is None else time_growth <= size_growth,
        },
        f"sweep: flow to queued <= 1.5 x sweep() at {largest_n} trainees": {
            "figure": queued,
            "met": None if queued is None else queued <= SWEEP_FLOW_TARGET,
        },
        f"sweep: whole flow <= 1.5 x the direct equivalent at {largest_n} trainees": {
            "figure": whole,
            "met": None if whole is None else whole <= SWEEP_FLOW_TARGET,
        },
    }


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each target's figure and whether it is met (None: not measured in this run)."""
    delivery = results.get("delivery", {})
    launch = results.get("launch", {})
    cli = results.get("cli", {})
    return {
        **_sweep_targets(results.get("sweep", {})),
        "delivery: deliver-notices flow >= 0.8 x raw": {
            "figure": delivery.get("ratio_flow_over_raw"),
            "met": delivery.get("flow_target_met"),
        },
        "delivery: deliver_all (the service, no Prefect) >= 0.8 x raw": {
            "figure": delivery.get("ratio_ours_over_raw"),
            "met": delivery.get("target_met"),
        },
        f"launch: {_sizes(launch)} (import, launch, first notices queued)": {
            "figure": launch.get("ratio_to_queued"),
            "met": launch.get("target_met"),
        },
        f"launch: {_sizes(launch)} (whole flow: welcomes sent, artifacts published)": {
            "figure": launch.get("ratio_end_to_end"),
            "met": launch.get("whole_flow_target_met"),
        },
        "cli: everyday commands never import Prefect": {
            "figure": cli.get("any_imports_prefect"),
            "met": None if not cli else not cli["any_imports_prefect"],
        },
        "cli: the slowest everyday command's median <= 2 s": {
            "figure": cli.get("slowest_everyday_median_s"),
            "met": None if not cli else cli["slowest_everyday_median_s"] <= CLI_TARGET,
        },
        **_funder_targets(results.get("report", {})),
    }


def markdown(results: dict[str, Any]) -> str:
    """The figures table and the targets as Markdown (for docs/PERFORMANCE.md)."""
    lines = ["| benchmark | figure | value |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table_rows(results)]
    lines += ["", "| target | figure | verdict |", "| --- | --- | --- |"]
    for name, verdict in results.get("targets", {}).items():
        met = {True: "met", False: "**not met**", None: "not measured"}[verdict["met"]]
        lines.append(f"| {name} | {verdict['figure']} | {met} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json")
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))

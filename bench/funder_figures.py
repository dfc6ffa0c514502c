"""The funder's report section's rows in the figures table, and its targets' verdicts."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str]
REPORT_TARGET = 3.0  # seconds: "no more than a few seconds" for 100 x 100 (issue 12)


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def funder_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    size = f"report {r.get('cohorts')}x{r.get('trainees_per_cohort')}"
    for backend in ("sqlite", "postgres"):
        f = r.get(backend)
        if not f:
            continue
        render = ", ".join(f"{k} {v['wall_s']['median']:.3f}" for k, v in f["render"].items())
        sql = f["statements"]
        counts = ", ".join(f"{k}: {v}" for k, v in sql.items() if k.isdigit())
        cli = f["cli"]
        rows += [
            (
                size,
                f"{backend}: funder_report()",
                f"{_s(f['funder_report_s']['median'])} (CPU {_s(f['funder_report_cpu_s'])})",
            ),
            (size, f"{backend}: render (s)", render),
            (size, f"{backend}: SQL by cohorts", f"{counts} ({sql['per_extra_cohort']} a cohort)"),
            (
                size,
                f"{backend}: journey report --format md",
                f"{_s(cli['wall_s']['median'])} median of {cli['runs']} "
                f"(CPU {_s(cli['cpu_s']['median'])}), peak {cli['peak_rss_mib']:.0f} MiB",
            ),
        ]
    if "postgres_skipped" in r:
        rows.append((size, "postgres", r["postgres_skipped"]))
    if "html_note" in r:
        rows.append((size, "html", r["html_note"]))
    return rows


def funder_targets(r: dict[str, Any]) -> dict[str, Any]:
    """Issue 12: "the report of 100 cohorts of 100 trainees takes no more than a few
    seconds" (REPORT_TARGET, the whole CLI); SQL that does not grow with cohorts."""
    if not r:
        return {}
    size = f"{r['cohorts']} x {r['trainees_per_cohort']}"
    out: dict[str, Any] = {}
    for backend in ("sqlite", "postgres"):
        f = r.get(backend)
        cli = f["cli"]["wall_s"]["median"] if f else None
        out[f"report: journey report of {size} (md, whole CLI, {backend}) <= 3 s"] = {
            "figure": cli,
            "met": None if cli is None else cli <= REPORT_TARGET,
        }
        extra = f["statements"]["per_extra_cohort"] if f else None
        out[f"report: SQL statements do not grow with cohorts ({backend}, per extra cohort)"] = {
            "figure": extra,
            "met": None if extra is None else extra < 1,
        }
    return out

"""BENCHMARKS.md section: savings of every policy with 24 h slack on the dev data, closed loop with open loop beside."""

from __future__ import annotations

from typing import Any

from replays import FIXED, HOURS

ORDER = 10
KINDS = ("start", "finish")
COLUMNS = ("oracle", "auto", "auto-open", "forecast", "forecast-open", "threshold", "hysteresis", *FIXED)
REFERENCE_ORACLE = {("de_2020", 1): 22.26, ("ES_2023", 4): 29.96, ("US-CAL-CISO_2021", 8): 25.89, ("NO_2023", 1): 12.90}
"""Regression values of ../shared/reference/benchmarks.md section 2.7 (oracle, total reduction %, start deadline)."""


def grid(context: Any) -> dict[str, list[Any]]:
    """Per deadline kind: the summaries of every zone (computed once, shared with the targets section)."""
    from replays import grid_zone

    def compute() -> dict[str, list[Any]]:
        tasks = [
            (context.data, zone, kind, context.poll.total_seconds() / 60) for kind in KINDS for zone in context.zones
        ]
        results = context.map(grid_zone, tasks)
        out: dict[str, list[Any]] = {kind: [] for kind in KINDS}
        for (_, _, kind, _), rows in zip(tasks, results, strict=True):
            out[kind].extend(rows)
        return out

    return context.once("grid", compute)  # type: ignore[no-any-return]


def by_cell(rows: list[Any]) -> dict[tuple[str, float], dict[str, Any]]:
    cells: dict[tuple[str, float], dict[str, Any]] = {}
    for s in rows:
        cells.setdefault((s.zone, s.duration_h), {})[s.policy] = s
    return cells


def _cell(rows: dict[str, Any], policy: str) -> str:
    s = rows.get(policy)
    if s is None:
        return "-"
    share = "" if s.oracle_share is None or policy == "oracle" else f" ({s.oracle_share:.2f})"
    return f"{s.savings_pct:.1f}{share}"


def section(context: Any) -> str:
    if not context.has_data:
        return "## Savings on real grid data\n\nSkipped: ../shared/data is absent.\n"
    results = grid(context)
    poll = f"{context.poll.total_seconds() / 60:g} min"
    out = [
        "## Savings on real grid data (24 h slack)",
        "",
        f"Jobs of {'/'.join(map(str, HOURS))} h released every hour after 48 h of history, 24 h slack, equal power; "
        "savings = total reduction `1 - sum(achieved) / sum(nominal)` of the jobs' emissions in %, the oracle share "
        f"in brackets. **Closed loop** (what a deployed sensor does): every waiting job polls every {poll} and "
        "decides with `waiting.decide_many`, the trigger's decision, on exactly what the trigger would fetch; "
        "*-open* columns are the earlier open-loop model (plan once at release, keep the plan).",
        "Policies: `oracle` = perfect knowledge (the limit); `auto` = no forecast source, the built-in forecaster "
        "from the last 14 days; `forecast` = the true future + Gaussian noise, sigma = 5 % of the mean (seed 1, "
        "as in Let's Wait Awhile); `threshold` = start when the latest reading < P25 of the trailing 14 days; "
        "`hysteresis` = gate P25 / P40 of the trailing 14 days, no dwell; `fixed-p25`/`fixed-p50` = the original "
        "design: start when the latest reading < P25/P50 of the whole year (look-ahead, as in the reference).",
        "",
    ]
    for kind in KINDS:
        window = "start within 24 h of release" if kind == "start" else "finish within 24 h of release"
        out += [
            f"### Deadline kind `{kind}` ({window})",
            "",
            "| zone | L (h) | nominal gCO₂e/kWh | " + " | ".join(COLUMNS) + " | auto delay (h) |",
            "|---|---|---|" + "---|" * len(COLUMNS) + "---|",
        ]
        for (zone, hours), rows in by_cell(results[kind]).items():
            cells = " | ".join(_cell(rows, p) for p in COLUMNS)
            nominal, delay = rows["now"].run_now_intensity, rows["auto"].mean_delay_h
            out.append(f"| {zone} | {hours:g} | {nominal:.0f} | {cells} | {delay:.1f} |")
        out.append("")
    oracle = {(s.zone, s.duration_h): s.savings_pct for s in results["start"] if s.policy == "oracle"}
    check = [
        f"| {zone} | {hours} | {value:.2f} | {oracle[zone, hours]:.2f} |"
        for (zone, hours), value in REFERENCE_ORACLE.items()
        if (zone, hours) in oracle
    ] or ["| (reference files not replayed) | | | |"]
    out += [
        "Oracle against the reference's regression values (start deadline):",
        "",
        "| file | L (h) | reference | this replay |",
        "|---|---|---|---|",
        *check,
        "",
        "- The Electricity Maps files are hourly and match to 2 decimals; the Let's Wait Awhile files have 15/30-min "
        "rows and a job may start on any of them, so the oracle is slightly above the reference's hourly one.",
        "- Closed loop, `hysteresis` without a dwell time equals `threshold`: a waiting job's gate starts fresh at its "
        "first poll (as the trigger's does) and opens at the first reading below the low threshold; the high "
        "threshold only matters once open, when the job has started. The earlier open-loop model ran one gate per "
        "zone for the whole year.",
        "- A reading is known from the moment its interval starts (what a source's latest endpoint serves), so a "
        "poll on the hour sees that hour's reading, as the reference's threshold does; nothing later is read.",
        "",
    ]
    return "\n".join(out)

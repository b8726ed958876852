"""BENCHMARKS.md section: issue 14's targets for ``auto`` (closed loop, no forecast source, no look-ahead)."""

from __future__ import annotations

import statistics
from typing import Any

from replays import FIXED, HOURS

ORDER = 20


def section(context: Any) -> str:
    from section_forecaster import cpu_per_decision, lozo
    from section_savings import KINDS, grid

    if not context.has_data:
        return "## Targets for `auto`\n\nSkipped: ../shared/data is absent.\n"
    results = grid(context)
    out = [
        "## Targets for `auto` (issue 14)",
        "",
        "Targets: mean share of the oracle's savings >= 0.85 over the dev zones for 1/4/8 h jobs with 24 h slack, "
        "no zone below 0.55, and >= 1.5x the savings of the best fixed threshold; closed loop, no forecast "
        "source, no look-ahead.",
        "",
    ]
    for kind in KINDS:
        rows = results[kind]
        out += [
            f"### Deadline kind `{kind}`",
            "",
            "| L (h) | auto share (closed) | worst zone | auto share (open loop) | auto / best fixed threshold "
            "| forecast 5 % share | threshold share |",
            "|---|---|---|---|---|---|---|",
        ]
        for hours in HOURS:
            cell = [s for s in rows if s.duration_h == hours]

            def of(policy: str, cell: list[Any] = cell) -> list[Any]:
                return [s for s in cell if s.policy == policy]

            auto = of("auto")
            worst = min(auto, key=lambda s: s.oracle_share or 0.0)
            best_fixed = {
                s.zone: max(
                    t.savings_pct for t in rows if t.zone == s.zone and t.duration_h == hours and t.policy in FIXED
                )
                for s in auto
            }
            ratio = statistics.fmean(s.savings_pct for s in auto) / statistics.fmean(best_fixed.values())
            out.append(
                f"| {hours} | {_share(auto):.2f} | {worst.zone} {worst.oracle_share:.2f} "
                f"| {_share(of('auto-open')):.2f} | {ratio:.2f} | {_share(of('forecast')):.2f} "
                f"| {_share(of('threshold')):.2f} |"
            )
        per_zone = {}
        for s in rows:
            if s.policy == "auto":
                per_zone.setdefault(s.zone, []).append(s.oracle_share or 0.0)
        zone_means = {z: statistics.fmean(v) for z, v in per_zone.items()}
        weakest = sorted(zone_means.items(), key=lambda item: item[1])[:4]
        mean = statistics.fmean(zone_means.values())
        out += [
            "",
            f"Mean over zones and lengths: **{mean:.3f}** (target 0.85); weakest zones (mean of 1/4/8 h): "
            + ", ".join(f"{z} {v:.2f}" for z, v in weakest)
            + ". The ratio is mean auto savings over the mean of each zone's better fixed threshold.",
            "",
        ]
    held_out = lozo(context)["held_out"]
    lozo_mean = statistics.fmean(v for _, v, _ in held_out.values())
    worst_zone = min(held_out.items(), key=lambda item: item[1][1])
    out += [
        f"Leave-one-zone-out (section below): mean {lozo_mean:.3f}, weakest {worst_zone[0]} {worst_zone[1][1]:.3f}. "
        f"CPU per decision: {cpu_per_decision(60) * 1e3:.2f} ms (14 days hourly; budget 5 ms).",
        "",
        *_why(results["start"]),
    ]
    return "\n".join(out)


def _why(rows: list[Any]) -> list[str]:
    """Which zones meet the target and which do not, with their numbers (start deadlines)."""
    auto: dict[str, list[float]] = {}
    forecast: list[float] = []
    for s in rows:
        if s.policy == "auto":
            auto.setdefault(s.zone, []).append(s.oracle_share or 0.0)
        elif s.policy == "forecast":
            forecast.append(s.oracle_share or 0.0)
    means = {z: statistics.fmean(v) for z, v in auto.items()}
    strong = sorted((z for z, v in means.items() if v >= 0.8), key=means.__getitem__, reverse=True)
    weak = sorted((z for z, v in means.items() if v < 0.8), key=means.__getitem__)
    if statistics.fmean(means.values()) >= 0.85:
        return ["The mean target is met.", ""]
    return [
        "**Where and why the 0.85 target is missed.** Zones at or above 0.80: "
        + ", ".join(f"{z} {means[z]:.2f}" for z in strong)
        + " -- solar- and demand-shaped grids whose cheapest hours recur daily, which history predicts. Below: "
        + ", ".join(f"{z} {means[z]:.2f}" for z in weak)
        + " -- wind-, hydro- and import-driven grids whose lowest window in the next day is set by weather that "
        "14 days of history cannot foresee; every history-only variant tried (see the forecaster section) "
        "plateaus around 0.80 mean, per-zone best settings included. A real forecast closes the gap: `forecast` "
        f"with 5 % error reaches {min(forecast):.2f}-{max(forecast):.2f} of the oracle, and `auto` plans on a "
        "source's forecast (Electricity Maps, WattTime, Carbon Aware SDK) whenever it covers the window.",
        "",
    ]


def _share(rows: list[Any]) -> float:
    return statistics.fmean(s.oracle_share or 0.0 for s in rows) if rows else float("nan")

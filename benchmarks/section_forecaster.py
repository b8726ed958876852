"""BENCHMARKS.md section: the built-in forecaster behind ``auto`` -- what it is, what was tuned on what, how it
generalises to a zone it was not tuned on (leave-one-zone-out), and its CPU cost per decision."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_carbon_provider.carbon.forecaster import DEFAULT, ForecasterConfig

ORDER = 25
LOZO_POLL_MINUTES = 60.0
PREVIOUS = ForecasterConfig(day_decay=0.9, level_hours=3.0, level_decay=0.8)
"""The forecaster before issue 14."""
GRID = [ForecasterConfig(day_decay=d, level_decay=level) for level in (0.8, 0.95, 0.98, 0.995) for d in (0.8, 0.9)]
CANDIDATES = [PREVIOUS, *GRID]


def _name(config: ForecasterConfig) -> str:
    if config == PREVIOUS:
        return "previous (level 3 h, 0.8/h; days 0.9)"
    return f"level 1 h x {config.level_decay:g}/h, days x {config.day_decay:g}"


def lozo(context: Any) -> dict[str, Any]:
    """Share of the oracle per zone and candidate configuration (auto, closed loop, start deadlines), and the
    leave-one-zone-out choice: for each zone, the configuration best on the other zones, scored on this one."""
    from replays import auto_shares

    def compute() -> dict[str, Any]:
        zones = list(context.zones)
        tasks = [(context.data, zone, config, LOZO_POLL_MINUTES) for config in CANDIDATES for zone in zones]
        results = context.map(auto_shares, tasks)
        share = {
            (zone, config): statistics.fmean(r.values()) for (_, zone, config, _), r in zip(tasks, results, strict=True)
        }
        per_cell = {(zone, config): r for (_, zone, config, _), r in zip(tasks, results, strict=True)}
        held_out = {}
        for zone in zones:
            others = [z for z in zones if z != zone]
            best = max(CANDIDATES, key=lambda c: statistics.fmean(share[z, c] for z in others))
            held_out[zone] = (best, share[zone, best], min(per_cell[zone, best].values()))
        return {"zones": zones, "share": share, "cells": per_cell, "held_out": held_out}

    return context.once("lozo", compute)  # type: ignore[no-any-return]


def cpu_per_decision(step_minutes: int, runs: int = 200) -> float:
    """Median CPU seconds of one ``decide()`` for an ``auto`` wait on 14 days of history at ``step_minutes``, as the
    trigger calls it (readings in, outlook, built-in forecast and plan built inside)."""
    import numpy as np

    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.carbon.readings import Reading
    from airflow_carbon_provider.carbon.waiting import ZoneData, decide

    rng = np.random.default_rng(0)
    step = timedelta(minutes=step_minutes)
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    n = int(timedelta(days=16) / step)
    values = 200 + 80 * np.sin(np.arange(n) * step_minutes / 60 / 24 * 2 * np.pi) + rng.normal(0, 20, n)
    readings = [Reading("XX", t0 + i * step, t0 + (i + 1) * step, float(v)) for i, v in enumerate(values)]
    per_day = int(timedelta(days=1) / step)
    spec = PlanSpec(duration=timedelta(hours=4))
    times = []
    for k in range(runs):
        i = 15 * per_day + k % per_day
        now = readings[i].start + step / 2
        data = {"XX": ZoneData(latest=readings[i], history=readings[i - 14 * per_day : i])}
        c0 = time.process_time()
        decide(spec, now=now, deadline=now + timedelta(hours=24), data=data, poll_interval=timedelta(minutes=5))
        times.append(time.process_time() - c0)
    return statistics.median(times)


def section(context: Any) -> str:
    out = [
        "## The built-in forecaster (`auto` without a forecast source)",
        "",
        "A daily profile -- the weighted mean of the same time of day over the last "
        f"{DEFAULT.days} days, each day {DEFAULT.day_decay:g} times the weight of the next more recent one, the "
        f"same weekday +{DEFAULT.week_weight:g} -- plus the last {DEFAULT.level_hours:g} h's deviation from that "
        f"profile, fading by {DEFAULT.level_decay:g} per hour of lead time. Five parameters; the change from the "
        "previous version is three of them (last hour instead of 3 h, fading 0.98/h instead of 0.8/h, days 0.8 "
        "instead of 0.9): weather-driven levels (wind, hydro, imports) last many hours, so the current deviation "
        "is the best predictor of the next day's level that history alone gives.",
        "",
        "**What was tuned on what.** The parameters were chosen on the 11 dev zone-years below (`start` "
        "deadlines, 24 h slack, 1/4/8 h jobs), first with a fast hourly research replay over a grid of 162 "
        "combinations (days 7/14/28, same-weekday weight 0/1/3, level 1/3/6 h, fading 0.95/0.98/0.99, days "
        "0.8/0.9; 14 days kept, the history the triggerer already fetches), then confirmed in the product's "
        "closed loop. Tried and rejected on the same data (none beat the profile + fading level by more than "
        "0.01 of the oracle, most lost): a risk premium on later windows (optimal-stopping style, both signs), "
        "a damped trend of the deviation, per-lead linear regressions on lagged values learned online from the "
        "history window, nearest-neighbour analogues of the last 6-24 h, a median profile, a multiplicative level. "
        "Per-zone best settings of this family (an upper bound for learning its weights per zone) reach only "
        "about 0.80 mean in that replay, so learning them online was not pursued. Rechecked after the boundary "
        "rule (a reading is known from its start) in an hourly research replay with 60-min polls, which matches "
        "this closed loop to 0.001 on the EM zones (not shipped): shipped 0.791 mean, best of 72 settings of "
        "the family (days 0.7/0.8/0.9, same weekday +0/1/3, level 1/3 h, fading 0.9/0.95/0.98/0.99) 0.795, "
        "each zone's own best 0.804; workday/weekend-typed profiles 0.794; averaging three variants 0.798; a "
        "lead-dependent margin for forecast uncertainty (either sign) at best +0.001. An upper bound beyond the "
        "family: per-lead least-squares regressions on 11 features (profile, last 4 h, deviations, 24 h mean) "
        "fitted on each zone's whole year -- look-ahead, not deployable -- reach 0.811. History alone does not "
        "get to 0.85 here.",
        "",
    ]
    if not context.has_data:
        return "\n".join([*out, "Skipped: ../shared/data is absent.", ""])
    result = lozo(context)
    zones, share, held_out = result["zones"], result["share"], result["held_out"]
    out += [
        f"**Leave one zone out** (closed loop, {LOZO_POLL_MINUTES:g}-min polls, start deadlines, mean share of "
        f"1/4/8 h): for each zone, the configuration among {len(CANDIDATES)} candidates that is best on the other "
        "10 zones, scored on the held-out one.",
        "",
        "| zone | chosen on the other zones | held-out share (mean 1/4/8 h) | worst job length | shipped default "
        "| previous |",
        "|---|---|---|---|---|---|",
    ]
    for zone in zones:
        best, value, worst = held_out[zone]
        shipped, previous = share[zone, DEFAULT], share[zone, PREVIOUS]
        out.append(f"| {zone} | {_name(best)} | {value:.3f} | {worst:.3f} | {shipped:.3f} | {previous:.3f} |")
    mean = statistics.fmean(v for _, v, _ in held_out.values())
    out += [
        f"| **mean** | | **{mean:.3f}** | {min(w for _, _, w in held_out.values()):.3f} | "
        f"{statistics.fmean(share[z, DEFAULT] for z in zones):.3f} | "
        f"{statistics.fmean(share[z, PREVIOUS] for z in zones):.3f} |",
        "",
        "All candidates, mean share over the zones: "
        + "; ".join(f"{_name(c)} {statistics.fmean(share[z, c] for z in zones):.3f}" for c in CANDIDATES)
        + ".",
        "",
    ]
    hourly, quarter = cpu_per_decision(60), cpu_per_decision(15)
    out += [
        "**CPU per decision** (`decide()` for one `auto` wait, as the trigger calls it: readings in, outlook, "
        "built-in forecast and plan; median of 200, this machine): "
        f"{hourly * 1e3:.2f} ms with 14 days of hourly history, {quarter * 1e3:.2f} ms with 14 days of 15-min "
        "history; budget 5 ms.",
        "",
    ]
    return "\n".join(out)

"""What a replay measured: per zone x job group x policy (x seed) savings, oracle share and delays; table, JSON, CSV.

Jobs draw equal power while they run, so a job's emissions are its duration times the mean intensity over its run;
savings are total reductions against starting every job at its nominal time.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO

from airflow_carbon_provider.carbon.policy import Policy
from airflow_carbon_provider.carbon.series import from_epoch

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from airflow_carbon_provider.carbon.series import FloatArray, Series
    from airflow_carbon_provider.replay.engine import Decisions

HOUR = 3600.0
DECISION_COLUMNS = (
    "zone",
    "policy",
    "seed",
    "job",
    "earliest",
    "nominal",
    "deadline",
    "duration_h",
    "release",
    "start",
)
"""``release`` is the earliest start, kept under its earlier name."""


@dataclass(frozen=True)
class Summary:
    """``savings_pct`` is the total reduction 1 - sum(achieved)/sum(nominal) of the jobs' emissions (the convention
    of Wiesner et al. and Sukprasert et al.); ``savings_per_job_pct`` the mean of the jobs' relative savings.
    ``seed`` is None for policies without noise and for the mean over seeds (whose spread is ``savings_sd_pct``);
    ``duration_h`` is None for a mix of durations (a jobs file); delays are from the nominal start."""

    zone: str
    duration_h: float | None
    policy: str
    seed: int | None
    mode: str
    jobs: int
    run_now_intensity: float
    achieved_intensity: float
    savings_pct: float
    savings_per_job_pct: float
    oracle_share: float | None
    mean_delay_h: float
    p95_delay_h: float
    savings_sd_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Run:
    zone: str
    label: str
    policy: Policy
    seed: int | None
    mode: str
    nominal: FloatArray
    starts: FloatArray
    duration: FloatArray


def _runs(decisions: Iterable[Decisions]) -> list[_Run]:
    """Decisions merged per zone, job label, policy and seed (a jobs file comes in one group per duration)."""
    import numpy as np

    merged: dict[tuple[str, str, Policy, int | None], list[Decisions]] = {}
    for d in decisions:
        merged.setdefault((d.zone, d.jobs.label, d.policy, d.seed), []).append(d)
    return [
        _Run(
            zone,
            label,
            policy,
            seed,
            parts[0].mode,
            np.concatenate([p.jobs.nominal for p in parts]),
            np.concatenate([p.starts for p in parts]),
            np.concatenate([p.jobs.duration for p in parts]),
        )
        for (zone, label, policy, seed), parts in merged.items()
    ]


def summarize(truths: Mapping[str, Series], decisions: Iterable[Decisions]) -> list[Summary]:
    """One summary per run, then per seeded policy the mean over its seeds; oracle shares use the same zone and
    job group's oracle (if replayed)."""
    import numpy as np

    rows: list[tuple[_Run, Summary]] = []
    for run in _runs(decisions):
        truth = truths[run.zone]
        before = truth.window_means(run.nominal, run.nominal + run.duration)
        after = truth.window_means(run.starts, run.starts + run.duration)
        total = float(np.sum(before * run.duration))
        savings = 100 * (1 - float(np.sum(after * run.duration)) / total) if total > 0 else 0.0
        positive = before > 0
        per_job = 100 * float(np.mean(1 - after[positive] / before[positive])) if positive.any() else 0.0
        delays = (run.starts - run.nominal) / HOUR
        uniform = len(run.duration) and bool((run.duration == run.duration[0]).all())
        summary = Summary(
            zone=run.zone,
            duration_h=float(run.duration[0]) / HOUR if uniform else None,
            policy=run.policy.value,
            seed=run.seed,
            mode=run.mode,
            jobs=len(run.starts),
            run_now_intensity=round(float(np.mean(before)), 3) if len(before) else 0.0,
            achieved_intensity=round(float(np.mean(after)), 3) if len(after) else 0.0,
            savings_pct=round(savings, 3),
            savings_per_job_pct=round(per_job, 3),
            oracle_share=None,
            mean_delay_h=round(float(np.mean(delays)), 3) if len(delays) else 0.0,
            p95_delay_h=round(float(np.percentile(delays, 95)), 3) if len(delays) else 0.0,
        )
        rows.append((run, summary))
    oracle = {(r.zone, r.label): s.savings_pct for r, s in rows if r.policy is Policy.ORACLE}
    out: list[tuple[str, Summary]] = []
    seeded: dict[tuple[str, str, str], list[Summary]] = {}
    for run, summary in rows:
        best = oracle.get((run.zone, run.label))
        shared = replace(summary, oracle_share=round(summary.savings_pct / best, 4) if best else None)
        if run.seed is None:
            out.append((run.label, shared))
        else:
            seeded.setdefault((run.zone, run.label, run.policy.value), []).append(shared)
    for (_, label, _), group in seeded.items():
        out.extend((label, s) for s in [*group, _mean(group)])
    zones = _first_seen(r.zone for r, _ in rows)
    labels = _first_seen(r.label for r, _ in rows)
    policies = _first_seen(r.policy.value for r, _ in rows)
    out.sort(
        key=lambda item: (
            zones[item[1].zone],
            labels[item[0]],
            policies[item[1].policy],
            item[1].seed is None,
            item[1].seed or 0,
        )
    )
    return [s for _, s in out]


def _first_seen(values: Iterable[str]) -> dict[str, int]:
    return {value: i for i, value in enumerate(dict.fromkeys(values))}


def _mean(group: list[Summary]) -> Summary:
    """The mean over seeds, with the savings' standard deviation as the spread."""

    def mean(name: str) -> float:
        return round(statistics.fmean(getattr(s, name) for s in group), 4)

    shares = [s.oracle_share for s in group if s.oracle_share is not None]
    return replace(
        group[0],
        seed=None,
        run_now_intensity=mean("run_now_intensity"),
        achieved_intensity=mean("achieved_intensity"),
        savings_pct=mean("savings_pct"),
        savings_per_job_pct=mean("savings_per_job_pct"),
        oracle_share=round(statistics.fmean(shares), 4) if shares else None,
        mean_delay_h=mean("mean_delay_h"),
        p95_delay_h=mean("p95_delay_h"),
        savings_sd_pct=round(statistics.stdev(s.savings_pct for s in group), 4) if len(group) > 1 else None,
    )


def format_table(summaries: Iterable[Summary]) -> str:
    """A plain-text table, one row per zone x job group x policy (means over seeds, with their spread)."""
    header = (
        "zone",
        "dur_h",
        "policy",
        "mode",
        "jobs",
        "nominal_gCO₂e/kWh",
        "got_gCO₂e/kWh",
        "savings_%",
        "oracle_share",
        "delay_h",
        "p95_h",
    )
    lines = [header]
    for s in summaries:
        if s.seed is not None:
            continue
        share = "-" if s.oracle_share is None else f"{s.oracle_share:.2f}"
        savings = f"{s.savings_pct:.1f}" + (f" ±{s.savings_sd_pct:.1f}" if s.savings_sd_pct is not None else "")
        lines.append(
            (
                s.zone,
                "mix" if s.duration_h is None else f"{s.duration_h:g}",
                s.policy,
                s.mode,
                str(s.jobs),
                f"{s.run_now_intensity:.1f}",
                f"{s.achieved_intensity:.1f}",
                savings,
                share,
                f"{s.mean_delay_h:.1f}",
                f"{s.p95_delay_h:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines)


def _iso(seconds: float) -> str:
    return from_epoch(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_decisions(decisions: Iterable[Decisions], out: TextIO) -> None:
    """Every job's decision, columns :data:`DECISION_COLUMNS` (times ISO-8601 UTC; ``seed`` empty without noise)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DECISION_COLUMNS)
    for d in decisions:
        jobs = d.jobs
        seed = "" if d.seed is None else str(d.seed)
        for i, start in enumerate(d.starts.tolist()):
            earliest = _iso(float(jobs.earliest[i]))
            writer.writerow(
                (
                    d.zone,
                    d.policy.value,
                    seed,
                    jobs.names[i],
                    earliest,
                    _iso(float(jobs.nominal[i])),
                    _iso(float(jobs.deadline[i])),
                    f"{float(jobs.duration[i]) / HOUR:g}",
                    earliest,
                    _iso(start),
                )
            )

"""What a replay measured: per zone x duration x policy savings, oracle share and delays; table, JSON, CSV."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TextIO

from airflow_carbon_provider.carbon.policy import Policy
from airflow_carbon_provider.carbon.series import from_epoch

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.engine import Decisions

HOUR = 3600.0


@dataclass(frozen=True)
class Summary:
    """``savings_pct`` is the total reduction 1 - sum(achieved)/sum(run now) for equal-energy jobs (the convention of
    Wiesner et al. and Sukprasert et al.); ``savings_per_job_pct`` the mean of the jobs' relative savings."""

    zone: str
    duration_h: float
    policy: str
    jobs: int
    run_now_intensity: float
    achieved_intensity: float
    savings_pct: float
    savings_per_job_pct: float
    oracle_share: float | None
    mean_delay_h: float
    p95_delay_h: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(truth: Series, decisions: list[Decisions]) -> list[Summary]:
    """One summary per decision set; the oracle share uses the same zone and duration's oracle (if replayed)."""
    import numpy as np

    rows: list[tuple[Decisions, float, float, float, float]] = []
    oracle: dict[tuple[str, float], float] = {}
    for d in decisions:
        length = d.duration.total_seconds()
        now_means = truth.window_means(d.releases, d.releases + length)
        achieved = truth.window_means(d.starts, d.starts + length)
        total = float(np.sum(now_means))
        savings = 100 * (1 - float(np.sum(achieved)) / total) if total > 0 else 0.0
        positive = now_means > 0
        per_job = 100 * float(np.mean(1 - achieved[positive] / now_means[positive])) if positive.any() else 0.0
        rows.append((d, float(np.mean(now_means)), float(np.mean(achieved)), savings, per_job))
        if d.policy is Policy.ORACLE:
            oracle[d.zone, length] = savings
    out = []
    for d, now_mean, achieved_mean, savings, per_job in rows:
        delays = (d.starts - d.releases) / HOUR
        best = oracle.get((d.zone, d.duration.total_seconds()))
        out.append(
            Summary(
                zone=d.zone,
                duration_h=d.duration.total_seconds() / HOUR,
                policy=d.policy.value,
                jobs=len(d.releases),
                run_now_intensity=round(now_mean, 3),
                achieved_intensity=round(achieved_mean, 3),
                savings_pct=round(savings, 3),
                savings_per_job_pct=round(per_job, 3),
                oracle_share=round(savings / best, 4) if best else None,
                mean_delay_h=round(float(np.mean(delays)), 3) if len(delays) else 0.0,
                p95_delay_h=round(float(np.percentile(delays, 95)), 3) if len(delays) else 0.0,
            )
        )
    return out


def format_table(summaries: Iterable[Summary]) -> str:
    """A plain-text table, one row per zone x duration x policy."""
    header = (
        "zone",
        "dur_h",
        "policy",
        "jobs",
        "now_g/kWh",
        "got_g/kWh",
        "savings_%",
        "oracle_share",
        "delay_h",
        "p95_h",
    )
    lines = [header]
    for s in summaries:
        share = "-" if s.oracle_share is None else f"{s.oracle_share:.2f}"
        lines.append(
            (
                s.zone,
                f"{s.duration_h:g}",
                s.policy,
                str(s.jobs),
                f"{s.run_now_intensity:.1f}",
                f"{s.achieved_intensity:.1f}",
                f"{s.savings_pct:.1f}",
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
    """Every job's decision, columns ``zone,policy,duration_h,release,start`` (ISO-8601 UTC)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("zone", "policy", "duration_h", "release", "start"))
    for d in decisions:
        hours = f"{d.duration.total_seconds() / HOUR:g}"
        for release, start in zip(d.releases.tolist(), d.starts.tolist(), strict=True):
            writer.writerow((d.zone, d.policy.value, hours, _iso(release), _iso(start)))

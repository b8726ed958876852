"""``--plot``: a self-contained picture of a replay (inline SVG; no script, no network, no plotting library).

Two parts: savings per zone, job group and policy as bars whose grey track is the oracle (the limit), and one
sample week per zone with the intensity curve and, per policy, where the jobs' nominal times were moved to, so a
reader sees why a policy saved what it did.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.policy import Policy
from airflow_carbon_provider.carbon.series import from_epoch

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.engine import Decisions
    from airflow_carbon_provider.replay.results import Summary

COLOURS = {
    "threshold": "#8d6e63",
    "hysteresis": "#ab47bc",
    "forecast": "#1e88e5",
    "auto": "#2e7d32",
    "oracle": "#9e9e9e",
    "now": "#424242",
}
WEEK = 7 * 86400.0
WIDTH = 900
FONT = 'font-family="sans-serif" font-size="11"'


def write_plot(
    path: Path, zones: Mapping[str, Series], summaries: Sequence[Summary], decisions: Sequence[Decisions]
) -> None:
    """Write the picture as ``.svg`` (one image) or ``.html`` (a page around the same SVG)."""
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".html", ".htm"):
        raise ValueError(f"--plot {path}: write .svg or .html (a self-contained picture)")
    svg = replay_svg(zones, summaries, decisions)
    if suffix == ".svg":
        path.write_text(svg, encoding="utf-8")
        return
    path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Carbon-aware replay</title></head>'
        f'<body style="font-family:sans-serif;margin:24px"><h1>Carbon-aware replay</h1>{svg}</body></html>\n',
        encoding="utf-8",
    )


def replay_svg(zones: Mapping[str, Series], summaries: Sequence[Summary], decisions: Sequence[Decisions]) -> str:
    parts, height = _savings(summaries, 0)
    for zone, truth in zones.items():
        week, height = _week(zone, truth, [d for d in decisions if d.zone == zone], height + 24)
        parts.extend(week)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height + 10}" width="{WIDTH}" '
        f'height="{height + 10}" {FONT} role="img" aria-label="Carbon-aware replay: savings and a sample week">'
        f'<rect width="100%" height="100%" fill="white"/>{"".join(parts)}</svg>\n'
    )


def _savings(summaries: Sequence[Summary], top: float) -> tuple[list[str], float]:
    """Bars of savings % per zone x group x policy; the grey track behind each bar is the oracle's savings."""
    rows = [s for s in summaries if s.seed is None and s.policy not in ("now", "oracle")]
    oracle = {(s.zone, s.duration_h): s.savings_pct for s in summaries if s.policy == "oracle"}
    scale_max = max([5.0, *oracle.values(), *(s.savings_pct for s in rows)])
    left, bar_h, x0, x1 = 200, 12, 200, WIDTH - 60
    out = [
        f'<text x="0" y="{top + 16}" font-size="15" font-weight="bold">Savings vs running at the nominal time '
        "(%); grey track: the oracle (the limit)</text>"
    ]
    y = top + 30
    legend = sorted({s.policy for s in rows}, key=lambda p: list(COLOURS).index(p) if p in COLOURS else 99)
    for i, policy in enumerate(legend):
        out.append(
            f'<rect x="{left + i * 110}" y="{y}" width="10" height="10" fill="{COLOURS.get(policy, "#000")}"/>'
            f'<text x="{left + i * 110 + 14}" y="{y + 9}">{escape(policy)}</text>'
        )
    y += 20

    def x(value: float) -> float:
        return x0 + max(value, 0.0) / scale_max * (x1 - x0)

    last_group = last_track = None
    for s in rows:
        group = (s.zone, s.duration_h)
        if group != last_group:
            y += 6
            size = "mixed durations" if s.duration_h is None else f"{s.duration_h:g} h jobs"
            out.append(f'<text x="{left - 8}" y="{y + 10}" text-anchor="end">{escape(s.zone)}, {size}</text>')
            last_group = group
        limit = oracle.get(group)
        if limit is not None and group != last_track:
            height = bar_h * sum(1 for r in rows if (r.zone, r.duration_h) == group) + 2
            out.append(
                f'<rect x="{x0}" y="{y}" width="{x(limit) - x0:.1f}" height="{height}" fill="#eeeeee"/>'
                f'<text x="{x(limit) + 4:.1f}" y="{y + height - 2}" fill="#9e9e9e">oracle {limit:.1f}</text>'
            )
            last_track = group
        colour = COLOURS.get(s.policy, "#000")
        share = "" if s.oracle_share is None else f", {s.oracle_share:.2f} of the oracle"
        out.append(
            f'<rect x="{x0}" y="{y + 2}" width="{x(s.savings_pct) - x0:.1f}" height="{bar_h - 4}" fill="{colour}">'
            f"<title>{escape(s.zone)} {escape(s.policy)}: {s.savings_pct:.1f} %{share}</title></rect>"
            f'<text x="{x(s.savings_pct) + 4:.1f}" y="{y + 10}" fill="#424242" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{s.savings_pct:.1f}</text>'
        )
        y += bar_h + 2
    return out, y


def _week(zone: str, truth: Series, decisions: Sequence[Decisions], top: float) -> tuple[list[str], float]:
    """The intensity over a sample week (the middle of the data) and, per policy, nominal -> chosen start."""
    import numpy as np

    middle = (truth.first_start + truth.last_end) / 2
    start = max(truth.first_start, middle - middle % 86400)
    end = min(truth.last_end, start + WEEK)
    window = truth.ending_after(start).before(end)
    if not len(window):
        return [], top
    policies = [d for d in decisions if d.seed is None or d.seed == min(x.seed or 0 for x in decisions)]
    label = policies[0].jobs.label if policies else ""
    lanes = [d for d in policies if d.jobs.label == label and d.policy is not Policy.NOW]
    chart_h, lane_h, x0, x1 = 150, 16, 200, WIDTH - 20
    values = window.view_values()
    high = float(values.max()) * 1.1 or 1.0

    def x(t: float) -> float:
        return x0 + (t - start) / (end - start) * (x1 - x0)

    def y(v: float) -> float:
        return top + 24 + chart_h - v / high * chart_h

    first_day = from_epoch(start).strftime("%Y-%m-%d")
    out = [
        f'<text x="0" y="{top + 14}" font-size="15" font-weight="bold">{escape(zone)}: a sample week from '
        f"{first_day} ({escape(label)} jobs; lines from the nominal time to the chosen start)</text>",
        f'<text x="{x0 - 8}" y="{y(high / 1.1) + 4:.1f}" text-anchor="end" fill="#616161">{high / 1.1:.0f}</text>',
        f'<text x="{x0 - 8}" y="{y(0) + 4:.1f}" text-anchor="end" fill="#616161">0 gCO₂e/kWh</text>',
        f'<line x1="{x0}" y1="{y(0):.1f}" x2="{x1}" y2="{y(0):.1f}" stroke="#bdbdbd"/>',
    ]
    for day in np.arange(start, end, 86400.0).tolist():
        out.append(
            f'<line x1="{x(day):.1f}" y1="{top + 24}" x2="{x(day):.1f}" y2="{y(0):.1f}" stroke="#f0f0f0"/>'
            f'<text x="{x(day) + 3:.1f}" y="{y(0) + 12:.1f}" fill="#616161">{from_epoch(day):%a %d}</text>'
        )
    points = []
    for s, e, v in zip(window.view_starts().tolist(), window.view_ends().tolist(), values.tolist(), strict=True):
        points.append(f"{x(max(s, start)):.1f},{y(v):.1f} {x(min(e, end)):.1f},{y(v):.1f}")
    out.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#37474f" stroke-width="1.5"/>')
    lane_y = y(0) + 22
    for d in lanes:
        colour = COLOURS.get(d.policy.value, "#000")
        inside = np.flatnonzero((d.jobs.nominal >= start) & (d.jobs.nominal < end))
        step = max(1, len(inside) // 42)  # about six jobs a day stay readable
        out.append(
            f'<text x="{x0 - 8}" y="{lane_y + 4:.1f}" text-anchor="end" fill="{colour}">{escape(d.policy.value)}</text>'
        )
        for i in inside[::step].tolist():
            a, b = x(float(d.jobs.nominal[i])), x(min(float(d.starts[i]), end))
            out.append(
                f'<line x1="{a:.1f}" y1="{lane_y - 5:.1f}" x2="{b:.1f}" y2="{lane_y + 3:.1f}" stroke="{colour}" '
                f'stroke-opacity="0.5"/><circle cx="{b:.1f}" cy="{lane_y + 3:.1f}" r="2.2" fill="{colour}"/>'
            )
        lane_y += lane_h
    return out, lane_y

"""Server-side inline SVG chart of carbon intensity around a run: no script, no CDN, no fetch."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from airflow_carbon_provider.carbon.payloads import SeriesPoint

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40


@dataclass(frozen=True, slots=True)
class Marker:
    """A labelled instant drawn as a vertical line (release, chosen start, end, deadline)."""

    label: str
    at: datetime
    colour: str


def intensity_chart(
    series: Sequence[SeriesPoint], markers: Sequence[Marker], run: tuple[datetime, datetime] | None
) -> str:
    """SVG of intensity as steps (dashed where forecast), the run window shaded and the markers labelled."""
    if not series:
        return '<p class="muted">No intensity series in the report.</p>'
    t0 = min([series[0].start, *(m.at for m in markers)])
    t1 = max([series[-1].end, *(m.at for m in markers)])
    span = max((t1 - t0).total_seconds(), 1.0)
    top = max(point.intensity for point in series) * 1.1 or 1.0

    def x(moment: datetime) -> float:
        return LEFT + (moment - t0).total_seconds() / span * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - value / top * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg class="carbon-chart" role="img" aria-label="Carbon intensity over time" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif"'
        ' font-size="11">'
    ]
    if run is not None:
        parts.append(
            f'<rect class="run-window" x="{x(run[0]):.1f}" y="{TOP}" width="{max(x(run[1]) - x(run[0]), 1.0):.1f}"'
            f' height="{HEIGHT - TOP - BOTTOM}" fill="#2e7d32" fill-opacity="0.12"><title>job ran here</title></rect>'
        )
    parts.extend(_axes(top, t0, t1, x, y))
    for point in series:
        dash = ' stroke-dasharray="4 3"' if point.forecast else ""
        parts.append(
            f'<line class="intensity" x1="{x(point.start):.1f}" y1="{y(point.intensity):.1f}" x2="{x(point.end):.1f}"'
            f' y2="{y(point.intensity):.1f}" stroke="#37474f" stroke-width="2"{dash}>'
            f"<title>{escape(_clock(point.start))} {point.intensity:.0f} g/kWh"
            f"{' (forecast)' if point.forecast else ''}</title></line>"
        )
    for index, marker in enumerate(markers):
        label_y = TOP - 14 + (index % 2) * 12
        at = x(marker.at)
        anchor = "end" if at > WIDTH - RIGHT - 50 else "start" if at < LEFT + 50 else "middle"
        parts.append(
            f'<line class="marker" x1="{at:.1f}" y1="{TOP}" x2="{at:.1f}" y2="{HEIGHT - BOTTOM}"'
            f' stroke="{marker.colour}" stroke-width="1.5"/>'
            f'<text x="{at:.1f}" y="{label_y}" fill="{marker.colour}" text-anchor="{anchor}">'
            f"{escape(marker.label)} {escape(_clock(marker.at))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _axes(
    top: float, t0: datetime, t1: datetime, x: Callable[[datetime], float], y: Callable[[float], float]
) -> list[str]:
    parts = [
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#9e9e9e"/>',
        f'<text x="6" y="{TOP - 14}" fill="#616161">gCO2e/kWh</text>',
    ]
    for step in range(5):
        value = top * step / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" stroke="#eeeeee"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#616161">{value:.0f}</text>'
        )
    for step in range(5):
        moment = t0 + (t1 - t0) * step / 4
        parts.append(
            f'<text x="{x(moment):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="#616161">'
            f"{escape(_clock(moment))}</text>"
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" fill="#616161">'
        f"UTC, {escape(t0.strftime('%Y-%m-%d'))}</text>"
    )
    return parts


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")

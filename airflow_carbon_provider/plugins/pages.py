"""Server-side HTML for the Carbon views; every string that came from a user, a DAG or an XCom is escaped."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from airflow_carbon_provider.plugins.chart import Marker, intensity_chart

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow_carbon_provider.carbon.payloads import CarbonReport, CarbonWait
    from airflow_carbon_provider.plugins.summary import RunCarbon, TaskPayload

STYLE = """
body{font-family:system-ui,sans-serif;margin:16px;color:#212121;background:#fff}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;margin:6px 0}td,th{padding:4px 10px;border-bottom:1px solid #e0e0e0;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#757575}.warn{color:#b71c1c}.good{color:#2e7d32;font-weight:600}
.totals{display:flex;gap:24px;margin:8px 0 16px}.totals div{border:1px solid #e0e0e0;border-radius:6px;padding:8px 14px}
.totals b{display:block;font-size:20px}.flag{background:#fff3e0;border-radius:4px;padding:1px 6px;margin-right:6px}
"""


def run_page(run: RunCarbon) -> str:
    """The DAG-run tab: one chart and table per report, one table per sensor wait, and what was skipped."""
    body = [
        f"<h1>Carbon &mdash; {escape(run.dag_id)} / {escape(run.run_id)}</h1>",
        '<p><a href="../../../">All carbon-aware runs</a></p>',
        *_skipped(run),
    ]
    if not run.has_data:
        body.append(
            '<p class="muted">No carbon data for this run yet. A CarbonIntensitySensor or CarbonReportOperator '
            "writes it as XCom when it finishes.</p>"
        )
    if run.deferred_tasks:
        tasks = ", ".join(escape(task) for task in run.deferred_tasks)
        body.append(f'<p class="deferred">Waiting for a green window (deferred): {tasks}.</p>')
    body.extend(_report_section(entry) for entry in run.reports)
    body.extend(_wait_section(entry) for entry in run.waits)
    return _layout(f"Carbon: {run.dag_id} / {run.run_id}", "".join(body))


def overview_page(runs: Sequence[RunCarbon]) -> str:
    """The navigation page: recent runs with carbon data across the DAGs the user may read, and totals."""
    with_data = [run for run in runs if run.has_data]
    skipped = [note for run in runs for note in run.skipped]
    body = ["<h1>Carbon-aware runs</h1>"]
    if not with_data:
        body.append('<p class="muted">No carbon data yet in the runs you can read.</p>')
    else:
        body.append(_totals(with_data))
        body.append(_overview_table(with_data))
    if skipped:
        body.append(f'<p class="warn">{len(skipped)} malformed carbon payload(s) skipped; see the run tabs.</p>')
    return _layout("Carbon-aware runs", "".join(body))


def error_page(title: str, message: str) -> str:
    return _layout(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")


def _layout(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def _skipped(run: RunCarbon) -> list[str]:
    if not run.skipped:
        return []
    items = "".join(f"<li>{escape(note)}</li>" for note in run.skipped)
    return [f'<ul class="warn skipped">{items}</ul>']


def _report_section(entry: TaskPayload[CarbonReport]) -> str:
    report = entry.payload
    markers = [
        Marker("release", report.release, "#1565c0"),
        Marker("start", report.start, "#2e7d32"),
        Marker("end", report.end, "#6d4c41"),
    ]
    if report.deadline is not None:
        markers.append(Marker("deadline", report.deadline, "#c62828"))
    rows = [
        ("Emitted", _grams(report.emitted_g)),
        ("Avoided by waiting", f'<span class="avoided {_tone(report.avoided_g)}">{_grams(report.avoided_g)}</span>'),
        ("Had it started at release", _grams(report.baseline_g)),
        ("Waited", _duration(report.waited_seconds)),
        (
            "Intensity at release / at start",
            f"{_intensity(report.intensity_at_release)} / {_intensity(report.intensity_at_start)}",
        ),
        (
            "Mean intensity during the run / if started at release",
            f"{_intensity(report.intensity_mean)} / {_intensity(report.intensity_baseline_mean)}",
        ),
        ("Energy", f"{report.energy_kwh:,.3f} kWh ({report.power_w:,.0f} W, PUE {report.pue:.2f})"),
        ("Instance type", escape(report.instance_type or "not given")),
        (
            "Window",
            f"{_when(report.release)} release, {_when(report.start)} &rarr; {_when(report.end)} run"
            + (f", deadline {_when(report.deadline)}" if report.deadline else ""),
        ),
    ]
    return (
        f'<section class="report"><h2>Report from {escape(entry.label)}: zone {escape(report.zone)}'
        f' <span class="muted">({escape(report.source)})</span></h2>'
        f"{intensity_chart(report.series, markers, (report.start, report.end))}"
        f"{_flags(report.deadline_forced, report.degraded)}{_facts(rows)}{_notes(report.notes)}</section>"
    )


def _wait_section(entry: TaskPayload[CarbonWait]) -> str:
    wait = entry.payload
    rows = [
        ("Policy", escape(wait.policy)),
        ("Waited", _duration(wait.waited_seconds)),
        ("Released / started / deadline", f"{_when(wait.release)} / {_when(wait.start)} / {_when(wait.deadline)}"),
        (
            "Intensity at release / at start",
            f"{_intensity(wait.intensity_at_release)} / {_intensity(wait.intensity_at_start)}",
        ),
    ]
    if wait.candidates:
        zones = ", ".join(f"{escape(zone)} {_intensity(value)}" for zone, value in wait.candidates)
        rows.append(("Zones considered (intensity then)", zones))
    return (
        f'<section class="wait"><h2>Wait in {escape(entry.label)}: zone {escape(wait.zone or "none usable")}'
        f' <span class="muted">({escape(wait.source)})</span></h2>'
        f"{_flags(wait.deadline_forced, wait.degraded)}{_facts(rows)}{_notes(wait.notes)}</section>"
    )


def _totals(runs: Sequence[RunCarbon]) -> str:
    emitted = sum(run.emitted_g or 0.0 for run in runs)
    avoided = sum(run.avoided_g or 0.0 for run in runs)
    waited = sum(run.waited_seconds or 0.0 for run in runs)
    return (
        f'<div class="totals"><div>Runs<b>{len(runs)}</b></div><div>Waited<b>{_duration(waited)}</b></div>'
        f"<div>Emitted<b>{_grams(emitted)}</b></div>"
        f'<div>Avoided<b class="{_tone(avoided)} total-avoided">{_grams(avoided)}</b></div></div>'
    )


def _overview_table(runs: Sequence[RunCarbon]) -> str:
    head = (
        "<tr><th>DAG</th><th>Run</th><th>Zone</th><th class=num>Waited</th><th class=num>At release</th>"
        "<th class=num>At start</th><th class=num>Emitted</th><th class=num>Avoided</th><th></th></tr>"
    )
    rows = []
    for run in runs:
        first = run.first
        link = f"dags/{quote(run.dag_id, safe='')}/runs/{quote(run.run_id, safe='')}"
        rows.append(
            f"<tr><td>{escape(run.dag_id)}</td>"
            f'<td><a href="{escape(link)}">{escape(run.run_id)}</a></td>'
            f"<td>{escape(', '.join(run.zones))}</td>"
            f"<td class=num>{_duration(run.waited_seconds)}</td>"
            f"<td class=num>{_intensity(first.intensity_at_release if first else None)}</td>"
            f"<td class=num>{_intensity(first.intensity_at_start if first else None)}</td>"
            f"<td class=num>{_grams(run.emitted_g)}</td><td class=num>{_grams(run.avoided_g)}</td>"
            f"<td>{'' if run.reports else '<span class=muted>wait only</span>'}</td></tr>"
        )
    return f'<table class="runs">{head}{"".join(rows)}</table>'


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    """Rows of (label, already-escaped HTML value)."""
    cells = "".join(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="facts">{cells}</table>'


def _flags(deadline_forced: bool, degraded: bool) -> str:
    flags = []
    if deadline_forced:
        flags.append('<span class="flag">started by the deadline, not by a green window</span>')
    if degraded:
        flags.append('<span class="flag">based on degraded data</span>')
    return f"<p>{''.join(flags)}</p>" if flags else ""


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{escape(note)}</li>" for note in notes) + "</ul>"


def _tone(avoided: float | None) -> str:
    """Green when waiting saved carbon, red when the job ran dirtier than it would have at release."""
    if avoided is None or abs(avoided) < 0.05:
        return "muted"
    return "good" if avoided > 0 else "warn"


def _grams(value: float | None) -> str:
    return "&ndash;" if value is None else f"{value:,.1f} gCO2e"


def _intensity(value: float | None) -> str:
    return "&ndash;" if value is None else f"{value:,.0f} g/kWh"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "&ndash;"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _when(moment: datetime | None) -> str:
    return "&ndash;" if moment is None else escape(moment.strftime("%Y-%m-%d %H:%M UTC"))

"""``airflow-carbon replay`` end to end: table, JSON, decisions CSV, file forms and input errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from airflow_carbon_provider.cli import main

JSON_KEYS = {
    "zone",
    "duration_h",
    "policy",
    "seed",
    "mode",
    "jobs",
    "savings_pct",
    "oracle_share",
    "mean_delay_h",
    "p95_delay_h",
}
FAST = ["--poll-interval", "1h"]


def write_simple(path, days=6, seed=1):
    rng = np.random.default_rng(seed)
    t0 = datetime(2023, 5, 1, tzinfo=UTC)
    lines = ["datetime,carbon_intensity"]
    for h in range(days * 24):
        value = 200 + 90 * np.sin(h / 24 * 2 * np.pi) + rng.normal(0, 20)
        lines.append(f"{(t0 + timedelta(hours=h)).strftime('%Y-%m-%dT%H:%M:%SZ')},{value:.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_em_export(path, days=5):
    header = (
        "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO\u2082eq/kWh (direct),"
        "Carbon Intensity gCO\u2082eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,Data Source,"
        "Data Estimated,Data Estimation Method"
    )
    t0 = datetime(2023, 1, 1)
    rows = [header]
    for h in range(days * 24):
        lca = 100 + 50 * np.cos(h / 24 * 2 * np.pi)
        stamp = (t0 + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(f"{stamp},Spain,Spain,ES,{lca - 30:.2f},{lca:.2f},50,40,entsoe.eu,false,")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    return path


def run_json(capsys, args):
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_table_has_a_row_per_zone_duration_and_policy(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    assert main(["replay", "--data", str(data), "--duration", "1h", "--duration", "4h", "--slack", "12h", *FAST]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["zone", "dur_h", "policy", "mode"]
    assert len(lines) == 1 + 2 * 6
    assert {line.split()[2] for line in lines[1:]} == {"now", "threshold", "hysteresis", "forecast", "auto", "oracle"}


def test_json_lists_the_documented_keys(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    main(["replay", "--data", str(data), "--duration", "2h", "--policy", "auto", "--policy", "oracle", "--json", *FAST])
    rows = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in rows] == ["auto", "oracle"]
    for row in rows:
        assert set(row) >= JSON_KEYS
        assert row["zone"] == "XX"
        assert row["duration_h"] == 2
        assert row["seed"] is None
    assert rows[0]["mode"] == "closed"
    assert rows[1]["oracle_share"] == 1
    assert rows[0]["savings_pct"] <= rows[1]["savings_pct"]


def test_decisions_csv_has_one_row_per_job_in_iso_utc(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    out = tmp_path / "decisions.csv"
    main(["replay", "--data", str(data), "--duration", "1h", "--policy", "oracle", "--json", "--decisions", str(out)])
    jobs = json.loads(capsys.readouterr().out)[0]["jobs"]
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
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
    ]
    assert len(rows) == jobs
    assert rows[0] == {
        **rows[0],
        "zone": "XX",
        "policy": "oracle",
        "seed": "",
        "job": "2023-05-03T00:00Z",
        "earliest": "2023-05-03T00:00:00Z",
        "nominal": "2023-05-03T00:00:00Z",
        "deadline": "2023-05-04T00:00:00Z",
        "duration_h": "1",
        "release": "2023-05-03T00:00:00Z",
    }
    for row in rows:
        release = datetime.fromisoformat(row["release"])
        start = datetime.fromisoformat(row["start"])
        assert timedelta(0) <= start - release <= timedelta(hours=24)


def test_a_directory_means_every_csv_in_it_including_electricity_maps_exports(tmp_path, capsys):
    write_simple(tmp_path / "AA.csv")
    write_em_export(tmp_path / "ES_2023_hourly.csv")
    (tmp_path / "notes.txt").write_text("not data")
    main(["replay", "--data", str(tmp_path), "--duration", "1h", "--policy", "now", "--json"])
    assert [r["zone"] for r in json.loads(capsys.readouterr().out)] == ["AA", "ES_2023"]


def test_finish_deadlines_shorten_the_window(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    args = ["replay", "--data", str(data), "--duration", "8h", "--policy", "oracle", "--json"]
    (start_kind,) = run_json(capsys, [*args, "--deadline-kind", "start"])
    (finish_kind,) = run_json(capsys, [*args, "--deadline-kind", "finish"])
    assert finish_kind["p95_delay_h"] <= 16
    assert start_kind["savings_pct"] >= finish_kind["savings_pct"]


def test_forecast_error_and_seed_make_runs_reproducible(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    args = ["replay", "--data", str(data), "--duration", "4h", "--policy", "forecast", "--json", *FAST]
    first, mean = run_json(capsys, [*args, "--forecast-error", "0.3", "--seed", "5"])
    second, _ = run_json(capsys, [*args, "--forecast-error", "0.3", "--seed", "5"])
    perfect, _ = run_json(capsys, [*args, "--forecast-error", "0", "--seed", "5"])
    assert first == second
    assert (first["seed"], mean["seed"]) == (5, None)
    assert mean["savings_pct"] == first["savings_pct"]
    assert perfect["savings_pct"] >= first["savings_pct"]


def test_a_zone_given_twice_is_an_error(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    assert main(["replay", "--data", str(data), "--data", str(data)]) == 2
    assert "zone 'XX' is given twice" in capsys.readouterr().err


def test_a_missing_file_is_an_error(tmp_path, capsys):
    assert main(["replay", "--data", str(tmp_path / "nope.csv")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--duration", "4"), ("--threshold", "-3"), ("--policy", "greedy")])
def test_bad_flags_are_rejected_by_the_parser(tmp_path, capsys, flag, value):
    data = write_simple(tmp_path / "XX.csv")
    with pytest.raises(SystemExit) as exc:
        main(["replay", "--data", str(data), flag, value])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err


def test_the_console_script_runs(tmp_path):
    data = write_simple(tmp_path / "XX.csv", days=4)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow_carbon_provider.cli",
            "replay",
            "--data",
            str(data),
            "--duration",
            "1h",
            "--policy",
            "now",
            "--policy",
            "oracle",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "oracle" in done.stdout


def write_values(path, values, step_minutes=60, start=datetime(2023, 5, 1, tzinfo=UTC)):
    lines = ["datetime,carbon_intensity"]
    for i, value in enumerate(values):
        lines.append(f"{(start + timedelta(minutes=step_minutes * i)).strftime('%Y-%m-%dT%H:%M:%SZ')},{value:.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def decisions_of(tmp_path, capsys, args):
    out = tmp_path / "decisions.csv"
    main(["replay", *args, "--json", "--decisions", str(out)])
    capsys.readouterr()
    with out.open() as f:
        return list(csv.DictReader(f))


def test_a_schedule_makes_one_job_per_fire_time_with_the_fire_time_as_baseline(tmp_path, capsys):
    # 3 days hourly; the cleanest hour each day is 03:00; a 1 h job at 01:00 may move 1 h earlier and 3 h later
    values = [300.0] * 72
    for day in range(3):
        values[24 * day + 3] = 100.0
        values[24 * day + 23] = 50.0  # outside every window
    data = write_values(tmp_path / "XX.csv", values)
    rows = decisions_of(
        tmp_path,
        capsys,
        [
            "--data",
            str(data),
            "--schedule",
            "0 1 * * *",
            "--shift-before",
            "1h",
            "--shift-after",
            "3h",
            "--duration",
            "1h",
            "--warmup",
            "0h",
            "--policy",
            "oracle",
            "--policy",
            "now",
        ],
    )
    oracle = [r for r in rows if r["policy"] == "oracle"]
    assert [r["nominal"] for r in oracle] == [f"2023-05-0{d}T01:00:00Z" for d in (1, 2, 3)]
    assert [r["earliest"] for r in oracle] == ["2023-05-01T00:00:00Z", "2023-05-02T00:00:00Z", "2023-05-03T00:00:00Z"]
    assert [r["deadline"] for r in oracle] == [f"2023-05-0{d}T04:00:00Z" for d in (1, 2, 3)]
    assert [r["start"] for r in oracle] == [f"2023-05-0{d}T03:00:00Z" for d in (1, 2, 3)]
    assert [r["start"] for r in rows if r["policy"] == "now"] == [r["nominal"] for r in oracle]


def test_a_scheduled_job_waits_closed_loop_until_the_threshold_is_met_or_its_latest_start(tmp_path, capsys):
    # 05:00 nightly job, may run 03:00-08:00; polls every 30 min from 03:00. Night 1: the 06:00 reading is clean and
    # known at 06:00. Night 2: clean only at 02:00, before the window: it starts at its latest start, 08:00.
    values = [300.0] * 48
    values[6], values[24 + 2] = 100.0, 100.0
    data = write_values(tmp_path / "XX.csv", values)
    args = ["--data", str(data), "--schedule", "0 5 * * *", "--shift-before", "2h", "--shift-after", "3h",
            "--duration", "1h", "--warmup", "0h", "--policy", "threshold", "--threshold", "200",
            "--poll-interval", "30m"]  # fmt: skip
    rows = decisions_of(tmp_path, capsys, args)
    assert [(r["earliest"], r["nominal"], r["deadline"], r["start"]) for r in rows] == [
        ("2023-05-01T03:00:00Z", "2023-05-01T05:00:00Z", "2023-05-01T08:00:00Z", "2023-05-01T06:00:00Z"),
        ("2023-05-02T03:00:00Z", "2023-05-02T05:00:00Z", "2023-05-02T08:00:00Z", "2023-05-02T08:00:00Z"),
    ]
    (summary,) = run_json(capsys, ["replay", *args])
    assert summary["mode"] == "closed"
    assert summary["savings_pct"] == pytest.approx(100 * (1 - (100 + 300) / (300 + 300)), abs=1e-3)  # 3 decimals
    assert summary["mean_delay_h"] == pytest.approx((1 + 3) / 2)  # from the fire time


def test_a_listed_job_with_a_finish_deadline_never_starts_too_late_to_finish(tmp_path, capsys):
    # a 2 h job from 10:00 that must finish by 16:00 (latest start 14:00); the only clean hour is 15:00, too late
    values = [300.0] * 24
    values[15] = 100.0
    data = write_values(tmp_path / "XX.csv", values)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("name,earliest,nominal,duration,deadline\nj,2023-05-01T10:00:00Z,,2h,2023-05-01T16:00:00Z\n")
    args = ["--data", str(data), "--jobs", str(jobs), "--warmup", "0h", "--policy", "threshold", "--threshold", "200",
            "--poll-interval", "45m"]  # fmt: skip
    rows = decisions_of(tmp_path, capsys, args)
    assert [(r["job"], r["start"]) for r in rows] == [("j", "2023-05-01T14:00:00Z")]


def test_a_job_whose_window_reaches_into_the_warmup_is_left_out(tmp_path, capsys):
    data = write_values(tmp_path / "XX.csv", [300.0, 10.0] + [300.0] * 46)
    rows = decisions_of(
        tmp_path,
        capsys,
        [
            "--data",
            str(data),
            "--schedule",
            "0 2 * * *",
            "--shift-before",
            "2h",
            "--shift-after",
            "1h",
            "--duration",
            "1h",
            "--warmup",
            "1h",
            "--policy",
            "oracle",
        ],
    )
    assert rows[0]["nominal"] == "2023-05-02T02:00:00Z"  # the first night's window starts in the warm-up


def test_savings_of_a_schedule_are_computed_against_the_fire_times(tmp_path, capsys):
    values = ([200.0] + [100.0] + [200.0] * 22) * 2
    data = write_values(tmp_path / "XX.csv", values)
    rows = run_json(
        capsys,
        [
            "replay",
            "--data",
            str(data),
            "--schedule",
            "0 0 * * *",
            "--shift-after",
            "2h",
            "--duration",
            "1h",
            "--warmup",
            "0h",
            "--policy",
            "oracle",
        ],
    )
    assert rows[0]["jobs"] == 2
    assert rows[0]["savings_pct"] == pytest.approx(50.0)
    assert rows[0]["mean_delay_h"] == 1


def test_a_jobs_file_places_each_job_in_its_own_window(tmp_path, capsys):
    values = [300.0] * 48
    values[5], values[20], values[30] = 100.0, 50.0, 20.0
    data = write_values(tmp_path / "XX.csv", values)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "name,earliest,nominal,duration,deadline\n"
        "a,2023-05-01T02:00:00Z,2023-05-01T04:00:00Z,1h,2023-05-01T10:00:00Z\n"
        "b,2023-05-01T10:00Z,,2h,2023-05-01T22:00:00+00:00\n"
        "c,2023-05-01T23:00:00Z,,30m,2023-05-02T08:00:00Z\n"
    )
    rows = decisions_of(
        tmp_path, capsys, ["--data", str(data), "--jobs", str(jobs), "--warmup", "0h", "--policy", "oracle"]
    )
    by_name = {r["job"]: r for r in rows}
    assert by_name["a"]["start"] == "2023-05-01T05:00:00Z"
    assert by_name["b"]["nominal"] == "2023-05-01T10:00:00Z"
    assert by_name["b"]["start"] == "2023-05-01T19:00:00Z"  # 19-21 and 20-22 both hold the 50 hour: earliest
    assert by_name["c"]["start"] == "2023-05-02T06:00:00Z"
    assert by_name["c"]["duration_h"] == "0.5"


def test_a_jobs_file_summary_covers_all_its_durations(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "name,earliest,nominal,duration,deadline\n"
        "a,2023-05-03T02:00:00Z,,1h,2023-05-03T20:00:00Z\n"
        "b,2023-05-03T10:00:00Z,,4h30m,2023-05-04T12:00:00Z\n"
    )
    (row,) = run_json(capsys, ["replay", "--data", str(data), "--jobs", str(jobs), "--policy", "oracle"])
    assert row["jobs"] == 2
    assert row["duration_h"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,start,duration\n", "the header must be name,earliest,nominal,duration,deadline"),
        (
            "name,earliest,nominal,duration,deadline\nx,2023-05-03T02:00:00,,1h,2023-05-03T20:00:00Z\n",
            "line 2 earliest: '2023-05-03T02:00:00' has no time zone",
        ),
        (
            "name,earliest,nominal,duration,deadline\nx,2023-05-03T02:00:00Z,,1 hour,2023-05-03T20:00:00Z\n",
            "line 2 duration",
        ),
        (
            "name,earliest,nominal,duration,deadline\nx,2023-05-03T02:00:00Z,,4h,2023-05-03T05:00:00Z\n",
            "needs earliest <= nominal <= latest start",
        ),
    ],
)
def test_a_bad_jobs_file_is_an_error_naming_the_line(tmp_path, capsys, content, message):
    data = write_simple(tmp_path / "XX.csv")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(content)
    assert main(["replay", "--data", str(data), "--jobs", str(jobs)]) == 2
    assert message in capsys.readouterr().err


def test_seeds_give_one_row_per_seed_and_a_mean_row(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    rows = run_json(
        capsys,
        [
            "replay",
            "--data",
            str(data),
            "--duration",
            "1h",
            "--policy",
            "forecast",
            "--forecast-error",
            "0.4",
            "--seed",
            "0",
            "--seeds",
            "3",
            *FAST,
        ],
    )
    assert [r["seed"] for r in rows] == [0, 1, 2, None]
    assert rows[-1]["savings_pct"] == pytest.approx(sum(r["savings_pct"] for r in rows[:3]) / 3, abs=1e-3)
    assert rows[-1]["savings_sd_pct"] is not None


def test_open_loop_rows_say_so(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    rows = run_json(capsys, ["replay", "--data", str(data), "--duration", "1h", "--policy", "auto", "--open-loop"])
    assert rows[0]["mode"] == "open"


def test_the_warmup_sets_the_first_release(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    rows = decisions_of(
        tmp_path, capsys, ["--data", str(data), "--duration", "1h", "--policy", "now", "--warmup", "0h"]
    )
    assert rows[0]["release"] == "2023-05-01T00:00:00Z"


def test_sub_hourly_data_are_replayed_at_their_own_resolution(tmp_path, capsys):
    values = [300.0] * (4 * 30)
    values[4 * 10 + 3] = 10.0  # 10:45 only
    data = write_values(tmp_path / "XX.csv", values, step_minutes=15)
    rows = decisions_of(
        tmp_path,
        capsys,
        [
            "--data",
            str(data),
            "--duration",
            "15m",
            "--slack",
            "4h",
            "--release-every",
            "1h",
            "--warmup",
            "8h",
            "--policy",
            "oracle",
        ],
    )
    assert {r["start"] for r in rows if r["release"] == "2023-05-01T08:00:00Z"} == {"2023-05-01T10:45:00Z"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schedule", "0 1 * * *", "--jobs", "x.csv"], "give --jobs or --schedule, not both"),
        (["--schedule", "0 1 * * *", "--slack", "4h"], "--slack describes released jobs"),
        (["--shift-after", "2h"], "--shift-before/--shift-after need --schedule"),
    ],
)
def test_contradicting_job_forms_are_errors(tmp_path, capsys, args, message):
    data = write_simple(tmp_path / "XX.csv")
    assert main(["replay", "--data", str(data), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_cron_expression_is_rejected_by_the_parser(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    with pytest.raises(SystemExit):
        main(["replay", "--data", str(data), "--schedule", "every night"])
    assert "is not a cron expression" in capsys.readouterr().err


def test_plot_writes_a_self_contained_page(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv", days=10)
    page = tmp_path / "replay.html"
    assert main(["replay", "--data", str(data), "--duration", "2h", "--plot", str(page), *FAST]) == 0
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in html
    for policy in ("auto", "forecast", "threshold"):
        assert f">{policy}</text>" in html


def test_plot_refuses_formats_it_cannot_write(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    assert main(["replay", "--data", str(data), "--policy", "now", "--plot", str(tmp_path / "x.png")]) == 2
    assert "write .svg or .html" in capsys.readouterr().err


def test_jobs_outside_the_data_are_left_out_and_counted(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "name,earliest,nominal,duration,deadline\n"
        "in,2023-05-03T02:00:00Z,,1h,2023-05-03T20:00:00Z\n"
        "late,2023-05-06T20:00:00Z,,1h,2023-05-08T20:00:00Z\n"
    )
    assert main(["replay", "--data", str(data), "--jobs", str(jobs), "--policy", "now", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["jobs"] == 1
    assert "1 of the 2 jobs" in captured.err

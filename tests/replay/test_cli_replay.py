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

JSON_KEYS = {"zone", "duration_h", "policy", "jobs", "savings_pct", "oracle_share", "mean_delay_h", "p95_delay_h"}


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
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_table_has_a_row_per_zone_duration_and_policy(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    assert main(["replay", "--data", str(data), "--duration", "1h", "--duration", "4h", "--slack", "12h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["zone", "dur_h", "policy"]
    assert len(lines) == 1 + 2 * 6
    assert {line.split()[2] for line in lines[1:]} == {"now", "threshold", "hysteresis", "forecast", "auto", "oracle"}


def test_json_lists_the_documented_keys(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    main(["replay", "--data", str(data), "--duration", "2h", "--policy", "auto", "--policy", "oracle", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in rows] == ["auto", "oracle"]
    for row in rows:
        assert set(row) >= JSON_KEYS
        assert row["zone"] == "XX"
        assert row["duration_h"] == 2
    assert rows[1]["oracle_share"] == 1
    assert rows[0]["savings_pct"] <= rows[1]["savings_pct"]


def test_decisions_csv_has_one_row_per_job_in_iso_utc(tmp_path, capsys):
    data = write_simple(tmp_path / "XX.csv")
    out = tmp_path / "decisions.csv"
    main(["replay", "--data", str(data), "--duration", "1h", "--policy", "oracle", "--json", "--decisions", str(out)])
    jobs = json.loads(capsys.readouterr().out)[0]["jobs"]
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["zone", "policy", "duration_h", "release", "start"]
    assert len(rows) == jobs
    assert rows[0] == {
        **rows[0],
        "zone": "XX",
        "policy": "oracle",
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
    args = ["replay", "--data", str(data), "--duration", "4h", "--policy", "forecast", "--json"]
    (first,) = run_json(capsys, [*args, "--forecast-error", "0.3", "--seed", "5"])
    (second,) = run_json(capsys, [*args, "--forecast-error", "0.3", "--seed", "5"])
    (perfect,) = run_json(capsys, [*args, "--forecast-error", "0", "--seed", "5"])
    assert first == second
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
    data = write_simple(tmp_path / "XX.csv", days=3)
    done = subprocess.run(
        [sys.executable, "-m", "airflow_carbon_provider.cli", "replay", "--data", str(data), "--duration", "1h",
         "--policy", "now", "--policy", "oracle"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "oracle" in done.stdout

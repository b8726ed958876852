"""What the Carbon page receives: the runs that pass its filter, in its order, a page of them, and aggregates over
every one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from airflow_carbon_provider.plugins.fleet import FleetRun
from airflow_carbon_provider.plugins.fleet_view import FleetQuery, fleet_view, selected, trend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def accounted(run_id: str, emitted: float | None, *, dag: str = "dag", state: str = "success", hours: float = 0,
              zones: tuple[str, ...] = ("ES",), reasons: tuple[str, ...] = ()) -> FleetRun:  # fmt: skip
    return FleetRun(
        dag, run_id, state, T0 - timedelta(hours=hours), zones=list(zones), emitted_g=emitted,
        baseline_g=None if emitted is None else emitted + 10, avoided_g=None if emitted is None else 10.0,
        energy_kwh=1.0, has_report=emitted is not None, reasons=list(reasons),
    )  # fmt: skip


RUNS = [
    accounted("a", 100.0, hours=0),
    accounted("b", 300.0, hours=1, dag="other", zones=("NO",)),
    accounted("c", 200.0, hours=2, state="failed"),
    accounted("d", None, hours=3, zones=()),  # waited, no report yet
]


def ids(view: dict) -> list[str]:
    return [run["run_id"] for run in view["runs"]]


def test_runs_come_newest_first_by_default() -> None:
    assert ids(fleet_view(RUNS, FleetQuery())) == ["a", "b", "c", "d"]


def test_a_page_is_cut_from_the_ordered_runs_but_totals_cover_them_all() -> None:
    view = fleet_view(RUNS, FleetQuery(offset=1, limit=2))

    assert ids(view) == ["b", "c"]
    assert (view["matched"], view["runs_in_range"], view["totals"]["runs"]) == (4, 4, 4)
    assert view["totals"]["emitted_g"] == 600.0


def test_avoided_grams_count_only_for_successful_accounted_runs() -> None:
    totals = fleet_view(RUNS, FleetQuery())["totals"]

    assert (totals["avoided_g"], totals["baseline_g"]) == (20.0, 420.0)
    assert totals["by_status"] == {"accounted": 2, "failed": 1, "waited": 1}


def test_unknown_values_sort_last_in_either_direction() -> None:
    for descending in (True, False):
        assert [run.run_id for run in selected(RUNS, FleetQuery(sort="emitted_g", descending=descending))][-1] == "d"
    assert ids(fleet_view(RUNS, FleetQuery(sort="emitted_g", descending=False))) == ["a", "c", "b", "d"]


def test_the_avoided_column_sorts_by_what_counts() -> None:
    order = ids(fleet_view(RUNS, FleetQuery(sort="avoided_g")))

    assert order[:2] == ["a", "b"]  # c failed: its avoided grams do not count, so it sorts with the unknown
    assert set(order[2:]) == {"c", "d"}


def test_the_filter_matches_any_case_in_dag_zone_status_or_reason() -> None:
    runs = [*RUNS, accounted("e", 1.0, reasons=("Started at the DEADLINE",))]

    assert ids(fleet_view(runs, FleetQuery(text="OTHER"))) == ["b"]
    assert ids(fleet_view(runs, FleetQuery(text="no"))) == ["b"]
    assert ids(fleet_view(runs, FleetQuery(text="failed"))) == ["c"]
    assert ids(fleet_view(runs, FleetQuery(text="deadline"))) == ["e"]


def test_aggregates_follow_the_filter() -> None:
    view = fleet_view(RUNS, FleetQuery(status="accounted"))

    assert (view["matched"], view["totals"]["emitted_g"]) == (2, 400.0)
    assert {group["key"] for group in view["by_dag"]} == {"dag", "other"}


def test_a_run_counts_in_each_of_its_zones_and_one_without_under_none() -> None:
    runs = [accounted("x", 5.0, zones=("ES", "PL")), accounted("y", None, zones=())]

    by_zone = {group["key"]: group["runs"] for group in fleet_view(runs, FleetQuery())["by_zone"]}

    assert by_zone == {"ES": 1, "PL": 1, "(none)": 1}


def test_the_trend_is_hourly_over_two_days_at_most() -> None:
    result = trend(RUNS, UTC)

    assert result["step"] == "hour"
    assert [point["start"] for point in result["points"]] == [
        "2026-03-01T10:00:00+00:00", "2026-03-01T11:00:00+00:00", "2026-03-01T12:00:00+00:00",
    ]  # fmt: skip
    assert result["points"][0] == {
        "start": "2026-03-01T10:00:00+00:00", "end": "2026-03-01T11:00:00+00:00", "emitted_g": 200.0,
        "baseline_g": 210.0,
    }  # fmt: skip


def test_trend_hours_are_the_users_hours_in_a_half_hour_zone() -> None:
    result = trend([accounted("a", 1.0)], ZoneInfo("Asia/Kolkata"))

    assert result["points"][0]["start"] == "2026-03-01T11:30:00+00:00"  # 17:00 in India


def test_trend_days_run_from_local_midnight_and_last_23_hours_when_clocks_go_forward() -> None:
    paris = ZoneInfo("Europe/Paris")
    runs = [accounted("a", 1.0), accounted("b", 2.0, hours=-27 * 24)]  # 1 March and 28 March 2026 (clocks: 29th)
    runs.append(accounted("c", 4.0, hours=-28 * 24))

    points = trend(runs, paris)["points"]

    assert points[0]["start"] == "2026-02-28T23:00:00+00:00"  # midnight in Paris (UTC+1)
    assert [(p["start"], p["end"]) for p in points[1:]] == [
        ("2026-03-27T23:00:00+00:00", "2026-03-28T23:00:00+00:00"),
        ("2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00"),  # 29 March lasts 23 hours
    ]


def test_no_accounted_run_means_no_trend() -> None:
    assert trend([accounted("d", None)], UTC) == {"step": None, "points": []}

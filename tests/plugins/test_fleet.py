"""The dashboard's rows: one per run, its carbon status, and what counts as avoided."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow_carbon_provider.plugins.fleet import KINDS, PAYLOAD_FIELDS, CarbonXComRow, fleet_runs

REPORT, WAIT, STATE, NODEPOOL = KINDS
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(kind: str = REPORT, *, run: str = "r1", run_state: str = "success", task_state: str = "success", **fields):
    values = {"emitted_g": 100.0, "baseline_g": 150.0, "avoided_g": 50.0, "energy_kwh": 1.0} if kind == REPORT else {}
    return CarbonXComRow("dag", run, run_state, T0, task_state, kind, **{**values, **fields})


def test_a_successful_accounted_run_counts_its_avoided_grams() -> None:
    (run,) = fleet_runs([row(zone="ES"), row(WAIT, zone="ES", waited_seconds=3600.0)])

    assert (run.status, run.counted_avoided_g, run.zones, run.waited_seconds) == ("accounted", 50.0, ["ES"], 3600.0)


def test_a_failed_run_shows_its_grams_but_counts_none_avoided() -> None:
    (run,) = fleet_runs([row(run_state="failed")])

    assert (run.status, run.emitted_g, run.avoided_g, run.counted_avoided_g) == ("failed", 100.0, 50.0, None)


def test_a_failed_carbon_task_fails_the_row_even_in_a_running_run() -> None:
    (run,) = fleet_runs([row(run_state="running"), row(WAIT, task_state="failed")])

    assert (run.status, run.counted_avoided_g) == ("failed", None)


def test_a_skipped_wait_is_shown_with_its_last_plan_as_the_reason() -> None:
    (run,) = fleet_runs([row(STATE, task_state="skipped", best_zone="NO", why="Latest start reached")])

    assert (run.status, run.zones, run.reasons) == ("skipped", ["NO"], ["Latest start reached"])


def test_a_deferred_wait_is_waiting() -> None:
    assert fleet_runs([row(STATE, run_state="running", task_state="deferred")])[0].status == "waiting"


def test_deadline_starts_and_degraded_data_are_flagged_with_their_reasons() -> None:
    (run,) = fleet_runs([row(WAIT, deadline_forced=True, degraded=True, notes=["ES: 503"])])

    assert (run.forced, run.degraded) == (True, True)
    assert run.reasons == ["started at the deadline, not in a green window", "ES: 503"]


def test_reports_of_one_run_add_up_and_runs_come_newest_first() -> None:
    older = CarbonXComRow("dag", "r0", "success", datetime(2025, 1, 1, tzinfo=UTC), "success", NODEPOOL)
    runs = fleet_runs([row(), row(zone="NO"), older])

    assert [r.run_id for r in runs] == ["r1", "r0"]
    assert (runs[0].emitted_g, runs[0].counted_avoided_g) == (200.0, 100.0)
    assert (runs[1].status, runs[1].nodepool_changes) == ("nodepool", 1)


def parse(**payload):
    return CarbonXComRow.parse("d", "r", None, T0, None, fields=[payload.get(name) for name in PAYLOAD_FIELDS])


def test_a_mistyped_field_drops_the_row() -> None:
    assert parse(kind=REPORT, emitted_g="<b>lots</b>") is None


def test_a_flag_must_be_a_json_boolean() -> None:
    assert parse(kind=WAIT, deadline_forced=1) is None


def test_a_number_must_not_be_a_boolean() -> None:
    assert parse(kind=REPORT, emitted_g=True) is None


def test_a_payload_of_another_kind_is_not_a_row() -> None:
    assert parse(kind="someone.else/v1", emitted_g=1.0) is None


def test_a_well_typed_row_parses() -> None:
    parsed = parse(kind=REPORT, emitted_g=1.5, deadline_forced=False, notes=["n"], zone="ES")

    assert parsed is not None
    assert (parsed.emitted_g, parsed.deadline_forced, parsed.notes, parsed.zone) == (1.5, False, ["n"], "ES")

"""One run's XComs are sorted into reports and waits; malformed ones become notes, others are ignored."""

from __future__ import annotations

from airflow_carbon_provider.plugins.summary import RunCarbon, TaskXCom, collect_run
from tests.plugins.dag_files.carbon_sample_dags import sample_report, sample_wait


def run_of(*xcoms: TaskXCom) -> RunCarbon:
    return collect_run(dag_id="d", run_id="r", run_after=None, state="success", xcoms=xcoms)


def test_reports_and_waits_are_found_by_kind_not_by_task_id() -> None:
    run = run_of(TaskXCom("anything", -1, sample_report()), TaskXCom("report_like_name", -1, sample_wait()))

    assert [entry.task_id for entry in run.reports] == ["anything"]
    assert [entry.task_id for entry in run.waits] == ["report_like_name"]


def test_xcoms_of_other_tasks_are_ignored() -> None:
    run = run_of(TaskXCom("rows", -1, {"rows": 3}), TaskXCom("answer", -1, 42))

    assert not run.has_data
    assert run.skipped == ()


def test_malformed_payload_is_skipped_with_a_note_naming_the_task() -> None:
    run = run_of(TaskXCom("broken", 2, {**sample_report(), "zone": ""}), TaskXCom("ok", -1, sample_report()))

    assert [entry.task_id for entry in run.reports] == ["ok"]
    assert run.skipped == (
        "Skipped the malformed carbon payload of task broken[2]: 'zone' must be a non-empty string, got str",
    )


def test_grams_add_up_over_the_reports_of_a_run() -> None:
    run = run_of(TaskXCom("a", -1, sample_report()), TaskXCom("b", -1, {**sample_report(), "avoided_g": 10.0}))

    assert run.avoided_g == 661.75
    assert run.emitted_g == 2 * 582.75


def test_run_with_only_a_wait_has_no_grams_but_a_waiting_time() -> None:
    run = run_of(TaskXCom("wait", -1, sample_wait()))

    assert run.emitted_g is None
    assert run.avoided_g is None
    assert run.waited_seconds == 10800.0


def test_reports_without_grams_do_not_count_towards_the_totals() -> None:
    run = run_of(TaskXCom("a", -1, sample_report()), TaskXCom("b", -1, {**sample_report(), "avoided_g": None}))

    assert run.avoided_g == 651.75

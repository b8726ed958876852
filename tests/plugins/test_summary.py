"""One run's XComs are sorted into each task's payloads by kind; malformed ones become notes, others are ignored."""

from __future__ import annotations

from airflow_carbon_provider.carbon.wait_state import WAIT_STATE_KEY
from airflow_carbon_provider.plugins.summary import RunCarbon, TaskRun, TaskXCom, collect_run
from tests.plugins.dag_files.carbon_sample_dags import sample_report, sample_wait, sample_wait_state


def run_of(*xcoms: TaskXCom, tasks: tuple[TaskRun, ...] = ()) -> RunCarbon:
    return collect_run(dag_id="d", run_id="r", run_after=None, state="success", xcoms=xcoms, tasks=tasks)


def test_reports_and_waits_are_found_by_kind_not_by_task_id() -> None:
    run = run_of(TaskXCom("anything", -1, sample_report()), TaskXCom("report_like_name", -1, sample_wait()))
    tasks = {task.task_id: task for task in run.tasks}

    assert tasks["anything"].report is not None
    assert tasks["report_like_name"].wait is not None


def test_a_wait_state_joins_its_tasks_other_payloads_with_the_task_state() -> None:
    run = run_of(
        TaskXCom("wait", -1, sample_wait()),
        TaskXCom("wait", -1, sample_wait_state(), WAIT_STATE_KEY),
        tasks=(TaskRun("wait", -1, "success"),),
    )

    (task,) = run.tasks
    assert (task.wait is not None, task.wait_state is not None, task.state) == (True, True, "success")


def test_xcoms_of_other_tasks_are_ignored() -> None:
    run = run_of(TaskXCom("rows", -1, {"rows": 3}), TaskXCom("answer", -1, 42), TaskXCom("x", -1, {}, WAIT_STATE_KEY))

    assert not run.has_data
    assert run.skipped == ()


def test_malformed_payload_is_skipped_with_a_note_naming_the_task() -> None:
    run = run_of(TaskXCom("broken", 2, {**sample_report(), "zone": ""}), TaskXCom("ok", -1, sample_report()))

    assert [task.task_id for task in run.tasks] == ["ok"]
    assert run.skipped == (
        "Skipped the malformed carbon payload of task broken[2]: 'zone' must be a non-empty string, got str",
    )


def test_a_wait_state_with_a_bad_status_is_skipped() -> None:
    run = run_of(TaskXCom("wait", -1, {**sample_wait_state(), "status": "maybe"}, WAIT_STATE_KEY))

    assert run.tasks == ()
    assert "'status' must be wait, start or deadline" in run.skipped[0]


def test_grams_add_up_over_the_reports_of_a_run() -> None:
    run = run_of(TaskXCom("a", -1, sample_report()), TaskXCom("b", -1, {**sample_report(), "avoided_g": 10.0}))

    totals = run.to_json()["totals"]
    assert totals["avoided_g"] == 661.75
    assert totals["emitted_g"] == 2 * 582.75


def test_a_run_with_only_a_wait_has_no_grams() -> None:
    assert run_of(TaskXCom("wait", -1, sample_wait())).to_json()["totals"]["emitted_g"] is None


def test_reports_without_grams_do_not_count_towards_the_totals() -> None:
    run = run_of(TaskXCom("a", -1, sample_report()), TaskXCom("b", -1, {**sample_report(), "avoided_g": None}))

    assert run.to_json()["totals"]["avoided_g"] == 651.75

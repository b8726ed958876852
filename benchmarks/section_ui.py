"""BENCHMARKS.md section: the fleet dashboard with 10,000 accounted runs in the metadata DB, vs (almost) none.

Runs in a subprocess (its own AIRFLOW_HOME, a migrated SQLite DB): one real run of the sample DAG
(``dag.test()``: a wait and a report XCom), timings of ``GET /carbon/api/fleet`` and of the Carbon page in
headless Chromium (``airflow api-server`` + Playwright, until the runs table is drawn); then 10,000 copies of that
run (DAG runs, task instances, XComs; one in ten failed) and the same timings again.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ORDER = 60
RUNS = 10_000
REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "plugins" / "dag_files" / "carbon_sample_dags.py"
CHROMIUM = "/usr/bin/chromium"


def section(context: object) -> str:
    result = subprocess.run(  # noqa: S603 -- our own interpreter on this file
        [sys.executable, __file__], capture_output=True, text=True, check=True, cwd=REPO, timeout=1800
    )
    m = json.loads(result.stdout.strip().splitlines()[-1])
    return f"""## Fleet dashboard with {RUNS:,} runs

`benchmarks/section_ui.py`: a SQLite metadata DB with one accounted run of the sample DAG, then {RUNS:,} more
(copies with their task instances and XComs, one in ten failed). The API is Airflow's own app with the plugin,
median of 5: the page's request (`GET /carbon/api/fleet?limit=50`: totals, per-DAG and per-zone tables and trend
over every run in range, and the first 50 rows) and the CSV export's (every row). The page is the Carbon nav page
in headless Chromium against `airflow api-server`, from navigation (the Airflow UI loading first) until the runs
table is drawn (median of 3); its 1-run time is mostly the Airflow UI's own load.

| | 1 run | {RUNS:,} runs | ratio |
|---|---|---|---|
{_row("API answer, the page's request", m["api_small"], m["api_large"], "ms")}
{_row("API payload, the page's request", m["bytes_small"], m["bytes_large"], "KiB")}
{_row("API answer, every row (CSV export)", m["all_small"], m["all_large"], "ms")}
{_row("API payload, every row", m["all_bytes_small"], m["all_bytes_large"], "KiB")}
{_row("page usable", m["page_small"], m["page_large"], "s")}

Targets: API under 1 s and page under 2 s at {RUNS:,} runs. Seeding took {m["seed_seconds"]:.0f} s.
"""


def _row(label: str, small: float, large: float, unit: str) -> str:
    scale, digits = {"ms": (1e3, 0), "KiB": (1 / 1024, 1), "s": (1.0, 2)}[unit]
    ratio = "" if unit == "KiB" else f"{large / small:.2f}x"
    return f"| {label} | {small * scale:.{digits}f} {unit} | {large * scale:.{digits}f} {unit} | {ratio} |"


# ---------------------------------------------------------------------------------------------- the subprocess
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(copies: int) -> None:
    """Copy the one finished run ``copies`` times: DAG run, task instances and XComs, as Airflow stores them."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import insert, select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == "carbon_green_run"))
        assert run is not None
        run_row = {c.name: getattr(run, c.key) for c in DagRun.__table__.columns if c.name != "id"}
        tis = [{c.name: getattr(ti, c.key) for c in TaskInstance.__table__.columns} for ti in
               session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id))]  # fmt: skip
        xcoms = [dict(row._mapping) for row in session.execute(select(XComModel.__table__).where(
            XComModel.__table__.c.dag_run_id == run.id))]  # fmt: skip
        now = datetime.now(UTC)
        for i in range(copies):
            when = now - timedelta(minutes=4 * i + 5)
            run_id = f"bench__{i:05d}"
            values = {**run_row, "run_id": run_id, "logical_date": when, "run_after": when,
                      "state": "failed" if i % 10 == 0 else "success"}  # fmt: skip
            new_id = session.execute(insert(DagRun.__table__).values(values)).inserted_primary_key[0]
            session.execute(insert(TaskInstance.__table__), [{**ti, "id": uuid.uuid4(), "run_id": run_id}
                                                              for ti in tis])  # fmt: skip
            session.execute(insert(XComModel.__table__), [{**x, "dag_run_id": new_id, "run_id": run_id}
                                                          for x in xcoms])  # fmt: skip
            if i % 500 == 0:
                session.commit()


PAGE_QUERY = "since=2000-01-01T00:00:00Z&limit=50&tz=UTC"  # what the Carbon page asks for first
EXPORT_QUERY = "since=2000-01-01T00:00:00Z&tz=UTC"  # what its CSV export asks for


def _api_seconds(client: Any, headers: dict[str, str], query: str) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(5):
        start = time.perf_counter()
        response = client.get(f"/carbon/api/fleet?{query}", headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        size = len(response.content)
    return statistics.median(times), size


def _page_seconds(url: str, token: str) -> float:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for _ in range(3):
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            context.add_cookies([{"name": "_token", "value": token, "url": url}])
            page = context.new_page()
            start = time.perf_counter()
            page.goto(f"{url}/plugin/carbon")
            page.wait_for_selector("[data-testid=runs-table] tbody tr", timeout=60_000)
            times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return statistics.median(times)


def _measure() -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="carbon-bench-ui-"))
    (home / "dags").mkdir()
    shutil.copy(SAMPLE, home / "dags" / SAMPLE.name)
    port = _free_port()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "carbon-benchmark-only-" + "x" * 64,
        "AIRFLOW__API__SECRET_KEY": "carbon-benchmark-only-" + "y" * 64,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
    }
    os.environ.update(env)
    from airflow import settings
    from airflow.api_fastapi.app import create_app
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import initdb
    from fastapi.testclient import TestClient

    settings.configure_vars()
    settings.configure_orm()
    initdb()
    DagBag(dag_folder=str(home / "dags")).dags["carbon_green_run"].test()
    server = subprocess.Popen(  # noqa: S603 -- Airflow's own CLI from this venv
        [str(Path(sys.executable).parent / "airflow"), "api-server", "--port", str(port), "--host", "127.0.0.1"],
        env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with TestClient(create_app(apps="core"), base_url="http://127.0.0.1") as client:
            password = json.loads((home / "passwords.json").read_text())["admin"]
            token = client.post("/auth/token", json={"username": "admin", "password": password}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            _wait_for(url)
            api_small, bytes_small = _api_seconds(client, headers, PAGE_QUERY)
            all_small, all_bytes_small = _api_seconds(client, headers, EXPORT_QUERY)
            page_small = _page_seconds(url, token["access_token"])
            start = time.perf_counter()
            _seed(RUNS)
            seed_seconds = time.perf_counter() - start
            api_large, bytes_large = _api_seconds(client, headers, PAGE_QUERY)
            all_large, all_bytes_large = _api_seconds(client, headers, EXPORT_QUERY)
            page_large = _page_seconds(url, token["access_token"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)
    return {
        "api_small": api_small, "api_large": api_large, "bytes_small": bytes_small, "bytes_large": bytes_large,
        "all_small": all_small, "all_large": all_large, "all_bytes_small": all_bytes_small,
        "all_bytes_large": all_bytes_large, "page_small": page_small, "page_large": page_large,
        "seed_seconds": seed_seconds,
    }  # fmt: skip


def _wait_for(url: str) -> None:
    import httpx

    for _ in range(120):
        try:
            if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("airflow api-server did not start within 2 minutes")


if __name__ == "__main__":
    print(json.dumps(_measure()))

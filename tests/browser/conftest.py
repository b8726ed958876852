"""A real ``airflow standalone`` with the Carbon plugin, seeded runs and live waits, driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``), driven by Playwright's Python client
through ``executable_path``: no browser download. Users log in the way the UI does, with the ``_token`` cookie
that ``POST /auth/token`` hands out. Everything listens on 127.0.0.1 on ports the OS picks; the whole process
group is stopped at the end. Screenshots go to ``.artifacts/browser/`` (git-ignored; CI keeps it), or to
``$CARBON_SCREENSHOTS``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
SAMPLE_DAGS = REPO / "tests" / "plugins" / "dag_files" / "carbon_sample_dags.py"
LIVE_DAGS = Path(__file__).parent / "dag_files" / "carbon_live_dags.py"
SHOTS = Path(os.environ.get("CARBON_SCREENSHOTS") or REPO / ".artifacts" / "browser")
REPLAY_START = "2023-10-12T05:00:00+00:00"
SEEDED = ("carbon_green_run", "carbon_green_run", "carbon_markup", "carbon_failed_run", "carbon_skipped_wait",
          "carbon_nodepool")  # fmt: skip
API_TIMEOUT_S = 60.0  # httpx's 5 s default is too short for an api-server sharing 2 busy cores with a scheduler
USERS = "admin:admin,nobody:"  # standalone runs SimpleAuthManager; per-DAG scoping: tests/plugins/test_app.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, KeyError, ValueError):
            result = None
        if result:
            return result
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:]
    raise AssertionError(f"timed out waiting for {what}; airflow standalone log tail:\n{tail}")


@dataclass
class Standalone:
    url: str
    home: Path
    log: Path
    passwords: dict[str, str]
    runs: dict[str, list[str]] = field(default_factory=dict)

    def token(self, user: str = "admin") -> str:
        response = httpx.post(
            f"{self.url}/auth/token", json={"username": user, "password": self.passwords[user]}, timeout=API_TIMEOUT_S
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api(self, user: str = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return httpx.Client(base_url=f"{self.url}/api/v2", headers=headers, timeout=API_TIMEOUT_S)

    def trigger(self, dag_id: str) -> str:
        with self.api() as api:
            wait_for(f"{dag_id} to be parsed", lambda: api.get(f"/dags/{dag_id}").status_code == 200, 90, self.log)
            api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
            response = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
            response.raise_for_status()
        run_id = str(response.json()["dag_run_id"])
        self.runs.setdefault(dag_id, []).append(run_id)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        with self.api() as api:
            return str(api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"])

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        with self.api() as api:
            return api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}").json().get("state")

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        with self.api() as api:
            response = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
            response.raise_for_status()
            value = response.json()["value"]
        return json.loads(value) if isinstance(value, str) else value


def replay_connection(speed: float) -> str:
    extra = {
        "source": "replay",
        "zone": "ES",
        "replay_start": REPLAY_START,
        "replay_speed": speed,
        "replay_wall_origin": time.time(),
    }
    return json.dumps({"conn_type": "carbon_intensity", "extra": extra})


@pytest.fixture(scope="package")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """``airflow standalone`` on 127.0.0.1 in its own process group, stopped as a group at teardown."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    home = tmp_path_factory.mktemp("standalone")
    dags = home / "dags"
    dags.mkdir()
    for source in (SAMPLE_DAGS, LIVE_DAGS):
        shutil.copy(source, dags / source.name)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = str(Path(sys.executable).parent)
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env = {
        **inherited,  # nothing from other tests' Airflow configuration (DB, auth manager, passwords file)
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW_CONN_CARBON_SLOW": replay_connection(30.0),
        "AIRFLOW_CONN_CARBON_FAST": replay_connection(600.0),
    }
    log = home / "standalone.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [f"{bin_dir}/airflow", "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for("the api-server, scheduler and triggerer", lambda: _healthy(url), 300, log)
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        yield Standalone(url, home, log, passwords)
    finally:
        _stop_group(process)


def _healthy(url: str) -> bool:
    health = httpx.get(f"{url}/api/v2/monitor/health", timeout=5).json()
    return all(health.get(part, {}).get("status") == "healthy" for part in ("metadatabase", "scheduler", "triggerer"))


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the whole group, then SIGTERM, then SIGKILL for what ignores it (the scheduler may, for >20 s)."""
    for sig, grace in ((signal.SIGINT, 6), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)


@pytest.fixture(scope="package")
def seeded(standalone: Standalone) -> Standalone:
    """The sample DAGs' runs (succeeded, failed, skipped, a NodePool change), all finished."""
    triggered = [(dag_id, standalone.trigger(dag_id)) for dag_id in SEEDED]
    for dag_id, run_id in triggered:
        wait_for(
            f"{dag_id} to finish",
            lambda d=dag_id, r=run_id: standalone.run_state(d, r) in ("success", "failed"),
            180,
            standalone.log,
        )
    return standalone


@pytest.fixture(scope="package")
def live_wait(standalone: Standalone) -> tuple[str, str]:
    """A real CarbonIntensitySensor deferred in the triggerer, with its first wait state published."""
    dag_id, task_id = "carbon_live_wait", "wait_for_green_window"
    run_id = standalone.trigger(dag_id)
    wait_for(
        "the sensor to defer and publish its wait state",
        lambda: (
            standalone.task_state(dag_id, run_id, task_id) == "deferred"
            and standalone.xcom(dag_id, run_id, task_id, "carbon_wait_state")
        ),
        180,
        standalone.log,
    )
    return dag_id, run_id


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Playwright's sync API runs an event loop in this thread: it is closed with the package, before the
    asyncio tests of other packages need the thread's loop."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@dataclass
class Session:
    """A logged-in browser context in one colour scheme, collecting console errors of every page."""

    context: Any
    errors: list[str]
    theme: str

    def open(self, url: str) -> Any:
        page = self.context.new_page()
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(url)
        return page


def login(
    browser: Any, standalone: Standalone, *, user: str | None = "admin", theme: str = "light", zone: str = "UTC"
) -> Session:
    """A browser context logged in as ``user``, in the colour scheme ``theme`` and the system time zone ``zone``."""
    context = browser.new_context(
        color_scheme=theme,
        viewport={"width": 1440, "height": 1000},
        accept_downloads=True,
        locale="en-US",
        timezone_id=zone,
    )
    if user is not None:
        context.add_cookies([{"name": "_token", "value": standalone.token(user), "url": standalone.url}])
    return Session(context, [], theme)


def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

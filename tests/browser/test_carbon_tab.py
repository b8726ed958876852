"""The Carbon tab of a finished run in a real ``airflow standalone``, loaded by headless Chromium.

Chromium cannot send an Authorization header, so it authenticates the way the Airflow UI does: with the
``_token`` cookie. A one-shot helper server on 127.0.0.1 sets that cookie (cookies are per host, not per
port) and redirects to the Carbon page, which the api-server then authorises like any UI request.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DAG_FILE = Path(__file__).parent.parent / "plugins" / "dag_files" / "carbon_sample_dags.py"
DAG_ID = "carbon_green_run"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="chromium is not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Standalone:
    url: str
    token: str
    log: Path


def wait_for(what: str, check, timeout: float, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(1)
    tail = log.read_text(errors="replace")[-3000:]
    raise AssertionError(f"timed out waiting for {what}; airflow standalone log tail:\n{tail}")


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """``airflow standalone`` on 127.0.0.1 in its own process group, stopped as a group at teardown."""
    home = tmp_path_factory.mktemp("standalone")
    (home / "dags").mkdir()
    shutil.copy(DAG_FILE, home / "dags" / DAG_FILE.name)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = str(Path(sys.executable).parent)
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env = {
        **inherited,  # nothing from other tests' Airflow configuration (DB, auth manager, passwords file)
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }
    log = home / "standalone.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [f"{bin_dir}/airflow", "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for("the api-server and scheduler", lambda: _healthy(url), 240, log)  # ~30 s unless the machine is busy
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        token = httpx.post(f"{url}/auth/token", json={"username": "admin", "password": password}).json()
        yield Standalone(url, token["access_token"], log)
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


@pytest.fixture(scope="module")
def finished_run(standalone: Standalone) -> str:
    """Trigger the sample DAG through the REST API and wait for its run to succeed; returns the run id."""
    api = httpx.Client(base_url=f"{standalone.url}/api/v2", headers={"Authorization": f"Bearer {standalone.token}"})
    wait_for("the DAG to be parsed", lambda: api.get(f"/dags/{DAG_ID}").status_code == 200, 60, standalone.log)
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    run = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    run.raise_for_status()
    run_id = run.json()["dag_run_id"]
    state = wait_for(
        "the run to finish",
        lambda: (s := api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]) in ("success", "failed") and s,
        60,
        standalone.log,
    )
    assert state == "success"
    return str(run_id)


def chromium(standalone: Standalone, path: str, *args: str, profile: Path) -> str:
    """Load ``path`` authenticated by the ``_token`` cookie, the way the UI's iframe is; returns stdout."""
    target = f"{standalone.url}{path}"

    class SetCookie(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Set-Cookie", f"_token={standalone.token}; Path=/; HttpOnly; SameSite=Lax")
            self.send_header("Location", target)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), SetCookie)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--window-size=1400,1000",
                "--virtual-time-budget=8000",
                *args,
                f"http://127.0.0.1:{server.server_port}/",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    return result.stdout


def test_carbon_tab_shows_the_chart_and_the_avoided_grams(
    standalone: Standalone, finished_run: str, tmp_path: Path
) -> None:
    dom = chromium(standalone, f"/carbon/dags/{DAG_ID}/runs/{finished_run}", "--dump-dom", profile=tmp_path)

    assert '<svg class="carbon-chart"' in dom
    assert '<span class="avoided good">651.8 gCO2e</span>' in dom


def test_airflow_ui_run_page_embeds_the_carbon_tab(standalone: Standalone, finished_run: str, tmp_path: Path) -> None:
    """The UI's plugin route for the run shows the Carbon view in an iframe (CARBON_SCREENSHOT=path saves a shot)."""
    path = f"/dags/{DAG_ID}/runs/{finished_run}/plugin/carbon_run"
    dom = chromium(standalone, path, "--dump-dom", profile=tmp_path / "dom")
    if shot := os.environ.get("CARBON_SCREENSHOT"):
        chromium(standalone, path, f"--screenshot={shot}", profile=tmp_path / "shot")

    assert f'src="/carbon/dags/{DAG_ID}/runs/{quote(finished_run, safe="")}"' in dom

#!/usr/bin/env bash
# `make ui`: Airflow standalone on 127.0.0.1 with the example DAGs and the Carbon views, on the replay source:
# Spain's 2023 grid (bundled data, no key, no network) from 2023-10-12 01:00 UTC at 10 grid minutes per real
# second, one clock shared by every Airflow process (replay_wall_origin = start time). Override by exporting
# AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT. That one connection is all the example DAGs need here: with no cluster
# connection their Kubernetes steps are offline dry runs or local stand-ins, and every example DAG succeeds.
# Ctrl-C stops every component: standalone runs in its own process group and the whole group is signalled.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PORT=${AIRFLOW_UI_PORT:-8080}
export AIRFLOW_HOME=$REPO/.airflow/ui
export AIRFLOW__CORE__DAGS_FOLDER=$REPO/example_dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4
# The connection form's Test button (off by default in Airflow 3): it fetches one reading through the hook.
export AIRFLOW__CORE__TEST_CONNECTION=${AIRFLOW__CORE__TEST_CONNECTION:-Enabled}
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT=$PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$PORT/execution/
export PATH=$REPO/.venv/bin:$PATH
if [ -z "${AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT:-}" ]; then
    AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT=$(python -c 'import json, time; print(json.dumps({"conn_type": "carbon_intensity",
        "extra": {"source": "replay", "zone": "ES", "replay_start": "2023-10-12T01:00:00+00:00", "replay_speed": 600,
                  "replay_wall_origin": time.time()}}))')
fi
export AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT
mkdir -p "$AIRFLOW_HOME"
LOG=$AIRFLOW_HOME/standalone.log

# Job control puts standalone in its own process group (id = its PID) and, unlike a plain background job of a
# script, leaves SIGINT at its default there, so the Ctrl-C forwarded by stop() reaches every component.
set -m
airflow standalone >"$LOG" 2>&1 &
PGID=$!
set +m

stop() {
    trap - INT TERM
    echo; echo "Stopping Airflow (process group $PGID)..."
    # Ctrl-C first (what stops every component), then SIGTERM and SIGKILL for what ignores it (the scheduler can).
    for sig in INT TERM KILL; do
        kill -"$sig" -- "-$PGID" 2>/dev/null || true
        for _ in $(seq 10); do
            kill -0 -- "-$PGID" 2>/dev/null || { echo "Stopped."; exit 0; }
            sleep 1
        done
    done
    echo "Stopped."
    exit 0
}
trap stop INT TERM

echo "Starting Airflow standalone (log: $LOG) ..."
python - "$PORT" "$PGID" <<'PY'
import os, sys, time, httpx
port, pgid = sys.argv[1], int(sys.argv[2])
for _ in range(240):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        sys.exit("airflow standalone exited; see the log")
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).json()
        if all(health.get(p, {}).get("status") == "healthy" for p in ("metadatabase", "scheduler", "triggerer")):
            sys.exit(0)
    except (httpx.HTTPError, ValueError):
        pass
    time.sleep(1)
sys.exit("Airflow did not become healthy within 4 minutes; see the log")
PY
PASSWORD=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' \
    "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated")
cat <<MSG

  Airflow UI:  http://127.0.0.1:$PORT/          login: admin / $PASSWORD
  Carbon page: http://127.0.0.1:$PORT/plugin/carbon   (Browse -> Carbon; a widget on the home page;
               a "Carbon" tab on every DAG run and task instance: a waiting sensor shows its live plan there)

  Press Ctrl-C to stop.
MSG
wait "$PGID" || true
stop

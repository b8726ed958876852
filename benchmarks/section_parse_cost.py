"""BENCHMARKS.md section: what importing the provider adds to parsing a DAG.

Each measurement is a fresh interpreter that has already imported Airflow (``airflow.sdk``), then times one
import statement; median of several runs. The reference is the cncf-kubernetes provider's KubernetesPodOperator,
measured the same way in the same run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

ORDER = 50
RUNS = 7
HEAVY = ("kubernetes", "kubernetes_asyncio", "numpy", "celpy", "jsonschema", "fastapi")
OURS = (
    "import airflow_carbon_provider.sensors.carbon_intensity, airflow_carbon_provider.operators.nodepool, "
    "airflow_carbon_provider.operators.carbon_report"
)
SENSOR_ONLY = "import airflow_carbon_provider.sensors.carbon_intensity, airflow_carbon_provider.operators.carbon_report"
KPO = "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator"
PROBE = """
import json, sys, time
import airflow.sdk
before = set(sys.modules)
t = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, "new": sorted(m for m in set(sys.modules) - before if "." not in m)}}))
"""


def _probe(statement: str) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603 -- our own interpreter on a fixed probe
        [sys.executable, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(statement: str) -> tuple[float, list[str]]:
    probes = [_probe(statement) for _ in range(RUNS)]
    heavy = sorted(m for m in probes[0]["new"] if m in HEAVY)  # type: ignore[union-attr]
    return statistics.median(float(p["seconds"]) for p in probes), heavy  # type: ignore[arg-type]


def section(context: object) -> str:
    rows = []
    kpo, kpo_heavy = _median(KPO)
    for label, statement in (("sensor + report", SENSOR_ONLY), ("sensor + report + NodePool operators", OURS)):
        seconds, heavy = _median(statement)
        rows.append(f"| {label} | {seconds * 1000:.0f} ms | {seconds / kpo:.2f} | {', '.join(heavy) or 'none'} |")
    rows.append(
        f"| KubernetesPodOperator (reference) | {kpo * 1000:.0f} ms | 1.00 | {', '.join(kpo_heavy) or 'none'} |"
    )
    table = "\n".join(rows)
    return f"""## DAG-parse cost

Extra time to import the provider's modules in a fresh interpreter that already imports Airflow, median of
{RUNS} runs, against importing the cncf-kubernetes provider's `KubernetesPodOperator` the same way in the same run.
"Heavy modules" are those of {", ".join(HEAVY)} that the import pulls in (httpx and pydantic come with Airflow).

| import | median | ratio to KubernetesPodOperator | heavy modules pulled in |
|---|---|---|---|
{table}
"""

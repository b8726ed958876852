"""Task processes load entry-point plugins too, so the plugin module must not pull in the api-server."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_plugin_does_not_import_fastapi_or_the_api_server() -> None:
    code = (
        "import sys, airflow_carbon_provider.plugins.carbon; "
        "print(sorted(m for m in sys.modules if m == 'fastapi' or m.startswith('airflow.api_fastapi')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert loaded.strip() == "[]"


def test_airflow_3_1_gets_no_views_its_ui_cannot_host(monkeypatch) -> None:
    """Airflow 3.1's UI shares only React with plugins; the bundle needs its Chakra UI and router (3.2+)."""
    import airflow

    from airflow_carbon_provider.plugins.carbon import react_apps

    monkeypatch.setattr(airflow, "__version__", "3.1.7")
    assert react_apps() == []
    monkeypatch.setattr(airflow, "__version__", "3.2.0")
    assert len(react_apps()) == 4

"""The provider registers with Airflow like an official one: valid metadata, importable classes, CLI listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema
import pytest

from airflow_carbon_provider.get_provider_info import get_provider_info

INFO = get_provider_info()


def test_provider_info_matches_airflow_schema():
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(INFO, schema)


def test_package_name_is_the_distribution_name():
    (entry,) = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_carbon_provider")
    ]
    assert entry.dist is not None
    assert INFO["package-name"] == entry.dist.name == "airflow-carbon-provider"


@pytest.mark.parametrize("kind", ["hooks", "sensors", "operators", "triggers"])
def test_every_listed_module_imports(kind):
    for group in INFO[kind]:
        for module in group["python-modules"]:
            import_module(module)


def test_extra_links_and_the_connection_hook_import():
    paths = [*INFO["extra-links"], *(c["hook-class-name"] for c in INFO["connection-types"])]
    for path in paths:
        module, _, name = path.rpartition(".")
        assert getattr(import_module(module), name)


def test_connection_form_declares_the_source_enum_and_a_password_token():
    (conn,) = INFO["connection-types"]
    assert conn["conn-fields"]["source"]["schema"]["enum"] == [
        "replay",
        "electricitymaps",
        "watttime",
        "ukgrid",
        "carbon_aware_sdk",
    ]
    assert conn["ui-field-behaviour"]["relabeling"]["password"].startswith("API token")


def airflow_cli(*args: str, tmp_path: Path) -> str:
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_airflow_providers_list_shows_the_provider(tmp_path):
    listed = json.loads(airflow_cli("providers", "list", tmp_path=tmp_path))
    assert {"package_name": "airflow-carbon-provider"}.items() <= next(
        p for p in listed if p["package_name"] == "airflow-carbon-provider"
    ).items()


def test_airflow_providers_hooks_shows_the_carbon_intensity_connection_type(tmp_path):
    hooks = json.loads(airflow_cli("providers", "hooks", tmp_path=tmp_path))
    carbon = next(h for h in hooks if h["connection_type"] == "carbon_intensity")
    assert carbon["class"] == "airflow_carbon_provider.hooks.carbon_intensity.CarbonIntensityHook"
    assert carbon["conn_id_attribute_name"] == "carbon_conn_id"

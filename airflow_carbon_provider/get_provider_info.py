"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_carbon_provider import __version__

SOURCES = ["replay", "electricitymaps", "watttime", "ukgrid", "carbon_aware_sdk"]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-carbon-provider",
        "name": "Carbon-aware scheduling",
        "description": "Wait for low-carbon electricity, steer Karpenter NodePools and report CO2e avoided.",
        "state": "ready",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Carbon intensity",
                "external-doc-url": "https://github.com/airflow-carbon-provider/airflow-carbon-provider",
                "tags": ["software"],
            },
            {
                "integration-name": "Karpenter",
                "external-doc-url": "https://karpenter.sh/docs/concepts/nodepools/",
                "tags": ["software"],
            },
        ],
        "hooks": [
            {
                "integration-name": "Carbon intensity",
                "python-modules": ["airflow_carbon_provider.hooks.carbon_intensity"],
            },
            {"integration-name": "Karpenter", "python-modules": ["airflow_carbon_provider.hooks.karpenter"]},
        ],
        "sensors": [
            {
                "integration-name": "Carbon intensity",
                "python-modules": ["airflow_carbon_provider.sensors.carbon_intensity"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Carbon intensity",
                "python-modules": ["airflow_carbon_provider.triggers.carbon_intensity"],
            }
        ],
        "operators": [
            {
                "integration-name": "Karpenter",
                "python-modules": ["airflow_carbon_provider.operators.nodepool"],
            },
            {
                "integration-name": "Carbon intensity",
                "python-modules": ["airflow_carbon_provider.operators.carbon_report"],
            },
        ],
        "extra-links": ["airflow_carbon_provider.links.carbon_intensity.CarbonZoneLink"],
        "connection-types": [
            {
                "connection-type": "carbon_intensity",
                "hook-class-name": "airflow_carbon_provider.hooks.carbon_intensity.CarbonIntensityHook",
                "hook-name": "Carbon Intensity",
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema"],
                    "relabeling": {
                        "host": "API base URL (optional override)",
                        "login": "Username (WattTime only)",
                        "password": "API token / password",
                    },
                    "placeholders": {
                        "host": "https://api.electricitymaps.com/v3",
                        "login": "watttime-username",
                        "password": "leave empty for replay and ukgrid",
                    },
                },
                "conn-fields": {
                    "source": {
                        "label": "Data source",
                        "description": "Which carbon-intensity service this connection reads.",
                        "schema": {"type": "string", "enum": SOURCES, "default": "replay"},
                    },
                    "zone": {
                        "label": "Default zone / region",
                        "description": "Grid zone (e.g. DE, CAISO_NORTH, 13) or cloud region (aws:eu-north-1).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "replay_file": {
                        "label": "Replay data file",
                        "description": "CSV for the replay source; empty means the bundled data.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "replay_speed": {
                        "label": "Replay speed",
                        "description": "Replayed seconds per real second (1 = real time).",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "replay_start": {
                        "label": "Replay start",
                        "description": "Data time (ISO-8601 UTC) at the replay origin; empty = now in the data's year.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "replay_wall_origin": {
                        "label": "Replay wall origin",
                        "description": "Epoch seconds at which replay_start applies; set it when replay_speed != 1.",
                        "schema": {"type": ["number", "null"]},
                    },
                    "replay_forecast": {
                        "label": "Replay forecast",
                        "description": "perfect (the recorded future, default), none (no forecast: auto uses its "
                        "built-in forecaster) or an error such as 0.05 (recorded future + Gaussian noise).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "replay_forecast_seed": {
                        "label": "Replay forecast seed",
                        "description": "Seed of the replay forecast's noise (default 0).",
                        "schema": {"type": ["integer", "null"]},
                    },
                    "emission_factor": {
                        "label": "Emission factor",
                        "description": "Electricity Maps / replay column: lifecycle (default) or direct.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["lifecycle", "direct", None],
                            # The UI lists enum values in a select; label the empty choice instead of "null".
                            "values_display": {"null": "Default (lifecycle)"},
                        },
                    },
                    "signal": {
                        "label": "Signal kind (Carbon Aware SDK)",
                        "description": "marginal for a WattTime backend (default), average for Electricity Maps.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["marginal", "average", None],
                            "values_display": {"null": "Default (marginal)"},
                        },
                    },
                    "timeout": {
                        "label": "HTTP timeout (s)",
                        "description": "Per-request timeout for web sources (default 10).",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                },
            }
        ],
    }

"""The example NodePool shipped with the package (same as ``deploy/nodepool.yaml``), for offline dry runs."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def example_nodepool() -> dict[str, Any]:
    text = (resources.files("airflow_carbon_provider.karpenter") / "example_nodepool.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded

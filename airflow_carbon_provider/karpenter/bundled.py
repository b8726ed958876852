"""Files shipped in the package: the example NodePool (same as ``deploy/nodepool.yaml``, used by offline dry
runs) and the Karpenter NodePool CRDs used for validation before sending. Light to import (no CEL engine)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

BUNDLED_CRDS = {
    "core": "karpenter.sh_nodepools.v1.14.1.yaml",
    "aws": "aws-provider.karpenter.sh_nodepools.v1.14.1.yaml",
}
DEFAULT_CRD = "core"
_PACKAGE = "airflow_carbon_provider.karpenter"


def example_nodepool() -> dict[str, Any]:
    text = (resources.files(_PACKAGE) / "example_nodepool.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def bundled_crd(name: str) -> dict[str, Any]:
    """A bundled CRD by short name: ``core`` (Karpenter v1.14.1) or ``aws`` (AWS provider v1.14.1)."""
    if name not in BUNDLED_CRDS:
        raise ValueError(f"crd must be one of {', '.join(BUNDLED_CRDS)} or a file path, got {name!r}")
    text = (resources.files(_PACKAGE) / "crds" / BUNDLED_CRDS[name]).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded

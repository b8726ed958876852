"""Fixtures for the NodePool machinery: the example pool and the provider's validator for the bundled CRD."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.validation import NodePoolValidator


@pytest.fixture
def nodepool() -> dict[str, Any]:
    return example_nodepool()


@pytest.fixture
def validator() -> NodePoolValidator:
    """The provider's validator for the bundled NodePool CRD of Karpenter v1.14.1 (core)."""
    return NodePoolValidator.bundled()

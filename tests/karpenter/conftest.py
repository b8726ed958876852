"""Fixtures for the NodePool machinery: the example pool, the CRD under test and a running fake API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.validation import NodePoolValidator
from tests.fakes.kube_api import FakeKubeApi, serve_fake_kube_api, shared_crd_validator


@pytest.fixture
def nodepool() -> dict[str, Any]:
    return example_nodepool()


@pytest.fixture
def shared_crd(shared_dir: Path) -> NodePoolValidator:
    """The real NodePool CRD from ../shared/karpenter (Karpenter v1.14.1)."""
    return shared_crd_validator(shared_dir)


@pytest.fixture
def kube_api(shared_crd: NodePoolValidator) -> Iterator[FakeKubeApi]:
    with serve_fake_kube_api(FakeKubeApi(validator=shared_crd)) as api:
        yield api

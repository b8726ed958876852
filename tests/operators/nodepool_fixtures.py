"""Shared set-up for the NodePool operator tests: a fake API server holding the example pool, reachable through
an env-var Kubernetes connection, and a manual clock for the anti-flap stamps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_carbon_provider.carbon.clock import ManualClock
from airflow_carbon_provider.karpenter.bundled import example_nodepool
from tests.fakes.kube_api import FakeKubeApi, serve_fake_kube_api

NAME = "carbon-aware-batch"
CONN = "kube_fake"
CONTEXT: Any = {}


@pytest.fixture
def kube_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKubeApi]:
    with serve_fake_kube_api(FakeKubeApi()) as api:
        api.add(example_nodepool())
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", api.airflow_connection())
        yield api


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))

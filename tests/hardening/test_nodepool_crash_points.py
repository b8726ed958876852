"""NodePools under a crash or a failure at each step between read, patch and restore, for every change type.

Whatever happens, the pool is either unchanged or restorable from its own annotation, and after restore its spec
is byte for byte what it was (the JSON compared), while Karpenter's own writes in between survive.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_carbon_provider.karpenter.errors import KarpenterApiError
from airflow_carbon_provider.karpenter.state import PRIOR_STATE_ANNOTATION
from tests.operators.nodepool_fixtures import *  # noqa: F403 - the kube_api and clock fixtures
from tests.operators.nodepool_fixtures import CONTEXT, NAME
from tests.operators.test_nodepool import EVERY_CHANGE, HASH, operator, restore, spec_bytes

CHANGES = pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: c["type"])


def annotations(kube_api) -> dict:
    return kube_api.get(NAME)["metadata"].get("annotations") or {}


@CHANGES
def test_a_rejected_patch_leaves_the_pool_unchanged_and_unrecorded(kube_api, clock, change) -> None:
    before = spec_bytes(kube_api.get(NAME))
    kube_api.fail_next("PATCH", 403, "Forbidden", "nodepools.karpenter.sh is forbidden")
    with pytest.raises(KarpenterApiError):
        operator(clock, changes=[change]).execute(CONTEXT)
    assert spec_bytes(kube_api.get(NAME)) == before
    assert PRIOR_STATE_ANNOTATION not in annotations(kube_api)


@CHANGES
def test_a_crash_after_the_patch_is_restored_by_a_fresh_operator(kube_api, clock, change) -> None:
    before = spec_bytes(kube_api.get(NAME))
    operator(clock, changes=[change]).execute(CONTEXT)
    assert PRIOR_STATE_ANNOTATION in annotations(kube_api)  # the worker dies here: only the annotation survives
    clock.advance(timedelta(minutes=1))
    restore(clock)
    assert spec_bytes(kube_api.get(NAME)) == before


@CHANGES
def test_a_failed_restore_keeps_the_record_and_a_retry_restores_exactly(kube_api, clock, change) -> None:
    before = spec_bytes(kube_api.get(NAME))
    operator(clock, changes=[change]).execute(CONTEXT)
    kube_api.fail_next("PATCH", 403, "Forbidden", "nodepools.karpenter.sh is forbidden")
    with pytest.raises(KarpenterApiError):
        restore(clock)
    assert PRIOR_STATE_ANNOTATION in annotations(kube_api)
    restore(clock)
    assert spec_bytes(kube_api.get(NAME)) == before
    assert PRIOR_STATE_ANNOTATION not in annotations(kube_api)


@CHANGES
def test_karpenter_writing_between_read_and_restore_is_kept_and_the_spec_restored(kube_api, clock, change) -> None:
    before = spec_bytes(kube_api.get(NAME))
    operator(clock, changes=[change]).execute(CONTEXT)
    kube_api.before_next_patch(
        lambda api, name: api.write(name, lambda np: np["metadata"]["annotations"].update({HASH: "karpenter"}))
    )
    restore(clock)
    assert spec_bytes(kube_api.get(NAME)) == before
    sent = kube_api.requests_with("PATCH")[-1].body
    assert HASH not in sent["metadata"].get("annotations", {})  # Karpenter's annotation is never overwritten
    assert "status" not in sent

"""KarpenterHook against the loopback fake API server, through the real kubernetes client and connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from airflow_carbon_provider.hooks.karpenter import KarpenterHook
from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.changes import AllowArchitectures, Pause
from airflow_carbon_provider.karpenter.errors import KarpenterApiError, KarpenterApiVersionError
from airflow_carbon_provider.karpenter.mergepatch import apply_merge_patch
from airflow_carbon_provider.karpenter.plan import NodePoolUpdate, Outcome, plan_apply
from tests.fakes.kube_api import FakeKubeApi, serve_fake_kube_api

NAME = "carbon-aware-batch"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HASH = "karpenter.sh/nodepool-hash"


@pytest.fixture
def kube_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKubeApi]:
    with serve_fake_kube_api(FakeKubeApi()) as api:
        api.add(example_nodepool())
        monkeypatch.setenv("AIRFLOW_CONN_KUBE_FAKE", api.airflow_connection())
        yield api


@pytest.fixture
def hook(kube_api: FakeKubeApi) -> KarpenterHook:
    return KarpenterHook("kube_fake", max_attempts=3)


def pause(live):
    return plan_apply(live, [Pause()], NOW)


def test_get_reads_the_cluster_scoped_nodepool(hook, kube_api) -> None:
    assert hook.get_nodepool(NAME)["spec"]["limits"]["cpu"] == "1000"
    assert kube_api.requests[-1].path == f"/apis/karpenter.sh/v1/nodepools/{NAME}"


def test_patch_is_sent_as_json_merge_patch_with_a_field_manager(hook, kube_api) -> None:
    hook.patch_nodepool(NAME, {"spec": {"weight": 20}})
    request = kube_api.requests_with("PATCH")[-1]
    assert request.content_type == "application/merge-patch+json"
    assert request.query["fieldManager"] == ["airflow-carbon-provider"]
    assert kube_api.get(NAME)["spec"]["weight"] == 20


def test_update_sends_the_plan_guarded_by_resource_version(hook, kube_api) -> None:
    version = kube_api.get(NAME)["metadata"]["resourceVersion"]
    result = hook.update_nodepool(NAME, pause)
    sent = kube_api.requests_with("PATCH")[-1].body
    assert sent["metadata"]["resourceVersion"] == version
    assert result.attempts == 1
    assert kube_api.get(NAME)["spec"]["limits"]["cpu"] == "0"


def test_conflict_with_a_concurrent_writer_recomputes_the_change_and_keeps_its_write(hook, kube_api) -> None:
    def karpenter_and_a_human_write(api: FakeKubeApi, name: str) -> None:
        def mutate(nodepool):
            nodepool["metadata"]["annotations"][HASH] = "concurrent-hash"
            nodepool["spec"]["template"]["spec"]["requirements"].append(
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1a"]}
            )

        api.write(name, mutate)

    kube_api.before_next_patch(karpenter_and_a_human_write)
    result = hook.update_nodepool(NAME, lambda live: plan_apply(live, [AllowArchitectures(("arm64",))], NOW))

    assert result.attempts == 2
    patches = kube_api.requests_with("PATCH")
    assert patches[0].body["metadata"]["resourceVersion"] != patches[1].body["metadata"]["resourceVersion"]
    stored = kube_api.get(NAME)
    keys = [r["key"] for r in stored["spec"]["template"]["spec"]["requirements"]]
    assert "topology.kubernetes.io/zone" in keys  # the concurrent writer's requirement survived the list rewrite
    assert stored["spec"]["template"]["spec"]["requirements"][0]["values"] == ["arm64"]
    assert HASH not in patches[1].body["metadata"].get("annotations", {})


def test_conflicts_are_retried_a_bounded_number_of_times(hook, kube_api) -> None:
    for _ in range(3):
        kube_api.before_next_patch(
            lambda api, name: api.write(name, lambda np: np["spec"].update(weight=np["spec"]["weight"] + 1))
        )
    with pytest.raises(KarpenterApiError, match="3 attempts ended in 409 Conflict"):
        hook.update_nodepool(NAME, pause)
    assert len(kube_api.requests_with("PATCH")) == 3


def test_server_side_dry_run_validates_without_storing(hook, kube_api) -> None:
    before = kube_api.get(NAME)
    result = hook.update_nodepool(NAME, pause, dry_run=True)
    assert result.nodepool["spec"]["limits"]["cpu"] == "0"
    assert kube_api.requests_with("PATCH")[-1].query["dryRun"] == ["All"]
    assert kube_api.get(NAME) == before


def test_crd_violation_is_a_422_with_the_cel_message(hook, kube_api) -> None:
    patch = {"spec": {"template": {"metadata": {"labels": {"karpenter.sh/paused": "true"}}}}}
    with pytest.raises(KarpenterApiError, match=r'label domain "karpenter\.sh" is restricted') as err:
        hook.update_nodepool(NAME, lambda live: _raw_plan(live, patch))
    assert err.value.status == 422


def test_a_server_error_on_patch_is_reported_without_resending(hook, kube_api) -> None:
    kube_api.fail_next("PATCH", 500, "InternalError", "etcdserver: request timed out")
    with pytest.raises(KarpenterApiError, match="HTTP 500: etcdserver: request timed out") as err:
        hook.update_nodepool(NAME, pause)
    assert err.value.status == 500
    assert len(kube_api.requests_with("PATCH")) == 1


def test_a_throttled_read_is_retried_after_retry_after(hook, kube_api) -> None:
    kube_api.fail_next("GET", 429, "TooManyRequests", "too many requests", retry_after=0)
    assert hook.get_nodepool(NAME)["metadata"]["name"] == NAME
    assert len(kube_api.requests_with("GET")) == 2


def test_forbidden_pool_says_which_rbac_rule_to_add(hook, kube_api) -> None:
    kube_api.allowed_names = {"some-other-pool"}
    with pytest.raises(KarpenterApiError, match=r"resourceNames \[carbon-aware-batch\]") as err:
        hook.get_nodepool(NAME)
    assert err.value.status == 403


def test_unknown_pool_is_a_clear_not_found(hook) -> None:
    with pytest.raises(KarpenterApiError, match="NodePool 'nope' not found") as err:
        hook.get_nodepool("nope")
    assert err.value.status == 404


def test_wrong_patch_type_is_415(hook, kube_api) -> None:
    with pytest.raises(Exception, match="415"):
        hook.custom_object_client.patch_cluster_custom_object(
            "karpenter.sh",
            "v1",
            "nodepools",
            NAME,
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )


def test_api_version_check_passes_for_v1(hook) -> None:
    assert hook.served_versions() == ["v1"]
    hook.check_api_version()


def test_api_version_check_explains_a_v1beta1_only_cluster(hook, kube_api) -> None:
    kube_api.served_versions = ("v1beta1",)
    with pytest.raises(KarpenterApiVersionError, match=r"only karpenter\.sh/v1beta1 .*upgrade Karpenter"):
        hook.check_api_version()


def test_conditions_are_read_back_for_the_current_generation(hook, kube_api) -> None:
    hook.update_nodepool(NAME, pause)
    report = hook.wait_for_conditions(NAME, timeout=1)
    assert report.current
    assert report.problems == []


def test_stale_conditions_are_reported_as_not_current_after_the_timeout(hook, kube_api) -> None:
    kube_api.simulate_karpenter = False
    hook.update_nodepool(NAME, pause)
    assert not hook.wait_for_conditions(NAME, timeout=0.2, interval=0.1).current


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attempts must be an integer >= 1"):
        KarpenterHook("kube_fake", max_attempts=0)


def _raw_plan(live, patch):
    """A plan whose patch is fixed, to reach the server's validation with an invalid object."""
    return NodePoolUpdate(NAME, "apply", Outcome.CHANGED, live, apply_merge_patch(live, patch))

"""KarpenterHook: read and patch cluster-scoped ``karpenter.sh/v1`` NodePools over the Kubernetes connection.

Built on the cncf-kubernetes ``KubernetesHook`` (same connection: kubeconfig, kubeconfig path or in-cluster).
Patches are JSON merge patches guarded by ``metadata.resourceVersion``. On 409 the hook re-reads the pool and
recomputes the patch from the *change* (a callback), never re-sending the stale body, for a bounded number of
attempts: Karpenter writes the hash annotation and status right after every spec change, so conflicts are
expected.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook
from airflow.providers.cncf.kubernetes.kubernetes_helper_functions import generic_api_retry
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from kubernetes.client.exceptions import ApiException

from airflow_carbon_provider.karpenter.conditions import ConditionReport
from airflow_carbon_provider.karpenter.errors import KarpenterApiError, KarpenterApiVersionError

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_carbon_provider.karpenter.plan import NodePoolUpdate

GROUP = "karpenter.sh"
VERSION = "v1"
PLURAL = "nodepools"
MERGE_PATCH = "application/merge-patch+json"
FIELD_MANAGER = "airflow-carbon-provider"


@dataclass(frozen=True)
class UpdateResult:
    """The plan that was sent (computed from the object the final attempt read) and the server's answer."""

    plan: NodePoolUpdate
    nodepool: dict[str, Any]
    attempts: int
    dry_run: bool


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return str(exc.reason or "")
    return str(body.get("message") or exc.reason or "")


class KarpenterHook(KubernetesHook):
    """Karpenter NodePools through a Kubernetes connection.

    :param kubernetes_conn_id: the cncf-kubernetes connection (kubeconfig / in-cluster).
    :param max_attempts: PATCH attempts when the pool keeps changing underneath (409 Conflict), at least 1.
    """

    hook_name = "Karpenter"

    def __init__(self, kubernetes_conn_id: str = KubernetesHook.default_conn_name, max_attempts: int = 5) -> None:
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        super().__init__(conn_id=kubernetes_conn_id)
        self.max_attempts = max_attempts

    def _error(self, exc: ApiException, name: str, verb: str) -> KarpenterApiError:
        message = _status_message(exc)
        status = exc.status
        if status == 403:
            text = (
                f"{verb} nodepools.karpenter.sh/{name} is forbidden for this connection ({message}). Grant the "
                f"ClusterRole verbs get and patch on nodepools.karpenter.sh with resourceNames [{name}] "
                "(see deploy/rbac.yaml)"
            )
        elif status == 404:
            text = f"NodePool {name!r} not found on the cluster ({message})"
        elif status == 415:
            text = f"the API server refused the patch type for NodePool {name!r} ({message})"
        elif status == 422:
            text = f"the API server rejected the change to NodePool {name!r}: {message}"
        else:
            text = f"{verb} NodePool {name!r} failed with HTTP {status}: {message}"
        return KarpenterApiError(text, status=status, reason=str(exc.reason or ""))

    def served_versions(self) -> list[str]:
        """Versions of the ``karpenter.sh`` API group the cluster serves (discovery on ``/apis/karpenter.sh``)."""
        try:
            group = self.api_client.call_api(
                f"/apis/{GROUP}",
                "GET",
                response_types_map={200: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
            )
        except ApiException as exc:
            if exc.status == 404:
                raise KarpenterApiVersionError(
                    "the cluster serves no karpenter.sh API group: is Karpenter installed?", status=404
                ) from exc
            raise self._error(exc, "-", "discover") from exc
        return [str(item.get("version")) for item in (group or {}).get("versions", [])]

    def check_api_version(self) -> None:
        """Fail clearly unless ``karpenter.sh/v1`` is served (only v1beta1 means Karpenter < 1.0)."""
        versions = self.served_versions()
        if VERSION in versions:
            return
        if "v1beta1" in versions:
            raise KarpenterApiVersionError(
                "the cluster serves only karpenter.sh/v1beta1 (Karpenter < 1.0); this provider writes "
                "karpenter.sh/v1 NodePools: upgrade Karpenter to v1.0 or later"
            )
        raise KarpenterApiVersionError(f"the cluster serves karpenter.sh versions {versions}, not {VERSION}")

    def _get(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.custom_object_client.get_cluster_custom_object(GROUP, VERSION, PLURAL, name)
        return result

    def get_nodepool(self, name: str) -> dict[str, Any]:
        try:
            retrying_get: Any = generic_api_retry  # untyped upstream; retries 429/5xx, fine for a read
            result: dict[str, Any] = retrying_get(self._get)(name)
        except ApiException as exc:
            raise self._error(exc, name, "get") from exc
        return result

    def patch_nodepool(self, name: str, patch: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """One merge-patch request (no retry: a 409 must be answered by recomputing, see :meth:`update_nodepool`)."""
        result: dict[str, Any] = self.custom_object_client.patch_cluster_custom_object(
            GROUP,
            VERSION,
            PLURAL,
            name,
            patch,
            dry_run="All" if dry_run else None,
            field_manager=FIELD_MANAGER,
            _content_type=MERGE_PATCH,
        )
        return result

    def update_nodepool(
        self, name: str, compute: Callable[[dict[str, Any]], NodePoolUpdate], dry_run: bool = False
    ) -> UpdateResult:
        """Read the pool, compute the plan from it, send its patch; on 409 start over from a fresh read."""
        for attempt in range(1, self.max_attempts + 1):
            live = self.get_nodepool(name)
            plan = compute(live)
            patch = plan.patch
            if patch is None:
                return UpdateResult(plan, live, attempt, dry_run)
            try:
                result = self.patch_nodepool(name, patch, dry_run=dry_run)
            except ApiException as exc:
                if exc.status == 409:
                    self.log.info("NodePool %s changed underneath (409, attempt %d): re-reading", name, attempt)
                    continue
                raise self._error(exc, name, "patch") from exc
            return UpdateResult(plan, result, attempt, dry_run)
        raise KarpenterApiError(
            f"NodePool {name!r} kept changing underneath: {self.max_attempts} attempts ended in 409 Conflict",
            status=409,
        )

    def wait_for_conditions(self, name: str, timeout: float, interval: float = 2.0) -> ConditionReport:
        """Poll until Karpenter reports conditions for the pool's current generation, or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            report = ConditionReport.of(self.get_nodepool(name))
            if report.current or time.monotonic() >= deadline:
                return report
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def kubernetes_configured(conn_id: str | None, default_conn_id: str = "kubernetes_default") -> bool:
    """Whether ``conn_id`` leads to a cluster: the connection exists or, for the default connection, a kubeconfig
    or an in-cluster service account does (where KubernetesHook falls back to). An unknown non-default id is an
    error, not "no cluster"."""
    if conn_id is None:
        return False
    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if conn_id != default_conn_id:
            raise
        default_kubeconfig = Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()
        return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) or default_kubeconfig.is_file()
    return True

"""Operators that change Karpenter NodePools safely and reversibly.

``NodePoolOperator`` applies declarative changes (or restores what an earlier run changed); use a restore task
as the DAG's teardown so the pool is put back even when the job fails::

    open_pool = NodePoolOperator(task_id="open_gpu_spot", nodepool_name="batch",
                                 changes=[{"type": "allow_capacity_types", "values": ["spot", "on-demand"]}])
    close_pool = NodePoolOperator(task_id="restore_pool", nodepool_name="batch", action="restore")
    open_pool >> train >> close_pool.as_teardown(setups=open_pool)

``CarbonAwareNodePoolOperator`` is the original design's controller loop as a task: it reads the grid's carbon
intensity, moves a hysteresis gate kept on the pool, and applies the pool's ``clean`` or ``dirty`` profile.

Safety: only pools labelled ``carbon-aware.airflow-provider.io/managed: "true"`` (and, if given, named in
``allowed_nodepools``) are touched; changes within ``min_interval`` of the pool's last change are skipped; the
pool after the change is validated against the NodePool CRD (schema + CEL) before any request.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_carbon_provider.carbon.clock import Clock, SystemClock
from airflow_carbon_provider.carbon.hysteresis import GateState, Hysteresis
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.karpenter.bundled import BUNDLED_CRDS, example_nodepool
from airflow_carbon_provider.karpenter.changes import Change, parse_changes
from airflow_carbon_provider.karpenter.diff import format_diff
from airflow_carbon_provider.karpenter.errors import NodePoolNotReadyError, NodePoolValidationError
from airflow_carbon_provider.karpenter.mergepatch import apply_merge_patch
from airflow_carbon_provider.karpenter.plan import NodePoolUpdate, Outcome, check_may_change, plan_apply, plan_restore
from airflow_carbon_provider.karpenter.state import GATE_STATE_ANNOTATION, annotations_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_carbon_provider.hooks.karpenter import KarpenterHook
    from airflow_carbon_provider.karpenter.conditions import ConditionReport
    from airflow_carbon_provider.karpenter.validation import NodePoolValidator

NODEPOOL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ACTIONS = ("apply", "restore")
DEFAULT_KUBE_CONN = "kubernetes_default"
PlanFor = Callable[[dict[str, Any]], NodePoolUpdate]
PREFLIGHT_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # only stamps annotations on the throw-away example pool


def _templated(value: Any) -> bool:
    """Whether ``value`` (or anything nested in it) still holds a Jinja expression to render at run time."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, Mapping):
        return any(_templated(item) for item in value.values())
    if isinstance(value, Sequence):
        return any(_templated(item) for item in value)
    return False


def _check_name(name: Any, parameter: str = "nodepool_name") -> None:
    if not isinstance(name, str) or len(name) > 253 or not NODEPOOL_NAME.match(name):
        raise ValueError(
            f"{parameter} must be a Kubernetes object name (lowercase DNS-1123 subdomain, at most 253 characters), "
            f"got {name!r}"
        )


def _interval(value: timedelta | float | int, parameter: str) -> timedelta:
    if not isinstance(value, timedelta | float | int) or isinstance(value, bool):
        raise ValueError(f"{parameter} must be a timedelta or a number of seconds, got {value!r}")
    interval = value if isinstance(value, timedelta) else timedelta(seconds=float(value))
    if interval < timedelta(0):
        raise ValueError(f"{parameter} must be >= 0, got {value!r}")
    return interval


@functools.lru_cache(maxsize=256)
def _preflight_violations(validator: NodePoolValidator, name: str, changes_json: str) -> tuple[str, ...]:
    """CRD violations of the example pool after ``changes``; cached since a scheduled task repeats them."""
    baseline = example_nodepool()
    baseline["metadata"]["name"] = name
    plan = plan_apply(baseline, parse_changes(changes_json), PREFLIGHT_TIME)
    return tuple(validator.validate(plan.after, old=plan.before))


def _gate_state(nodepool: dict[str, Any]) -> GateState | None:
    text = annotations_of(nodepool).get(GATE_STATE_ANNOTATION)
    if not text:
        return None
    try:
        return GateState.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"NodePool annotation {GATE_STATE_ANNOTATION} is not a gate state this provider wrote ({exc}); "
            "remove it to let the gate start afresh"
        ) from exc


class _NodePoolTask(BaseOperator):
    """What both operators share: safety checks, validation, cluster or offline dry run, the XCom summary.

    :param nodepool_name: the NodePool (cluster-scoped). Templated.
    :param kubernetes_conn_id: cncf-kubernetes connection. ``None``, or the default connection when it is not
        defined and no kubeconfig/in-cluster config exists, runs an offline dry run on ``nodepool_spec``
        (default: the bundled example NodePool).
    :param allowed_nodepools: if given, the only NodePool names this task may change.
    :param min_interval: minimum time between changes of the same pool; a change inside it is skipped and
        logged, not queued. Restore is never held back.
    :param dry_run: compute, validate and (with a cluster) send with ``dryRun=All``; nothing is stored.
    :param fail_on_not_ready: fail the task when the pool reports ``Ready`` or ``ValidationSucceeded`` = False
        after the change (the change stays applied and recorded, so a teardown restore still works).
    :param wait_for_ready: seconds to wait for Karpenter to report conditions for the new generation.
    :param crd: CRD to validate against before sending: ``core`` or ``aws`` (bundled, Karpenter v1.14.1), a
        file path, or ``None`` to rely on the API server's validation only.
    :param nodepool_spec: the NodePool object used by the offline dry run.
    :param max_attempts: PATCH attempts on 409 Conflict.
    :param clock: time source for the anti-flap stamps (tests).
    """

    ui_color = "#d9f2e6"

    def __init__(
        self,
        *,
        nodepool_name: str,
        kubernetes_conn_id: str | None = DEFAULT_KUBE_CONN,
        allowed_nodepools: Sequence[str] | None = None,
        min_interval: timedelta | float = timedelta(minutes=30),
        dry_run: bool = False,
        fail_on_not_ready: bool = False,
        wait_for_ready: float = 30.0,
        crd: str | None = "core",
        nodepool_spec: Mapping[str, Any] | None = None,
        max_attempts: int = 5,
        clock: Clock | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _templated(nodepool_name):
            _check_name(nodepool_name)
        if allowed_nodepools is not None:
            if isinstance(allowed_nodepools, str):
                raise ValueError("allowed_nodepools must be a list of NodePool names, not a string")
            for index, allowed in enumerate(allowed_nodepools):
                _check_name(allowed, f"allowed_nodepools[{index}]")
            if not _templated(nodepool_name) and nodepool_name not in allowed_nodepools:
                raise ValueError(
                    f"nodepool_name {nodepool_name!r} is not in allowed_nodepools {list(allowed_nodepools)}"
                )
        if crd is not None and crd not in BUNDLED_CRDS and not str(crd).endswith((".yaml", ".yml", ".json")):
            raise ValueError(f"crd must be one of {', '.join(BUNDLED_CRDS)}, a .yaml/.json CRD file path, or None")
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if wait_for_ready < 0:
            raise ValueError(f"wait_for_ready must be >= 0 seconds, got {wait_for_ready!r}")
        if nodepool_spec is not None and not isinstance(nodepool_spec, Mapping):
            raise ValueError("nodepool_spec must be a NodePool object (a mapping)")
        self.nodepool_name = nodepool_name
        self.kubernetes_conn_id = kubernetes_conn_id
        self.allowed_nodepools = list(allowed_nodepools) if allowed_nodepools is not None else None
        self.min_interval = _interval(min_interval, "min_interval")
        self.is_dry_run = dry_run  # BaseOperator.dry_run is a method
        self.fail_on_not_ready = fail_on_not_ready
        self.wait_for_ready = wait_for_ready
        self.crd = crd
        self.nodepool_spec = dict(nodepool_spec) if nodepool_spec is not None else None
        self.max_attempts = max_attempts
        self.clock: Clock = clock or SystemClock()

    # -------------------------------------------------------------------------------- execution
    def run(self, plan_for: PlanFor, profiles: Sequence[Sequence[Change]]) -> dict[str, Any]:
        """Validate ``profiles`` offline, then plan against the live pool (or the offline spec) and send.

        Returns the XCom summary.
        """
        _check_name(self.nodepool_name)
        validator, validation = self._validator()
        if validator is not None:
            for changes in profiles:
                self._preflight(validator, changes)

        def checked(live: dict[str, Any]) -> NodePoolUpdate:
            check_may_change(live, self.allowed_nodepools)
            plan: NodePoolUpdate = plan_for(live)
            if validator is not None and plan.patch is not None:
                violations = validator.validate(plan.after, old=plan.before)
                if violations:
                    raise NodePoolValidationError(plan.name, violations)
            return plan

        if not self._cluster_configured():
            return self._offline(checked, validation)
        from airflow_carbon_provider.hooks.karpenter import KarpenterHook  # kubernetes client: not at DAG parse

        hook = KarpenterHook(self.kubernetes_conn_id or DEFAULT_KUBE_CONN, max_attempts=self.max_attempts)
        hook.check_api_version()
        result = hook.update_nodepool(self.nodepool_name, checked, dry_run=self.is_dry_run)
        mode = "server-dry-run" if self.is_dry_run else "cluster"
        summary = self._summary(result.plan, mode, validation, attempts=result.attempts)
        if result.plan.outcome is Outcome.CHANGED and not self.is_dry_run:
            summary["conditions"] = self._conditions(hook)
        return summary

    def _preflight(self, validator: NodePoolValidator, changes: Sequence[Change]) -> None:
        """Reject changes that make even the (valid) example pool invalid, before any request is made."""
        key = json.dumps([change.to_dict() for change in changes], sort_keys=True)
        violations = _preflight_violations(validator, self.nodepool_name, key)
        if violations:
            raise NodePoolValidationError(self.nodepool_name, list(violations))

    def _validator(self) -> tuple[NodePoolValidator | None, dict[str, Any]]:
        if self.crd is None:
            self.log.warning("CRD validation disabled (crd=None): relying on the API server's validation only")
            return None, {"mode": "server-only", "reason": "crd=None"}
        from airflow_carbon_provider.karpenter.validation import NodePoolValidator  # CEL engine: not at DAG parse

        try:
            validator = (
                NodePoolValidator.bundled(self.crd)
                if self.crd in BUNDLED_CRDS
                else NodePoolValidator.from_file(Path(self.crd))
            )
        except (OSError, ValueError) as exc:
            self.log.warning(
                "NodePool CRD %s unavailable (%s): relying on the API server's validation only", self.crd, exc
            )
            return None, {"mode": "server-only", "reason": f"CRD {self.crd} unavailable: {exc}"}
        skipped = [f"{'.'.join(rule.schema_path)}: {rule.rule} ({rule.reason})" for rule in validator.skipped_rules]
        for rule in skipped:
            self.log.warning("CEL rule not checked offline (the server still checks it): %s", rule)
        return validator, {
            "mode": "crd",
            "crd": validator.source,
            "rules": len(validator.rules),
            "skipped_rules": skipped,
        }

    def _cluster_configured(self) -> bool:
        from airflow_carbon_provider.hooks.karpenter import kubernetes_configured

        return kubernetes_configured(self.kubernetes_conn_id, DEFAULT_KUBE_CONN)

    def _offline(self, checked: PlanFor, validation: dict[str, Any]) -> dict[str, Any]:
        source = "nodepool_spec" if self.nodepool_spec is not None else "the bundled example NodePool"
        self.log.warning(
            "No Kubernetes connection configured: offline dry run against %s; nothing is sent to a cluster", source
        )
        spec = dict(self.nodepool_spec) if self.nodepool_spec is not None else example_nodepool()
        if self.nodepool_spec is None:
            spec["metadata"]["name"] = self.nodepool_name
        plan: NodePoolUpdate = checked(spec)
        summary = self._summary(plan, "offline-dry-run", validation, attempts=0)
        summary["nodepool_after"] = apply_merge_patch(spec, plan.patch) if plan.patch else spec
        return summary

    def _conditions(self, hook: KarpenterHook) -> dict[str, Any]:
        report: ConditionReport = hook.wait_for_conditions(self.nodepool_name, timeout=self.wait_for_ready)
        if not report.current:
            self.log.warning(
                "Karpenter has not reported conditions for generation %s of NodePool %s within %ss",
                report.generation,
                self.nodepool_name,
                self.wait_for_ready,
            )
        for problem in report.problems:
            self.log.warning("NodePool %s after the change: %s", self.nodepool_name, problem)
        if report.problems and self.fail_on_not_ready:
            raise NodePoolNotReadyError(
                f"NodePool {self.nodepool_name} is not ready after the change: {'; '.join(report.problems)}. "
                "The change is recorded on the pool; run action='restore' to put it back"
            )
        return report.to_dict()

    def _summary(self, plan: NodePoolUpdate, mode: str, validation: dict[str, Any], attempts: int) -> dict[str, Any]:
        summary = plan.to_dict()
        summary.update(mode=mode, dry_run=mode != "cluster", validation=validation, attempts=attempts)
        if plan.outcome is Outcome.CHANGED:
            verb = "would send" if summary["dry_run"] else "sent"
            self.log.info(
                "NodePool %s %s: %s merge patch %s\n%s",
                plan.name,
                plan.action,
                verb,
                json.dumps(plan.patch, sort_keys=True),
                format_diff(plan.diff()),
            )
            if plan.drift != "none":
                self.log.warning("NodePool %s: Karpenter will replace %s", plan.name, plan.drift)
        else:
            self.log.info("NodePool %s %s: %s (%s)", plan.name, plan.action, plan.outcome.value, plan.reason)
        for field in plan.kept_fields:
            self.log.warning("NodePool %s: %s was changed by someone else since; left as it is", plan.name, field)
        return summary


class NodePoolOperator(_NodePoolTask):
    """Apply declarative changes to one Karpenter NodePool, or restore what earlier applies changed.

    :param changes: :mod:`~airflow_carbon_provider.karpenter.changes` values or their JSON form (a list, or a
        JSON string of one). Templated. Required for ``action="apply"``.
    :param action: ``apply`` or ``restore`` (put back every field recorded by earlier applies). Templated.

    The other parameters are described on the module's shared base (``nodepool_name``, ``kubernetes_conn_id``,
    ``allowed_nodepools``, ``min_interval``, ``dry_run``, ``fail_on_not_ready``, ``wait_for_ready``, ``crd``,
    ``nodepool_spec``, ``max_attempts``, ``clock``).
    """

    template_fields: Sequence[str] = ("nodepool_name", "changes", "action")

    def __init__(
        self,
        *,
        nodepool_name: str,
        changes: Sequence[Change | Mapping[str, Any]] | str = (),
        action: str = "apply",
        **kwargs: Any,
    ) -> None:
        if not _templated(action) and action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        if not _templated(changes) and action == "apply" and not parse_changes(changes):
            raise ValueError("changes must hold at least one change for action='apply'")
        super().__init__(nodepool_name=nodepool_name, **kwargs)
        self.changes = changes
        self.action = action

    def execute(self, context: Context) -> dict[str, Any]:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if self.action == "restore":
            return self.run(lambda live: plan_restore(live, self.clock.now()), profiles=())
        changes = parse_changes(self.changes)
        if not changes:
            raise ValueError("changes must hold at least one change for action='apply'")
        return self.run(lambda live: plan_apply(live, changes, self.clock.now(), self.min_interval), [changes])


class CarbonAwareNodePoolOperator(_NodePoolTask):
    """Switch a NodePool between a ``clean`` and a ``dirty`` profile from the grid's carbon intensity.

    The gate enters ``clean`` below ``threshold_low`` and leaves it above ``threshold_high`` (a crossing must
    last ``min_dwell``), and its state is kept in an annotation on the pool, so a noisy signal does not
    toggle the pool. Each run applies the current state's profile (idempotent: a no-op when already in place).

    :param clean_changes: changes for a clean grid (e.g. allow spot and GPU instances). Templated.
    :param dirty_changes: changes for a dirty grid (e.g. arm64 only, or pause). Templated.
    :param zone: grid zone or cloud region for the carbon source; default: the connection's zone. Templated.
    :param carbon_conn_id: ``carbon_intensity`` connection (default replays the bundled data).
    """

    template_fields: Sequence[str] = ("nodepool_name", "clean_changes", "dirty_changes", "zone")

    def __init__(
        self,
        *,
        nodepool_name: str,
        clean_changes: Sequence[Change | Mapping[str, Any]] | str,
        dirty_changes: Sequence[Change | Mapping[str, Any]] | str,
        threshold_low: float,
        threshold_high: float,
        min_dwell: timedelta | float = timedelta(0),
        zone: str | None = None,
        carbon_conn_id: str = CarbonIntensityHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        for name, value in (("clean_changes", clean_changes), ("dirty_changes", dirty_changes)):
            if not _templated(value) and not parse_changes(value, name):
                raise ValueError(f"{name} must hold at least one change")
        self.hysteresis = Hysteresis(float(threshold_low), float(threshold_high), _interval(min_dwell, "min_dwell"))
        super().__init__(nodepool_name=nodepool_name, **kwargs)
        self.clean_changes = clean_changes
        self.dirty_changes = dirty_changes
        self.zone = zone
        self.carbon_conn_id = carbon_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        profiles = {
            "clean": parse_changes(self.clean_changes, "clean_changes"),
            "dirty": parse_changes(self.dirty_changes, "dirty_changes"),
        }
        carbon = CarbonIntensityHook(self.carbon_conn_id)
        reading = carbon.get_current_intensity(self.zone)
        carbon_now = carbon.clock.now()
        self.log.info(
            "Carbon intensity %s: %.1f gCO₂e/kWh at %s (source %s%s)",
            reading.zone,
            reading.intensity,
            reading.start.isoformat(),
            reading.source or carbon.source_name,
            ", estimated" if reading.estimated else "",
        )
        decided: dict[str, Any] = {}

        def plan_for(live: dict[str, Any]) -> NodePoolUpdate:
            previous = _gate_state(live)
            gate = self.hysteresis.step(previous, reading.intensity, carbon_now)
            decided.update(previous=previous.state.value if previous else None, gate=gate)
            gate_text = json.dumps(gate.to_dict(), sort_keys=True, separators=(",", ":"))
            return plan_apply(
                live,
                profiles[gate.state.value],
                self.clock.now(),
                self.min_interval,
                annotations={GATE_STATE_ANNOTATION: gate_text},
            )

        summary = self.run(plan_for, profiles=list(profiles.values()))
        gate: GateState = decided["gate"]
        summary.update(
            reading=reading.to_dict(),
            grid_state=gate.state.value,
            previous_grid_state=decided["previous"],
            profile=[change.to_dict() for change in profiles[gate.state.value]],
            thresholds={"low": self.hysteresis.low, "high": self.hysteresis.high},
        )
        return summary

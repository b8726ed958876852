"""A loopback fake of the Kubernetes API server for Karpenter NodePools, driven by the real ``kubernetes`` client.

It speaks the documented shapes for the calls the provider makes: discovery of ``/apis/karpenter.sh``, GET and
PATCH of cluster-scoped ``/apis/karpenter.sh/<version>/nodepools/<name>``, ``resourceVersion`` preconditions
(409), 403 (names outside an RBAC ``resourceNames`` list), 404, 415 for patch types a CRD does not accept, 422
from the CRD's schema and CEL rules, ``dryRun=All``, and ``Status`` error bodies. After a spec change it behaves
like Karpenter's controllers: it writes the hash annotation and the status conditions in a second write (a second
``resourceVersion`` bump).

Nothing here comes from the code under test: the RFC 7386 merge is the ``json-merge-patch`` library's and the CRD
validation is :mod:`tests.fakes.apiserver_validation` (jsonschema + a different CEL engine, read from the CRD
file), so a bug in the provider's merge patch or validator makes the Kubernetes tests fail instead of being
mirrored by the fake (``tests/karpenter/test_fake_independence.py`` shows it).

Faults for the hardening suite: :meth:`FakeKubeApi.fail_next` scripts error responses, :meth:`before_next_patch`
runs a concurrent writer between the client's read and its patch.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import json_merge_patch

from tests.conftest import BUNDLED_CRDS
from tests.fakes.apiserver_validation import CustomResourceValidation, FieldError, crd_validation

GROUP = "karpenter.sh"
MERGE_PATCH = "application/merge-patch+json"
KNOWN_PATCH_TYPES = (MERGE_PATCH, "application/json-patch+json", "application/apply-patch+yaml")
CAPACITY_TYPES = ("on-demand", "spot", "reserved")


def core_crd() -> CustomResourceValidation:
    """The NodePool CRD of Karpenter v1.14.1 (core), read from its file."""
    return crd_validation(BUNDLED_CRDS / "karpenter.sh_nodepools.v1.14.1.yaml")


def merge_patched(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 by the ``json-merge-patch`` library (which merges in place: give it copies)."""
    merged: dict[str, Any] = json_merge_patch.merge(copy.deepcopy(current), copy.deepcopy(patch))
    return merged


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any


@dataclass
class Fault:
    """A scripted response for the next matching request."""

    method: str
    status: int
    reason: str
    message: str
    retry_after: int | None = None


def status_body(
    code: int, reason: str, message: str, name: str = "", causes: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "group": GROUP, "kind": "nodepools"} if name else {}
    if causes:
        details["causes"] = causes
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def invalid_body(name: str, errors: list[FieldError]) -> dict[str, Any]:
    """A 422 ``Status`` as the API server writes it: one cause per field error, all of them in the message."""
    listed = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(error) for error in errors) + "]"
    causes = [{"reason": error.reason, "message": error.message, "field": error.field} for error in errors]
    return status_body(422, "Invalid", f'NodePool.karpenter.sh "{name}" is invalid: {listed}', name, causes)


def karpenter_runtime_check(nodepool: dict[str, Any]) -> str | None:
    """Karpenter's runtime validation the CRD cannot express: a capacity-type requirement needs a known type."""
    for requirement in nodepool.get("spec", {}).get("template", {}).get("spec", {}).get("requirements", []):
        is_capacity_type = (
            requirement.get("key") == "karpenter.sh/capacity-type" and requirement.get("operator") == "In"
        )
        if is_capacity_type and not set(requirement.get("values", [])) & set(CAPACITY_TYPES):
            return "karpenter.sh/capacity-type In must include one of " + ", ".join(CAPACITY_TYPES)
    return None


@dataclass
class FakeKubeApi:
    """State and behaviour of the fake; :func:`serve_fake_kube_api` puts it on a port."""

    crd: CustomResourceValidation | None = field(default_factory=core_crd)
    served_versions: tuple[str, ...] = ("v1",)
    simulate_karpenter: bool = True
    allowed_names: set[str] | None = None
    runtime_check: Callable[[dict[str, Any]], str | None] = karpenter_runtime_check
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    _faults: list[Fault] = field(default_factory=list)
    _patch_hooks: list[Callable[[FakeKubeApi, str], None]] = field(default_factory=list)
    _version: int = 1000
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- test-facing API -------------------------------------------------------------------------------------
    def add(self, nodepool: dict[str, Any]) -> dict[str, Any]:
        """Store a NodePool as if created: uid, generation 1, a resourceVersion, Ready conditions."""
        with self._lock:
            stored = copy.deepcopy(nodepool)
            metadata = stored.setdefault("metadata", {})
            metadata.setdefault("uid", hashlib.sha1(metadata["name"].encode()).hexdigest())
            metadata["generation"] = 1
            metadata["resourceVersion"] = self._next_version()
            self.objects[metadata["name"]] = stored
            if self.simulate_karpenter:
                self._karpenter_reconcile(metadata["name"])
            return copy.deepcopy(self.objects[metadata["name"]])

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.objects[name])

    def write(self, name: str, mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Another client's write (a human, GitOps, Karpenter): mutate and bump resourceVersion/generation."""
        with self._lock:
            current = self.objects[name]
            updated = copy.deepcopy(current)
            mutate(updated)
            self._store(name, current, updated)
            return copy.deepcopy(self.objects[name])

    def fail_next(self, method: str, status: int, reason: str, message: str, retry_after: int | None = None) -> None:
        """Answer the next ``method`` request with this error instead of handling it."""
        with self._lock:
            self._faults.append(Fault(method, status, reason, message, retry_after))

    def before_next_patch(self, hook: Callable[[FakeKubeApi, str], None]) -> None:
        """Run ``hook(api, name)`` when the next PATCH arrives, before it is applied (a concurrent writer)."""
        with self._lock:
            self._patch_hooks.append(hook)

    def requests_with(self, method: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.method == method]

    def kubeconfig(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token-not-a-secret"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "current-context": "fake",
        }

    def airflow_connection(self) -> str:
        """An ``AIRFLOW_CONN_...`` value (JSON) whose extra carries the kubeconfig of this fake."""
        return json.dumps({"conn_type": "kubernetes", "extra": {"kube_config": json.dumps(self.kubeconfig())}})

    # -- request handling ----------------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, content_type: str, raw_body: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(RecordedRequest(method, parts.path, query, content_type, body))
            fault = next((f for f in self._faults if f.method == method), None)
            if fault is not None:
                self._faults.remove(fault)
                body = status_body(fault.status, fault.reason, fault.message)
                if fault.retry_after is not None:
                    body["details"]["retryAfterSeconds"] = fault.retry_after
                return fault.status, body
            segments = [s for s in parts.path.split("/") if s]
            if segments == ["apis", GROUP] and method == "GET":
                return 200, self._discovery()
            if len(segments) == 5 and segments[:2] == ["apis", GROUP] and segments[3] == "nodepools":
                version, name = segments[2], segments[4]
                if version not in self.served_versions:
                    return 404, status_body(404, "NotFound", "the server could not find the requested resource")
                if self.allowed_names is not None and name not in self.allowed_names:
                    return 403, status_body(
                        403,
                        "Forbidden",
                        f'nodepools.karpenter.sh "{name}" is forbidden: User "system:serviceaccount:airflow:worker" '
                        f'cannot {method.lower()} resource "nodepools" in API group "karpenter.sh" '
                        "at the cluster scope",
                        name,
                    )
                if name not in self.objects:
                    return 404, status_body(404, "NotFound", f'nodepools.karpenter.sh "{name}" not found', name)
                if method == "GET":
                    return 200, copy.deepcopy(self.objects[name])
                if method == "PATCH":
                    return self._patch(name, content_type, body, query)
            return 404, status_body(404, "NotFound", "the server could not find the requested resource")

    def _discovery(self) -> dict[str, Any]:
        versions = [{"groupVersion": f"{GROUP}/{v}", "version": v} for v in self.served_versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": GROUP,
            "versions": versions,
            "preferredVersion": versions[0],
        }

    def _patch(
        self, name: str, content_type: str, body: Any, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        media_type = content_type.split(";", maxsplit=1)[0].strip()
        if media_type != MERGE_PATCH:
            accepted = ", ".join(KNOWN_PATCH_TYPES)
            message = f"the body of the request was in an unknown format - accepted media types include: {accepted}"
            if media_type in KNOWN_PATCH_TYPES:
                message = f"{media_type} is accepted by a real server but not implemented by this fake"
            return 415, status_body(415, "UnsupportedMediaType", message, name)
        if not isinstance(body, dict):
            return 400, status_body(400, "BadRequest", "merge patch body must be a JSON object", name)
        if self._patch_hooks:
            self._patch_hooks.pop(0)(self, name)
        current = self.objects[name]
        wanted_version = (body.get("metadata") or {}).get("resourceVersion")
        if wanted_version is not None and wanted_version != current["metadata"]["resourceVersion"]:
            return 409, status_body(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on nodepools.karpenter.sh "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                name,
            )
        updated = merge_patched(current, body)
        updated["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if updated.get("status") != current.get("status"):
            updated["status"] = copy.deepcopy(current.get("status"))  # the main resource ignores status writes
        errors = self.crd.errors(updated, old=current) if self.crd else []
        if errors:
            return 422, invalid_body(name, errors)
        if query.get("dryRun") == ["All"]:
            preview = copy.deepcopy(updated)
            if preview.get("spec") != current.get("spec"):
                preview["metadata"]["generation"] = current["metadata"]["generation"] + 1
            return 200, preview
        self._store(name, current, updated)
        return 200, copy.deepcopy(self.objects[name])

    # -- internals ----------------------------------------------------------------------------------------------
    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _store(self, name: str, current: dict[str, Any], updated: dict[str, Any]) -> None:
        if updated == current:
            return
        spec_changed = updated.get("spec") != current.get("spec")
        if spec_changed:
            updated["metadata"]["generation"] = current["metadata"]["generation"] + 1
        updated["metadata"]["resourceVersion"] = self._next_version()
        self.objects[name] = updated
        if spec_changed and self.simulate_karpenter:
            self._karpenter_reconcile(name)

    def _karpenter_reconcile(self, name: str) -> None:
        """What Karpenter's hash and status controllers write after a spec change (one more write)."""
        nodepool = self.objects[name]
        template = json.dumps(nodepool.get("spec", {}).get("template", {}), sort_keys=True)
        annotations = nodepool["metadata"].setdefault("annotations", {})
        annotations["karpenter.sh/nodepool-hash"] = str(int(hashlib.sha256(template.encode()).hexdigest()[:15], 16))
        annotations["karpenter.sh/nodepool-hash-version"] = "v3"
        problem = self.runtime_check(nodepool)
        generation = nodepool["metadata"]["generation"]

        def condition(kind: str, ok: bool, reason: str, message: str = "") -> dict[str, Any]:
            return {
                "type": kind,
                "status": "True" if ok else "False",
                "reason": reason,
                "message": message,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": generation,
            }

        nodepool["status"] = {
            "conditions": [
                condition(
                    "ValidationSucceeded",
                    problem is None,
                    "ValidationSucceeded" if problem is None else "Invalid",
                    problem or "",
                ),
                condition("NodeClassReady", True, "NodeClassReady"),
                condition("Ready", problem is None, "Ready" if problem is None else "ValidationFailed", problem or ""),
            ],
            "nodes": 0,
        }
        nodepool["metadata"]["resourceVersion"] = self._next_version()


class _Handler(BaseHTTPRequestHandler):
    api: FakeKubeApi

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        code, payload = self.api.handle(self.command, self.path, self.headers.get("Content-Type", ""), raw)
        data = json.dumps(payload, sort_keys=True).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        retry_after = payload.get("details", {}).get("retryAfterSeconds") if payload.get("kind") == "Status" else None
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve  # noqa: N815 - http.server dispatches on these names
    do_PATCH = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_fake_kube_api(api: FakeKubeApi) -> Iterator[FakeKubeApi]:
    """Serve ``api`` on 127.0.0.1 at an OS-assigned port for the duration of the block."""
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

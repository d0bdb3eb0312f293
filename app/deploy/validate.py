"""Validate rendered manifests before anything is applied.

Three layers:
1. Built-in kinds: `kubernetes-validate` in strict mode (its offline schemas; unknown fields are errors).
2. Custom resources: `jsonschema` against the openAPIV3Schema of the official CRDs in shared/data/crds/,
   made strict the way the API server's `fieldValidation=Strict` is (unknown fields are errors). CEL rules
   (`x-kubernetes-validations`) are not evaluated here; the API server's dry-run checks those.
3. Cross-checks no schema can express: GPUs = TP x replicas, DNS-1123 names, label syntax, selectors that
   match the pods they are meant to select, scale targets that exist, no inlined secrets.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from app.deploy.plan import DNS1123_LABEL, DNS1123_SUBDOMAIN, LABEL_VALUE, DeploymentPlan
from app.errors import Invalid

log = logging.getLogger(__name__)

# The Kubernetes version whose schemas built-in kinds are checked against (kubernetes-validate ships
# 1.25 .. 1.37 offline). Matches the kube-apiserver the k8s test tier builds.
DEFAULT_K8S_VERSION = "1.36"
CRD_DIR = Path(__file__).resolve().parent / "crds"  # copied from shared/data/crds with their license
GPU_RESOURCE = "nvidia.com/gpu"
# Kinds whose metadata.name must be a DNS-1123 label (not just a subdomain).
LABEL_NAMED_KINDS = {"Namespace", "Service"}
LABEL_KEY_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


@dataclass(frozen=True)
class Issue:
    ref: str  # kind/namespace/name
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.ref}{where}: {self.message}"


@dataclass
class ValidationReport:
    issues: list[Issue] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues

    def add(self, doc: dict[str, Any], message: str, path: str = "") -> None:
        self.issues.append(Issue(ref(doc), message, path))


class ManifestValidationError(Invalid):
    """Manifests failed validation; `issues` lists every problem found (not just the first)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  - {i}" for i in issues[:50])
        more = f"\n  ... and {len(issues) - 50} more" if len(issues) > 50 else ""
        super().__init__(f"{len(issues)} manifest validation problem(s):\n{lines}{more}")


def ref(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind', '?')}/{ns + '/' if ns else ''}{meta.get('name', '?')}"


def _json_path(path: Iterable[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


# --- CRD schemas ------------------------------------------------------------------------------------------
def _strict_schema(schema: Any) -> Any:
    """Copy of an OpenAPI v3 structural schema where objects with declared properties reject unknown ones
    (as the API server does with fieldValidation=Strict), unless they preserve unknown fields."""
    if isinstance(schema, list):
        return [_strict_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict_schema(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    # metadata is validated by the API server itself, not by the CRD schema.
    return out


@functools.cache
def crd_validators(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """(apiVersion, kind) -> validator, for every served version of every CRD file in crd_dir."""
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            for crd in yaml.safe_load_all(f):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if not version.get("served", False):
                        continue
                    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                    schema = _strict_schema(schema)
                    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
                    validators[(f"{group}/{version['name']}", kind)] = cls(schema)
    return validators


def crd_kinds(crd_dir: Path = CRD_DIR) -> set[tuple[str, str]]:
    return set(crd_validators(crd_dir))


def load_crds(crd_dir: Path = CRD_DIR) -> list[dict[str, Any]]:
    """The CRD objects themselves (to install into a cluster)."""
    out = []
    for path in sorted(crd_dir.glob("*.yaml")):
        with path.open(encoding="utf-8") as f:
            out += [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "CustomResourceDefinition"]
    return out


# --- schema validation ------------------------------------------------------------------------------------
def validate_schema(
    doc: dict[str, Any],
    report: ValidationReport,
    k8s_version: str = DEFAULT_K8S_VERSION,
    crd_dir: Path = CRD_DIR,
) -> None:
    key = (str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
    custom = crd_validators(crd_dir).get(key)
    if custom is not None:
        for err in sorted(custom.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            report.add(doc, err.message, _json_path(err.absolute_path))
        return
    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
    except kubernetes_validate.ValidationError as e:
        report.add(doc, f"{e.message} (Kubernetes {e.version} schema)", _json_path(e.absolute_path))
    except kubernetes_validate.SchemaNotFoundError as e:
        report.add(doc, f"unknown kind: {e.message}; neither a built-in kind nor one of the known CRDs")


# --- cross-checks -----------------------------------------------------------------------------------------
def _check_labels(
    doc: dict[str, Any], labels: dict[str, Any] | None, path: str, report: ValidationReport
) -> None:
    for key, value in (labels or {}).items():
        prefix, _, name = str(key).rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix))) or not (
            0 < len(name) <= 63 and LABEL_KEY_NAME.match(name)
        ):
            report.add(doc, f"label key {key!r} is not a valid qualified name", path)
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            report.add(doc, f"label {key!r} has invalid value {value!r}", path)


def _check_names(doc: dict[str, Any], report: ValidationReport) -> None:
    meta = doc.get("metadata") or {}
    name = str(meta.get("name", ""))
    if doc.get("kind") in LABEL_NAMED_KINDS:
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            report.add(doc, f"name {name!r} is not a DNS-1123 label", "metadata.name")
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        report.add(doc, f"name {name!r} is not a DNS-1123 subdomain", "metadata.name")
    ns = meta.get("namespace")
    if ns is not None and (len(str(ns)) > 63 or not DNS1123_LABEL.match(str(ns))):
        report.add(doc, f"namespace {ns!r} is not a DNS-1123 label", "metadata.namespace")
    _check_labels(doc, meta.get("labels"), "metadata.labels", report)


def _selects(selector: dict[str, Any] | None, labels: dict[str, Any]) -> bool:
    """Whether a matchLabels-style selector (a plain map) selects objects carrying `labels`."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


@dataclass
class _Workload:
    name: str
    pod_labels: dict[str, Any]
    service_labels: dict[str, Any]
    gpus_per_replica: int
    replicas: tuple[int, int]
    args: list[str]
    env: list[dict[str, Any]]


def _as_int(value: Any, default: int) -> int:
    """An int from a manifest field; malformed values are the schema check's to report, not a crash."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _container_gpus(container: dict[str, Any]) -> int:
    res = container.get("resources") or {}
    limits = res.get("limits") or {}
    requests = res.get("requests") or {}
    return _as_int(limits.get(GPU_RESOURCE, requests.get(GPU_RESOURCE, 0)), 0)


def _workloads(
    docs: list[dict[str, Any]], report: ValidationReport
) -> dict[str, tuple[dict[str, Any], _Workload]]:
    """The Deployments that will run model-server pods: explicit ones, and those KServe creates."""
    out: dict[str, tuple[dict[str, Any], _Workload]] = {}
    for doc in docs:
        kind = doc.get("kind")
        if kind == "Deployment":
            spec = doc.get("spec") or {}
            tmpl = spec.get("template") or {}
            pod_labels = (tmpl.get("metadata") or {}).get("labels") or {}
            selector = (spec.get("selector") or {}).get("matchLabels")
            if not _selects(selector, pod_labels):
                report.add(
                    doc, "spec.selector.matchLabels does not match the pod template's labels", "spec.selector"
                )
            containers = (tmpl.get("spec") or {}).get("containers") or []
            replicas = _as_int(spec.get("replicas", 1), 1)
            out[doc["metadata"]["name"]] = (
                doc,
                _Workload(
                    doc["metadata"]["name"],
                    pod_labels,
                    {},
                    sum(_container_gpus(c) for c in containers),
                    (replicas, replicas),
                    [str(a) for c in containers for a in (c.get("args") or [])],
                    [e for c in containers for e in (c.get("env") or [])],
                ),
            )
        elif kind == "InferenceService":
            pred = (doc.get("spec") or {}).get("predictor") or {}
            model = pred.get("model") or {}
            labels = {**((doc.get("metadata") or {}).get("labels") or {}), **(pred.get("labels") or {})}
            name = f"{doc['metadata']['name']}-predictor"
            out[name] = (
                doc,
                _Workload(
                    name,
                    labels,
                    labels,
                    _container_gpus(model),
                    (_as_int(pred.get("minReplicas", 1), 1), _as_int(pred.get("maxReplicas", 1), 1)),
                    [str(a) for a in (model.get("args") or [])],
                    list(model.get("env") or []),
                ),
            )
    return out


_SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|APIKEY)", re.IGNORECASE)


def cross_check(
    docs: list[dict[str, Any]], report: ValidationReport, plan: DeploymentPlan | None = None
) -> None:
    for doc in docs:
        _check_names(doc, report)
    workloads = _workloads(docs, report)
    services = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    for name, svc in services.items():
        selector = (svc.get("spec") or {}).get("selector")
        if selector and not any(_selects(selector, w.pod_labels) for _, w in workloads.values()):
            report.add(svc, f"Service {name} selects no pods of this deployment", "spec.selector")
        for _, w in workloads.values():
            if _selects(selector, w.pod_labels):
                w.service_labels = (svc.get("metadata") or {}).get("labels") or {}

    for doc in docs:
        kind = doc.get("kind")
        spec = doc.get("spec") or {}
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = (spec.get("scaleTargetRef") or {}).get("name")
            if target not in workloads:
                report.add(
                    doc, f"scale target {target!r} is not a Deployment of this plan", "spec.scaleTargetRef"
                )
        elif kind in ("PodDisruptionBudget", "InferencePool"):
            sel = (spec.get("selector") or {}).get("matchLabels")
            if not any(_selects(sel, w.pod_labels) for _, w in workloads.values()):
                report.add(doc, "selector matches no pods of this deployment", "spec.selector")
        elif kind == "NetworkPolicy":
            sel = (spec.get("podSelector") or {}).get("matchLabels")
            if not any(_selects(sel, w.pod_labels) for _, w in workloads.values()):
                report.add(doc, "podSelector matches no pods of this deployment", "spec.podSelector")
        elif kind == "ServiceMonitor":
            sel = (spec.get("selector") or {}).get("matchLabels")
            if not any(_selects(sel, w.service_labels) for _, w in workloads.values()):
                report.add(doc, "selector matches no Service of this deployment", "spec.selector")

    for wdoc, w in workloads.values():
        for env in w.env:
            if _SECRET_ENV.search(str(env.get("name", ""))) and "value" in env:
                report.add(wdoc, f"env {env.get('name')} inlines a secret; use valueFrom.secretKeyRef", "env")

    if plan is not None:
        _check_against_plan(docs, workloads, plan, report)


def _check_against_plan(
    docs: list[dict[str, Any]],
    workloads: dict[str, tuple[dict[str, Any], _Workload]],
    plan: DeploymentPlan,
    report: ValidationReport,
) -> None:
    for doc in docs:
        ns = (doc.get("metadata") or {}).get("namespace")
        if doc.get("kind") != "Namespace" and ns != plan.namespace:
            report.add(
                doc, f"namespace {ns!r} differs from the plan's {plan.namespace!r}", "metadata.namespace"
            )
    if plan.workload_name not in workloads:
        report.issues.append(Issue(plan.workload_name, "the plan's serving workload is missing"))
        return
    wdoc, w = workloads[plan.workload_name]
    expected_gpus = plan.gpus_per_replica
    if w.gpus_per_replica != expected_gpus:
        report.add(
            wdoc,
            f"requests {w.gpus_per_replica} GPU(s) per replica; the plan needs "
            f"{expected_gpus} (tensor parallel size {plan.tensor_parallel_size})",
            "resources",
        )
    lo, hi = w.replicas
    if lo != plan.replicas_min or (plan.flavor != "deployment" and hi != plan.replicas_max):
        report.add(
            wdoc, f"replicas {lo}..{hi} differ from the plan's {plan.replicas_min}..{plan.replicas_max}"
        )
    total = w.gpus_per_replica * lo
    if total != expected_gpus * plan.replicas_min:
        report.add(
            wdoc,
            f"{total} GPUs at minimum scale, expected TP x replicas = {expected_gpus} x {plan.replicas_min}",
        )
    tp_flag = "--tp=" if plan.mode == "simulator" else "--tensor-parallel-size="
    tp_args = [a for a in w.args if a.startswith(tp_flag)]
    if tp_args != [f"{tp_flag}{plan.tensor_parallel_size}"]:
        report.add(wdoc, f"--tensor-parallel-size arguments {tp_args} do not say {plan.tensor_parallel_size}")


# --- entry points -----------------------------------------------------------------------------------------
def validate_manifests(
    docs: list[dict[str, Any]],
    plan: DeploymentPlan | None = None,
    k8s_version: str = DEFAULT_K8S_VERSION,
    crd_dir: Path = CRD_DIR,
) -> ValidationReport:
    """Check every document; never raises for a manifest problem (see `ensure_valid`)."""
    report = ValidationReport()
    for doc in docs:
        validate_schema(doc, report, k8s_version, crd_dir)
        report.checked += 1
    cross_check(docs, report, plan)
    return report


def ensure_valid(
    docs: list[dict[str, Any]],
    plan: DeploymentPlan | None = None,
    k8s_version: str = DEFAULT_K8S_VERSION,
    crd_dir: Path = CRD_DIR,
) -> ValidationReport:
    report = validate_manifests(docs, plan, k8s_version, crd_dir)
    if not report.ok:
        raise ManifestValidationError(report.issues)
    log.debug("validated %d manifests", report.checked)
    return report

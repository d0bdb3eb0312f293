"""Render a DeploymentPlan into Kubernetes manifests from templates/*.yaml.j2.

Safety rule: every string reaches the YAML through the `q` filter, which writes a YAML double-quoted
scalar (or a flow collection of them) with every character that could end the scalar, start a comment or
break a line escaped. So a value can never add keys, documents or list items, whatever it holds. Jinja
itself never re-evaluates values, so `{{ }}` inside a value stays literal text.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import yaml

from app.deploy import observability
from app.deploy.plan import DeploymentPlan
from app.errors import Invalid

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
PORT = 8080
MANAGED_BY = "preflight"
LABEL_DEPLOYMENT_ID = "preflight.dev/deployment-id"
ANNOTATION_DESCRIPTION = "preflight.dev/description"
PROFILE_MOUNT_DIR = "/etc/preflight-simulator"
PROFILE_FILE = "profile.json"


class RenderError(Invalid):
    """A template could not be rendered or did not produce valid YAML (a bug, not a user error)."""


def _quote_str(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _flow_entry(key: str, value: Any) -> str:
    quoted = _quote_str(key)
    # YAML limits implicit keys to 1024 characters; longer ones need the explicit '?' indicator.
    if len(quoted) > 1000:
        return f"? {quoted} : {yaml_quote(value)}"
    return f"{quoted}: {yaml_quote(value)}"


def yaml_quote(value: Any) -> str:
    """One YAML flow node for a value: strings double-quoted and fully escaped (ASCII only), collections as
    flow sequences/mappings, numbers and booleans as plain scalars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RenderError(f"cannot render non-finite number {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _quote_str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(_flow_entry(str(k), v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_quote(v) for v in value) + "]"
    raise RenderError(f"cannot render a value of type {type(value).__name__}")


def _environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["q"] = yaml_quote
    return env


def common_labels(plan: DeploymentPlan) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": plan.name,
        "app.kubernetes.io/instance": plan.name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": "preflight",
        LABEL_DEPLOYMENT_ID: plan.deployment_id,
    }


def pod_selector_labels(plan: DeploymentPlan) -> dict[str, str]:
    """Labels that select this deployment's serving pods (and, in KServe raw mode, its Service)."""
    return {"app.kubernetes.io/instance": plan.name, "app.kubernetes.io/component": "predictor"}


def _resources(plan: DeploymentPlan) -> dict[str, dict[str, str]]:
    if plan.mode == "simulator":
        return {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    gpus = str(plan.gpus_per_replica)
    # Host CPU/RAM for tokenisation, the API server and the weight-loading page cache.
    return {
        "requests": {
            "cpu": str(4 * plan.tensor_parallel_size),
            "memory": f"{32 * plan.tensor_parallel_size}Gi",
            "nvidia.com/gpu": gpus,
        },
        "limits": {"memory": f"{48 * plan.tensor_parallel_size}Gi", "nvidia.com/gpu": gpus},
    }


def _env(plan: DeploymentPlan) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": "HF_HOME", "value": "/tmp/hf-home"}]
    if plan.hf_token_secret is not None:
        # Only ever a reference: the token never appears in a manifest.
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": plan.hf_token_secret.name,
                        "key": plan.hf_token_secret.key,
                        "optional": False,
                    }
                },
            }
        )
    return env


def _container_args(plan: DeploymentPlan) -> list[str]:
    if plan.mode == "simulator":
        # preflight-simulator's own flags (simulator/cli.py): the engine limits come from the profile, and
        # it binds loopback unless told otherwise.
        return [
            "--host=0.0.0.0",
            f"--port={PORT}",
            f"--profile={PROFILE_MOUNT_DIR}/{PROFILE_FILE}",
            f"--model={plan.model_name}",
            f"--tp={plan.tensor_parallel_size}",
        ]
    return [f"--model={plan.model_id}", f"--port={PORT}", *plan.vllm_cli_args()]


def _volumes(plan: DeploymentPlan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if plan.tensor_parallel_size > 1:
        # NCCL between tensor-parallel ranks uses /dev/shm; the container default (64 MiB) is too small.
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}})
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    if plan.mode == "simulator":
        volumes.append({"name": "perf-profile", "configMap": {"name": profile_configmap_name(plan)}})
        mounts.append({"name": "perf-profile", "mountPath": PROFILE_MOUNT_DIR, "readOnly": True})
    return volumes, mounts


def profile_configmap_name(plan: DeploymentPlan) -> str:
    return f"{plan.name}-perf-profile"


def _isvc_annotations(plan: DeploymentPlan) -> dict[str, str]:
    ann = dict(_annotations(plan))
    if plan.flavor == "kserve-serverless":
        ann["serving.kserve.io/deploymentMode"] = "Serverless"
    else:
        ann["serving.kserve.io/deploymentMode"] = "RawDeployment"
        # See templates/kserve-inferenceservice.yaml.j2: KServe must not create an HPA of its own.
        ann["serving.kserve.io/autoscalerClass"] = "external"
    return ann


def _annotations(plan: DeploymentPlan) -> dict[str, str]:
    return {ANNOTATION_DESCRIPTION: plan.description} if plan.description else {}


def _context(plan: DeploymentPlan) -> dict[str, Any]:
    volumes, mounts = _volumes(plan)
    real = plan.mode == "real"
    ctx: dict[str, Any] = {
        "plan": plan,
        "labels": common_labels(plan),
        "pod_labels": {**common_labels(plan), **pod_selector_labels(plan)},
        "selector": pod_selector_labels(plan),
        "annotations": _annotations(plan),
        "isvc_annotations": _isvc_annotations(plan),
        "namespace_labels": {
            "app.kubernetes.io/managed-by": MANAGED_BY,
            **({"preflight.dev/team": plan.team} if plan.team else {}),
        },
        "ingress_annotations": {
            **_annotations(plan),
            # Streamed completions: no buffering, long reads.
            "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
            "nginx.ingress.kubernetes.io/proxy-buffering": "off",
        },
        "port": PORT,
        "image": plan.container_image,
        "command": ["preflight-simulator"] if plan.mode == "simulator" else None,
        "args": _container_args(plan),
        "env": _env(plan),
        "resources": _resources(plan),
        "node_selector": {"nvidia.com/gpu.product": plan.gpu_product_label} if real else {},
        "tolerations": (
            [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}] if real else []
        ),
        "volumes": volumes,
        "volume_mounts": mounts,
        "workload_name": plan.workload_name,
        "service_name": plan.workload_name,
        "profile_configmap": profile_configmap_name(plan),
        "profile_json": json.dumps(plan.performance_profile, indent=2, sort_keys=True)
        if plan.performance_profile is not None
        else "",
        "profile_file": PROFILE_FILE,
        "recording_rules": observability.recording_rules(plan),
        "alert_rules": observability.alert_rules(plan),
        "dashboard_json": observability.dashboard_json(plan),
        "keda_query": f"sum({observability.WAITING_METRIC}{{{observability.selector(plan)}}})",
        "waiting_metric": observability.WAITING_METRIC,
        "gateway_namespace": plan.exposure.gateway_namespace or plan.namespace,
    }
    return ctx


def template_names(plan: DeploymentPlan) -> list[str]:
    """Which templates a plan uses, in apply order (namespace and config before the workloads)."""
    names: list[str] = []
    if plan.create_namespace:
        names.append("namespace.yaml.j2")
    if plan.mode == "simulator":
        names.append("simulator-profile-configmap.yaml.j2")
    if plan.flavor in ("kserve-raw", "kserve-serverless"):
        names += ["kserve-servingruntime.yaml.j2", "kserve-inferenceservice.yaml.j2"]
    else:
        names += ["deployment.yaml.j2", "service.yaml.j2"]
    if plan.autoscaler == "hpa":
        names.append("hpa.yaml.j2")
    elif plan.autoscaler == "keda":
        names.append("keda-scaledobject.yaml.j2")
    if plan.pod_disruption_budget:
        names.append("pdb.yaml.j2")
    if plan.network_policy:
        names.append("networkpolicy.yaml.j2")
    if plan.inference_pool:
        names.append("inferencepool.yaml.j2")
    if plan.exposure.kind == "httproute":
        names.append("httproute.yaml.j2")
    elif plan.exposure.kind == "ingress":
        names.append("ingress.yaml.j2")
    names += ["servicemonitor.yaml.j2", "prometheusrule.yaml.j2", "grafana-dashboard-configmap.yaml.j2"]
    return names


def render_templates(
    names: Iterable[str], context: dict[str, Any], templates_dir: Path = TEMPLATES_DIR
) -> list[dict[str, Any]]:
    """Render templates and parse each with yaml.safe_load_all; empty documents are dropped."""
    env = _environment(templates_dir)
    docs: list[dict[str, Any]] = []
    for name in names:
        try:
            text = env.get_template(name).render(**context)
        except jinja2.TemplateError as e:
            raise RenderError(f"template {name} failed to render: {e}") from e
        try:
            parsed = list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            raise RenderError(f"template {name} produced invalid YAML: {e}") from e
        for doc in parsed:
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                raise RenderError(f"template {name} produced a document that is not a Kubernetes object")
            docs.append(doc)
    return docs


def render_plan(plan: DeploymentPlan, templates_dir: Path = TEMPLATES_DIR) -> list[dict[str, Any]]:
    """The manifests for a plan, as parsed objects in apply order."""
    docs = render_templates(template_names(plan), _context(plan), templates_dir)
    log.debug("rendered %d manifests for deployment %s", len(docs), plan.deployment_id)
    return docs


def to_yaml(docs: list[dict[str, Any]]) -> str:
    """Multi-document YAML, stable (as stored and as written for GitOps)."""
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, width=120)


def manifest_filename(doc: dict[str, Any], index: int) -> str:
    return f"{index:02d}-{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"


def write_manifests(docs: list[dict[str, Any]], output_dir: Path) -> list[Path]:
    """Write one file per object (for --output-dir / GitOps); returns the paths written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(docs):
        path = output_dir / manifest_filename(doc, i)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, width=120), encoding="utf-8")
        paths.append(path)
    return paths

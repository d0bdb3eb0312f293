"""Manifests that run Preflight itself in a cluster (templates/preflight/*.yaml.j2).

Two or more replicas over an external Postgres whose URL comes from a Secret, a Service, and RBAC limited
to the kinds Preflight deploys, in the namespaces it deploys to, plus read access to Nodes for the GPU
inventory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.deploy.plan import DNS1123_SUBDOMAIN, IMAGE_REF, check_dns1123_label
from app.deploy.render import TEMPLATES_DIR, render_templates

# What templates/*.yaml.j2 can create, and nothing else. Secrets are absent on purpose: deployments only
# reference them.
DEPLOY_RULES: list[dict[str, list[str]]] = [
    {"groups": ["serving.kserve.io"], "resources": ["inferenceservices", "servingruntimes"]},
    {"groups": ["apps"], "resources": ["deployments"]},
    {"groups": [""], "resources": ["services", "configmaps"]},
    {"groups": ["autoscaling"], "resources": ["horizontalpodautoscalers"]},
    {"groups": ["policy"], "resources": ["poddisruptionbudgets"]},
    {"groups": ["networking.k8s.io"], "resources": ["networkpolicies", "ingresses"]},
    {"groups": ["monitoring.coreos.com"], "resources": ["servicemonitors", "prometheusrules"]},
    {"groups": ["keda.sh"], "resources": ["scaledobjects"]},
    {"groups": ["gateway.networking.k8s.io"], "resources": ["httproutes"]},
    {"groups": ["inference.networking.k8s.io"], "resources": ["inferencepools"]},
]
WRITE_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ_RULES: list[dict[str, list[str]]] = [
    # To report progress: pods of the deployment, their events, and status of the KServe objects.
    {"groups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]},
    {"groups": ["serving.kserve.io"], "resources": ["inferenceservices/status"], "verbs": ["get"]},
]


class PreflightInstall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str = Field("preflight", description="namespace Preflight runs in")
    image: str = Field("preflight:0.1.0", description="Preflight's container image")
    replicas: int = Field(2, ge=2, le=20, description="at least 2, for availability")
    database_secret: str = Field("preflight-database", description="Secret with the Postgres URL")
    database_secret_key: str = Field("url", description="key of the URL in that Secret")
    auth_secret: str = Field("preflight-auth", description="Secret with key 'secret' signing chat sessions")
    target_namespaces: list[str] = Field(
        default_factory=lambda: ["default"], min_length=1, description="namespaces Preflight may deploy into"
    )
    manage_namespaces: bool = Field(False, description="allow creating a Namespace per team")

    @field_validator("namespace")
    @classmethod
    def _ns(cls, v: str) -> str:
        return check_dns1123_label(v, "namespace")

    @field_validator("target_namespaces")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        return [check_dns1123_label(ns, "target namespace") for ns in v]

    @field_validator("database_secret", "auth_secret")
    @classmethod
    def _secret(cls, v: str) -> str:
        if len(v) > 253 or not DNS1123_SUBDOMAIN.match(v):
            raise ValueError(f"secret name {v!r} is not a DNS-1123 subdomain")
        return v

    @field_validator("database_secret_key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c in "-._" for c in v):
            raise ValueError(f"secret key {v!r} may only hold letters, digits, '-', '_' and '.'")
        return v

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not IMAGE_REF.match(v):
            raise ValueError(f"image {v!r} is not an image reference")
        return v


def render_preflight_install(
    install: PreflightInstall, templates_dir: Path = TEMPLATES_DIR
) -> list[dict[str, Any]]:
    name = "preflight"
    context = {
        "install": install,
        "name": name,
        "labels": {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/part-of": "preflight",
            "app.kubernetes.io/managed-by": "preflight-install",
        },
        "selector": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "server"},
        "deploy_rules": [{**r, "verbs": WRITE_VERBS} for r in DEPLOY_RULES] + READ_RULES,
    }
    names = [
        "preflight/serviceaccount.yaml.j2",
        "preflight/rbac.yaml.j2",
        "preflight/deployment.yaml.j2",
        "preflight/service.yaml.j2",
    ]
    return render_templates(names, context, templates_dir)

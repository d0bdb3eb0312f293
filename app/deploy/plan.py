"""The typed deployment plan: everything the manifest templates may read, validated.

Values that a person typed (names, namespace, model id, description) are validated here so that a manifest
can only be built from well-formed input; the renderer escapes every string on top of that (defence in
depth), so even a plan built without validation cannot change a manifest's structure.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.perf.engines import vllm_image

# RFC 1123 label (namespaces, most object names) and RFC 1035 label (Services, KServe InferenceServices:
# those must start with a letter).
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kubernetes label value: empty, or <= 63 chars, alphanumeric at both ends, [-_.] inside.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Hugging Face repo id: optional owner, then a name; no spaces, quotes or control characters.
HF_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
# What vLLM accepts as a served model name and what is safe inside a PromQL label matcher.
SERVED_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
# An OCI image reference: [registry[:port]/]path[:tag][@digest]; no whitespace or quotes.
IMAGE_REF = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)

# The predictor name KServe derives ("<name>-predictor") and the HPA/PDB names must stay <= 63 chars.
MAX_NAME_LENGTH = 45

PINNED_VLLM_IMAGE = vllm_image()  # the pin lives in app.perf.engines (the model predicts that version)
SIMULATOR_IMAGE = "preflight-simulator:0.1.0"

Flavor = Literal["kserve-raw", "kserve-serverless", "deployment"]
Autoscaler = Literal["hpa", "keda", "none"]
Exposure = Literal["none", "httproute", "ingress"]
Quantization = Literal["awq", "gptq", "fp8", "bitsandbytes", "compressed-tensors", "marlin"]


def check_dns1123_label(value: str, what: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{what} {value!r} is not a DNS-1123 label: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def check_label_value(value: str, what: str) -> str:
    if len(value) > 63 or not LABEL_VALUE.match(value):
        raise ValueError(
            f"{what} {value!r} is not a valid Kubernetes label value: at most 63 characters of "
            "[A-Za-z0-9-_.], starting and ending with a letter or digit"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VllmArgs(_Strict):
    """Engine arguments; each maps to one `vllm serve` flag."""

    max_model_len: int = Field(8192, ge=128, le=1_048_576, description="--max-model-len")
    max_num_seqs: int = Field(256, ge=1, le=4096, description="--max-num-seqs")
    max_num_batched_tokens: int = Field(8192, ge=128, le=1_048_576, description="--max-num-batched-tokens")
    gpu_memory_utilization: float = Field(0.90, gt=0.0, le=0.99, description="--gpu-memory-utilization")
    quantization: Quantization | None = Field(
        None, description="--quantization; None serves the checkpoint as is"
    )
    enable_prefix_caching: bool = Field(
        True, description="--enable-prefix-caching / --no-enable-prefix-caching"
    )


class SLOTargets(_Strict):
    """Latency objectives the alerts and dashboard check; quantiles are fixed by the field names."""

    ttft_p90_ms: float = Field(
        ..., gt=0, le=600_000, description="90% of requests see a first token within this"
    )
    tpot_p90_ms: float = Field(..., gt=0, le=60_000, description="90% of output tokens arrive within this")
    e2e_p95_ms: float = Field(..., gt=0, le=3_600_000, description="95% of requests finish within this")


class SecretKeyRef(_Strict):
    name: str = Field(..., description="Secret name (DNS-1123 subdomain)")
    key: str = Field("token", description="key inside the Secret")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if len(v) > 253 or not DNS1123_SUBDOMAIN.match(v):
            raise ValueError(f"secret name {v!r} is not a DNS-1123 subdomain")
        return v

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not re.match(r"^[-._a-zA-Z0-9]{1,253}$", v):
            raise ValueError(f"secret key {v!r} may only hold letters, digits, '-', '_' and '.'")
        return v


class ExposureSpec(_Strict):
    """How the endpoint is reached from outside the namespace."""

    kind: Exposure = "none"
    host: str | None = Field(None, description="DNS host name for the Ingress/HTTPRoute")
    gateway_name: str = Field("inference-gateway", description="parent Gateway of the HTTPRoute")
    gateway_namespace: str | None = Field(None, description="namespace of that Gateway; default: the plan's")
    ingress_class: str = Field("nginx", description="IngressClass name")

    @field_validator("host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        if v is not None and (len(v) > 253 or not DNS1123_SUBDOMAIN.match(v)):
            raise ValueError(f"host {v!r} is not a DNS name")
        return v

    @field_validator("gateway_name", "ingress_class")
    @classmethod
    def _names(cls, v: str) -> str:
        return check_dns1123_label(v, "name")

    @field_validator("gateway_namespace")
    @classmethod
    def _gw_ns(cls, v: str | None) -> str | None:
        return None if v is None else check_dns1123_label(v, "gateway namespace")


class DeploymentPlan(_Strict):
    """One deployable configuration: the single input of the renderer."""

    deployment_id: str = Field(..., description="Preflight's id of this deployment; stored as a label")
    name: str = Field(..., description="object name (DNS-1035 label, <= 45 chars)")
    namespace: str = Field("default", description="target namespace (DNS-1123 label)")
    team: str | None = Field(None, description="owning team; labels the Namespace when it is created")
    description: str = Field("", max_length=2000, description="free text, kept as an annotation only")

    model_id: str = Field(..., description="Hugging Face model id, e.g. meta-llama/Llama-3.1-8B-Instruct")
    served_model_name: str | None = Field(None, description="name clients send; default: the model id")

    gpu_id: str = Field(..., description="Preflight catalog id of the GPU, e.g. h100-sxm-80gb")
    gpu_product_label: str = Field(..., description="value of the node label nvidia.com/gpu.product")
    tensor_parallel_size: int = Field(1, ge=1, le=64)
    replicas_min: int = Field(1, ge=1, le=1000)
    replicas_max: int = Field(1, ge=1, le=1000)
    vllm: VllmArgs = Field(default_factory=VllmArgs)
    slo: SLOTargets

    mode: Literal["real", "simulator"] = "real"
    image: str | None = Field(None, description="container image; default depends on the mode")
    performance_profile: dict[str, Any] | None = Field(
        None, description="simulator performance profile (docs/performance-profile.md); simulator mode only"
    )
    hf_token_secret: SecretKeyRef | None = Field(None, description="Secret holding a Hugging Face token")

    flavor: Flavor = "kserve-raw"
    autoscaler: Autoscaler = "hpa"
    autoscale_waiting_per_replica: int = Field(
        4, ge=1, le=10_000, description="target vllm:num_requests_waiting per replica for HPA/KEDA"
    )
    exposure: ExposureSpec = Field(default_factory=ExposureSpec)
    network_policy: bool = False
    pod_disruption_budget: bool = False
    create_namespace: bool = False
    inference_pool: bool = False
    prometheus_url: str = Field(
        "http://prometheus-operated.monitoring.svc:9090", description="Prometheus the KEDA trigger queries"
    )

    # --- validators -----------------------------------------------------------------------------------
    @field_validator("deployment_id")
    @classmethod
    def _deployment_id(cls, v: str) -> str:
        if not v:
            raise ValueError("deployment_id must not be empty")
        return check_label_value(v, "deployment_id")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if len(v) > MAX_NAME_LENGTH or not DNS1035_LABEL.match(v):
            raise ValueError(
                f"name {v!r} must be a DNS-1035 label of at most {MAX_NAME_LENGTH} characters: lowercase "
                "letters, digits and '-', starting with a letter (KServe derives '<name>-predictor' from it)"
            )
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        return check_dns1123_label(v, "namespace")

    @field_validator("team")
    @classmethod
    def _team(cls, v: str | None) -> str | None:
        return None if v is None else check_label_value(v, "team")

    @field_validator("model_id")
    @classmethod
    def _model_id(cls, v: str) -> str:
        if not HF_MODEL_ID.match(v):
            raise ValueError(f"model id {v!r} is not a Hugging Face repo id like 'owner/name'")
        return v

    @field_validator("served_model_name")
    @classmethod
    def _served(cls, v: str | None) -> str | None:
        if v is not None and not SERVED_MODEL_NAME.match(v):
            raise ValueError(f"served model name {v!r} may only hold letters, digits and ._:/-")
        return v

    @field_validator("gpu_id")
    @classmethod
    def _gpu_id(cls, v: str) -> str:
        return check_label_value(v, "gpu_id")

    @field_validator("gpu_product_label")
    @classmethod
    def _gpu_label(cls, v: str) -> str:
        if not v:
            raise ValueError("gpu_product_label must not be empty")
        return check_label_value(v, "gpu_product_label")

    @field_validator("image")
    @classmethod
    def _image(cls, v: str | None) -> str | None:
        if v is not None and (len(v) > 512 or not IMAGE_REF.match(v)):
            raise ValueError(f"image {v!r} is not an image reference like 'registry/repo:tag'")
        return v

    @field_validator("prometheus_url")
    @classmethod
    def _prom(cls, v: str) -> str:
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$", v):
            raise ValueError(f"prometheus_url {v!r} is not an http(s) URL")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentPlan:
        if self.replicas_max < self.replicas_min:
            raise ValueError(f"replicas_max ({self.replicas_max}) < replicas_min ({self.replicas_min})")
        if self.vllm.max_num_batched_tokens < self.vllm.max_num_seqs:
            raise ValueError("max_num_batched_tokens must be >= max_num_seqs")
        if self.mode == "simulator" and self.performance_profile is None:
            raise ValueError("simulator mode needs the planner's performance_profile")
        if self.mode == "real" and self.performance_profile is not None:
            raise ValueError("performance_profile is only used in simulator mode")
        if self.inference_pool and self.flavor == "kserve-serverless":
            raise ValueError("an InferencePool selects pods directly; use kserve-raw or deployment")
        if self.flavor == "kserve-serverless" and self.autoscaler != "none":
            # Knative's own autoscaler (KPA) scales serverless predictors; an HPA/KEDA would fight it.
            raise ValueError("kserve-serverless scales with Knative's autoscaler: set autoscaler='none'")
        return self

    # --- derived values the templates use ---------------------------------------------------------------
    @property
    def model_name(self) -> str:
        """The name clients and the vllm: metrics' model_name label carry."""
        return self.served_model_name or self.model_id

    @property
    def container_image(self) -> str:
        if self.image:
            return self.image
        return SIMULATOR_IMAGE if self.mode == "simulator" else PINNED_VLLM_IMAGE

    @property
    def gpus_per_replica(self) -> int:
        return 0 if self.mode == "simulator" else self.tensor_parallel_size

    @property
    def workload_name(self) -> str:
        """Name of the Deployment whose pods serve the model (KServe raw mode names it <isvc>-predictor)."""
        return f"{self.name}-predictor" if self.flavor.startswith("kserve") else self.name

    def vllm_cli_args(self) -> list[str]:
        """vLLM's engine flags, in a stable order."""
        v = self.vllm
        args = [
            f"--served-model-name={self.model_name}",
            f"--tensor-parallel-size={self.tensor_parallel_size}",
            f"--max-model-len={v.max_model_len}",
            f"--max-num-seqs={v.max_num_seqs}",
            f"--max-num-batched-tokens={v.max_num_batched_tokens}",
            f"--gpu-memory-utilization={v.gpu_memory_utilization}",
        ]
        if v.quantization:
            args.append(f"--quantization={v.quantization}")
        args.append("--enable-prefix-caching" if v.enable_prefix_caching else "--no-enable-prefix-caching")
        return args

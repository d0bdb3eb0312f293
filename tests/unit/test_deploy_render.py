"""Rendered manifests: golden files, validation, and injection safety.

Regenerate the golden files after an intended template change with
    PREFLIGHT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_deploy_render.py
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.deploy.plan import DeploymentPlan, SLOTargets
from app.deploy.preflight_install import PreflightInstall, render_preflight_install
from app.deploy.render import render_plan, to_yaml, write_manifests, yaml_quote
from app.deploy.validate import ManifestValidationError, ensure_valid, validate_manifests

pytestmark = pytest.mark.unit

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "data" / "golden"
UPDATE = os.environ.get("PREFLIGHT_UPDATE_GOLDEN") == "1"

SLO = SLOTargets(ttft_p90_ms=500, tpot_p90_ms=50, e2e_p95_ms=20_000)
PROFILE = {
    "schema_version": 1,
    "model": "Qwen/Qwen2.5-0.5B-Instruct",
    "prefill": {"overhead_ms": 12.0, "per_token_ms": 0.08},
    "decode": {"base_ms": 6.5, "per_seq_ms": 0.04, "per_context_token_ms": 0.00002, "table": None},
    "max_num_seqs": 64,
    "max_num_batched_tokens": 4096,
    "kv_cache": {"tokens": 300000, "block_size": 16},
    "jitter": {"cv": 0.0, "seed": 0},
}


def plan_kserve_full() -> DeploymentPlan:
    return DeploymentPlan(
        deployment_id="dep-0001",
        name="chat-llama",
        namespace="team-a",
        team="search",
        description="Chatbot for 1000 users",
        model_id="meta-llama/Llama-3.1-8B-Instruct",
        gpu_id="h100-sxm-80gb",
        gpu_product_label="NVIDIA-H100-80GB-HBM3",
        tensor_parallel_size=2,
        replicas_min=2,
        replicas_max=6,
        slo=SLO,
        hf_token_secret={"name": "hf-token", "key": "token"},
        create_namespace=True,
        pod_disruption_budget=True,
        network_policy=True,
        inference_pool=True,
        exposure={"kind": "httproute", "host": "llm.example.com", "gateway_namespace": "gateway"},
    )


def plan_simulator_keda() -> DeploymentPlan:
    return DeploymentPlan(
        deployment_id="dep-0002",
        name="sim-qwen",
        namespace="preflight-sim",
        model_id="Qwen/Qwen2.5-0.5B-Instruct",
        served_model_name="qwen-small",
        gpu_id="l4",
        gpu_product_label="NVIDIA-L4",
        replicas_min=1,
        replicas_max=4,
        slo=SLO,
        mode="simulator",
        performance_profile=PROFILE,
        autoscaler="keda",
        vllm={"max_num_seqs": 64, "max_num_batched_tokens": 4096, "max_model_len": 4096},
    )


def plan_plain_deployment() -> DeploymentPlan:
    return DeploymentPlan(
        deployment_id="dep-0003",
        name="big-awq",
        namespace="default",
        model_id="hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
        gpu_id="a100-sxm-80gb",
        gpu_product_label="NVIDIA-A100-SXM4-80GB",
        tensor_parallel_size=4,
        replicas_min=1,
        replicas_max=1,
        slo=SLOTargets(ttft_p90_ms=2000, tpot_p90_ms=80, e2e_p95_ms=60_000),
        flavor="deployment",
        autoscaler="none",
        exposure={"kind": "ingress", "host": "llm.internal"},
        vllm={"quantization": "awq", "enable_prefix_caching": False, "gpu_memory_utilization": 0.92},
        hf_token_secret={"name": "hf-token"},
    )


def plan_serverless() -> DeploymentPlan:
    return DeploymentPlan(
        deployment_id="dep-0004",
        name="mistral-sl",
        namespace="serving",
        model_id="mistralai/Mistral-7B-Instruct-v0.3",
        gpu_id="l40s",
        gpu_product_label="NVIDIA-L40S",
        replicas_min=1,
        replicas_max=3,
        slo=SLO,
        flavor="kserve-serverless",
        autoscaler="none",
    )


PLANS = {
    "kserve_raw_full": plan_kserve_full,
    "simulator_keda": plan_simulator_keda,
    "plain_deployment_ingress": plan_plain_deployment,
    "kserve_serverless": plan_serverless,
}


def _check_golden(name: str, docs: list[dict[str, Any]]) -> None:
    path = GOLDEN_DIR / f"{name}.yaml"
    text = to_yaml(docs)
    if UPDATE:
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with PREFLIGHT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def _by_kind_and_name(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_plan_matches_golden_and_validates(name: str) -> None:
    plan = PLANS[name]()
    docs = render_plan(plan)
    _check_golden(name, docs)
    report = ensure_valid(docs, plan)
    assert report.checked == len(docs)


def test_preflight_install_matches_golden_and_validates() -> None:
    docs = render_preflight_install(PreflightInstall(target_namespaces=["team-a", "team-b"]))
    _check_golden("preflight_install", docs)
    ensure_valid(docs)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PREFLIGHT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "preflight-database"
    roles = [d for d in docs if d["kind"] == "Role"]
    assert {r["metadata"]["namespace"] for r in roles} == {"team-a", "team-b"}
    granted = {res for r in roles for rule in r["rules"] for res in rule["resources"]}
    assert "secrets" not in granted and "inferenceservices" in granted


def test_kserve_raw_core_path() -> None:
    plan = plan_kserve_full()
    docs = _by_kind_and_name(render_plan(plan))
    isvc = docs[("InferenceService", "chat-llama")]
    ann = isvc["metadata"]["annotations"]
    assert ann["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert ann["serving.kserve.io/autoscalerClass"] == "external"  # our HPA is the only scaler
    pred = isvc["spec"]["predictor"]
    model = pred["model"]
    assert "--tensor-parallel-size=2" in model["args"]
    assert model["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert model["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert pred["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert {"name": "dshm", "mountPath": "/dev/shm"} in model["volumeMounts"]
    hf = next(e for e in model["env"] if e["name"] == "HF_TOKEN")
    assert hf == {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token", "optional": False}},
    }
    hpa = docs[("HorizontalPodAutoscaler", "chat-llama-predictor")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "chat-llama-predictor"
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == "vllm:num_requests_waiting"
    rule = docs[("PrometheusRule", "chat-llama")]
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    # 500 ms TTFT maps to the 0.5 s bucket; e2e 20 s to the 20.0 bucket: exact vLLM label values.
    assert 'vllm:time_to_first_token_seconds_bucket{namespace="team-a",model_name=' in exprs
    assert 'le="0.5"' in exprs and 'le="20.0"' in exprs
    assert "vllm:time_per_output_token_seconds_count" in exprs
    dash = docs[("ConfigMap", "chat-llama-dashboard")]
    assert "vllm:kv_cache_usage_perc" in next(iter(dash["data"].values()))


def test_simulator_mode_has_no_gpu_and_carries_profile() -> None:
    plan = plan_simulator_keda()
    docs = _by_kind_and_name(render_plan(plan))
    model = docs[("InferenceService", "sim-qwen")]["spec"]["predictor"]["model"]
    runtime = docs[("ServingRuntime", "sim-qwen")]
    assert runtime["spec"]["containers"][0]["image"].startswith("preflight-simulator")
    assert "nvidia.com/gpu" not in str(model["resources"])
    assert "nodeSelector" not in docs[("InferenceService", "sim-qwen")]["spec"]["predictor"]
    cm = docs[("ConfigMap", "sim-qwen-perf-profile")]
    assert json.loads(cm["data"]["profile.json"]) == PROFILE
    keda = docs[("ScaledObject", "sim-qwen-predictor")]
    assert keda["spec"]["triggers"][0]["metadata"]["query"] == (
        'sum(vllm:num_requests_waiting{namespace="preflight-sim",model_name="qwen-small"})'
    )


def test_simulator_accepts_the_rendered_arguments_and_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The container args and the ConfigMap's profile, as the simulator in the pod would get them."""
    from simulator.cli import main as simulator_main

    docs = _by_kind_and_name(render_plan(plan_simulator_keda()))
    args = docs[("InferenceService", "sim-qwen")]["spec"]["predictor"]["model"]["args"]
    assert "--host=0.0.0.0" in args  # reachable from the Service, not only loopback
    profile_file = tmp_path / "profile.json"
    profile_file.write_text(docs[("ConfigMap", "sim-qwen-perf-profile")]["data"]["profile.json"])
    local_args = [f"--profile={profile_file}" if a.startswith("--profile=") else a for a in args]
    assert simulator_main([*local_args, "--print-profile"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["max_num_seqs"] == PROFILE["max_num_seqs"]
    assert resolved["prefill"] == PROFILE["prefill"]


def test_write_manifests_for_gitops(tmp_path: Path) -> None:
    docs = render_plan(plan_plain_deployment())
    paths = write_manifests(docs, tmp_path / "out")
    assert len(paths) == len(docs)
    assert [yaml.safe_load(p.read_text()) for p in paths] == docs


# --- validation catches what it should ------------------------------------------------------------------
def test_validation_reports_gpu_mismatch_and_bad_selector() -> None:
    plan = plan_plain_deployment()
    docs = render_plan(plan)
    dep = next(d for d in docs if d["kind"] == "Deployment")
    dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "2"
    svc = next(d for d in docs if d["kind"] == "Service")
    svc["spec"]["selector"] = {"app.kubernetes.io/instance": "someone-else"}
    with pytest.raises(ManifestValidationError) as exc:
        ensure_valid(docs, plan)
    text = str(exc.value)
    assert "2 GPU(s) per replica; the plan needs 4" in text
    assert "selects no pods" in text


def test_validation_rejects_unknown_fields_in_builtin_and_custom_kinds() -> None:
    docs = render_plan(plan_kserve_full())
    isvc = next(d for d in docs if d["kind"] == "InferenceService")
    isvc["spec"]["predictor"]["modle"] = {}
    isvc["spec"]["predictor"]["minReplicas"] = "two"
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    hpa["spec"]["maxReplica"] = 3
    report = validate_manifests(docs)
    messages = [str(i) for i in report.issues]
    assert any("InferenceService" in m and "modle" in m for m in messages), messages
    assert any("InferenceService" in m and "minReplicas" in m for m in messages), messages
    assert any("HorizontalPodAutoscaler" in m and "maxReplica" in m for m in messages), messages


def test_validation_flags_inlined_secret() -> None:
    plan = plan_plain_deployment()
    docs = render_plan(plan)
    dep = next(d for d in docs if d["kind"] == "Deployment")
    dep["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "HF_TOKEN", "value": "hf_abc"})
    report = validate_manifests(docs, plan)
    assert any("inlines a secret" in str(i) for i in report.issues)


# --- injection safety -----------------------------------------------------------------------------------
HOSTILE = [
    'x"\nkind: Secret\nmetadata: {name: pwned}',
    "a: b\n- c\n---\napiVersion: v1\nkind: Secret",
    "{{ plan.__class__ }} {% raw %} {# #}",
    "'; DROP TABLE deployments; --",
    "line1\r\nline2\u2028line3\x85line4\t\\",
    "🙂 ünïcødé # not a comment &anchor *alias !!python/object:os.system",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["model_id", "namespace", "name", "served_model_name"])
def test_plan_rejects_hostile_identifiers(field: str, value: str) -> None:
    kwargs = plan_kserve_full().model_dump()
    kwargs[field] = value
    with pytest.raises(ValidationError) as exc:
        DeploymentPlan(**kwargs)
    assert field in str(exc.value)


def _shape(node: Any) -> Any:
    """The structure of a manifest with every scalar replaced by its type."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_description_cannot_change_structure(value: str) -> None:
    benign = plan_kserve_full()
    hostile = benign.model_copy(update={"description": value})
    docs = render_plan(hostile)
    assert _shape(docs) == _shape(render_plan(benign))
    for doc in docs:
        if "annotations" in doc["metadata"]:
            assert doc["metadata"]["annotations"]["preflight.dev/description"] == value
    ensure_valid(docs, hostile)


@pytest.mark.parametrize("value", HOSTILE)
def test_renderer_escapes_even_unvalidated_values(value: str) -> None:
    """Defence in depth: a plan that skipped validation (model_copy does not validate) still cannot add
    documents, keys or list items; the hostile text only ever appears as a whole string value."""
    benign = plan_kserve_full()
    hostile = benign.model_copy(update={"model_id": value, "served_model_name": value, "namespace": value})
    docs = render_plan(hostile)
    benign_docs = render_plan(benign)
    assert len(docs) == len(benign_docs)
    assert [d["kind"] for d in docs] == [d["kind"] for d in benign_docs]
    isvc = next(d for d in docs if d["kind"] == "InferenceService")
    assert isvc["metadata"]["namespace"] == value
    assert f"--model={value}" in isvc["spec"]["predictor"]["model"]["args"]
    assert _shape(isvc) == _shape(next(d for d in benign_docs if d["kind"] == "InferenceService"))
    # ...and validation refuses it before anything could be applied.
    assert not validate_manifests(docs, hostile).ok


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_yaml_quote_round_trips_any_value(value: Any) -> None:
    assert yaml.safe_load(f"key: {yaml_quote(value)}\nafter: 1\n") == {"key": value, "after": 1}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_promql_expression_parses(name: str) -> None:
    """Alert, recording, dashboard and KEDA queries are valid PromQL (checked by a real parser)."""
    promql_parser = pytest.importorskip("promql_parser", reason="promql-parser is a dev dependency")
    docs = render_plan(PLANS[name]())
    exprs: list[str] = []
    for doc in docs:
        if doc["kind"] == "PrometheusRule":
            exprs += [r["expr"] for g in doc["spec"]["groups"] for r in g["rules"]]
        elif doc["kind"] == "ScaledObject":
            exprs += [t["metadata"]["query"] for t in doc["spec"]["triggers"]]
        elif doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-dashboard"):
            dash = json.loads(next(iter(doc["data"].values())))
            exprs += [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert len(exprs) > 20
    for expr in exprs:
        promql_parser.parse(expr)  # raises ValueError on a syntax error

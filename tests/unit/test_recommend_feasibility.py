"""Nothing infeasible: the context window holds a p95 request, every precision offered loads from a checkpoint
that exists (and the rendered vLLM flags load that checkpoint), native formats are sized as shipped, and owned
GPUs are honoured exactly."""

from __future__ import annotations

import pytest
from support.catalog import recommendable_models, seed_catalog, seed_rows

from app.deploy.from_recommendation import checkpoint_repo, vllm_args
from app.deploy.plan import DeploymentPlan
from app.deploy.render import render_plan
from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import apply_template, template_for_task
from app.planning.feasibility import serving_checkpoint
from app.planning.plan import plan
from app.planning.result import Option

pytestmark = pytest.mark.unit


def spec(**fields: object) -> Specification:
    extra = {k: v for k, v in fields.items() if k not in DeploymentIntent.model_fields}
    intent = DeploymentIntent(**{k: v for k, v in fields.items() if k in DeploymentIntent.model_fields})
    s = apply_template(intent, template_for_task(intent.task_type or "chatbot"))
    return s.edit(**extra) if extra else s


def test_a_model_whose_window_is_shorter_than_a_p95_request_is_rejected_and_max_model_len_holds_one() -> None:
    models = ["microsoft/Phi-3-mini-4k-instruct", "google/gemma-2-9b-it", "meta-llama/Llama-3.1-8B-Instruct"]
    catalog = seed_catalog(models, {"L40S-48GB": 1.0, "H100-SXM-80GB": 2.5})
    s = spec(task_type="rag_qa", total_users=200, priority="cost", quality_threshold="standard").edit(
        prompt_length_avg=4000, prompt_length_p95=6000, generation_length_avg=1200, generation_length_p95=2500
    )
    result = plan(s, catalog)
    shown = result.options + result.viable
    assert shown and {o.model_id for o in shown} == {"meta-llama/Llama-3.1-8B-Instruct"}
    for o in shown:
        assert 8500 <= o.vllm_args["max_model_len"] <= 131072
    too_short = {r.model_id for r in result.rejected if "context window" in r.reason}
    assert too_short == {"microsoft/Phi-3-mini-4k-instruct", "google/gemma-2-9b-it"}
    reason = next(r.reason for r in result.rejected if r.model_id.startswith("microsoft/Phi-3-mini"))
    assert "4,096" in reason and "8,500" in reason


@pytest.mark.parametrize("model_id", recommendable_models())
def test_every_precision_offered_has_a_loadable_checkpoint(model_id: str) -> None:
    row = seed_rows("models")[model_id]
    for precision in row["precisions"]:
        ckpt = serving_checkpoint(model_id, precision, row["checkpoints"])
        assert ckpt is not None, f"{model_id} offers {precision} with nothing to load"
        if precision in ("int4", "mxfp4"):
            # 4-bit weights only come from a published repo, never from flags on a 16-bit one.
            published = {c["repo"] for c in row["checkpoints"] if c["precision"] == precision}
            assert ckpt.repo in published and ckpt.quantization is None
            assert ckpt.format in ("awq", "gptq", "mxfp4")
        if ckpt.quantization == "fp8":
            assert ckpt.repo == model_id and ckpt.format == "bf16"
    for c in row["checkpoints"]:
        assert c["source"] == f"https://huggingface.co/{c['repo']}" and c["publisher"]


def _render_args(option: Option) -> list[str]:
    deployment = DeploymentPlan(
        deployment_id="d-1",
        name="x",
        model_id=checkpoint_repo(option),
        served_model_name=option.model_id,
        gpu_id=option.gpu_id,
        gpu_product_label="NVIDIA-L40S",
        tensor_parallel_size=option.tp,
        replicas_min=1,
        replicas_max=1,
        slo={"ttft_p90_ms": 1000, "tpot_p90_ms": 100, "e2e_p95_ms": 60000},
        vllm=vllm_args(option),
        flavor="deployment",
    )
    docs = render_plan(deployment)
    dep = next(d for d in docs if d["kind"] == "Deployment")
    return list(dep["spec"]["template"]["spec"]["containers"][0]["args"])


def test_int4_and_fp8_options_render_flags_that_load_their_checkpoint() -> None:
    catalog = seed_catalog(
        ["Qwen/Qwen2.5-7B-Instruct", "mistralai/Mistral-Small-24B-Instruct-2501"], {"L40S-48GB": 1.0}
    )
    # One option per (model, GPU) is shown, the better precision on a cost tie: keep only Qwen's int4 and
    # Llama's fp8 here.
    keep = {"Qwen/Qwen2.5-7B-Instruct": "int4", "meta-llama/Llama-3.2-3B-Instruct": "fp8"}
    catalog.candidates = [t for t in catalog.candidates if keep.get(t[0], t[2]) == t[2]]
    result = plan(spec(task_type="chatbot", total_users=300, priority="cost"), catalog)
    shown = {(o.model_id, o.precision): o for o in result.options + result.viable}
    int4 = shown[("Qwen/Qwen2.5-7B-Instruct", "int4")]
    args = _render_args(int4)
    assert "--model=Qwen/Qwen2.5-7B-Instruct-AWQ" in args
    assert "--served-model-name=Qwen/Qwen2.5-7B-Instruct" in args
    assert not any(a.startswith("--quantization") for a in args)
    fp8 = shown[("mistralai/Mistral-Small-24B-Instruct-2501", "fp8")]
    args = _render_args(fp8)
    assert "--model=mistralai/Mistral-Small-24B-Instruct-2501" in args and "--quantization=fp8" in args
    # No published int4 repo for Mistral Small 3: that precision is never offered.
    assert ("mistralai/Mistral-Small-24B-Instruct-2501", "int4") not in shown


def test_gpt_oss_120b_is_sized_as_its_mxfp4_release_and_fits_one_h100() -> None:
    catalog = seed_catalog(["openai/gpt-oss-120b"], {"H100-SXM-80GB": 2.5})
    result = plan(spec(task_type="chatbot", total_users=20, priority="cost"), catalog)
    top = result.options[0]
    assert (top.precision, top.tp) == ("mxfp4", 1)
    assert top.checkpoint is not None and top.checkpoint.repo == "openai/gpt-oss-120b"
    assert "quantization" not in top.vllm_args


def test_llama_405b_fp8_on_eight_owned_h100s_is_offered_not_rejected() -> None:
    catalog = seed_catalog(["meta-llama/Llama-3.1-405B-Instruct"], {"H100-SXM-80GB": 2.5}, precisions=["fp8"])
    s = spec(
        task_type="chatbot",
        total_users=50,
        priority="cost",
        deployment_model="owned_hardware",
        gpu_inventory=[{"gpu": "H100-SXM-80GB", "count": 8}],
    )
    assert s.reliability_target >= 99.9  # the spare replica would need 8 more GPUs
    result = plan(s, catalog)
    assert result.options, result.message
    top = result.options[0]
    assert (top.tp, top.gpus_total) == (8, 8)
    assert top.checkpoint is not None and top.checkpoint.repo == "meta-llama/Llama-3.1-405B-Instruct-FP8"
    assert "8 owned" in top.headroom and "add 8 GPUs" in top.headroom
    assert not any("needs 16" in r.reason for r in result.rejected)


def test_a_model_too_big_for_one_node_is_rejected_saying_it_would_need_pipeline_parallelism() -> None:
    catalog = seed_catalog(["deepseek-ai/DeepSeek-V3"], {"L40S-48GB": 1.9})
    result = plan(spec(task_type="chatbot", total_users=1000), catalog)
    assert not result.options
    reason = next(r.reason for r in result.rejected if r.model_id == "deepseek-ai/DeepSeek-V3")
    assert "more than one 8-GPU node" in reason and "pipeline parallelism" in reason


def test_deepseek_v3_is_served_only_as_its_fp8_release_on_one_eight_gpu_node() -> None:
    catalog = seed_catalog(["deepseek-ai/DeepSeek-V3"], {"H200-SXM-141GB": 3.5, "H100-SXM-80GB": 2.5})
    result = plan(spec(task_type="chatbot", total_users=1000), catalog)
    assert result.options
    for o in result.options + result.viable:
        assert (o.gpu_id, o.precision, o.tp) == ("H200-SXM-141GB", "fp8", 8)
        assert o.checkpoint is not None and o.checkpoint.repo == "deepseek-ai/DeepSeek-V3"
        assert "quantization" not in o.vllm_args  # the repo's own block-FP8 config
    assert any(r.gpu_id == "H100-SXM-80GB" and "pipeline parallelism" in r.reason for r in result.rejected)


@pytest.mark.parametrize("model_id", recommendable_models())
def test_the_quick_loadable_check_agrees_with_the_checkpoint_it_would_serve(model_id: str) -> None:
    from app.planning.feasibility import loadable

    row = seed_rows("models")[model_id]
    for precision in ("bf16", "fp16", "fp8", "int8", "int4", "mxfp4"):
        found = serving_checkpoint(model_id, precision, row["checkpoints"]) is not None
        assert loadable(precision, row["checkpoints"]) == found, precision

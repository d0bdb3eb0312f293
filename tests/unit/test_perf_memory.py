"""Memory fit and parameter counts agree with well-known facts."""

from __future__ import annotations

import pytest

from app.perf import memory as mem
from app.perf.errors import InvalidConfigError, UnknownGpuError, UnknownModelError
from app.perf.predict import predict
from app.perf.types import ModelArch, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()


def _fits(model: str, gpu: str, tp: int, util: float = 0.9, inp: int = 1000, out: int = 200):
    arch, spec = CAT.get_model(model), CAT.get_gpu(gpu)
    plan = mem.plan_memory(arch, spec, tp=tp, precision="bf16", gpu_memory_utilization=util)
    reason = mem.fit_reason(arch, spec, plan, Workload.fixed(inp, out, concurrency=1), tp)
    return plan, reason


def test_llama_70b_bf16_does_not_fit_one_80gb_gpu() -> None:
    plan, reason = _fits("llama-3.1-70b", "H100-SXM-80GB", 1)
    assert reason is not None and "weights" in reason
    assert 138e9 < plan.weights < 144e9


def test_llama_70b_bf16_fits_tp2_only_with_a_small_kv_cache() -> None:
    plan, reason = _fits("llama-3.1-70b", "A100-SXM-80GB", 2, util=0.95)
    assert reason is None
    assert 0 < plan.kv_cache_tokens < 40_000  # vs 131k context of one request: small
    _, reason_default = _fits("llama-3.1-70b", "A100-SXM-80GB", 2, util=0.9)
    assert reason_default is not None  # at vLLM's default utilisation nothing is left for KV
    plan4, reason4 = _fits("llama-3.1-70b", "H100", 4)
    assert reason4 is None and plan4.kv_cache_tokens > 300_000


def test_llama_8b_bf16_on_l4_has_only_a_short_kv_cache() -> None:
    plan, reason = _fits("llama-3.1-8b", "L4", 1)
    assert reason is None
    assert 10_000 < plan.kv_cache_tokens < 40_000
    _, long_reason = _fits("llama-3.1-8b", "L4", 1, inp=100_000, out=1000)
    assert long_reason is not None and "KV cache" in long_reason


@pytest.mark.parametrize(
    ("model", "total_b", "active_b"),
    [
        ("mixtral-8x7b", 46.7, 12.9),
        ("qwen3-30b-a3b", 30.5, 3.3),
        ("qwen3-235b-a22b", 235.1, 22.2),
        ("gpt-oss-20b", 21.0, 4.2),  # card: 3.6B active without the embedding table
        ("gpt-oss-120b", 117.0, 5.7),
        ("deepseek-v3", 671.0, 37.0),
        ("llama-3.1-405b", 405.0, 405.0),
    ],
)
def test_moe_and_mla_parameter_counts(model: str, total_b: float, active_b: float) -> None:
    pc = mem.param_counts(CAT.get_model(model))
    assert pc.total / 1e9 == pytest.approx(total_b, rel=0.04)
    assert pc.active / 1e9 == pytest.approx(active_b, rel=0.15)


def test_counts_match_hf_safetensors_where_known() -> None:
    for arch in CAT.models():
        if arch.stated_params:
            assert mem.param_counts(arch).total == pytest.approx(arch.stated_params, rel=0.04), arch.id


def test_kv_bytes_gqa_mla_and_sliding_window() -> None:
    llama = CAT.get_model("llama-3.1-8b")
    assert mem.kv_bytes_per_token(llama) == 2 * 32 * 8 * 128 * 2  # 128 KiB
    assert mem.kv_bytes_per_token(llama, tp=8) == 2 * 32 * 1 * 128 * 2
    ds = CAT.get_model("deepseek-v3")
    assert mem.kv_bytes_per_token(ds) == 61 * (512 + 64) * 2  # MLA latent, not 128 heads
    assert mem.kv_bytes_per_token(ds, tp=8) == mem.kv_bytes_per_token(ds)  # latent replicated per rank
    oss = CAT.get_model("gpt-oss-20b")
    full_only = mem.kv_bytes_for_sequence(oss, 10_000)
    assert full_only < 0.51 * 10_000 * mem.kv_bytes_per_token(oss)  # half the layers keep 128 tokens
    mixtral = CAT.get_model("mixtral-8x7b")
    assert mem.kv_bytes_per_token(mixtral) == mem.kv_bytes_per_token(CAT.get_model("mistral-7b"))


def test_quantised_weights_shrink() -> None:
    arch = CAT.get_model("llama-3.1-70b")
    bf16 = mem.weight_bytes(arch, "bf16")
    assert mem.weight_bytes(arch, "fp8") == pytest.approx(bf16 / 2, rel=0.03)
    assert bf16 / 4 < mem.weight_bytes(arch, "int4") < bf16 / 3.4  # embeddings and lm_head stay 16-bit


def test_valid_tp_degrees_and_bad_tp() -> None:
    arch = CAT.get_model("llama-3.1-8b")
    assert mem.valid_tp_degrees(arch) == [1, 2, 4, 8]
    with pytest.raises(InvalidConfigError, match="larger than the 32 attention heads"):
        mem.check_tp(arch, 64)
    with pytest.raises(InvalidConfigError):
        predict(arch, CAT.get_gpu("H100"), Workload.fixed(100, 10, concurrency=1), tp=3)


def test_bad_inputs_are_typed_errors() -> None:
    with pytest.raises(InvalidConfigError):
        Workload.fixed(-5, 10, concurrency=1)
    with pytest.raises(InvalidConfigError):
        Workload.fixed(10, 10)
    with pytest.raises(UnknownModelError):
        CAT.get_model("no-such-model")
    with pytest.raises(UnknownGpuError):
        CAT.get_gpu("Z9000")


@pytest.mark.parametrize(
    ("alias", "gpu_id"),
    [
        ("H100-SXM-80GB", "H100-SXM-80GB"),
        ("A100-SXM-80GB", "A100-SXM-80GB"),
        ("H100", "H100-SXM-80GB"),
        ("NVIDIA-H100-80GB", "H100-SXM-80GB"),
        ("a100-40gb", "A100-SXM-40GB"),
        ("L4", "L4"),
    ],
)
def test_gpu_aliases(alias: str, gpu_id: str) -> None:
    assert CAT.get_gpu(alias).id == gpu_id


def test_from_hf_config_reads_moe_mla_and_sliding() -> None:
    cfg = {
        "model_type": "gpt_oss",
        "hidden_size": 2880,
        "num_hidden_layers": 24,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "intermediate_size": 2880,
        "vocab_size": 201088,
        "num_local_experts": 32,
        "num_experts_per_tok": 4,
        "sliding_window": 128,
        "layer_types": ["sliding_attention", "full_attention"] * 12,
    }
    arch = ModelArch.from_hf_config(cfg, "oss")
    assert arch.is_moe and arch.n_sliding_layers == 12
    ds = {
        "model_type": "deepseek_v3",
        "hidden_size": 7168,
        "num_hidden_layers": 61,
        "num_attention_heads": 128,
        "num_key_value_heads": 128,
        "intermediate_size": 18432,
        "moe_intermediate_size": 2048,
        "vocab_size": 129280,
        "n_routed_experts": 256,
        "n_shared_experts": 1,
        "num_experts_per_tok": 8,
        "first_k_dense_replace": 3,
        "kv_lora_rank": 512,
        "q_lora_rank": 1536,
        "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 128,
        "v_head_dim": 128,
    }
    assert mem.param_counts(ModelArch.from_hf_config(ds, "ds")).total / 1e9 == pytest.approx(671, rel=0.01)

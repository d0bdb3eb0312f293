"""Built-in profiles for a few real configurations.

The numbers are physics estimates, not measurements: decode reads the weights once per step plus the KV cache
of the batch at an assumed 75% of datasheet memory bandwidth; prefill runs 2 x parameters FLOPs per token at
an assumed 45% of dense BF16 peak; tensor parallelism adds a fixed all-reduce cost per step. KV capacity is
90% of GPU memory minus weights and a 2 GiB reserve. They are meant to look like vLLM on that hardware within
a few tens of percent; for calibrated numbers, pass a profile emitted by the planner (`--profile`) or derive
one from published measurements (`--benchmarks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.profile import Profile, ProfileError, parse_profile

DEFAULT_PRESET = "llama-3.1-8b-h100"


@dataclass(frozen=True)
class _Hardware:
    memory_gb: float
    bandwidth_tb_s: float
    bf16_tflops: float


@dataclass(frozen=True)
class _Model:
    name: str
    params_b: float
    layers: int
    kv_heads: int
    head_dim: int
    max_model_len: int


_GPUS = {
    "H100": _Hardware(80, 3.35, 989.4),
    "A100": _Hardware(80, 2.039, 312),
    "L40S": _Hardware(48, 0.864, 362),
}
_MODELS = {
    "llama-3.1-8b": _Model("meta-llama/Llama-3.1-8B-Instruct", 8.03, 32, 8, 128, 131072),
    "llama-3.1-70b": _Model("meta-llama/Llama-3.1-70B-Instruct", 70.6, 80, 8, 128, 131072),
    "qwen2.5-7b": _Model("Qwen/Qwen2.5-7B-Instruct", 7.6, 28, 4, 128, 32768),
}
_BW_EFF = 0.75
_FLOPS_EFF = 0.45
_ALLREDUCE_MS_PER_STEP = 0.6  # per TP degree above 1, NVLink-class interconnect


def _estimate(preset: str, model_key: str, gpu_key: str, tp: int) -> Profile:
    m, g = _MODELS[model_key], _GPUS[gpu_key]
    bytes_per_param = 2  # BF16
    weights_gb_per_gpu = m.params_b * bytes_per_param / tp
    bw = g.bandwidth_tb_s * 1e12 * _BW_EFF  # bytes/s per GPU
    kv_bytes_per_token = 2 * m.layers * m.kv_heads * m.head_dim * bytes_per_param / tp  # per GPU
    base_ms = weights_gb_per_gpu * 1e9 / bw * 1e3 + _ALLREDUCE_MS_PER_STEP * (tp - 1)
    per_ctx_ms = kv_bytes_per_token / bw * 1e3
    prefill_per_token_ms = 2 * m.params_b * 1e9 / (g.bf16_tflops * 1e12 * _FLOPS_EFF * tp) * 1e3
    free_gb = g.memory_gb * 0.9 - weights_gb_per_gpu - 2.0
    kv_tokens = int(free_gb * 1e9 / kv_bytes_per_token)
    return parse_profile(
        {
            "model": m.name,
            "prefill": {
                "overhead_ms": round(8.0 + base_ms, 3),
                "per_token_ms": round(prefill_per_token_ms, 5),
            },
            "decode": {
                "base_ms": round(base_ms, 3),
                "per_seq_ms": 0.03,
                "per_context_token_ms": round(per_ctx_ms, 8),
                "table": None,
            },
            "max_num_seqs": 256,
            "max_num_batched_tokens": 8192,
            "kv_cache": {"tokens": kv_tokens, "block_size": 16},
            "max_model_len": min(m.max_model_len, kv_tokens),
            "jitter": {"cv": 0.03, "seed": 0},
            "source": {
                "kind": "preset",
                "detail": f"{preset}: physics estimate for {m.name} BF16 on {tp}x{gpu_key} "
                f"(bandwidth efficiency {_BW_EFF}, compute efficiency {_FLOPS_EFF}); not measured",
            },
        },
        origin=f"preset {preset}",
    )


_PRESETS: dict[str, tuple[str, str, int]] = {
    "llama-3.1-8b-h100": ("llama-3.1-8b", "H100", 1),
    "llama-3.1-8b-a100": ("llama-3.1-8b", "A100", 1),
    "llama-3.1-8b-l40s": ("llama-3.1-8b", "L40S", 1),
    "llama-3.1-70b-h100-tp4": ("llama-3.1-70b", "H100", 4),
    "qwen2.5-7b-l40s": ("qwen2.5-7b", "L40S", 1),
}


def preset_names() -> list[str]:
    return sorted(_PRESETS)


def get_preset(name: str) -> Profile:
    try:
        model_key, gpu_key, tp = _PRESETS[name]
    except KeyError as e:
        raise ProfileError(f"unknown preset {name!r}; choose one of: {', '.join(preset_names())}") from e
    return _estimate(name, model_key, gpu_key, tp)

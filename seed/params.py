"""Parameter counts computed from a model's architecture facts (its config.json fields).

Pure functions, no I/O. The count covers the language model only: token embeddings, attention (MHA, GQA or
DeepSeek's MLA), the MLP or MoE experts (with shared experts and leading dense layers), norms and an untied
lm_head. Vision towers of multimodal checkpoints and DeepSeek's multi-token-prediction module are not
counted, because they do not run when the model serves text.

Where an input is missing from the config (``tie_word_embeddings`` or ``vocab_size`` null), the caller passes
an assumption and records it as such; this module never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Architecture kinds that differ in how parameters are laid out.
LLAMA_LIKE = "llama"  # Llama, Mistral, Phi-3, Granite: gated MLP, RMSNorm, no biases
QWEN2 = "qwen2"  # as llama, plus q/k/v biases
QWEN3 = "qwen3"  # as llama, plus per-head q/k RMSNorm
QWEN3_MOE = "qwen3_moe"
MIXTRAL = "mixtral"
GEMMA2 = "gemma2"  # four norms per layer (pre/post attention and MLP)
GEMMA3 = "gemma3"  # as gemma2, plus q/k norms
LLAMA4 = "llama4"  # every layer MoE with one shared expert
DEEPSEEK_V3 = "deepseek_v3"  # MLA attention, MoE with shared experts and first_k_dense_replace
GPT_OSS = "gpt_oss"  # biased attention with sinks, MoE experts with biases
GPTJ = "gptj"  # parallel attention/MLP, LayerNorm with bias, plain MLP with biases, lm_head bias
FALCON = "falcon"  # new_decoder_architecture: fused qkv, two LayerNorms per layer, plain MLP


@dataclass(frozen=True)
class ParamCount:
    """Exact element counts of the language model's weights."""

    total: int
    active: int
    # Elements that a quantized checkpoint stores besides the weights themselves (MXFP4 block scales).
    checkpoint_scale_elements: int = 0

    @property
    def total_b(self) -> float:
        return self.total / 1e9

    @property
    def active_b(self) -> float:
        return self.active / 1e9


def architecture_kind(model: dict[str, Any]) -> str:
    """Classify a catalog record by parameter layout. Transcribed records lack model_type, so the family
    and HF id are used too."""
    model_type = (model.get("model_type") or "").lower()
    family = (model.get("family") or "").lower()
    hf_id = model["hf_id"].lower()
    if model_type == "gptj" or family == "gpt-j":
        return GPTJ
    if model_type == "falcon" or family == "falcon":
        return FALCON
    if model_type == "gpt_oss":
        return GPT_OSS
    if model_type == "deepseek_v3" or model.get("kv_lora_rank"):
        return DEEPSEEK_V3
    if family == "gemma-2" or model_type == "gemma2":
        return GEMMA2
    if family == "gemma-3" or model_type.startswith("gemma3"):
        return GEMMA3
    if model_type.startswith("llama4") or family == "llama-4":
        return LLAMA4
    if model_type == "qwen3_moe" or family == "qwen3-moe":
        return QWEN3_MOE
    if model_type == "qwen3" or family == "qwen3":
        return QWEN3
    if model_type == "qwen2" or family.startswith("qwen2") or ("distill-qwen" in hf_id):
        return QWEN2
    if model_type == "mixtral" or family == "mixtral":
        return MIXTRAL
    return LLAMA_LIKE


def _req(model: dict[str, Any], key: str) -> int:
    value = model.get(key)
    if value is None:
        raise ValueError(f"{model['hf_id']}: {key} is needed to count parameters but is null")
    return int(value)


def _attention(model: dict[str, Any], kind: str) -> int:
    h = _req(model, "hidden_size")
    nh = _req(model, "num_attention_heads")
    if kind == DEEPSEEK_V3:
        q_lora = model.get("q_lora_rank")
        kv_lora = _req(model, "kv_lora_rank")
        rope = _req(model, "qk_rope_head_dim")
        nope = _req(model, "qk_nope_head_dim")
        v_dim = _req(model, "v_head_dim")
        q_head = nope + rope
        q = h * q_lora + q_lora + q_lora * nh * q_head if q_lora else h * nh * q_head  # a-proj, norm, b-proj
        kv = h * (kv_lora + rope) + kv_lora + kv_lora * nh * (nope + v_dim)  # down-proj, norm, up-proj
        return q + kv + nh * v_dim * h
    nkv = _req(model, "num_key_value_heads")
    hd = model.get("head_dim") or h // nh
    q_dim, kv_dim = nh * hd, nkv * hd
    weights = h * q_dim + 2 * h * kv_dim + q_dim * h
    if kind == QWEN2:
        weights += q_dim + 2 * kv_dim  # q/k/v biases
    if kind in (QWEN3, QWEN3_MOE, GEMMA3):
        weights += 2 * hd  # q_norm and k_norm over head_dim
    if kind == GPT_OSS:
        weights += q_dim + 2 * kv_dim + h + nh  # q/k/v/o biases and one attention sink per head
    return weights


def _gated_mlp(h: int, inter: int) -> int:
    return 3 * h * inter


def _mlp(model: dict[str, Any], kind: str, layer: int) -> tuple[int, int]:
    """Return (total, active) MLP parameters of one layer."""
    h = _req(model, "hidden_size")
    inter = model.get("intermediate_size")
    if kind == GPTJ:
        i = int(inter or 4 * h)
        n = h * i + i + i * h + h  # fc_in and fc_out with biases
        return n, n
    if kind == FALCON:
        i = int(inter or 4 * h)
        n = 2 * h * i
        return n, n
    experts = model.get("num_experts")
    if not experts:
        n = _gated_mlp(h, _req(model, "intermediate_size"))
        return n, n
    top_k = _req(model, "num_experts_per_tok")
    if kind == DEEPSEEK_V3:
        first_dense = model.get("first_k_dense_replace") or 0
        if layer < first_dense:
            n = _gated_mlp(h, _req(model, "intermediate_size"))
            return n, n
        expert = _gated_mlp(h, _req(model, "moe_intermediate_size"))
        shared = (model.get("num_shared_experts") or 0) * expert
        router = h * experts + experts  # gate weight and e_score_correction_bias
        return experts * expert + shared + router, top_k * expert + shared + router
    if kind == GPT_OSS:
        i = _req(model, "intermediate_size")
        expert = h * 2 * i + 2 * i + i * h + h  # fused gate_up and down projections, with biases
        router = h * experts + experts
        return experts * expert + router, top_k * expert + router
    expert_inter = model.get("moe_intermediate_size") or _req(model, "intermediate_size")
    expert = _gated_mlp(h, int(expert_inter))
    router = h * experts
    shared = expert if kind == LLAMA4 else (model.get("num_shared_experts") or 0) * expert
    return experts * expert + shared + router, top_k * expert + shared + router


def _norms_per_layer(h: int, kind: str) -> int:
    if kind in (GEMMA2, GEMMA3):
        return 4 * h
    if kind == GPTJ:
        return 2 * h  # one LayerNorm (weight + bias) shared by the parallel attention and MLP
    if kind == FALCON:
        return 4 * h  # ln_attn and ln_mlp, each weight + bias
    return 2 * h


def count_params(model: dict[str, Any], *, vocab_size: int, tied: bool) -> ParamCount:
    """Count the parameters of a catalog record.

    ``vocab_size`` and ``tied`` are passed explicitly because some records leave them null; the caller
    decides (and records) what to assume.
    """
    kind = architecture_kind(model)
    h = _req(model, "hidden_size")
    layers = _req(model, "num_hidden_layers")
    total = active = 0
    for layer in range(layers):
        attn = _attention(model, kind)
        mlp_total, mlp_active = _mlp(model, kind, layer)
        norms = _norms_per_layer(h, kind)
        total += attn + mlp_total + norms
        active += attn + mlp_active + norms
    final_norm = 2 * h if kind in (GPTJ, FALCON) else h
    embeddings = vocab_size * h
    lm_head = 0 if tied else vocab_size * h + (vocab_size if kind == GPTJ else 0)
    total += embeddings + lm_head + final_norm
    active += embeddings + lm_head + final_norm
    return ParamCount(total=total, active=active, checkpoint_scale_elements=_mxfp4_scales(model, kind))


def _mxfp4_scales(model: dict[str, Any], kind: str) -> int:
    """MXFP4 checkpoints store one E8M0 scale per 32 expert weights; the HF Hub parameter count includes
    them, so a comparison with ``hf_safetensors_params`` must add them."""
    quant = model.get("checkpoint_quantization")
    if kind != GPT_OSS or not isinstance(quant, dict) or quant.get("quant_method") != "mxfp4":
        return 0
    h = _req(model, "hidden_size")
    i = _req(model, "intermediate_size")
    experts = _req(model, "num_experts")
    per_layer = experts * (h * 2 * i + i * h)
    return _req(model, "num_hidden_layers") * per_layer // 32


def relative_difference(computed: float, reference: float) -> float:
    """Signed relative difference of ``computed`` against ``reference``."""
    return (computed - reference) / reference

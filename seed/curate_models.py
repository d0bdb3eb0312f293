"""Build ModelRow dicts from catalog/models.json and catalog/reference_models.json.

Sourced facts are copied unchanged; other config keys go to ``config`` and provenance to ``source``.
Preflight's own calls (tasks, domains, approval, precisions, tiers, assumptions) go to ``judgements``.
"""

from __future__ import annotations

import re
from typing import Any

from seed.aliases import unique_aliases
from seed.checkpoints import CHECKPOINTS, NATIVE_ONLY, checkpoints_for
from seed.model_curation import CURATION, MISTRAL_7B_REASON, REFERENCE_ALIASES, Curation
from seed.params import FALCON, GEMMA2, GEMMA3, LLAMA4, ParamCount, architecture_kind, count_params

# ModelRow fields copied verbatim from a catalog record.
ARCH_FIELDS = (
    "hf_id",
    "family",
    "architecture",
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "moe_intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "tie_word_embeddings",
    "torch_dtype",
    "num_experts",
    "num_experts_per_tok",
    "num_shared_experts",
    "first_k_dense_replace",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "qk_nope_head_dim",
    "v_head_dim",
    "sliding_window",
    "sliding_window_pattern",
    "checkpoint_quantization",
    "params_total_b",
    "params_active_b",
    "hf_safetensors_params",
    "context_window_tokens",
    "license",
    "quality",
    "notes",
)
# Provenance keys moved into ``source``.
PROVENANCE_FIELDS = (
    "params_stated",
    "params_source",
    "license_source",
    "context_window",
    "context_window_source",
)
HANDLED = {*ARCH_FIELDS, *PROVENANCE_FIELDS, "source", "role"}

# Gemma 3 config.json relies on the transformers default vocabulary (see catalog README).
GEMMA3_DEFAULT_VOCAB = 262208
_CONTEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM])\b")


def _judgement(value: Any, reason: str) -> dict[str, Any]:
    return {"value": value, "reason": reason, "by": "preflight"}


def context_window_tokens(text: str | None, max_position_embeddings: int) -> int | None:
    """Convert '128k' / '10M' to tokens with binary multiples (128k = 131072), as the configs do.

    Only when the config's max_position_embeddings reaches that size, which confirms the reading; otherwise
    the advertised figure is ambiguous and stays unconverted.
    """
    if not text:
        return None
    match = _CONTEXT.match(text)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    tokens = int(number * (1024 if unit == "k" else 1024 * 1024))
    return tokens if max_position_embeddings >= tokens else None


def _param_assumptions(record: dict[str, Any]) -> tuple[int, bool, dict[str, Any], list[str]]:
    """Vocabulary size and embedding tying used for the count, the values assumed and why."""
    notes: list[str] = []
    assumed: dict[str, Any] = {}
    kind = architecture_kind(record)
    vocab = record.get("vocab_size")
    if vocab is None:
        vocab = GEMMA3_DEFAULT_VOCAB
        assumed["vocab_size"] = vocab
        notes.append(
            f"vocab_size is null in the catalog; counted with {GEMMA3_DEFAULT_VOCAB} (the transformers "
            "Gemma3 default the 4b sibling's config relies on); 262144 would change the count by <0.01%."
        )
    tied = record.get("tie_word_embeddings")
    if tied is None:
        tied = kind in (GEMMA2, GEMMA3, FALCON)
        assumed["tie_word_embeddings"] = tied
        if kind in (GEMMA2, GEMMA3):
            why = "Gemma configs default to tied embeddings (the 4b sibling's config says true)"
        elif kind == FALCON:
            why = "FalconConfig defaults to tied embeddings and the key is absent"
        elif kind == LLAMA4:
            why = "Llama4TextConfig defaults to untied embeddings"
        else:
            why = "siblings of the same family and size class ship untied embeddings"
        notes.append(f"tie_word_embeddings is null in the catalog; counted as {tied} because {why}.")
    return int(vocab), bool(tied), assumed, notes


def _precisions(record: dict[str, Any], cur: Curation | None) -> tuple[list[str], str]:
    """Only precisions vLLM can load (seed/checkpoints.py): the released dtype, fp8 (published or online),
    int4 from a published AWQ/GPTQ repo, and the model's own MXFP4/FP8 release."""
    hf_id = record["hf_id"]
    if hf_id in NATIVE_ONLY:
        native = [c for c in CHECKPOINTS[hf_id]]
        reasons = [f"{c.precision}: {c.repo} ({c.note})" for c in native]
        return sorted({c.precision for c in native}), "Only the published release loads: " + "; ".join(
            reasons
        )
    precisions = ["bf16"]
    reasons = ["bf16 is the released dtype or serves without loss."]
    if cur is None or cur.fp16:
        precisions.append("fp16")
        reasons.append("fp16 works for this architecture (needed on GPUs without bf16, e.g. T4).")
    else:
        reasons.append(
            "fp16 left out: activations of this family overflow in fp16 or the checkpoint is not fp16."
        )
    precisions.append("fp8")
    fp8_repo = next((c for c in CHECKPOINTS.get(hf_id, ()) if c.precision == "fp8"), None)
    if fp8_repo is not None:
        reasons.append(f"fp8: published checkpoint {fp8_repo.repo} ({fp8_repo.publisher}).")
    else:
        reasons.append(
            (cur.extra.get("fp8") if cur else None)
            or "fp8: vLLM quantises the bf16 weights online (--quantization fp8) on GPUs with fp8 tensor "
            "cores (Ada, Hopper, Blackwell, MI300); a GPU with fp8_tflops null cannot run it."
        )
    int4_repo = next((c for c in CHECKPOINTS.get(hf_id, ()) if c.precision == "int4"), None)
    if int4_repo is not None:
        precisions.append("int4")
        reasons.append(
            f"int4: published {int4_repo.format.upper()} checkpoint {int4_repo.repo} ({int4_repo.publisher})."
        )
    else:
        reasons.append(
            "int4 left out: no published AWQ/GPTQ checkpoint is recorded "
            "(vLLM cannot quantise to int4 online)."
        )
    return precisions, " ".join(reasons)


def _aliases(record: dict[str, Any], cur: Curation | None) -> list[str]:
    hf_id = record["hf_id"]
    repo = hf_id.split("/", 1)[1]
    names: list[str] = [repo]
    short = cur.aliases if cur is not None else REFERENCE_ALIASES.get(hf_id, ())
    for name in short:
        names.append(name)
        if "-" in name and ":" not in name:
            names.append(name.replace("-", " "))  # "Llama 3.1 8B" for loaders that only fold case
    return unique_aliases(names, exclude=[hf_id])


def build_model_row(record: dict[str, Any], role: str) -> tuple[dict[str, Any], ParamCount]:
    hf_id = record["hf_id"]
    cur = CURATION.get(hf_id)
    if role == "recommendable" and cur is None:
        raise KeyError(f"{hf_id}: no curation entry in seed/model_curation.py; add one")
    row: dict[str, Any] = {key: record.get(key) for key in ARCH_FIELDS}
    row["role"] = role
    row["aliases"] = _aliases(record, cur)
    row["context_window_tokens"] = record.get("context_window_tokens") or context_window_tokens(
        record.get("context_window"), record["max_position_embeddings"]
    )

    vocab, tied, assumed, assumptions = _param_assumptions(record)
    count = count_params(record, vocab_size=vocab, tied=tied)
    row["params_computed_b"] = round(count.total_b, 4)

    config = {key: value for key, value in record.items() if key not in HANDLED}
    config["params_computed"] = count.total
    config["params_computed_active_b"] = round(count.active_b, 4)
    if count.checkpoint_scale_elements:
        config["checkpoint_scale_elements"] = count.checkpoint_scale_elements
    row["config"] = config

    source = dict(record.get("source") or {})
    for key in PROVENANCE_FIELDS:
        source[key] = record.get(key)
    source["catalog_file"] = (
        "catalog/models.json" if role == "recommendable" else "catalog/reference_models.json"
    )
    if row["context_window_tokens"] is not None and record.get("context_window_tokens") is None:
        source["context_window_tokens_rule"] = (
            "Converted from the advertised context_window with binary multiples (k = 1024), confirmed by "
            "max_position_embeddings reaching that size."
        )
    source["params_computed"] = "Preflight, seed/params.py, from the architecture fields of this record"
    row["source"] = source

    judgements: dict[str, dict[str, Any]] = {}
    if assumptions:
        judgements["params_computed_assumptions"] = _judgement(assumed, " ".join(assumptions))
    if cur is None:
        row["approved"] = False
        row["supported_tasks"] = []
        row["domains"] = []
        judgements["approved"] = _judgement(
            False, "Reference model: kept to calibrate and test the performance model, never recommended."
        )
        judgements["supported_tasks"] = _judgement([], "Reference model: not offered for any task.")
    else:
        approved = cur.approved if cur.approved is not None else True
        row["approved"] = approved
        licence = record.get("license")
        approved_reason = cur.approved_reason or f"Usable licence recorded in the catalog: {licence}."
        judgements["approved"] = _judgement(approved, approved_reason)
        row["supported_tasks"] = list(cur.tasks)
        judgements["supported_tasks"] = _judgement(list(cur.tasks), cur.tasks_reason)
        row["domains"] = list(cur.domains)
        judgements["domains"] = _judgement(list(cur.domains), cur.domains_reason)
        if cur.tier is not None and not record.get("quality"):
            judgements["quality_tier"] = _judgement(cur.tier, cur.tier_reason or "No published score.")
    precisions, precision_reason = _precisions(record, cur)
    row["precisions"] = precisions
    row["checkpoints"] = checkpoints_for(hf_id)
    judgements["precisions"] = _judgement(precisions, precision_reason)
    if hf_id.startswith("openai/gpt-oss"):
        judgements["params_active_note"] = _judgement(
            config["params_computed_active_b"],
            "Computed active parameters include the input embedding table; OpenAI's stated active count "
            "excludes it (computed minus vocab x hidden matches the card).",
        )
    if hf_id == "mistralai/Mistral-7B-v0.1":
        judgements["measurement_label"] = _judgement("Mistral-7B", MISTRAL_7B_REASON)
    row["judgements"] = judgements
    return row, count


def build_model_rows(
    catalog: dict[str, Any], reference: dict[str, Any]
) -> list[tuple[dict[str, Any], ParamCount]]:
    rows = [build_model_row(r, "recommendable") for r in catalog["models"]]
    rows += [build_model_row(r, "reference") for r in reference["models"]]
    return rows


def attach_quality_scores(rows: list[dict[str, Any]], scores: dict[str, Any]) -> None:
    """Each model's published scores from catalog/quality_scores.json, copied as printed, with the task family
    and direction of their benchmark (they replace the card's few scores, which the file also holds)."""
    benchmarks = {b["id"]: b for b in scores["benchmarks"]}
    by_model: dict[str, list[dict[str, Any]]] = {}
    for s in scores["scores"]:
        bench = benchmarks[s["benchmark"]]
        by_model.setdefault(s["model"], []).append(
            {
                "benchmark": s["benchmark"],
                "score": s["score"],
                "setting": s.get("setting"),
                "source": s["source"],
                "family": bench["task_family"],
                "higher_is_better": bool(bench.get("higher_is_better", True)),
                "base_checkpoint": bool(s.get("base_checkpoint")),
                "notes": s.get("notes"),
            }
        )
    for row in rows:
        if row["hf_id"] in by_model:
            row["quality"] = sorted(by_model[row["hf_id"]], key=lambda r: (r["source"], r["benchmark"]))

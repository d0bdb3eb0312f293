"""Preflight's own calls about each catalog model: aliases, tasks, domains, precisions, approval, tiers.

Everything here is a judgement, not a sourced fact. ``curate_models`` turns these entries into ``Judgement``
objects with their reasons, next to the sourced architecture facts. Keep the reasons specific: a reader must
be able to disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GENERAL = ("chatbot", "summarization", "rag_qa", "content_generation", "batch_processing")
SMALL = ("chatbot", "summarization", "rag_qa", "batch_processing")
REASONER = ("chatbot", "code_generation", "batch_processing")
CODER = ("code_completion", "code_generation", "batch_processing")

INT4_QWEN = "Qwen publishes official AWQ and GPTQ-Int4 checkpoints for every Qwen2.5 Instruct size."
INT4_QWEN3 = "Qwen publishes official AWQ (dense) or GPTQ-Int4 (MoE) and FP8 checkpoints for Qwen3."
INT4_LLAMA = (
    "AWQ-INT4 checkpoints (e.g. hugging-quants, maintained by Hugging Face staff) are widely used; "
    "not published by Meta."
)
INT4_COMMUNITY = "Community AWQ/GPTQ int4 checkpoints are common; none is published by the model's authors."
INT4_GEMMA3 = "Google publishes official int4 quantization-aware-trained (QAT) Gemma 3 checkpoints."
INT4_SCOUT = "Meta's model card says Scout fits one H100 with on-the-fly int4 quantization."


@dataclass(frozen=True)
class Curation:
    aliases: tuple[str, ...]
    tasks: tuple[str, ...]
    tasks_reason: str
    domains: tuple[str, ...]
    domains_reason: str
    int4: str | None = None  # why int4 is a practical precision, or None
    fp16: bool = True
    tier: str | None = None  # quality tier, only where no score is published
    tier_reason: str | None = None
    approved_reason: str | None = None  # overrides the default licence-based reason
    approved: bool | None = None  # overrides the default
    extra: dict[str, str] = field(default_factory=dict)


def _general(multilingual: bool, code: bool) -> tuple[str, ...]:
    tasks = list(GENERAL)
    if code:
        tasks.insert(1, "code_generation")
    if multilingual:
        tasks.append("translation")
    return tuple(tasks)


LLAMA31_TASKS = "Instruction-tuned general model; the card reports HumanEval 72.6+ and 8 supported languages."
LLAMA_DOMAINS = "Meta's card lists 8 officially supported languages and reports code benchmarks."
QWEN_TASKS = "Instruction-tuned general model; Qwen2.5 cards stress coding, maths and 29+ languages."
QWEN_DOMAINS = "Qwen2.5 cards claim multilingual support (29+ languages) and improved coding and maths."
QWEN3_TASKS = "Instruction-tuned general model with a thinking mode; the Qwen3 card covers 100+ languages."
QWEN3_DOMAINS = (
    "Qwen3 has a switchable reasoning ('thinking') mode; the card claims 100+ languages, code, maths."
)
R1_TASKS = (
    "Distilled from DeepSeek-R1: long chains of thought make it slow for latency-bound chat, but strong for "
    "code, maths and offline reasoning jobs."
)
GPT_OSS_TASKS = "Reasoning model with configurable effort and tool use; OpenAI's card stresses agentic tasks."
GEMMA2_TIER = "No score in the catalog; Gemma 2 is a 2024 generation mid-size family."
SMALL_TIER = "No score in the catalog; sub-4B models are for simple, latency- or cost-bound tasks."

CURATION: dict[str, Curation] = {
    "meta-llama/Llama-3.1-8B-Instruct": Curation(
        ("Llama-3.1-8B", "Llama 3.1 8B", "Meta-Llama-3.1-8B-Instruct", "llama3.1:8b", "llama3.1-8b"),
        _general(True, True),
        LLAMA31_TASKS,
        ("general", "multilingual", "code"),
        LLAMA_DOMAINS,
        int4=INT4_LLAMA,
    ),
    "meta-llama/Llama-3.1-70B-Instruct": Curation(
        ("Llama-3.1-70B", "Llama 3.1 70B", "Meta-Llama-3.1-70B-Instruct", "llama3.1:70b", "llama3.1-70b"),
        _general(True, True),
        LLAMA31_TASKS,
        ("general", "multilingual", "code", "math"),
        LLAMA_DOMAINS,
        int4=INT4_LLAMA,
    ),
    "meta-llama/Llama-3.1-405B-Instruct": Curation(
        (
            "Llama-3.1-405B",
            "Llama 3.1 405B",
            "Meta-Llama-3.1-405B-Instruct",
            "llama3.1:405b",
            "llama3.1-405b",
        ),
        _general(True, True),
        LLAMA31_TASKS,
        ("general", "multilingual", "code", "math", "reasoning"),
        LLAMA_DOMAINS,
        int4=INT4_LLAMA,
        extra={"fp8": "Meta publishes an official FP8 checkpoint (Llama-3.1-405B-Instruct-FP8)."},
    ),
    "meta-llama/Llama-3.2-1B-Instruct": Curation(
        ("Llama-3.2-1B", "Llama 3.2 1B", "llama3.2:1b", "llama3.2-1b"),
        SMALL,
        "1B model: fine for simple chat, extraction and short summaries; weak at code and translation.",
        ("general", "multilingual"),
        "Meta's card lists 8 supported languages.",
        int4="Meta publishes official int4 (QLoRA / SpinQuant) variants for on-device use; AWQ is common.",
    ),
    "meta-llama/Llama-3.2-3B-Instruct": Curation(
        ("Llama-3.2-3B", "Llama 3.2 3B", "llama3.2:3b", "llama3.2-3b"),
        (*SMALL, "translation"),
        "3B model: simple chat, extraction, summaries and short translations.",
        ("general", "multilingual"),
        "Meta's card lists 8 supported languages.",
        int4="Meta publishes official int4 (QLoRA / SpinQuant) variants for on-device use; AWQ is common.",
    ),
    "meta-llama/Llama-3.3-70B-Instruct": Curation(
        ("Llama-3.3-70B", "Llama 3.3 70B", "llama3.3:70b", "llama3.3-70b"),
        _general(True, True),
        LLAMA31_TASKS,
        ("general", "multilingual", "code", "math"),
        LLAMA_DOMAINS,
        int4=INT4_LLAMA,
    ),
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": Curation(
        ("Llama-4-Scout", "Llama 4 Scout", "Llama-4-Scout-17B-16E", "llama4:scout"),
        _general(True, True),
        "Natively multimodal MoE general model with a 10M-token context window.",
        ("general", "multilingual", "code", "long_context", "vision"),
        "Card: 12 languages, image input, 10M context.",
        int4=INT4_SCOUT,
    ),
    "Qwen/Qwen2.5-0.5B-Instruct": Curation(
        ("Qwen2.5-0.5B", "Qwen 2.5 0.5B", "qwen2.5:0.5b"),
        SMALL,
        "0.5B model: only simple, high-volume tasks.",
        ("general", "multilingual"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="standard",
        tier_reason=SMALL_TIER,
    ),
    "Qwen/Qwen2.5-1.5B-Instruct": Curation(
        ("Qwen2.5-1.5B", "Qwen 2.5 1.5B", "qwen2.5:1.5b"),
        SMALL,
        "1.5B model: simple chat, extraction and short summaries.",
        ("general", "multilingual"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="standard",
        tier_reason=SMALL_TIER,
    ),
    "Qwen/Qwen2.5-3B-Instruct": Curation(
        ("Qwen2.5-3B", "Qwen 2.5 3B", "qwen2.5:3b"),
        SMALL,
        "3B model: simple chat, extraction and short summaries.",
        ("general", "multilingual"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="standard",
        tier_reason=SMALL_TIER,
        approved=False,
        approved_reason=(
            "Licence is 'qwen-research' (the catalog's licence field), which does not allow commercial use "
            "without a separate agreement; every other Qwen2.5 size is Apache 2.0 or the Qwen licence."
        ),
    ),
    "Qwen/Qwen2.5-7B-Instruct": Curation(
        ("Qwen2.5-7B", "Qwen 2.5 7B", "qwen2.5:7b"),
        _general(True, True),
        QWEN_TASKS,
        ("general", "multilingual", "code", "math"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="high",
        tier_reason="No score in the catalog; a strong 7B generalist of its time.",
    ),
    "Qwen/Qwen2.5-14B-Instruct": Curation(
        ("Qwen2.5-14B", "Qwen 2.5 14B", "qwen2.5:14b"),
        _general(True, True),
        QWEN_TASKS,
        ("general", "multilingual", "code", "math"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="high",
        tier_reason="No score in the catalog; mid-size Qwen2.5.",
    ),
    "Qwen/Qwen2.5-32B-Instruct": Curation(
        ("Qwen2.5-32B", "Qwen 2.5 32B", "qwen2.5:32b"),
        _general(True, True),
        QWEN_TASKS,
        ("general", "multilingual", "code", "math"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="very_high",
        tier_reason="No score in the catalog; 32B Qwen2.5 rivals 70B models.",
    ),
    "Qwen/Qwen2.5-72B-Instruct": Curation(
        ("Qwen2.5-72B", "Qwen 2.5 72B", "qwen2.5:72b"),
        _general(True, True),
        QWEN_TASKS,
        ("general", "multilingual", "code", "math"),
        QWEN_DOMAINS,
        int4=INT4_QWEN,
        tier="very_high",
        tier_reason="No score in the catalog; flagship Qwen2.5 size.",
        approved_reason=(
            "The catalog did not record the licence. Preflight understands the 72B model ships under the "
            "'Qwen' licence (commercial use allowed below 100M monthly users); verify before production."
        ),
    ),
    "Qwen/Qwen2.5-Coder-7B-Instruct": Curation(
        ("Qwen2.5-Coder-7B", "Qwen 2.5 Coder 7B", "qwen2.5-coder:7b"),
        CODER,
        "Code-specialised; the Qwen2.5-Coder family was trained with fill-in-the-middle, so it serves "
        "editor completion as well as generation (the base checkpoint is the usual FIM choice).",
        ("code",),
        "Code-specialised model family.",
        int4=INT4_QWEN,
        tier="high",
        tier_reason="No score in the catalog; strong 7B code model.",
        approved_reason="The catalog did not record the licence; Preflight understands it is Apache 2.0. "
        "Verify before production.",
    ),
    "Qwen/Qwen2.5-Coder-32B-Instruct": Curation(
        ("Qwen2.5-Coder-32B", "Qwen 2.5 Coder 32B", "qwen2.5-coder:32b"),
        (*CODER, "chatbot"),
        "Code-specialised and large enough for coding-assistant chat; trained with fill-in-the-middle.",
        ("code",),
        "Code-specialised model family.",
        int4=INT4_QWEN,
        tier="very_high",
        tier_reason="No score in the catalog; flagship open code model of its generation.",
        approved_reason="The catalog did not record the licence; Preflight understands it is Apache 2.0. "
        "Verify before production.",
    ),
    "Qwen/Qwen3-8B": Curation(
        ("Qwen3-8B", "Qwen 3 8B", "qwen3:8b"),
        _general(True, True),
        QWEN3_TASKS,
        ("general", "multilingual", "code", "reasoning", "math"),
        QWEN3_DOMAINS,
        int4=INT4_QWEN3,
        tier="high",
        tier_reason="No score in the catalog; 2025 8B model.",
    ),
    "Qwen/Qwen3-14B": Curation(
        ("Qwen3-14B", "Qwen 3 14B", "qwen3:14b"),
        _general(True, True),
        QWEN3_TASKS,
        ("general", "multilingual", "code", "reasoning", "math"),
        QWEN3_DOMAINS,
        int4=INT4_QWEN3,
        tier="high",
        tier_reason="No score in the catalog; 2025 14B model.",
    ),
    "Qwen/Qwen3-32B": Curation(
        ("Qwen3-32B", "Qwen 3 32B", "qwen3:32b"),
        _general(True, True),
        QWEN3_TASKS,
        ("general", "multilingual", "code", "reasoning", "math"),
        QWEN3_DOMAINS,
        int4=INT4_QWEN3,
        tier="very_high",
        tier_reason="No score in the catalog; largest dense Qwen3.",
    ),
    "Qwen/Qwen3-30B-A3B": Curation(
        ("Qwen3-30B-A3B", "Qwen 3 30B A3B", "qwen3:30b", "Qwen3-30B"),
        _general(True, True),
        QWEN3_TASKS,
        ("general", "multilingual", "code", "reasoning", "math"),
        QWEN3_DOMAINS,
        int4=INT4_QWEN3,
        tier="high",
        tier_reason="No score in the catalog; MoE with 3B active parameters, roughly a strong 14B dense "
        "model.",
    ),
    "Qwen/Qwen3-235B-A22B": Curation(
        ("Qwen3-235B-A22B", "Qwen 3 235B", "qwen3:235b", "Qwen3-235B"),
        _general(True, True),
        QWEN3_TASKS,
        ("general", "multilingual", "code", "reasoning", "math"),
        QWEN3_DOMAINS,
        int4=INT4_QWEN3,
        tier="very_high",
        tier_reason="No score in the catalog; Qwen3 flagship.",
    ),
    "mistralai/Mistral-7B-Instruct-v0.3": Curation(
        ("Mistral-7B-Instruct", "Mistral-7B-v0.3", "Mistral 7B Instruct", "mistral:7b"),
        GENERAL,
        "Small English-centred instruction model; no code or translation strength claimed.",
        ("general",),
        "Mistral 7B is English-centred.",
        int4=INT4_COMMUNITY,
        tier="standard",
        tier_reason="No score in the catalog; a 2023-architecture 7B model.",
        approved_reason="The catalog did not record the licence; Preflight understands it is Apache 2.0. "
        "Verify before production.",
    ),
    "mistralai/Mistral-Nemo-Instruct-2407": Curation(
        ("Mistral-Nemo", "Mistral Nemo", "Mistral-Nemo-12B", "mistral-nemo:12b"),
        _general(True, True),
        "12B general model with a 128k context; Mistral advertises multilingual use.",
        ("general", "multilingual", "long_context"),
        "Mistral's release notes stress multilingual use, 128k.",
        int4=INT4_COMMUNITY,
        tier="high",
        tier_reason="No score in the catalog; 12B model from 2024.",
        approved_reason="The catalog did not record the licence; Preflight understands it is Apache 2.0. "
        "Verify before production.",
    ),
    "mistralai/Mistral-Small-24B-Instruct-2501": Curation(
        ("Mistral-Small-24B", "Mistral Small 3", "Mistral-Small-3", "mistral-small:24b"),
        _general(True, True),
        "24B general model tuned for low latency; card reports code and maths scores.",
        ("general", "multilingual", "code"),
        "Card lists dozens of languages and code benchmarks.",
        int4=INT4_COMMUNITY,
    ),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": Curation(
        ("Mixtral-8x7B", "Mixtral 8x7B", "Mixtral-8x7B-Instruct", "mixtral:8x7b"),
        _general(True, True),
        "General MoE model; the paper reports English, French, Italian, German, Spanish and code results.",
        ("general", "multilingual", "code"),
        "Paper: 5 languages, code.",
        int4=INT4_COMMUNITY,
        tier="high",
        tier_reason="No score in the catalog; 2023 MoE, about Llama-2-70B level.",
    ),
    "mistralai/Mixtral-8x22B-Instruct-v0.1": Curation(
        ("Mixtral-8x22B", "Mixtral 8x22B", "mixtral:8x22b"),
        _general(True, True),
        "General MoE model with maths and code strength claimed in the release.",
        ("general", "multilingual", "code", "math"),
        "Release: 5 languages, maths and code.",
        int4=INT4_COMMUNITY,
        tier="high",
        tier_reason="No score in the catalog; 2024 large MoE.",
        approved_reason="The catalog did not record the licence; Preflight understands it is Apache 2.0. "
        "Verify before production.",
    ),
    "google/gemma-2-9b-it": Curation(
        ("Gemma-2-9B", "Gemma 2 9B", "gemma2:9b"),
        (*GENERAL, "code_generation"),
        "General instruction model; 8k context limits long-document work.",
        ("general",),
        "Gemma 2 is English-centred.",
        int4=INT4_COMMUNITY,
        fp16=False,
        tier="high",
        tier_reason=GEMMA2_TIER,
        approved_reason="The catalog did not record the licence; Preflight understands the Gemma Terms of "
        "Use "
        "apply (commercial use allowed, with a prohibited-use policy). Verify before production.",
    ),
    "google/gemma-2-2b-it": Curation(
        ("Gemma-2-2B", "Gemma 2 2B", "gemma2:2b"),
        SMALL,
        "2B model: simple chat, extraction and short summaries.",
        ("general",),
        "Gemma 2 is English-centred.",
        int4=INT4_COMMUNITY,
        fp16=False,
        tier="standard",
        tier_reason=SMALL_TIER,
        approved_reason="The catalog did not record the licence; Preflight understands the Gemma Terms of "
        "Use "
        "apply (commercial use allowed, with a prohibited-use policy). Verify before production.",
    ),
    "google/gemma-2-27b-it": Curation(
        ("Gemma-2-27B", "Gemma 2 27B", "gemma2:27b"),
        (*GENERAL, "code_generation"),
        "General instruction model; 8k context limits long-document work.",
        ("general", "code"),
        "Gemma 2 is English-centred; the 27B reports code results.",
        int4=INT4_COMMUNITY,
        fp16=False,
        tier="high",
        tier_reason=GEMMA2_TIER,
        approved_reason="The catalog did not record the licence; Preflight understands the Gemma Terms of "
        "Use "
        "apply (commercial use allowed, with a prohibited-use policy). Verify before production.",
    ),
    "google/gemma-3-4b-it": Curation(
        ("Gemma-3-4B", "Gemma 3 4B", "gemma3:4b"),
        (*SMALL, "translation"),
        "Small multimodal model; Gemma 3 supports 140+ languages and 128k context.",
        ("general", "multilingual", "vision", "long_context"),
        "Card: 140+ languages, image input, 128k.",
        int4=INT4_GEMMA3,
        fp16=False,
    ),
    "google/gemma-3-12b-it": Curation(
        ("Gemma-3-12B", "Gemma 3 12B", "gemma3:12b"),
        _general(True, True),
        "Multimodal general model; 140+ languages and 128k context per the card.",
        ("general", "multilingual", "vision", "long_context"),
        "Card: 140+ languages, image input, 128k.",
        int4=INT4_GEMMA3,
        fp16=False,
    ),
    "google/gemma-3-27b-it": Curation(
        ("Gemma-3-27B", "Gemma 3 27B", "gemma3:27b"),
        _general(True, True),
        "Multimodal general model; 140+ languages and 128k context per the card.",
        ("general", "multilingual", "code", "vision", "long_context"),
        "Card: 140+ languages, image input, 128k.",
        int4=INT4_GEMMA3,
        fp16=False,
    ),
    "microsoft/Phi-3-mini-4k-instruct": Curation(
        ("Phi-3-mini", "Phi-3-mini-4k", "Phi 3 mini", "phi3:mini"),
        ("chatbot", "rag_qa", "batch_processing"),
        "3.8B model with a 4k context: short chat, short-context QA and extraction only.",
        ("general", "reasoning"),
        "Microsoft positions Phi-3 for reasoning at small size; English-centred.",
        int4="Microsoft publishes official int4 ONNX builds; AWQ is common.",
        tier="standard",
        tier_reason=SMALL_TIER,
        approved_reason="The catalog did not record the licence; Preflight understands it is MIT. Verify "
        "before "
        "production.",
    ),
    "microsoft/Phi-3.5-mini-instruct": Curation(
        ("Phi-3.5-mini", "Phi 3.5 mini", "phi3.5:3.8b"),
        SMALL,
        "3.8B model with a 128k context: chat, long-document summaries and extraction.",
        ("general", "reasoning", "multilingual", "long_context"),
        "Phi-3.5 added multilingual support and 128k context.",
        int4="Microsoft publishes official int4 ONNX builds; AWQ is common.",
        tier="standard",
        tier_reason=SMALL_TIER,
        approved_reason="The catalog did not record the licence; Preflight understands it is MIT. Verify "
        "before "
        "production.",
    ),
    "microsoft/phi-4": Curation(
        ("Phi-4", "Phi 4", "phi4:14b"),
        ("chatbot", "code_generation", "rag_qa", "summarization", "batch_processing"),
        "14B model trained for reasoning, maths and code; 16k context.",
        ("general", "reasoning", "math", "code"),
        "Microsoft positions phi-4 for reasoning and maths; English-centred.",
        int4=INT4_COMMUNITY,
    ),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": Curation(
        ("DeepSeek-R1-Distill-Llama-8B", "R1-Distill-Llama-8B", "deepseek-r1:8b"),
        REASONER,
        R1_TASKS,
        ("reasoning", "math", "code"),
        "Distilled reasoning traces (maths and code).",
        int4=INT4_COMMUNITY,
        tier="high",
        tier_reason="No score in the catalog; DeepSeek reports strong maths results for the distills.",
    ),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": Curation(
        ("DeepSeek-R1-Distill-Qwen-32B", "R1-Distill-Qwen-32B", "deepseek-r1:32b"),
        REASONER,
        R1_TASKS,
        ("reasoning", "math", "code"),
        "Distilled reasoning traces (maths and code).",
        int4=INT4_COMMUNITY,
        tier="very_high",
        tier_reason="No score in the catalog; DeepSeek reports the 32B distill near o1-mini on maths.",
    ),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": Curation(
        ("DeepSeek-R1-Distill-Llama-70B", "R1-Distill-Llama-70B", "deepseek-r1:70b"),
        REASONER,
        R1_TASKS,
        ("reasoning", "math", "code"),
        "Distilled reasoning traces (maths and code).",
        int4=INT4_COMMUNITY,
        tier="very_high",
        tier_reason="No score in the catalog; the largest R1 distill.",
    ),
    "deepseek-ai/DeepSeek-V3": Curation(
        ("DeepSeek-V3", "DeepSeek V3", "deepseek-v3:671b"),
        _general(True, True),
        "Frontier-class MoE general model; README reports code, maths and Chinese results.",
        ("general", "multilingual", "code", "math", "reasoning"),
        "README: English/Chinese, code and maths.",
        fp16=False,
        extra={"fp8": "The official checkpoint is FP8 (block-scaled e4m3); bf16 needs a conversion."},
        approved_reason="The DeepSeek Model License allows commercial use with use-based restrictions.",
    ),
    "openai/gpt-oss-20b": Curation(
        ("gpt-oss-20b", "gpt-oss 20b", "gpt-oss:20b"),
        _general(False, True),
        GPT_OSS_TASKS,
        ("general", "reasoning", "code", "math"),
        "OpenAI's card stresses reasoning, tool use and code.",
        fp16=False,
        tier="high",
        tier_reason="No score in the catalog; OpenAI positions it near o3-mini.",
    ),
    "openai/gpt-oss-120b": Curation(
        ("gpt-oss-120b", "gpt-oss 120b", "gpt-oss:120b"),
        _general(False, True),
        GPT_OSS_TASKS,
        ("general", "reasoning", "code", "math"),
        "OpenAI's card stresses reasoning, tool use and code.",
        fp16=False,
        tier="very_high",
        tier_reason="No score in the catalog; OpenAI positions it near o4-mini.",
    ),
}

# Reference models: the names the published measurements use come first.
REFERENCE_ALIASES: dict[str, tuple[str, ...]] = {
    "meta-llama/Llama-2-7b-hf": ("Llama-2-7B", "Llama 2 7B", "LLaMA v2 7B", "llama2-7b", "llama2:7b"),
    "meta-llama/Llama-2-13b-hf": ("Llama-2-13B", "Llama 2 13B", "LLaMA v2 13B", "llama2-13b", "llama2:13b"),
    "meta-llama/Llama-2-70b-hf": ("Llama-2-70B", "Llama 2 70B", "LLaMA v2 70B", "llama2-70b", "llama2:70b"),
    "meta-llama/Meta-Llama-3-8B-Instruct": (
        "Llama-3-8B",
        "Llama 3 8B",
        "Llama-3-8B-Instruct",
        "meta-llama3-8b-instruct",
        "llama3:8b",
        "llama3-8b",
    ),
    "meta-llama/Meta-Llama-3-70B-Instruct": (
        "Llama-3-70B",
        "Llama 3 70B",
        "Llama-3-70B-Instruct",
        "meta-llama3-70b-instruct",
        "llama3:70b",
    ),
    "EleutherAI/gpt-j-6b": ("GPT-J-6B", "GPT-J 6B", "GPTJ 6B", "GPT-J", "gptj-6b"),
    "tiiuae/falcon-180B": ("Falcon-180B", "Falcon 180B", "falcon:180b"),
    "mistralai/Mistral-7B-v0.1": ("Mistral-7B", "Mistral 7B", "Mistral-7B-v0.1"),
    "ibm-granite/granite-3.1-8b-instruct": ("granite-3.1-8b", "Granite 3.1 8B", "granite3.1-dense:8b"),
    "ibm-granite/granite-3.3-8b-instruct": ("granite-3.3-8b", "Granite 3.3 8B", "granite3.3:8b"),
}

MISTRAL_7B_REASON = (
    "The trtllm_dli_csv rows label the model 'Mistral-7B' / 'Mistral 7B' without a version. They were "
    "measured "
    "with TensorRT-LLM 0.9.0 (spring 2024), which predates Mistral-7B-v0.3 (May 2024), and with random "
    "weights, so only the architecture matters: v0.1's (32000 vocab, 4096 sliding window) is the one TRT-LLM "
    "0.9 shipped examples for. The published models[] list pairs the label with v0.3's config, which "
    "Preflight "
    "treats as a later annotation; 'Mistral-7B-v0.3' and 'Mistral-7B-Instruct' resolve to the v0.3 Instruct "
    "model instead."
)

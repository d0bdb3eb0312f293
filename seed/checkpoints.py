"""Loadable checkpoints per catalog model and precision: the repo vLLM is pointed at, and where it is from.

A precision is offered for a model only when vLLM can actually load it:

- the released dtype (bf16/fp16) from the model's own repo;
- ``fp8`` from a published FP8 checkpoint when one is recorded here, else vLLM's online FP8 quantisation of
  the bf16 repo (``--quantization fp8``, dynamic per-tensor scales), which needs FP8 tensor cores (the
  candidate query only pairs fp8 with GPUs that have them);
- ``int4`` only from a published AWQ/GPTQ checkpoint recorded here (vLLM cannot quantise to int4 online);
- ``mxfp4`` only where the model itself ships MXFP4 weights (gpt-oss).

Each entry names the publisher and whether the model's authors published it (``official``); community
checkpoints are listed only from maintainers with a track record (Hugging Face staff's hugging-quants,
Neural Magic / Red Hat AI), and the row says so. The repo id is the provenance: it is where the weights are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Checkpoint:
    precision: str  # the planner precision this repo serves: fp8 | int4 | mxfp4 | bf16
    repo: str  # Hugging Face repo id vLLM loads
    format: str  # fp8 | awq | gptq | mxfp4 | compressed-tensors | bf16
    publisher: str
    official: bool  # published by the model's authors
    note: str = ""

    def row(self) -> dict[str, object]:
        return {
            "precision": self.precision,
            "repo": self.repo,
            "format": self.format,
            "publisher": self.publisher,
            "official": self.official,
            "source": f"https://huggingface.co/{self.repo}",
            "note": self.note,
        }


def _qwen25_awq(size: str, coder: bool = False) -> Checkpoint:
    name = f"Qwen2.5-Coder-{size}-Instruct" if coder else f"Qwen2.5-{size}-Instruct"
    return Checkpoint("int4", f"Qwen/{name}-AWQ", "awq", "Qwen", True, "Qwen's official AWQ 4-bit release")


def _qwen3(size: str, awq: bool) -> tuple[Checkpoint, ...]:
    out = [
        Checkpoint("fp8", f"Qwen/Qwen3-{size}-FP8", "fp8", "Qwen", True, "Qwen's official block-FP8 release")
    ]
    if awq:
        out.append(
            Checkpoint("int4", f"Qwen/Qwen3-{size}-AWQ", "awq", "Qwen", True, "Qwen's official AWQ release")
        )
    return tuple(out)


_HQ = "hugging-quants (maintained by Hugging Face staff)"
_NM = "Neural Magic (now Red Hat AI)"

CHECKPOINTS: dict[str, tuple[Checkpoint, ...]] = {
    "meta-llama/Llama-3.1-8B-Instruct": (
        Checkpoint("fp8", "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", "compressed-tensors", _NM, False),
        Checkpoint("int4", "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "awq", _HQ, False),
    ),
    "meta-llama/Llama-3.1-70B-Instruct": (
        Checkpoint("fp8", "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8", "compressed-tensors", _NM, False),
        Checkpoint("int4", "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "awq", _HQ, False),
    ),
    "meta-llama/Llama-3.1-405B-Instruct": (
        Checkpoint(
            "fp8", "meta-llama/Llama-3.1-405B-Instruct-FP8", "fp8", "Meta", True, "Meta's official FP8"
        ),
        Checkpoint("int4", "hugging-quants/Meta-Llama-3.1-405B-Instruct-AWQ-INT4", "awq", _HQ, False),
    ),
    "Qwen/Qwen2.5-0.5B-Instruct": (_qwen25_awq("0.5B"),),
    "Qwen/Qwen2.5-1.5B-Instruct": (_qwen25_awq("1.5B"),),
    "Qwen/Qwen2.5-3B-Instruct": (_qwen25_awq("3B"),),
    "Qwen/Qwen2.5-7B-Instruct": (_qwen25_awq("7B"),),
    "Qwen/Qwen2.5-14B-Instruct": (_qwen25_awq("14B"),),
    "Qwen/Qwen2.5-32B-Instruct": (_qwen25_awq("32B"),),
    "Qwen/Qwen2.5-72B-Instruct": (_qwen25_awq("72B"),),
    "Qwen/Qwen2.5-Coder-7B-Instruct": (_qwen25_awq("7B", coder=True),),
    "Qwen/Qwen2.5-Coder-32B-Instruct": (_qwen25_awq("32B", coder=True),),
    "Qwen/Qwen3-8B": _qwen3("8B", awq=True),
    "Qwen/Qwen3-14B": _qwen3("14B", awq=True),
    "Qwen/Qwen3-32B": _qwen3("32B", awq=True),
    "Qwen/Qwen3-30B-A3B": _qwen3("30B-A3B", awq=False),
    "Qwen/Qwen3-235B-A22B": _qwen3("235B-A22B", awq=False),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": (
        Checkpoint("fp8", "neuralmagic/Mixtral-8x7B-Instruct-v0.1-FP8", "fp8", _NM, False),
    ),
    "deepseek-ai/DeepSeek-V3": (
        Checkpoint(
            "fp8",
            "deepseek-ai/DeepSeek-V3",
            "fp8",
            "DeepSeek",
            True,
            "the release itself is block-FP8 (e4m3, 128x128); no bf16 weights are published",
        ),
    ),
    "openai/gpt-oss-20b": (
        Checkpoint(
            "mxfp4",
            "openai/gpt-oss-20b",
            "mxfp4",
            "OpenAI",
            True,
            "the release itself stores the MoE experts in MXFP4 (attention, router and embeddings bf16)",
        ),
    ),
    "openai/gpt-oss-120b": (
        Checkpoint(
            "mxfp4",
            "openai/gpt-oss-120b",
            "mxfp4",
            "OpenAI",
            True,
            "the release itself stores the MoE experts in MXFP4; fits one 80 GB GPU",
        ),
    ),
}

# Models whose only published weights are the quantised release: no 16-bit precision is offered.
NATIVE_ONLY: frozenset[str] = frozenset(
    {"deepseek-ai/DeepSeek-V3", "openai/gpt-oss-20b", "openai/gpt-oss-120b"}
)


def checkpoints_for(hf_id: str) -> list[dict[str, object]]:
    return [c.row() for c in CHECKPOINTS.get(hf_id, ())]


def has_checkpoint(hf_id: str, precision: str) -> bool:
    return any(c.precision == precision for c in CHECKPOINTS.get(hf_id, ()))

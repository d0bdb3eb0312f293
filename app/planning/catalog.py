"""Where the planner finds model architectures and GPU specs.

``CatalogSource`` is the interface; ``JsonCatalog`` reads the curated JSON files (``seed/data`` when they are
there, else the shared catalog). A database-backed implementation only has to provide the same two methods.
Reading files happens here, never in the pure maths modules.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from app.perf.errors import UnknownGpuError, UnknownModelError
from app.perf.types import GpuSpec, Interconnect, ModelArch, sliding_layers_from_pattern

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = REPO_ROOT / "seed" / "data"
SHARED_DIR = REPO_ROOT.parent / "shared" / "data"

_ARCH_FIELDS = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "num_shared_experts",
    "first_k_dense_replace",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "qk_nope_head_dim",
    "v_head_dim",
    "sliding_window",
)
_UNGATED = {"gptj", "falcon", "gpt2", "gpt_neox", "phi", "opt", "bloom"}


class CatalogSource(Protocol):
    def get_model(self, alias: str) -> ModelArch: ...

    def get_gpu(self, alias: str) -> GpuSpec: ...


def normalize_alias(text: str) -> str:
    """Lower-case, drop vendor words, and join tokens with '-' so that spellings compare equal."""
    t = text.strip().lower().replace("_", "-").replace(" ", "-")
    t = re.sub(r"^(nvidia|amd|tesla)-", "", t)
    t = re.sub(r"-(nvidia|amd)-", "-", t)
    return re.sub(r"-+", "-", t).strip("-")


def model_aliases(hf_id: str) -> list[str]:
    """Aliases of a model id: full id, repo name, and the repo name without instruct/chat/hf suffixes."""
    name = hf_id.split("/")[-1]
    out = [hf_id, name]
    short = re.sub(r"-(instruct|it|chat|hf)(?=-|$)", "", name, flags=re.I)
    short = re.sub(r"-\d{4}$", "", short)
    for variant in (short, re.sub(r"-v\d+(\.\d+)?$", "", short, flags=re.I)):
        out.append(variant)
        out.append(re.sub(r"^meta-", "", variant, flags=re.I))
    return [normalize_alias(a) for a in out]


def arch_from_catalog_record(rec: dict[str, Any]) -> ModelArch:
    """Map a catalog models.json record (HF config fields) into a ModelArch."""
    values = {k: rec.get(k) for k in _ARCH_FIELDS}
    model_type = rec.get("model_type")
    if model_type is None and rec.get("family", "").startswith("gemma-3"):
        model_type = "gemma3"
    layers = int(rec["num_hidden_layers"])
    window = rec.get("sliding_window")
    max_pos = rec.get("max_position_embeddings")
    if window and max_pos and window >= max_pos:
        window = None  # a window as long as the context is no window (Phi-3.5)
    values["sliding_window"] = window
    sliding_layers = sliding_layers_from_pattern(rec.get("sliding_window_pattern"), layers, model_type)
    if model_type == "llama4" and values.get("num_shared_experts") is None:
        values["num_shared_experts"] = 1
    tie = rec.get("tie_word_embeddings")
    if tie is None and str(model_type or rec.get("family", "")).startswith("gemma"):
        tie = True  # every Gemma checkpoint ties the output projection to the embedding
    vocab = rec.get("vocab_size") or (262208 if model_type == "gemma3" else None)
    return ModelArch(
        id=rec["hf_id"],
        **{**values, "model_type": model_type, "vocab_size": vocab},
        tie_word_embeddings=bool(tie),
        gated_mlp=(model_type or "") not in _UNGATED,
        sliding_window_layers=sliding_layers if window else None,
        stated_params=rec.get("hf_safetensors_params"),
    )


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = re.match(r"\s*~?\s*([\d.]+)", str(value))
    return float(match.group(1)) if match else None


def _family(architecture: str | None, name: str) -> str:
    text = f"{architecture or ''} {name}".lower()
    for key, fam in (
        ("hopper", "hopper"),
        ("ampere", "ampere"),
        ("ada", "ada"),
        ("blackwell", "blackwell"),
        ("turing", "turing"),
        ("cdna", "cdna3"),
        ("mi300", "cdna3"),
        ("h100", "hopper"),
        ("h200", "hopper"),
        ("gh200", "hopper"),
        ("a100", "ampere"),
        ("a10g", "ampere"),
        ("l40", "ada"),
        ("l4", "ada"),
        ("b200", "blackwell"),
        ("t4", "turing"),
    ):
        if key in text:
            return fam
    return "unknown"


def _interconnect(rec: dict[str, Any], vendor: str) -> tuple[Interconnect, float]:
    ic = rec.get("interconnect") or {}
    gb = ic.get("nvlink_gb_s_bidirectional")
    if ic.get("nvlink_generation") and gb:
        return "nvlink", float(gb) / 2.0
    if vendor == "AMD":
        return "xgmi", 300.0
    host = str(ic.get("host_link") or "").lower()
    if "gen5" in host:
        return "pcie", 50.0
    if "3.0" in host or "gen3" in host:
        return "pcie", 12.0
    return "pcie", 25.0


def gpu_specs_from_files(published: dict[str, Any], reference: dict[str, Any]) -> list[GpuSpec]:
    """Merge the published gpus[] entries with the reference supplements and new records."""
    supplements = {r["published_entry"]: r for r in reference["gpus"] if r.get("record_type") == "supplement"}
    specs: list[GpuSpec] = []
    for entry in published.get("gpus", []):
        name = entry["gpu"]
        if "/" in name:
            continue
        sup = supplements.get(name, {})
        merged = {**entry, **{k: v for k, v in sup.items() if v is not None}}
        specs.append(_spec(sup.get("gpu", name), merged, [name, *sup.get("aliases", [])]))
    for rec in reference["gpus"]:
        if rec.get("record_type") == "new":
            label = str(rec.get("published_entry") or "").split(" ")[0]
            specs.append(_spec(rec["gpu"], rec, [label, *rec.get("aliases", [])]))
    return specs


def _spec(gpu_id: str, rec: dict[str, Any], aliases: Iterable[str]) -> GpuSpec:
    vendor = rec.get("vendor") or ("AMD" if "MI" in gpu_id else "NVIDIA")
    kind, link = _interconnect(rec, vendor)
    bf16 = _num(rec.get("bf16_tflops_dense"))
    fp16 = _num(rec.get("fp16_tflops_dense")) or _num(rec.get("fp16_tensor_tflops"))
    if bf16 is None and rec.get("bf16_tflops_sparse") and gpu_id.startswith(("H100-NVL", "H200", "L4")):
        bf16 = float(rec["bf16_tflops_sparse"]) / 2
    fp8 = _num(rec.get("fp8_tflops_dense"))
    if fp8 is None and rec.get("fp8_tflops_sparse") and gpu_id.startswith(("H100-NVL", "H200", "L4")):
        fp8 = float(rec["fp8_tflops_sparse"]) / 2
    clean_aliases = tuple(a.split(" (")[0] for a in aliases if a)
    return GpuSpec(
        id=gpu_id,
        aliases=clean_aliases,
        vendor=vendor,
        family=_family(rec.get("architecture"), gpu_id),
        memory_gb=float(_num(rec.get("memory_gb")) or 0.0),
        mem_bw_tb_s=float(_num(rec.get("mem_bw_tb_s")) or 0.0),
        bf16_tflops=bf16 if bf16 is not None else fp16 if vendor != "NVIDIA" or "T4" not in gpu_id else None,
        fp16_tflops=fp16 if fp16 is not None else bf16,
        fp8_tflops=fp8,
        int8_tops=_num(rec.get("int8_tops_dense")) or _num(rec.get("int8_tops")),
        interconnect=kind,
        interconnect_gb_s=link,
        tdp_w=_num(rec.get("tdp_w")),
    )


def gpu_spec_from_row(row: dict[str, Any]) -> GpuSpec:
    """Map a seed/DB GPU row (``seed/schemas.GpuRow`` layout, ``gpus`` table) into a GpuSpec.

    The row's ``interconnect_gb_s`` is bidirectional per GPU; the model wants one direction.
    """
    gpu_id = str(row["id"])
    vendor = str(row.get("vendor") or "NVIDIA")
    kind = str(row.get("interconnect") or "pcie")
    interconnect: Interconnect = "nvlink" if kind.startswith("nvlink") else kind  # type: ignore[assignment]
    if interconnect not in ("nvlink", "pcie", "xgmi", "none"):
        interconnect = "pcie"
    bidir = row.get("interconnect_gb_s")
    link = float(bidir) / 2.0 if bidir else (25.0 if interconnect == "pcie" else 300.0)
    bf16 = row.get("bf16_tflops")
    fp16 = row.get("fp16_tflops")
    return GpuSpec(
        id=gpu_id,
        aliases=tuple(str(a) for a in row.get("aliases") or ()),
        vendor=vendor,
        family=_family(row.get("architecture"), gpu_id),
        memory_gb=float(row["memory_gb"]),
        mem_bw_tb_s=float(row["mem_bw_tb_s"]),
        bf16_tflops=float(bf16) if bf16 else (float(fp16) if fp16 else None),
        fp16_tflops=float(fp16) if fp16 else (float(bf16) if bf16 else None),
        fp8_tflops=float(row["fp8_tflops"]) if row.get("fp8_tflops") else None,
        int8_tops=float(row["int8_tops"]) if row.get("int8_tops") else None,
        interconnect=interconnect,
        interconnect_gb_s=link,
        tdp_w=float(row["tdp_w"]) if row.get("tdp_w") else None,
    )


def _gpu_alias_keys(spec: GpuSpec) -> list[str]:
    """Every spelling that should find this GPU, most specific first."""
    keys = [normalize_alias(spec.id), *(normalize_alias(a) for a in spec.aliases)]
    out: list[str] = []
    for key in keys:
        out.append(key)
        no_mem = re.sub(r"-\d+gb$", "", key)
        out.append(no_mem)
        out.append(re.sub(r"-(sxm\d?|pcie)(?=-|$)", "", key))
        out.append(re.sub(r"-(sxm\d?|pcie)(?=-|$)", "", no_mem))
    return out


class JsonCatalog:
    """Catalog over the curated JSON files. Models resolve by HF id or alias; GPUs by any spelling."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self._models: dict[str, ModelArch] = {}
        self._gpus: dict[str, GpuSpec] = {}
        base = data_dir or self._pick_dir()
        self.data_dir = base
        catalog_dir = base / "catalog" if (base / "catalog").is_dir() else base
        shared = data_dir if data_dir is not None else SHARED_DIR
        published_file = shared / "published" / "serving_measurements.json"
        for name in ("models.json", "reference_models.json"):
            path = catalog_dir / name
            if path.exists():
                doc = json.loads(path.read_text())
                for rec in doc.get("models") or doc.get("rows") or []:
                    try:
                        arch = arch_from_catalog_record(rec)
                    except (ValueError, KeyError, TypeError) as e:
                        log.warning("skipping catalog model %s: %s", rec.get("hf_id"), e)
                        continue
                    for alias in model_aliases(arch.id):
                        self._models.setdefault(alias, arch)
        seed_gpus = base / "gpus.json"
        if seed_gpus.exists():
            # The curated seed rows (the same the database is loaded from) win over the shared files.
            specs = [gpu_spec_from_row(r) for r in json.loads(seed_gpus.read_text()).get("rows", [])]
        else:
            ref_path = shared / "catalog" / "reference_gpus.json"
            published = json.loads(published_file.read_text()) if published_file.exists() else {"gpus": []}
            reference = json.loads(ref_path.read_text()) if ref_path.exists() else {"gpus": []}
            specs = gpu_specs_from_files(published, reference)
        specs = sorted(specs, key=lambda s: ("SXM" not in s.id, s.id))
        for spec in specs:
            for key in _gpu_alias_keys(spec):
                self._gpus.setdefault(key, spec)

    @staticmethod
    def _pick_dir() -> Path:
        if (SEED_DIR / "catalog" / "models.json").exists() or (SEED_DIR / "models.json").exists():
            return SEED_DIR
        return SHARED_DIR

    def models(self) -> list[ModelArch]:
        return list({m.id: m for m in self._models.values()}.values())

    def gpus(self) -> list[GpuSpec]:
        return list({g.id: g for g in self._gpus.values()}.values())

    def get_model(self, alias: str) -> ModelArch:
        path = Path(alias)
        if alias.endswith(".json") or path.is_file():
            return load_config_file(path)
        found = self._models.get(normalize_alias(alias))
        if found is None:
            known = sorted({normalize_alias(m.id.split("/")[-1]) for m in self._models.values()})[:12]
            raise UnknownModelError(
                f"unknown model {alias!r}; use a catalog id, an alias such as {', '.join(known[:6])}, "
                "or a path to a config.json"
            )
        return found

    def get_gpu(self, alias: str) -> GpuSpec:
        key = normalize_alias(alias)
        found = self._gpus.get(key) or self._gpus.get(re.sub(r"-\d+gb$", "", key))
        if found is None:
            known = sorted({g.id for g in self._gpus.values()})
            raise UnknownGpuError(f"unknown GPU {alias!r}; known GPUs: {', '.join(known)}")
        return found


def load_config_file(path: Path) -> ModelArch:
    """Read a Hugging Face style config.json into a ModelArch."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise UnknownModelError(f"config file {path} does not exist") from e
    except (OSError, json.JSONDecodeError) as e:
        raise UnknownModelError(f"cannot read {path} as JSON: {e}") from e
    if not isinstance(data, dict):
        raise UnknownModelError(f"{path} does not hold a JSON object")
    return ModelArch.from_hf_config(data, model_id=str(data.get("_name_or_path") or path.parent.name or path))


_DEFAULT: JsonCatalog | None = None


def default_catalog() -> JsonCatalog:
    """Process-wide JSON catalog (built once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = JsonCatalog()
    return _DEFAULT

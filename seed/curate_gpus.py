"""Build GpuRow dicts by joining the published gpus[] entries with catalog/reference_gpus.json.

Reference records of type ``supplement`` add or correct fields of a published entry (joined on
``published_entry``); type ``new`` records stand alone. For each field the reference value wins when it is
present (it is the dense, corrected figure); the published value is kept as corroboration when it agrees and
noted when it does not. ``source.fields`` names the source ids behind every value.
"""

from __future__ import annotations

import re
from typing import Any

from seed.aliases import alias_key, build_index, unique_aliases
from seed.gpu_curation import GFD_RULE, GPUS, GpuCuration

# GpuRow field -> (reference record key, published entry keys)
FIELD_MAP: dict[str, tuple[str, tuple[str, ...]]] = {
    "memory_gb": ("memory_gb", ("memory_gb",)),
    "memory_type": ("memory_type", ("memory_type",)),
    "mem_bw_tb_s": ("mem_bw_tb_s", ("mem_bw_tb_s",)),
    "bf16_tflops": ("bf16_tflops_dense", ("bf16_tflops_dense",)),
    "fp16_tflops": ("fp16_tflops_dense", ("fp16_tflops_dense", "fp16_tensor_tflops")),
    "fp8_tflops": ("fp8_tflops_dense", ("fp8_tflops_dense", "fp8_tflops")),
    "int8_tops": ("int8_tops_dense", ("int8_tops",)),
    "tdp_w": ("tdp_w", ("tdp_w",)),
}
_PLAIN_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(?:\s+\(|$)")
# A published value that is free text and no figure can be read from it unambiguously.
H100_PCIE_TDP = (
    350.0,
    "The published tdp_w is the text '300-350 (product brief: 350 W max TDP)'; Preflight uses the product "
    "brief's 350 W maximum, which the price file's TDP table (dlc-hwspec) also lists.",
)


def _number(value: Any) -> float | None:
    """A number, or the leading figure of a text like '65 (FP16 mixed precision, as listed)'.

    Approximate ('~1300') and range ('300-350') texts give None: they are not a single sourced figure.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _PLAIN_NUMBER.match(str(value).strip())
    return float(match.group(1)) if match else None


def _split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def _clean_alias(alias: str) -> str | None:
    name = re.sub(r"\s*\(.*\)\s*$", "", alias).strip()
    if not name or "," in name or "/" in name or len(name) > 40:
        return None
    return name


def _notes(*parts: Any) -> list[str]:
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        out.extend(part if isinstance(part, list) else [str(part)])
    return out


def _judgement(value: Any, reason: str) -> dict[str, Any]:
    return {"value": value, "reason": reason, "by": "preflight"}


def build_gpu_row(cur: GpuCuration, pub: dict[str, Any] | None, ref: dict[str, Any] | None) -> dict[str, Any]:
    pub = pub or {}
    ref = ref or {}
    pub_ids = _split_ids(pub.get("source"))
    ref_field_sources: dict[str, list[str]] = ref.get("field_sources", {})
    row: dict[str, Any] = {"id": cur.id}
    fields: dict[str, list[str]] = {}
    conflicts: list[str] = []
    judgements: dict[str, dict[str, Any]] = {}

    for field, (ref_key, pub_keys) in FIELD_MAP.items():
        numeric = field not in ("memory_type",)
        ref_raw = ref.get(ref_key)
        pub_raw = next((pub[k] for k in pub_keys if pub.get(k) is not None), None)
        ref_val = _number(ref_raw) if numeric else ref_raw
        pub_val = _number(pub_raw) if numeric else pub_raw
        if ref_val is not None:
            row[field] = ref_val
            fields[field] = list(ref_field_sources.get(ref_key, [])) or [f"reference_gpus:{cur.reference}"]
            if pub_val is not None and pub_val == ref_val:
                fields[field] += [i for i in pub_ids if i not in fields[field]]
            elif pub_raw is not None:
                conflicts.append(
                    f"{field}: the reference record's {ref_raw!r} is used; the published entry says "
                    f"{pub_raw!r} ({', '.join(pub_ids)})."
                )
        elif pub_val is not None:
            row[field] = pub_val
            fields[field] = list(pub_ids)
        else:
            row[field] = None
            if pub_raw is not None:
                conflicts.append(f"{field}: published text {pub_raw!r} has no single figure.")
    if cur.id == "H100-PCIe-80GB" and row["tdp_w"] is None:
        row["tdp_w"] = H100_PCIE_TDP[0]
        fields["tdp_w"] = ["spec_h100pcie_brief", "dlc-hwspec"]
        judgements["tdp_w"] = _judgement(H100_PCIE_TDP[0], H100_PCIE_TDP[1])

    architecture = ref.get("architecture")
    row["vendor"] = ref.get("vendor") or ("AMD" if cur.id.startswith("MI") else "NVIDIA")
    row["architecture"] = re.sub(r"\s*\(.*\)$", "", architecture) if architecture else None
    cleaned = [a for a in (_clean_alias(x) for x in ref.get("aliases", [])) if a]
    names = [*cur.aliases, *([cur.published] if cur.published else []), *cleaned]
    if cur.k8s_label:
        names.append(cur.k8s_label)
    row["aliases"] = unique_aliases(names, exclude=[cur.id])
    row["k8s_product_label"] = cur.k8s_label
    if cur.k8s_label:
        judgements["k8s_product_label"] = _judgement(
            cur.k8s_label, f"{GFD_RULE}; confidence {cur.k8s_confidence}."
        )
    else:
        judgements["k8s_product_label"] = _judgement(
            None,
            "Not an NVIDIA GPU: GPU feature discovery does not label it. AMD's node labeller publishes "
            "amd.com/gpu.* "
            "labels (e.g. amd.com/gpu.product-name) instead; the schema has no field for them.",
        )
    row["interconnect"] = cur.interconnect
    row["interconnect_gb_s"] = cur.interconnect_gb_s
    judgements["interconnect"] = _judgement(
        {"kind": cur.interconnect, "gb_s": cur.interconnect_gb_s}, cur.interconnect_reason
    )
    if "interconnect" in ref_field_sources:
        fields["interconnect"] = list(ref_field_sources["interconnect"])
    row["form_factor"] = ref.get("form_factor")
    if row["form_factor"] is not None:
        fields["form_factor"] = list(ref_field_sources.get("form_factor", []))
    for key, (value, reason) in cur.extra_judgements.items():
        judgements[key] = _judgement(value, reason)

    source: dict[str, Any] = {
        "fields": fields,
        "published_entry": cur.published,
        "reference_record": cur.reference,
    }
    for key in ("dense_derivation", "sparse_figures_as_listed", "interconnect", "corrects"):
        if ref.get(key) is not None:
            source["interconnect_detail" if key == "interconnect" else key] = ref[key]
    published_sparse = {k: v for k, v in pub.items() if k.endswith("_sparse") and v is not None}
    if published_sparse:
        source["published_sparse_figures"] = published_sparse
    row["source"] = source
    row["judgements"] = judgements
    row["notes"] = _notes(pub.get("notes"), ref.get("notes"), conflicts)
    return row


def apply_tdp_table(rows: list[dict[str, Any]], tdp_watts: list[dict[str, Any]]) -> list[str]:
    """Use the price file's TDP table as corroboration, or to fill a missing tdp_w.

    Returns the labels that match no GPU."""
    index = build_index((r["id"], r["aliases"]) for r in rows)
    by_id = {r["id"]: r for r in rows}
    unmatched: list[str] = []
    for entry in tdp_watts:
        ids = index.get(alias_key(entry["gpu"]), set())
        if len(ids) != 1:
            unmatched.append(f"{entry['gpu']} ({entry['watts']} W, {entry['source']})")
            continue
        row = by_id[next(iter(ids))]
        fields = row["source"]["fields"]
        label = f"{entry['source']} (price file tdp_watts, label {entry['gpu']!r})"
        if row["tdp_w"] is None:
            row["tdp_w"] = float(entry["watts"])
            fields["tdp_w"] = [entry["source"]]
            row["notes"].append(f"tdp_w filled from {label}. {entry.get('notes') or ''}".strip())
        elif float(entry["watts"]) == row["tdp_w"]:
            if entry["source"] not in fields.get("tdp_w", []):
                fields.setdefault("tdp_w", []).append(entry["source"])
        else:
            row["notes"].append(f"tdp_w: {label} says {entry['watts']} W; {row['tdp_w']} W is kept.")
    return unmatched


def build_gpu_rows(
    published: dict[str, Any], reference: dict[str, Any], prices: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    pub_by_label = {g["gpu"]: g for g in published["gpus"]}
    ref_by_name = {g["gpu"]: g for g in reference["gpus"]}
    rows: list[dict[str, Any]] = []
    for cur in GPUS:
        pub = pub_by_label.get(cur.published) if cur.published else None
        ref = ref_by_name.get(cur.reference) if cur.reference else None
        if cur.published and pub is None:
            raise KeyError(f"{cur.id}: published gpus[] has no entry {cur.published!r}")
        if cur.reference and ref is None:
            raise KeyError(f"{cur.id}: reference_gpus.json has no record {cur.reference!r}")
        if (
            ref is not None
            and ref.get("record_type") == "supplement"
            and ref.get("published_entry") != cur.published
        ):
            raise ValueError(
                f"{cur.id}: supplement joins {ref.get('published_entry')!r}, expected {cur.published!r}"
            )
        rows.append(build_gpu_row(cur, pub, ref))
    used = {c.reference for c in GPUS}
    missing = [name for name in ref_by_name if name not in used]
    if missing:
        raise KeyError(f"reference_gpus.json records not curated in seed/gpu_curation.py: {missing}")
    unmatched = apply_tdp_table(rows, prices.get("tdp_watts", []))
    return rows, unmatched

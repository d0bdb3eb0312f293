"""Build PriceRow and BenchmarkRow dicts from the price file and the published measurements.

Both are copied as they are: no number changes. Prices gain ``source_url`` and ``excludes_host``;
measurements gain ``collected`` from their source's date.
"""

from __future__ import annotations

from typing import Any

PRICE_FIELDS = (
    "gpu",
    "kind",
    "provider",
    "region",
    "instance_type",
    "gpus_per_instance",
    "usd_per_instance_hour",
    "usd_per_gpu_hour",
    "usd_per_gpu_hour_derived",
    "usd_purchase",
    "usd_purchase_high",
    "date",
    "source",
    "notes",
)

# The measurement sources' dates are free text (see published/README.md and sources[].date); this is the
# most precise date each text supports.
MEASUREMENT_COLLECTED: dict[str, tuple[str, str]] = {
    "trtllm_dli_csv": ("2024-04", "TensorRT-LLM 0.9.0 (~spring 2024); 0.9.0 was released in April 2024"),
    "nim_dli_csv": ("2024", "an 'older version of NVIDIA NIM' (~2024, Llama-3 era)"),
    "trtllm_perf_v1": ("2025", "~mid 2025 (mentions 'NEW for v1.0')"),
    "trtllm_perf_devguide": ("2025", "~late 2025 (TensorRT-LLM 1.1/1.2 docs)"),
    "dstack_405b": ("2024-11", "runs 2024-11"),
}


def excludes_host(row: dict[str, Any]) -> bool:
    """GCP accelerator rows from the SkyPilot catalog price the GPU only (PRICES.md); their notes say so."""
    notes = (row.get("notes") or "").lower()
    return "host vm" in notes and "not included" in notes


def build_price_rows(prices: dict[str, Any]) -> list[dict[str, Any]]:
    urls = {s["id"]: s.get("where") for s in prices["sources"]}
    rows: list[dict[str, Any]] = []
    for raw in prices["prices"]:
        unknown = set(raw) - set(PRICE_FIELDS)
        if unknown:
            raise ValueError(f"price row has fields the builder does not map: {sorted(unknown)}")
        if raw["source"] not in urls:
            raise KeyError(f"price source {raw['source']!r} is not in the price file's sources")
        row = {key: raw.get(key) for key in PRICE_FIELDS}
        url = urls[raw["source"]]
        row["source_url"] = url if url and url.startswith("http") else None
        row["excludes_host"] = excludes_host(raw)
        rows.append(row)
    return rows


def build_benchmark_rows(published: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for raw in published["measurements"]:
        row = dict(raw)
        if raw["source"] not in MEASUREMENT_COLLECTED:
            raise KeyError(f"measurement source {raw['source']!r} has no collected date in the builder")
        row["collected"] = raw.get("collected") or MEASUREMENT_COLLECTED[raw["source"]][0]
        rows.append(row)
    return rows

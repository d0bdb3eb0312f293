"""Preflight's calls about each GPU: canonical id, aliases, Kubernetes product label and interconnect.

The datasheet figures come from the sources (see curate_gpus); this table only joins the records and adds
what the sources do not say. Every entry's reasons end up as ``Judgement`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GFD_RULE = (
    "NVIDIA GPU feature discovery publishes nvidia.com/gpu.product as the driver's product name (nvidia-smi "
    "--query-gpu=name) with spaces replaced by '-' (plus '-SHARED' under time-slicing or a MIG suffix). "
    "Not read from a source in shared/data: Preflight's knowledge of the product name"
)


@dataclass(frozen=True)
class GpuCuration:
    id: str
    published: str | None  # label in serving_measurements.json gpus[]
    reference: str | None  # `gpu` of the record in reference_gpus.json
    aliases: tuple[str, ...]
    k8s_label: str | None
    k8s_confidence: str  # "high" / "medium" / "low" / "n/a"
    interconnect: str
    interconnect_gb_s: float | None
    interconnect_reason: str
    extra_judgements: dict[str, tuple[object, str]] = field(default_factory=dict)


H100_AMBIGUITY = (
    "Plain 'H100' (also 'H100-80GB' and 'NVIDIA-H100-80GB') does not say SXM, PCIe or NVL. Preflight "
    "resolves it "
    "to H100-SXM-80GB because SXM5 is the variant in the 8-GPU cloud instances (AWS p5, GCP a3, Azure ND "
    "H100 "
    "v5) and in every H100 measurement in the published data; PCIe and NVL have their own aliases. Prices "
    "labelled plain 'H100' (variant not stated by the source) are therefore read as SXM, an assumption."
)

GPUS: tuple[GpuCuration, ...] = (
    GpuCuration(
        "H100-SXM-80GB",
        "H100-SXM-80GB",
        "H100-SXM-80GB",
        (
            "H100",
            "H100-SXM",
            "H100 SXM",
            "H100-SXM5",
            "H100 SXM5 80GB",
            "H100-80GB",
            "NVIDIA-H100-80GB",
            "NVIDIA H100 80GB HBM3",
            "NVIDIA-H100-80GB-HBM3",
            "NVIDIA-H100-SXM5-80GB",
        ),
        "NVIDIA-H100-80GB-HBM3",
        "high",
        "nvlink",
        900,
        "NVLink 4 via NVSwitch, 900 GB/s per GPU (sourced).",
        {"alias_H100": ("H100-SXM-80GB", H100_AMBIGUITY)},
    ),
    GpuCuration(
        "H100-PCIe-80GB",
        "H100-PCIe-80GB",
        "H100-PCIe-80GB",
        ("H100-PCIe", "H100 PCIe", "H100 PCIe 80GB", "NVIDIA H100 PCIe", "NVIDIA-H100-PCIe"),
        "NVIDIA-H100-PCIe",
        "medium",
        "pcie",
        128,
        "PCIe Gen5 x16, 128 GB/s bidirectional. The datasheet's 600 GB/s NVLink applies only to bridged card "
        "pairs, which cloud H100 PCIe instances rarely have, so tensor parallelism is modelled over PCIe.",
    ),
    GpuCuration(
        "H100-NVL-94GB",
        "H100-NVL-94GB",
        "H100-NVL-94GB",
        ("H100-NVL", "H100 NVL", "NVIDIA H100 NVL", "NVIDIA-H100-NVL"),
        "NVIDIA-H100-NVL",
        "medium",
        "nvlink",
        600,
        "NVLink bridge 600 GB/s (sourced) joins cards in pairs; TP 4/8 also crosses PCIe Gen5 (128 GB/s), "
        "which "
        "the performance model's calibration has to absorb.",
    ),
    GpuCuration(
        "H200-SXM-141GB",
        "H200-SXM-141GB",
        "H200-SXM-141GB",
        ("H200", "H200-SXM", "H200 SXM", "H200-141GB", "NVIDIA H200", "NVIDIA-H200"),
        "NVIDIA-H200",
        "medium",
        "nvlink",
        900,
        "NVLink 4 via NVSwitch, 900 GB/s (sourced).",
    ),
    GpuCuration(
        "A100-SXM-80GB",
        "A100-SXM-80GB",
        "A100-SXM-80GB",
        (
            "A100-80GB",
            "A100 80GB",
            "A100",
            "A100-SXM",
            "A100-SXM4-80GB",
            "A100 SXM4 80GB",
            "NVIDIA A100-SXM4-80GB",
            "NVIDIA-A100-SXM4-80GB",
            "NVIDIA A100 80GB",
        ),
        "NVIDIA-A100-SXM4-80GB",
        "high",
        "nvlink",
        600,
        "NVLink 3 via NVSwitch, 600 GB/s (sourced).",
        {
            "alias_A100-80GB": (
                "A100-SXM-80GB",
                "The price file's 'A100-80GB' mixes SXM4 rows (AWS p4de, Azure ND A100 v4, Lambda) with PCIe "
                "rows "
                "(Azure NC A100 v4, RunPod/Vast 'PCIe'); the catalog has no A100 PCIe profile, so all "
                "resolve to the "
                "SXM4 part. Plain 'A100' and 'A100-SXM' resolve here too, the 80 GB part being the common "
                "one.",
            )
        },
    ),
    GpuCuration(
        "A100-SXM-40GB",
        "A100-SXM-40GB",
        "A100-SXM-40GB",
        (
            "A100-40GB",
            "A100 40GB",
            "A100-SXM4-40GB",
            "A100 SXM4 40GB",
            "NVIDIA A100-SXM4-40GB",
            "NVIDIA-A100-SXM4-40GB",
        ),
        "NVIDIA-A100-SXM4-40GB",
        "high",
        "nvlink",
        600,
        "NVLink 3 via NVSwitch, 600 GB/s (sourced).",
    ),
    GpuCuration(
        "L40S-48GB",
        "L40S",
        "L40S-48GB",
        ("L40S", "NVIDIA L40S", "NVIDIA-L40S"),
        "NVIDIA-L40S",
        "high",
        "pcie",
        64,
        "PCIe Gen4 x16, 64 GB/s bidirectional; no NVLink (sourced).",
    ),
    GpuCuration(
        "L40-48GB",
        None,
        "L40-48GB",
        ("L40", "NVIDIA L40", "NVIDIA-L40"),
        "NVIDIA-L40",
        "high",
        "pcie",
        64,
        "PCIe Gen4 x16, 64 GB/s bidirectional; no NVLink (sourced).",
    ),
    GpuCuration(
        "GH200-96GB",
        None,
        "GH200-96GB",
        (
            "GH200-120GB",
            "GH200",
            "NVIDIA GH200 120GB",
            "NVIDIA GH200 480GB",
            "NVIDIA-GH200-480GB",
            "GH200-96GB-HBM3",
        ),
        "NVIDIA-GH200-480GB",
        "low",
        "nvlink-c2c",
        900,
        "NVLink-C2C to the Grace CPU, 900 GB/s; GPU-to-GPU NVLink 4 is also 900 GB/s where superchips are "
        "NVLink-connected (sourced). Single-superchip systems reach other GPUs over the network.",
        {
            "alias_GH200": (
                "GH200-96GB",
                "Plain 'GH200' and the measurement label 'GH200-120GB' (a driver product name for PCI device "
                "2342, "
                "not an HBM size) resolve to the 96 GB HBM3 part; the 144 GB HBM3e part has its own aliases. "
                "Mapping the measured rows to the 96 GB part is an inference (catalog README).",
            )
        },
    ),
    GpuCuration(
        "GH200-144GB",
        None,
        "GH200-144GB",
        ("GH200 144GB HBM3e", "NVIDIA GH200 144G HBM3e", "NVIDIA-GH200-144G-HBM3e", "GH200-141GB"),
        "NVIDIA-GH200-144G-HBM3e",
        "low",
        "nvlink-c2c",
        900,
        "NVLink-C2C to the Grace CPU, 900 GB/s; GPU-to-GPU NVLink 4 900 GB/s where connected (sourced).",
    ),
    GpuCuration(
        "GB200-186GB",
        None,
        "GB200-186GB",
        ("GB200", "GB200-192GB", "NVIDIA GB200", "NVIDIA-GB200"),
        "NVIDIA-GB200",
        "low",
        "nvlink",
        1800,
        "NVLink 5 through the NVL72 NVLink Switch, 1,800 GB/s per GPU (sourced); the C2C link to Grace is "
        "host traffic.",
    ),
    GpuCuration(
        "B200-180GB",
        "B200",
        "B200-180GB",
        ("B200", "B200-SXM-180GB", "NVIDIA B200", "NVIDIA-B200", "HGX B200", "DGX B200"),
        "NVIDIA-B200",
        "medium",
        "nvlink",
        1800,
        "NVLink 5 via NVSwitch, 1,800 GB/s (sourced).",
    ),
    GpuCuration(
        "MI300X-192GB",
        "MI300X",
        "MI300X-192GB",
        ("MI300X", "AMD Instinct MI300X", "AMD-Instinct-MI300X", "MI300X-NPS1-SPX-192GB-750W"),
        None,
        "n/a",
        "xgmi",
        896,
        "Infinity Fabric (XGMI): 448 GB/s aggregate per direction per GPU (sourced), doubled to 896 GB/s to "
        "match the bidirectional convention of the NVLink figures.",
    ),
    GpuCuration(
        "T4",
        "T4",
        "T4",
        ("Tesla T4", "Tesla-T4", "NVIDIA T4", "NVIDIA-T4", "T4-16GB"),
        "Tesla-T4",
        "high",
        "pcie",
        32,
        "PCIe 3.0 x16 (sourced); 32 GB/s bidirectional is the PCIe 3.0 x16 line rate (about 16 GB/s each "
        "way).",
    ),
    GpuCuration(
        "L4",
        "L4",
        "L4",
        ("NVIDIA L4", "NVIDIA-L4", "L4-24GB"),
        "NVIDIA-L4",
        "high",
        "pcie",
        64,
        "PCIe Gen4 x16, 32 GB/s per direction (sourced), 64 GB/s both ways.",
    ),
    GpuCuration(
        "A10G",
        "A10G",
        "A10G",
        ("NVIDIA A10G", "NVIDIA-A10G", "A10G-24GB"),
        "NVIDIA-A10G",
        "high",
        "pcie",
        None,
        "PCIe between GPUs on multi-GPU G5 instances, no NVLink (sourced); the PCIe generation is not "
        "stated, "
        "so no bandwidth is recorded.",
    ),
)

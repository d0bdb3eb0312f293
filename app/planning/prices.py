"""Which rental prices an operator would trust: price classes, eligibility, host cost and ranges.

Pure functions over ``PriceRow``s. The rules (Preflight's judgements, from ``shared/data/catalog/PRICES.md``):

- **Class.** Hyperscalers (AWS, GCP, Azure, Oracle OCI) list on-demand prices with an SLA. Mainstream GPU
  clouds (Lambda, CoreWeave, Nebius, RunPod secure cloud, Crusoe, Modal, ...) list per-GPU prices for
  dedicated capacity. Marketplace offers (Vast.ai: host-set, single offers) and every spot/preemptible row
  can vanish or be interrupted: they are the ``marketplace`` class.
- **Default by reliability.** At 99.0% or more the price comes from the hyperscaler and mainstream classes;
  marketplace prices are shown as a cheaper alternative with their risk. A stated ``price_class`` wins:
  ``hyperscaler`` allows only hyperscalers, ``mainstream`` both listed classes, ``marketplace`` all.
- **Form factor.** A row that prices the PCIe or NVL variant (its label, instance type or notes say so, or a
  RunPod A100/H100 pod without "SXM" in its name) is never used for an SXM part, which has NVLink and more
  bandwidth.
- **Host.** A GPU-only row (GCP accelerator components) gets its host VM added: the host price its notes
  quote, else ``DEFAULT_HOST_SHARE`` of the GPU price (the a2-highgpu-1g host is 25% of its A100's price).
- **Range.** min–median–max of the trusted rows' effective per-GPU prices, with the dates they carry.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.planning.cost import PriceRow

PRICE_CLASSES: tuple[str, ...] = ("hyperscaler", "mainstream", "marketplace")
HYPERSCALERS = frozenset({"aws", "gcp", "azure", "oracle oci", "oracle", "google cloud"})
MARKETPLACES = frozenset({"vast.ai", "vast"})
# A GPU-only row without a quoted host price: the host VM as a share of the GPU price (GCP a2-highgpu-1g:
# host $0.74/h next to an A100 at $2.93/h).
DEFAULT_HOST_SHARE = 0.25
TRUSTED_BY_DEFAULT = frozenset({"hyperscaler", "mainstream"})
# Below this availability target, marketplace prices are acceptable by default.
MARKETPLACE_BELOW_PCT = 99.0

_PCIE_RE = re.compile(r"pcie|\bnvl\b|_nvl|nc\d+ads_(?:a100_v4|h100_v5)|nc\d+adis_h100_v5", re.IGNORECASE)
_HOST_RE = re.compile(r"[Hh]ost [\w.-]+ row(?: in same file)?:? ?([\d.]+)/h")

RISK_NOTE = "marketplace/spot capacity can be reclaimed or disappear: fine for batch or dev, risky at 99.9%"


@functools.lru_cache(maxsize=65536)  # rows are frozen; planning asks the same rows again and again
def price_class(row: PriceRow) -> str:
    """hyperscaler, mainstream or marketplace (see the module's rules)."""
    provider = row.provider.casefold()
    if row.kind == "spot" or provider in MARKETPLACES:
        return "marketplace"
    if provider in HYPERSCALERS:
        return "hyperscaler"
    return "mainstream"


def allowed_classes(stated: str | None, reliability_pct: float) -> frozenset[str]:
    """The price classes a configuration may be priced from."""
    if stated == "hyperscaler":
        return frozenset({"hyperscaler"})
    if stated == "mainstream":
        return TRUSTED_BY_DEFAULT
    if stated == "marketplace" or reliability_pct < MARKETPLACE_BELOW_PCT:
        return frozenset(PRICE_CLASSES)
    return TRUSTED_BY_DEFAULT


@functools.lru_cache(maxsize=65536)  # rows are frozen; planning asks the same rows again and again
def wrong_form_factor(row: PriceRow, gpu_is_sxm: bool) -> bool:
    """True when the row prices a PCIe/NVL card but the GPU is an SXM part."""
    if not gpu_is_sxm:
        return False
    text = " ".join(x for x in (row.label, row.instance_type, row.notes) if x)
    if _PCIE_RE.search(text):
        return True
    # RunPod names its SXM pods "...-SXM_..."; an A100/H100 pod without it is the PCIe card.
    kind = (row.instance_type or "").upper()
    return row.provider.casefold() == "runpod" and ("A100" in kind or "H100" in kind) and "SXM" not in kind


@functools.lru_cache(maxsize=65536)  # rows are frozen; planning asks the same rows again and again
def host_usd_per_gpu_hour(row: PriceRow) -> tuple[float, str | None]:
    """The host VM's price per GPU-hour for a GPU-only row (0 otherwise), and how it was obtained."""
    if not row.excludes_host or not row.usd_per_gpu_hour:
        return 0.0, None
    found = _HOST_RE.search(row.notes or "")
    if found:
        per_instance = float(found.group(1))
        if per_instance > 0:
            per_gpu = per_instance / (row.gpus_per_instance or 1)
            return per_gpu, f"host VM ${per_gpu:.2f}/GPU-hour (quoted in the source)"
    host = row.usd_per_gpu_hour * DEFAULT_HOST_SHARE
    return (
        host,
        f"host VM not in the row: added ${host:.2f}/GPU-hour ({DEFAULT_HOST_SHARE:.0%} of the GPU price)",
    )


@functools.lru_cache(maxsize=65536)  # rows are frozen; planning asks the same rows again and again
def effective_usd_per_gpu_hour(row: PriceRow) -> float:
    """GPU price plus the host it needs."""
    return (row.usd_per_gpu_hour or 0.0) + host_usd_per_gpu_hour(row)[0]


@dataclass(frozen=True)
class PriceRange:
    low: float
    median: float
    high: float
    sources: int
    dates: tuple[str, str] | None  # oldest and newest date among the rows that carry one

    def text(self) -> str:
        when = ""
        if self.dates:
            when = f", dated {self.dates[0]}" + (
                f" to {self.dates[1]}" if self.dates[1] != self.dates[0] else ""
            )
        return (
            f"${self.low:.2f}–${self.median:.2f}–${self.high:.2f}/GPU-hour (min–median–max over "
            f"{self.sources} price rows{when})"
        )


def price_range(rows: Iterable[PriceRow]) -> PriceRange | None:
    values = sorted(effective_usd_per_gpu_hour(r) for r in rows)
    if not values:
        return None
    dated = sorted(r.date for r in rows if r.date)
    return PriceRange(
        low=values[0],
        median=statistics.median(values),
        high=values[-1],
        sources=len(values),
        dates=(dated[0], dated[-1]) if dated else None,
    )


def eligible(
    rows: Sequence[PriceRow], *, classes: frozenset[str], gpu_is_sxm: bool, kinds: Sequence[str]
) -> list[PriceRow]:
    """Rental rows of the allowed kinds and classes with a price, for the right form factor."""
    return [
        r
        for r in rows
        if r.usd_per_gpu_hour
        and (r.kind in kinds or (r.kind == "spot" and "marketplace" in classes))
        and price_class(r) in classes
        and not wrong_form_factor(r, gpu_is_sxm)
    ]

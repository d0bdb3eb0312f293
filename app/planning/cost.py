"""What a configuration costs: cloud rental, owned hardware (power and cooling) and purchase (TCO).

Pure functions over price rows; no I/O. Every ``Cost`` lists the price rows it used, with their dates.

- Cloud rental: the cheapest eligible row for the GPU (or the named provider/region), billed per instance:
  a row for an 8-GPU instance bills whole instances. Hourly and monthly figures are at the steady (minimum)
  replica count; ``monthly_usd_at_peak`` if the peak count ran all month. A month is 730 hours.
- Owned hardware: only power and cooling, ``GPUs × TDP (kW) × hours × $/kWh × PUE``, when a power price is
  given; otherwise nothing (the ranking then minimises GPUs).
- Purchase: ``TCO = capex + months × (power + space)`` over the amortisation period; the monthly figure is the
  TCO spread over those months; break-even is the month when buying has cost less than renting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.planning.result import Cost, PriceUsed

HOURS_PER_MONTH = 730.0
CLOUD_KINDS: tuple[str, ...] = ("on_demand", "list_per_gpu_hour")
ALL_RENTAL_KINDS: tuple[str, ...] = ("on_demand", "list_per_gpu_hour", "spot", "reserved_1y", "reserved_3y")
_KIND_WORDS = {
    "on_demand": "on-demand",
    "list_per_gpu_hour": "GPU-cloud list price",
    "spot": "spot (can be interrupted)",
    "reserved_1y": "1-year reservation",
    "reserved_3y": "3-year reservation",
    "purchase": "purchase",
}


@dataclass(frozen=True)
class PriceRow:
    """One row of the prices table, as the cost functions need it."""

    id: int | None
    gpu_id: str
    kind: str
    provider: str
    source: str
    region: str | None = None
    instance_type: str | None = None
    gpus_per_instance: int | None = None
    usd_per_gpu_hour: float | None = None
    usd_purchase: float | None = None
    usd_purchase_high: float | None = None
    date: str | None = None
    excludes_host: bool = False


def price_used(row: PriceRow) -> PriceUsed:
    return PriceUsed(
        price_id=row.id,
        gpu=row.gpu_id,
        kind=row.kind,
        provider=row.provider,
        region=row.region,
        instance_type=row.instance_type,
        usd_per_gpu_hour=row.usd_per_gpu_hour,
        usd_purchase=row.usd_purchase,
        date=row.date,
        source=row.source,
        excludes_host=row.excludes_host,
    )


def billed_gpus(row: PriceRow, gpus: int) -> int:
    """GPUs paid for: whole instances when the row prices a multi-GPU instance."""
    per = row.gpus_per_instance or 1
    return math.ceil(gpus / per) * per if per > 1 else gpus


def _matches(row: PriceRow, provider: str | None, region: str | None) -> bool:
    if provider and row.provider.casefold() != provider.casefold():
        return False
    return not region or (row.region or "").casefold().startswith(region.casefold())


def _per_1k(hourly: float, tokens_per_hour: float) -> float | None:
    return round(hourly / (tokens_per_hour / 1000.0), 9) if tokens_per_hour > 0 else None


def cheapest_rental(
    gpu_id: str,
    gpus: int,
    prices: Sequence[PriceRow],
    *,
    kinds: Sequence[str] = CLOUD_KINDS,
    provider: str | None = None,
    region: str | None = None,
) -> PriceRow | None:
    """The rental row that bills ``gpus`` GPUs for the least, or None when there is none."""
    rows = [
        r
        for r in prices
        if r.gpu_id == gpu_id and r.kind in kinds and r.usd_per_gpu_hour and _matches(r, provider, region)
    ]
    if not rows:
        return None
    return min(rows, key=lambda r: (billed_gpus(r, gpus) * (r.usd_per_gpu_hour or 0.0), -_date_key(r.date)))


def _date_key(date: str | None) -> int:
    if not date:
        return 0
    digits = (date.replace("-", "") + "0101")[:8]
    return int(digits) if digits.isdigit() else 0


def cloud_cost(
    gpu_id: str,
    *,
    gpus_steady: int,
    gpus_peak: int,
    prices: Sequence[PriceRow],
    tokens_per_hour: float,
    kinds: Sequence[str] = CLOUD_KINDS,
    provider: str | None = None,
    region: str | None = None,
) -> Cost | None:
    """Rent ``gpus_steady`` GPUs (``gpus_peak`` at peak) from the cheapest eligible source."""
    notes: list[str] = []
    row = cheapest_rental(gpu_id, gpus_steady, prices, kinds=kinds, provider=provider, region=region)
    if row is None and region:
        row = cheapest_rental(gpu_id, gpus_steady, prices, kinds=kinds, provider=provider)
        if row is not None:
            notes.append(f"no {gpu_id} price in region {region!r}; used {row.region or 'an unnamed region'}")
    if row is None:
        return None
    price = row.usd_per_gpu_hour or 0.0
    billed = billed_gpus(row, gpus_steady)
    hourly = billed * price
    peak_hourly = billed_gpus(row, gpus_peak) * price
    where = (
        row.provider
        + (f" {row.region}" if row.region else "")
        + (f" {row.instance_type}" if row.instance_type else "")
    )
    if provider:
        notes.insert(0, f"{_KIND_WORDS.get(row.kind, row.kind)} price from {where} (the provider you named)")
    else:
        eligible = {
            r.provider for r in prices if r.gpu_id == gpu_id and r.kind in kinds and r.usd_per_gpu_hour
        }
        notes.insert(
            0,
            f"cheapest {_KIND_WORDS.get(row.kind, row.kind)} source for {gpu_id} among {len(eligible)} "
            f"providers: {where} at ${price:.2f}/GPU-hour",
        )
    if billed != gpus_steady:
        notes.append(
            f"{row.instance_type or 'the instance'} has {row.gpus_per_instance} GPUs: {gpus_steady} needed, "
            f"{billed} billed"
        )
    if row.excludes_host:
        notes.append("GPU-only price: the host VM is not included (add the machine type's price)")
    if not row.date:
        notes.append(f"price row from {row.source} carries no date")
    for kind in ("spot", "reserved_1y", "reserved_3y"):
        if kind in kinds:
            continue
        alt = cheapest_rental(gpu_id, gpus_steady, prices, kinds=(kind,), provider=provider)
        if alt is not None and billed_gpus(alt, gpus_steady) * (alt.usd_per_gpu_hour or 0) < hourly:
            alt_monthly = billed_gpus(alt, gpus_steady) * (alt.usd_per_gpu_hour or 0) * HOURS_PER_MONTH
            notes.append(f"{_KIND_WORDS[kind]}: ${alt_monthly:,.0f}/month at {alt.provider}")
    tokens_note = "per 1k tokens counts prompt and generated tokens at the steady load"
    notes.append(tokens_note)
    return Cost(
        deployment_model="cloud_rental",
        hourly_usd=round(hourly, 4),
        monthly_usd=round(hourly * HOURS_PER_MONTH, 2),
        monthly_usd_at_peak=round(peak_hourly * HOURS_PER_MONTH, 2),
        per_1k_tokens_usd=_per_1k(hourly, tokens_per_hour),
        provider=row.provider,
        region=row.region,
        prices=[price_used(row)],
        notes=notes,
    )


def power_hourly_usd(gpus: int, tdp_w: float | None, usd_per_kwh: float | None, pue: float) -> float:
    """GPUs × TDP (kW) × $/kWh × PUE: power and cooling for one hour at full board power."""
    if not usd_per_kwh or not tdp_w:
        return 0.0
    return gpus * tdp_w / 1000.0 * usd_per_kwh * pue


def owned_cost(
    gpu_id: str,
    *,
    tdp_w: float | None,
    gpus_steady: int,
    gpus_peak: int,
    usd_per_kwh: float | None,
    pue: float,
    tokens_per_hour: float,
) -> Cost:
    """Hardware already owned: only power and cooling count, and only when a power price is given."""
    notes: list[str] = []
    if usd_per_kwh is None:
        notes.append("no power price given: owned GPUs cost nothing extra here; ranking minimises GPUs used")
    elif not tdp_w:
        notes.append(f"{gpu_id} has no TDP in the catalog: power not counted")
    hourly = power_hourly_usd(gpus_steady, tdp_w, usd_per_kwh, pue)
    peak = power_hourly_usd(gpus_peak, tdp_w, usd_per_kwh, pue)
    if hourly:
        notes.append(
            f"power: {gpus_steady} × {tdp_w:g} W × {HOURS_PER_MONTH:g} h × ${usd_per_kwh:g}/kWh × PUE {pue:g}"
        )
    return Cost(
        deployment_model="owned_hardware",
        hourly_usd=round(hourly, 4),
        monthly_usd=round(hourly * HOURS_PER_MONTH, 2),
        monthly_usd_at_peak=round(peak * HOURS_PER_MONTH, 2),
        per_1k_tokens_usd=_per_1k(hourly, tokens_per_hour) if hourly else None,
        power_monthly_usd=round(hourly * HOURS_PER_MONTH, 2),
        notes=notes,
    )


def purchase_row(gpu_id: str, prices: Sequence[PriceRow]) -> PriceRow | None:
    """The purchase price used: the most recent dated row (old list prices go stale), else the lowest."""
    rows = [r for r in prices if r.gpu_id == gpu_id and r.kind == "purchase" and r.usd_purchase]
    if not rows:
        return None
    dated = [r for r in rows if _date_key(r.date)]
    if dated:
        return max(dated, key=lambda r: (_date_key(r.date), -(r.usd_purchase or 0.0)))
    return min(rows, key=lambda r: r.usd_purchase or 0.0)


def purchase_cost(
    gpu_id: str,
    *,
    tdp_w: float | None,
    gpus_bought: int,
    gpus_steady: int,
    prices: Sequence[PriceRow],
    usd_per_kwh: float | None,
    pue: float,
    months: int,
    space_usd_per_gpu_month: float | None,
    rental_monthly_usd: float | None,
    tokens_per_hour: float,
) -> Cost | None:
    """Buy ``gpus_bought`` GPUs (the peak count) and run ``gpus_steady`` of them; TCO over ``months``."""
    row = purchase_row(gpu_id, prices)
    if row is None:
        return None
    capex = gpus_bought * (row.usd_purchase or 0.0)
    power_monthly = power_hourly_usd(gpus_steady, tdp_w, usd_per_kwh, pue) * HOURS_PER_MONTH
    space_monthly = gpus_bought * (space_usd_per_gpu_month or 0.0)
    opex = power_monthly + space_monthly
    tco = capex + months * opex
    monthly = tco / months
    notes = [
        f"capex: {gpus_bought} × ${row.usd_purchase:,.0f} ({row.provider}, {row.date or 'undated'})",
        f"TCO over {months} months: capex + {months} × "
        f"(power ${power_monthly:,.2f} + space ${space_monthly:,.2f})",
    ]
    if row.usd_purchase_high:
        notes.append(f"the source gives a range up to ${row.usd_purchase_high:,.0f} per GPU")
    if usd_per_kwh is None:
        notes.append("no power price given: power not counted")
    if space_usd_per_gpu_month is None:
        notes.append("no space cost given: rack space not counted")
    break_even: float | None = None
    if rental_monthly_usd is not None:
        saving = rental_monthly_usd - opex
        if saving > 0:
            break_even = round(capex / saving, 1)
            notes.append(
                f"break-even after {break_even:g} months against renting at ${rental_monthly_usd:,.0f}/month"
            )
        else:
            notes.append("renting costs less than running owned GPUs: buying never breaks even")
    return Cost(
        deployment_model="purchase",
        hourly_usd=round(monthly / HOURS_PER_MONTH, 4),
        monthly_usd=round(monthly, 2),
        per_1k_tokens_usd=_per_1k(monthly / HOURS_PER_MONTH, tokens_per_hour),
        capex_usd=round(capex, 2),
        tco_usd=round(tco, 2),
        break_even_month=break_even,
        power_monthly_usd=round(power_monthly, 2),
        provider=row.provider,
        prices=[price_used(row)],
        notes=notes,
    )

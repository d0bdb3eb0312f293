"""What a configuration costs: cloud rental, owned hardware (power and cooling) and purchase (TCO).

Pure functions over price rows; no I/O. Every ``Cost`` lists the price rows it used, with their dates.

- Cloud rental: the cheapest *trusted* row for the GPU (price class by reliability target, right form factor,
  host VM added to GPU-only rows: ``app.planning.prices``), or the named provider/region, billed per
  instance: a row for an 8-GPU instance bills whole instances. The hourly figure is at the steady (minimum)
  replica count; the monthly figure is blended over the day (peak hours at the peak count, the rest at the
  floor); ``monthly_usd_at_peak`` if the peak count ran all month. A month is 730 hours.
- Owned hardware: energy for the GPUs in use plus their share of the host, at the average draw, × PUE, at the
  person's power price or a stated default; the owned GPUs not used stay free (``owned_cost``).
- Purchase: whole servers (8-GPU SXM/OAM boards, PCIe servers of 1/2/4/8 cards) at sourced server prices;
  ``TCO = capex + months × (energy + colocation + support + operations)``, per node and in total, with
  break-even against renting and every assumption listed (``HardwareAssumptions``, ``purchase_cost``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.planning.result import Cost, PriceUsed

if TYPE_CHECKING:
    from app.planning.prices import PriceRange

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
    server_power_w: float | None = None  # whole-server power of a multi-GPU purchase row
    label: str | None = None  # the GPU as the source wrote it ("A100-80GB", "H100 PCIe")
    notes: str | None = None


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


def blended_monthly(floor_hourly: float, peak_hourly: float, peak_hours_per_day: float) -> float:
    """A month of ``peak_hours_per_day`` at the peak count and the rest of each day at the floor."""
    h = min(24.0, max(0.0, peak_hours_per_day))
    return HOURS_PER_MONTH / 24.0 * (h * peak_hourly + (24.0 - h) * floor_hourly)


@dataclass(frozen=True)
class _RowSets:
    """The rows one GPU's rental cost chooses from (independent of the GPU counts)."""

    local: list[PriceRow]
    region_note: str | None
    market: list[PriceRow]
    reserved: dict[str, list[PriceRow]]
    skipped: int
    # Per ``local`` row, in order: its price with the host and its date key (the choice compares them for
    # every replica count), and the rows' price range.
    local_keys: tuple[tuple[float, int], ...] = ()
    local_range: PriceRange | None = None


# Row sets per (price list, GPU, rules). Keyed by the list's identity, which the entry keeps alive so the id
# cannot be reused: planning prices the same GPU's rows for hundreds of replica counts per plan.
_ROW_SETS: dict[tuple[object, ...], tuple[Sequence[PriceRow], _RowSets]] = {}


def _row_sets(
    gpu_id: str,
    prices: Sequence[PriceRow],
    allowed: frozenset[str],
    gpu_is_sxm: bool,
    kinds: Sequence[str],
    provider: str | None,
    region: str | None,
) -> _RowSets:
    from app.planning import prices as pc

    key = (id(prices), len(prices), gpu_id, allowed, gpu_is_sxm, tuple(kinds), provider, region)
    hit = _ROW_SETS.get(key)
    if hit is not None and hit[0] is prices:
        return hit[1]
    mine = [r for r in prices if r.gpu_id == gpu_id]
    rows = pc.eligible(mine, classes=allowed, gpu_is_sxm=gpu_is_sxm, kinds=kinds)
    note = None
    local = [r for r in rows if _matches(r, provider, region)]
    if not local and region:
        local = [r for r in rows if _matches(r, provider, None)]
        if local:
            note = f"no {gpu_id} price in region {region!r}; used another region"
    market = (
        pc.eligible(mine, classes=frozenset({"marketplace"}), gpu_is_sxm=gpu_is_sxm, kinds=kinds)
        if "marketplace" not in allowed and not provider
        else []
    )
    reserved = {
        kind: found
        for kind in ("reserved_1y", "reserved_3y")
        if kind not in kinds
        and (
            found := [
                r for r in mine if r.kind == kind and r.usd_per_gpu_hour and _matches(r, provider, None)
            ]
        )
    }
    skipped = sum(1 for r in mine if r.usd_per_gpu_hour and pc.wrong_form_factor(r, gpu_is_sxm))
    sets = _RowSets(
        local=local,
        region_note=note,
        market=market,
        reserved=reserved,
        skipped=skipped,
        local_keys=tuple((pc.effective_usd_per_gpu_hour(r), _date_key(r.date)) for r in local),
        local_range=pc.price_range(local),
    )
    if len(_ROW_SETS) > 4096:
        _ROW_SETS.clear()
    _ROW_SETS[key] = (prices, sets)
    return sets


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
    classes: frozenset[str] | None = None,
    gpu_is_sxm: bool = False,
    peak_hours_per_day: float = 24.0,
) -> Cost | None:
    """Rent ``gpus_steady`` GPUs (``gpus_peak`` at peak) from the cheapest trusted source.

    Trusted: the price ``classes`` allowed (``app.planning.prices``; None: hyperscaler and mainstream), the
    right form factor, host included. ``monthly_usd`` is blended over the day (``peak_hours_per_day`` at
    the peak count, the rest at the floor); ``monthly_usd_at_peak`` runs the peak count all month.
    """
    from app.planning import prices as pc

    allowed = classes if classes is not None else pc.TRUSTED_BY_DEFAULT
    sets = _row_sets(gpu_id, prices, allowed, gpu_is_sxm, kinds, provider, region)
    notes: list[str] = [sets.region_note] if sets.region_note else []
    local = sets.local
    if not local:
        return None

    def month(r: PriceRow, steady: int, peak: int) -> float:
        price = pc.effective_usd_per_gpu_hour(r)
        return blended_monthly(
            billed_gpus(r, steady) * price, billed_gpus(r, peak) * price, peak_hours_per_day
        )

    def month_at(r: PriceRow, price: float) -> float:
        return blended_monthly(
            billed_gpus(r, gpus_steady) * price, billed_gpus(r, gpus_peak) * price, peak_hours_per_day
        )

    # The same choice as min over (month, newest first), from the row set's precomputed prices and dates.
    best = min(
        range(len(local)),
        key=lambda i: (month_at(local[i], sets.local_keys[i][0]), -sets.local_keys[i][1]),
    )
    row = local[best]
    price = sets.local_keys[best][0]
    billed = billed_gpus(row, gpus_steady)
    hourly = billed * price
    peak_hourly = billed_gpus(row, gpus_peak) * price
    monthly = month(row, gpus_steady, gpus_peak)
    klass = pc.price_class(row)
    where = (
        row.provider
        + (f" {row.region}" if row.region else "")
        + (f" {row.instance_type}" if row.instance_type else "")
    )
    if provider:
        notes.insert(0, f"{_KIND_WORDS.get(row.kind, row.kind)} price from {where} (the provider you named)")
    else:
        eligible_providers = {r.provider for r in local}
        notes.insert(
            0,
            f"cheapest {klass} {_KIND_WORDS.get(row.kind, row.kind)} source for {gpu_id} among "
            f"{len(eligible_providers)} providers in the classes {', '.join(sorted(allowed))}: {where} at "
            f"${price:.2f}/GPU-hour",
        )
    rng = sets.local_range
    if rng is not None:
        notes.append(f"price range {rng.text()}")
    _, host_note = pc.host_usd_per_gpu_hour(row)
    if host_note:
        notes.append(host_note)
    if sets.skipped:
        notes.append(f"{sets.skipped} PCIe/NVL price rows not used for this SXM part")
    if billed != gpus_steady:
        notes.append(
            f"{row.instance_type or 'the instance'} has {row.gpus_per_instance} GPUs: {gpus_steady} needed, "
            f"{billed} billed"
        )
    if not row.date:
        notes.append(f"price row from {row.source} carries no date")
    if peak_hours_per_day < 24.0 and gpus_peak != gpus_steady:
        notes.append(
            f"blended: {peak_hours_per_day:.0f} h a day at {gpus_peak} GPUs, the rest at {gpus_steady}; "
            f"${peak_hourly * HOURS_PER_MONTH:,.0f}/month if the peak count ran all month"
        )
    market_monthly: float | None = None
    if sets.market:
        alt = min(sets.market, key=lambda r: month(r, gpus_steady, gpus_peak))
        alt_monthly = month(alt, gpus_steady, gpus_peak)
        if alt_monthly < monthly:
            market_monthly = round(alt_monthly, 2)
            notes.append(
                f"cheaper alternative: ${alt_monthly:,.0f}/month at {alt.provider} "
                f"({_KIND_WORDS.get(alt.kind, alt.kind)}, marketplace class; {pc.RISK_NOTE})"
            )
    for kind, reserved_rows in sets.reserved.items():
        alt_row = cheapest_rental(gpu_id, gpus_steady, reserved_rows, kinds=(kind,))
        if (
            alt_row is not None
            and billed_gpus(alt_row, gpus_steady) * (alt_row.usd_per_gpu_hour or 0) < hourly
        ):
            alt_monthly = (
                billed_gpus(alt_row, gpus_steady) * (alt_row.usd_per_gpu_hour or 0) * HOURS_PER_MONTH
            )
            notes.append(f"{_KIND_WORDS[kind]}: ${alt_monthly:,.0f}/month at {alt_row.provider}")
    notes.append("per 1k tokens counts prompt and generated tokens at the steady load")
    return Cost(
        deployment_model="cloud_rental",
        hourly_usd=round(hourly, 4),
        monthly_usd=round(monthly, 2),
        monthly_usd_at_peak=round(peak_hourly * HOURS_PER_MONTH, 2),
        per_1k_tokens_usd=_per_1k(hourly, tokens_per_hour),
        provider=row.provider,
        region=row.region,
        price_class=klass,
        usd_per_gpu_hour=round(price, 4),
        price_low=round(rng.low, 4) if rng else None,
        price_median=round(rng.median, 4) if rng else None,
        price_high=round(rng.high, 4) if rng else None,
        price_dates=f"{rng.dates[0]} to {rng.dates[1]}" if rng and rng.dates else None,
        peak_hours_per_day=peak_hours_per_day,
        marketplace_monthly_usd=market_monthly,
        prices=[price_used(row)],
        notes=notes,
    )


# Scale from zero before each batch run: a node is provisioned, the container starts and vLLM captures its
# CUDA graphs (about 5 minutes on the managed Kubernetes GPU pools we target), then the weights stream in.
BATCH_STARTUP_S = 300.0
# Weights pulled from a model cache or object store in the cluster's region: about 1 GB/s (a 10 Gbit/s
# link, or a network volume); a local NVMe cache is faster, a first pull from the Hugging Face Hub slower.
WEIGHT_LOAD_BYTES_PER_S = 1.0e9
# "every night" when no frequency is stated.
DEFAULT_RUNS_PER_MONTH = 30.0


def batch_cold_start_hours(weight_bytes: float) -> float:
    """Hours one scale-from-zero start takes: the fixed start-up plus the weights at the load bandwidth."""
    return (BATCH_STARTUP_S + weight_bytes / WEIGHT_LOAD_BYTES_PER_S) / 3600.0


def batch_cost(
    always_on: Cost,
    *,
    items: int,
    rate_rps: float,
    gpus: int,
    runs_per_month: float,
    window_hours: float | None,
    weight_bytes: float,
    tokens_per_item: float | None = None,
) -> Cost:
    """A batch job priced as GPU-hours at the one rate it was sized and predicted at (``rate_rps``: the
    rate that finishes the job inside its window): each run holds the GPUs for ``items / rate`` plus a
    cold start, on a cluster that scales to zero between runs. Every figure (per run, per month, per
    million tokens, the marketplace alternative) is on that basis; the always-on cost stays beside it."""
    start_h = batch_cold_start_hours(weight_bytes)
    work_h = items / rate_rps / 3600.0
    run_hours = work_h + start_h
    peak_hourly = (always_on.monthly_usd_at_peak or always_on.monthly_usd) / HOURS_PER_MONTH
    per_run = peak_hourly * run_hours
    monthly = per_run * runs_per_month
    gpu_hours = gpus * run_hours
    market = (
        always_on.marketplace_monthly_usd / HOURS_PER_MONTH * run_hours * runs_per_month
        if always_on.marketplace_monthly_usd is not None
        else None
    )
    notes = [
        f"batch: {items:,} requests at {rate_rps:,.3g}/s (the rate the run is sized and predicted at) take "
        f"{work_h:.2f} h"
        + (f" of the {window_hours:g} h window" if window_hours else "")
        + f", plus a {start_h * 60:.0f} min cold start ({BATCH_STARTUP_S / 60:g} min start-up + "
        f"{weight_bytes / 1e9:,.0f} GB of weights at {WEIGHT_LOAD_BYTES_PER_S / 1e9:g} GB/s): "
        f"{gpu_hours:,.1f} GPU-hours, ${per_run:,.2f} a run; × {runs_per_month:g} runs = "
        f"${monthly:,.0f}/month on a cluster that scales to zero between runs",
        f"always-on alternative: the same {gpus} GPUs all month cost "
        f"${always_on.monthly_usd_at_peak or always_on.monthly_usd:,.0f}/month",
        *(n for n in always_on.notes if not n.startswith("cheaper alternative")),
    ]
    if market is not None:
        notes.append(f"marketplace/spot: ${market:,.0f}/month for the same runs (can be reclaimed mid-run)")
    return always_on.model_copy(
        update={
            "hourly_usd": round(peak_hourly, 4),
            "monthly_usd": round(monthly, 2),
            "monthly_usd_at_peak": round(monthly, 2),
            # Per 1k tokens of the job itself (prompt and generated), not of an always-on hour.
            "per_1k_tokens_usd": round(per_run / (items * tokens_per_item / 1000.0), 9)
            if tokens_per_item
            else always_on.per_1k_tokens_usd,
            "marketplace_monthly_usd": round(market, 2) if market is not None else None,
            "batch_gpu_hours_per_run": round(gpu_hours, 3),
            "batch_hours_per_run": round(run_hours, 3),
            "batch_cold_start_hours": round(start_h, 3),
            "batch_usd_per_run": round(per_run, 2),
            "batch_monthly_usd": round(monthly, 2),
            "always_on_monthly_usd": always_on.monthly_usd_at_peak or always_on.monthly_usd,
            "notes": notes,
        }
    )


# --- owned and purchased hardware ------------------------------------------------------------------------


@dataclass(frozen=True)
class HardwareAssumptions:
    """What owned and purchased hardware costs beyond the price rows; each figure names its source.

    Listed on every owned/purchase cost (``Cost.assumptions``) and editable through ``PlanSettings``.
    """

    # Used only when the person gives no power price, and said so: about the US commercial average
    # (EIA Electric Power Monthly, 2024: 12.7 ¢/kWh), rounded.
    default_usd_per_kwh: float = 0.13
    # Average server power in use as a fraction of its maximum (Epoch AI, server_prices.json opex).
    power_draw_fraction: float = 0.75
    # Colocation per kW of server power per month, 250-500 kW, North America, H1 2025 (CBRE via
    # DataCenterKnowledge, server_prices.json opex): space, power delivery and cooling for bought servers.
    colocation_usd_per_kw_month: float = 184.0
    # Hardware support per year as a share of the server price (DGX H100, supercluster-dgx; secondary).
    support_pct_per_year: float = 20.0
    # Non-GPU bill of materials of an 8-GPU server, added to a GPU-baseboard price (DGX H100, Epoch AI).
    host_bom_usd: float = 32010.0
    # Server price over GPU list price × GPU count when no server price exists (Epoch AI default, 1.64).
    server_overhead: float = 1.64
    # Host power (2 CPUs, memory, fans, NICs) of a PCIe GPU server without a stated server power:
    # Preflight's judgement, consistent with ServeTheHome's 4.3-5 kW for 8× L40S (8 × 350 W GPUs + ~1.5 kW).
    pcie_host_power_w: float = 1500.0
    # Operations staff per node per month: not counted unless given.
    ops_usd_per_node_month: float = 0.0

    def listed(self, usd_per_kwh: float, stated_power: bool, pue: float) -> list[str]:
        power = (
            f"power ${usd_per_kwh:g}/kWh (yours)"
            if stated_power
            else f"power ${usd_per_kwh:g}/kWh: Preflight's default (about the US commercial average, EIA "
            "2024), not a price you gave; set power_cost_per_kwh"
        )
        return [
            power,
            f"PUE {pue:g} (cooling and power distribution on top of IT power; editable)",
            f"servers draw {self.power_draw_fraction:.0%} of their maximum power on average (Epoch AI)",
            f"colocation ${self.colocation_usd_per_kw_month:g} per kW per month "
            "(CBRE, North America, H1 2025)",
            f"support {self.support_pct_per_year:g}% of the server price per year "
            "(DGX H100 figure, secondary)",
            f"host for a bare GPU baseboard ${self.host_bom_usd:,.0f} (DGX H100 non-GPU parts, Epoch AI)",
            f"server price {self.server_overhead:g} × GPU list price where no server price exists (Epoch AI)",
            f"PCIe server host power {self.pcie_host_power_w:,.0f} W (Preflight's judgement)",
            "operations staff: "
            + (
                f"${self.ops_usd_per_node_month:,.0f} per node per month"
                if self.ops_usd_per_node_month
                else "not counted"
            ),
        ]


DEFAULT_HARDWARE = HardwareAssumptions()
BOARD_GPUS = 8  # SXM/OAM parts are sold on 8-GPU baseboards
PCIE_SERVER_SIZES = (1, 2, 4, 8)  # GPU cards per PCIe server


@dataclass(frozen=True)
class Node:
    """One server as bought: its GPUs, price, power and where the figures come from."""

    gpus: int
    usd: float
    power_w: float
    how: str
    row: PriceRow | None


def _card_row(gpu_id: str, prices: Sequence[PriceRow]) -> PriceRow | None:
    rows = [
        r
        for r in prices
        if r.gpu_id == gpu_id and r.kind == "purchase" and r.usd_purchase and (r.gpus_per_instance or 1) == 1
    ]
    if not rows:
        return None
    dated = [r for r in rows if _date_key(r.date)]
    if dated:
        return max(dated, key=lambda r: (_date_key(r.date), -(r.usd_purchase or 0.0)))
    return min(rows, key=lambda r: r.usd_purchase or 0.0)


_TRUST = ("complete server", "GPU baseboard", "unverified listing", "estimate")


def server_node(
    gpu_id: str,
    *,
    board: bool,
    gpus_needed: int,
    tdp_w: float | None,
    prices: Sequence[PriceRow],
    hw: HardwareAssumptions = DEFAULT_HARDWARE,
) -> Node | None:
    """The server this GPU is bought in: a sourced whole-server price (complete servers first, most recent;
    a bare baseboard plus the host), else one built from the card price × the server overhead — 8 GPUs for
    SXM/OAM boards, the smallest PCIe server of 1/2/4/8 cards that holds ``gpus_needed`` (up to 8)."""
    servers = [
        r for r in prices if r.gpu_id == gpu_id and r.kind == "purchase" and (r.gpus_per_instance or 1) > 1
    ]
    if servers:
        rank = {name: i for i, name in enumerate(_TRUST)}
        best = min(
            servers,
            key=lambda r: (rank.get(r.provider, len(_TRUST)), -_date_key(r.date), r.usd_purchase or 0.0),
        )
        n = best.gpus_per_instance or BOARD_GPUS
        usd = best.usd_purchase or 0.0
        how = f"{best.provider} {best.instance_type or ''} ({best.source}, {best.date or 'undated'})".strip()
        if best.excludes_host:
            usd += hw.host_bom_usd
            how += f" + host ${hw.host_bom_usd:,.0f}"
        power = best.server_power_w or (n * (tdp_w or 0.0) + hw.pcie_host_power_w)
        return Node(gpus=n, usd=usd, power_w=power, how=how, row=best)
    card = _card_row(gpu_id, prices)
    if card is None:
        return None
    if board:
        n = BOARD_GPUS
    else:
        n = next((k for k in PCIE_SERVER_SIZES if k >= min(gpus_needed, PCIE_SERVER_SIZES[-1])), 8)
    usd = n * (card.usd_purchase or 0.0) * hw.server_overhead
    how = (
        f"built: {n} × ${card.usd_purchase:,.0f} ({card.provider}, {card.date or 'undated'}) × "
        f"{hw.server_overhead:g} server overhead"
    )
    host_w = hw.pcie_host_power_w
    return Node(gpus=n, usd=usd, power_w=n * (tdp_w or 0.0) + host_w, how=how, row=card)


def host_power_per_gpu_w(node: Node | None, tdp_w: float | None, hw: HardwareAssumptions) -> float:
    """A GPU's share of its server's non-GPU power (CPUs, memory, fans, NICs, switches)."""
    if node is not None and tdp_w:
        return max(node.power_w - node.gpus * tdp_w, 0.0) / node.gpus
    return hw.pcie_host_power_w / BOARD_GPUS


def power_hourly_usd(watts: float, usd_per_kwh: float, pue: float) -> float:
    """Watts (IT load) × PUE × $/kWh for one hour."""
    return watts / 1000.0 * usd_per_kwh * pue


def owned_cost(
    gpu_id: str,
    *,
    tdp_w: float | None,
    gpus_steady: int,
    gpus_peak: int,
    usd_per_kwh: float | None,
    pue: float,
    tokens_per_hour: float,
    owned: int | None = None,
    node: Node | None = None,
    hw: HardwareAssumptions = DEFAULT_HARDWARE,
) -> Cost:
    """Hardware already owned: energy for the GPUs in use and their share of the host, at the average draw,
    × PUE; a default power price (said as such) when none is given. The GPUs not used stay free."""
    price = usd_per_kwh if usd_per_kwh is not None else hw.default_usd_per_kwh
    notes: list[str] = []
    per_gpu_w = (tdp_w or 0.0) + host_power_per_gpu_w(node, tdp_w, hw)
    if not tdp_w:
        notes.append(f"{gpu_id} has no TDP in the catalog: only its host share of power is counted")
    draw = hw.power_draw_fraction
    hourly = power_hourly_usd(gpus_steady * per_gpu_w * draw, price, pue)
    peak = power_hourly_usd(gpus_peak * per_gpu_w * draw, price, pue)
    notes.append(
        f"power: {gpus_steady} GPUs × ({tdp_w or 0:g} W GPU + {per_gpu_w - (tdp_w or 0):,.0f} W host share)"
        " × "
        f"{draw:.0%} average draw × PUE {pue:g} × ${price:g}/kWh × {HOURS_PER_MONTH:g} h"
        + ("" if usd_per_kwh is not None else " (default power price, not yours)")
    )
    idle = None
    if owned is not None:
        idle = max(owned - gpus_peak, 0)
        notes.append(
            f"uses {gpus_peak} of your {owned} {gpu_id}; {idle} stay free for other work"
            if idle
            else f"uses all {owned} of your {gpu_id}"
        )
    return Cost(
        deployment_model="owned_hardware",
        hourly_usd=round(hourly, 4),
        monthly_usd=round(hourly * HOURS_PER_MONTH, 2),
        monthly_usd_at_peak=round(peak * HOURS_PER_MONTH, 2),
        per_1k_tokens_usd=_per_1k(hourly, tokens_per_hour) if hourly else None,
        power_monthly_usd=round(hourly * HOURS_PER_MONTH, 2),
        idle_owned_gpus=idle,
        assumptions=hw.listed(price, usd_per_kwh is not None, pue)[:3],
        notes=notes,
    )


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
    board: bool = True,
    hw: HardwareAssumptions = DEFAULT_HARDWARE,
) -> Cost | None:
    """Buy whole servers for ``gpus_bought`` GPUs (the peak count) and run them for ``months``.

    TCO per node = server price + months × (energy at the average draw × PUE + colocation per kW + support +
    operations); the monthly figure spreads TCO over the months; break-even is when buying has cost less
    than renting the same GPUs at ``rental_monthly_usd``.
    """
    node = server_node(gpu_id, board=board, gpus_needed=gpus_bought, tdp_w=tdp_w, prices=prices, hw=hw)
    if node is None:
        return None
    nodes = math.ceil(gpus_bought / node.gpus)
    price = usd_per_kwh if usd_per_kwh is not None else hw.default_usd_per_kwh
    kw = node.power_w / 1000.0
    energy = power_hourly_usd(node.power_w * hw.power_draw_fraction, price, pue) * HOURS_PER_MONTH
    colo = kw * hw.colocation_usd_per_kw_month
    if space_usd_per_gpu_month is not None:  # the person's own space cost replaces colocation
        colo = node.gpus * space_usd_per_gpu_month
    support = node.usd * hw.support_pct_per_year / 100.0 / 12.0
    opex_node = energy + colo + support + hw.ops_usd_per_node_month
    capex = nodes * node.usd
    opex = nodes * opex_node
    tco = capex + months * opex
    monthly = tco / months
    notes = [
        f"{nodes} server{'s' if nodes > 1 else ''} of {node.gpus} × {gpu_id} "
        f"({nodes * node.gpus} GPUs bought, {gpus_bought} needed at peak): ${node.usd:,.0f} each, {node.how}",
        f"per server per month: energy ${energy:,.0f} ({kw:g} kW × {hw.power_draw_fraction:.0%} × PUE {pue:g}"
        f" × ${price:g}/kWh), colocation ${colo:,.0f}, support ${support:,.0f}"
        + (f", operations ${hw.ops_usd_per_node_month:,.0f}" if hw.ops_usd_per_node_month else ""),
        f"TCO over {months} months: ${capex:,.0f} + {months} × ${opex:,.0f} = ${tco:,.0f}",
    ]
    if nodes * node.gpus > gpus_bought:
        notes.append(f"{nodes * node.gpus - gpus_bought} bought GPUs are spare capacity (whole servers only)")
    same = [
        r
        for r in prices
        if r.gpu_id == gpu_id and r.kind == "purchase" and r.usd_purchase and r.gpus_per_instance == node.gpus
    ]
    if len(same) > 1:
        lo = min(same, key=lambda r: r.usd_purchase or 0.0)
        hi = max(same, key=lambda r: r.usd_purchase or 0.0)
        notes.append(
            f"{len(same)} sourced {node.gpus}-GPU server prices range ${lo.usd_purchase:,.0f} "
            f"({lo.provider}, {lo.date or 'undated'}) to ${hi.usd_purchase:,.0f} ({hi.provider}, "
            f"{hi.date or 'undated'}); the most recent complete server is used"
        )
    if node.row is not None and node.row.provider in ("estimate", "unverified listing"):
        notes.append(f"the server price is an {node.row.provider}: check a current quote")
    break_even: float | None = None
    if rental_monthly_usd is not None:
        saving = rental_monthly_usd - opex
        if saving > 0:
            break_even = round(capex / saving, 1)
            notes.append(
                f"break-even after {break_even:g} months against renting at ${rental_monthly_usd:,.0f}/month "
                f"(per server: ${node.usd:,.0f} against ${saving / nodes:,.0f}/month saved)"
            )
        else:
            notes.append("renting costs less than running bought servers: buying never breaks even")
    return Cost(
        deployment_model="purchase",
        hourly_usd=round(monthly / HOURS_PER_MONTH, 4),
        monthly_usd=round(monthly, 2),
        per_1k_tokens_usd=_per_1k(monthly / HOURS_PER_MONTH, tokens_per_hour),
        capex_usd=round(capex, 2),
        tco_usd=round(tco, 2),
        break_even_month=break_even,
        power_monthly_usd=round(nodes * energy, 2),
        nodes=nodes,
        gpus_per_node=node.gpus,
        node_usd=round(node.usd, 2),
        opex_monthly_usd=round(opex, 2),
        provider=node.row.provider if node.row else None,
        prices=[price_used(node.row)] if node.row else [],
        assumptions=hw.listed(price, usd_per_kwh is not None, pue),
        notes=notes,
    )

"""Costs by hand: 4 × A100-80GB owned vs purchased vs rented (power $0.12/kWh, PUE 1.3, 36 months)."""

from __future__ import annotations

import pytest

from app.planning.cost import HOURS_PER_MONTH, Cost, PriceRow, cloud_cost, owned_cost, purchase_cost

pytestmark = pytest.mark.unit

GPU = "A100-SXM-80GB"
TDP_W = 400.0  # the catalog's A100-SXM-80GB board power
PRICES = [
    PriceRow(
        id=1,
        gpu_id=GPU,
        kind="list_per_gpu_hour",
        provider="GpuCloud",
        source="test",
        usd_per_gpu_hour=1.50,
        date="2025-06-01",
    ),
    # Cheaper per GPU, but only sold as an 8-GPU instance: 4 GPUs bill as 8 (8 × 1.20 = 9.60 > 4 × 1.50).
    PriceRow(
        id=2,
        gpu_id=GPU,
        kind="on_demand",
        provider="BigCloud",
        source="test",
        region="us-east-1",
        instance_type="p4de.24xlarge",
        gpus_per_instance=8,
        usd_per_gpu_hour=1.20,
        date="2025-01-01",
    ),
    PriceRow(id=3, gpu_id=GPU, kind="spot", provider="GpuCloud", source="test", usd_per_gpu_hour=0.80),
    PriceRow(
        id=4,
        gpu_id=GPU,
        kind="purchase",
        provider="system reseller",
        source="test",
        usd_purchase=18548.75,
        date="2023-09-23",
    ),
    PriceRow(
        id=5,
        gpu_id=GPU,
        kind="purchase",
        provider="DGX list",
        source="test",
        usd_purchase=37500,
        date="2021-06-30",
    ),
    PriceRow(
        id=6,
        gpu_id="L4",
        kind="on_demand",
        provider="GCP",
        source="test",
        usd_per_gpu_hour=0.22,
        excludes_host=True,
    ),
]
TOKENS_PER_HOUR = 3.3333 * 350 * 3600


def test_cloud_picks_cheapest_billed_source_and_names_it() -> None:
    cost = cloud_cost(GPU, gpus_steady=4, gpus_peak=4, prices=PRICES, tokens_per_hour=TOKENS_PER_HOUR)
    assert cost is not None
    assert cost.provider == "GpuCloud"
    assert cost.hourly_usd == pytest.approx(4 * 1.50)
    assert cost.monthly_usd == pytest.approx(4 * 1.50 * 730)  # 4,380
    assert cost.per_1k_tokens_usd == pytest.approx(6.0 / (TOKENS_PER_HOUR / 1000), rel=1e-4)
    assert [p.price_id for p in cost.prices] == [1] and cost.prices[0].date == "2025-06-01"
    assert any("spot" in n and "$2,336/month" in n for n in cost.notes)  # 4 × 0.80 × 730


def test_named_provider_bills_whole_instances() -> None:
    cost = cloud_cost(
        GPU, gpus_steady=4, gpus_peak=8, prices=PRICES, tokens_per_hour=1.0, provider="bigcloud"
    )
    assert cost is not None
    assert cost.hourly_usd == pytest.approx(8 * 1.20)
    assert cost.monthly_usd_at_peak == pytest.approx(8 * 1.20 * 730)
    assert any("4 needed, 8 billed" in n for n in cost.notes)


def test_gpu_only_price_is_noted() -> None:
    cost = cloud_cost("L4", gpus_steady=1, gpus_peak=1, prices=PRICES, tokens_per_hour=1.0)
    assert cost is not None and cost.prices[0].excludes_host
    assert any("host VM is not included" in n for n in cost.notes)


def test_owned_counts_only_power_and_cooling() -> None:
    cost = owned_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_steady=4,
        gpus_peak=4,
        usd_per_kwh=0.12,
        pue=1.3,
        tokens_per_hour=TOKENS_PER_HOUR,
    )
    # 4 GPUs × 0.4 kW × $0.12/kWh × 1.3 = $0.2496/hour; × 730 h = $182.21/month
    assert cost.hourly_usd == pytest.approx(0.2496)
    assert cost.monthly_usd == pytest.approx(182.208, abs=0.01)
    assert cost.power_monthly_usd == pytest.approx(182.21, abs=0.01)
    free = owned_cost(
        GPU, tdp_w=TDP_W, gpus_steady=4, gpus_peak=4, usd_per_kwh=None, pue=1.3, tokens_per_hour=1.0
    )
    assert free.monthly_usd == 0 and any("minimises GPUs" in n for n in free.notes)


def _purchase(*, rental_monthly_usd: float, space_usd_per_gpu_month: float | None = None) -> Cost | None:
    """4 GPUs bought and run for 36 months at $0.12/kWh and PUE 1.3."""
    return purchase_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_bought=4,
        gpus_steady=4,
        prices=PRICES,
        usd_per_kwh=0.12,
        pue=1.3,
        months=36,
        space_usd_per_gpu_month=space_usd_per_gpu_month,
        rental_monthly_usd=rental_monthly_usd,
        tokens_per_hour=1.0,
    )


def test_purchase_tco_and_break_even() -> None:
    rental = 4 * 1.50 * HOURS_PER_MONTH  # $4,380/month
    cost = _purchase(rental_monthly_usd=rental)
    assert cost is not None
    assert cost.prices[0].price_id == 4  # the most recent purchase price, not the 2021 DGX list
    assert cost.capex_usd == pytest.approx(4 * 18548.75)  # 74,195
    assert cost.tco_usd == pytest.approx(74195 + 36 * 182.208, abs=0.05)  # 80,754.49
    assert cost.monthly_usd == pytest.approx((74195 + 36 * 182.208) / 36, abs=0.01)  # 2,243.18
    assert cost.break_even_month == pytest.approx(74195 / (4380 - 182.208), abs=0.05)  # 17.7 months
    with_space = _purchase(rental_monthly_usd=rental, space_usd_per_gpu_month=50.0)
    assert with_space is not None
    assert with_space.tco_usd == pytest.approx(74195 + 36 * (182.208 + 200), abs=0.05)


def test_purchase_never_breaks_even_when_renting_is_cheaper() -> None:
    cost = _purchase(rental_monthly_usd=100.0)
    assert cost is not None and cost.break_even_month is None
    assert any("never breaks even" in n for n in cost.notes)

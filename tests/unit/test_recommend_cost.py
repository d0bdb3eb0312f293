"""Costs by hand: A100-80GB owned, bought as whole servers, rented ($0.12/kWh, PUE 1.3, 36 months)."""

from __future__ import annotations

import pytest

from app.planning.cost import HOURS_PER_MONTH, PriceRow, cloud_cost, owned_cost, purchase_cost, server_node

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


def test_gpu_only_price_gets_its_host_added() -> None:
    cost = cloud_cost("L4", gpus_steady=1, gpus_peak=1, prices=PRICES, tokens_per_hour=1.0)
    assert cost is not None and cost.prices[0].excludes_host
    # No host price quoted: 25% of the GPU price is added (0.22 + 0.055 per hour).
    assert cost.hourly_usd == pytest.approx(0.275)
    assert any("host VM not in the row" in n for n in cost.notes)


def test_owned_counts_gpu_and_host_power_and_the_gpus_left_free() -> None:
    node = server_node(GPU, board=True, gpus_needed=4, tdp_w=TDP_W, prices=SERVERS)
    cost = owned_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_steady=4,
        gpus_peak=4,
        usd_per_kwh=0.12,
        pue=1.3,
        tokens_per_hour=TOKENS_PER_HOUR,
        owned=8,
        node=node,
    )
    # Host share from the DGX A100's 6.5 kW: (6500 - 8 × 400) / 8 = 412.5 W per GPU.
    # 4 × (400 + 412.5) W × 75 % average draw × PUE 1.3 × $0.12/kWh = $0.38025/hour; × 730 h = $277.58/month
    assert cost.hourly_usd == pytest.approx(0.38025, abs=1e-4)
    assert cost.monthly_usd == pytest.approx(277.58, abs=0.01)
    assert cost.idle_owned_gpus == 4 and any("4 stay free" in n for n in cost.notes)
    default = owned_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_steady=4,
        gpus_peak=4,
        usd_per_kwh=None,
        pue=1.3,
        tokens_per_hour=1.0,
        node=node,
    )
    assert default.monthly_usd == pytest.approx(277.58 * 0.13 / 0.12, abs=0.01)
    assert any("default" in a and "not a price you gave" in a for a in default.assumptions)


SERVERS = [
    PriceRow(
        id=10,
        gpu_id=GPU,
        kind="purchase",
        provider="complete server",
        source="epoch-hw",
        instance_type="dgx-a100-640gb-2021",
        gpus_per_instance=8,
        usd_purchase=300000,
        date="2021-06-30",
        server_power_w=6500,
    ),
    PriceRow(
        id=11,
        gpu_id=GPU,
        kind="purchase",
        provider="GPU baseboard",
        source="epoch-hw",
        instance_type="hgx-a100-80gb-baseboard-2025-03",
        gpus_per_instance=8,
        usd_purchase=138788.44,
        date="2025-03-04",
        excludes_host=True,
        server_power_w=6500,
    ),
    PriceRow(
        id=12,
        gpu_id="H200-SXM-141GB",
        kind="purchase",
        provider="GPU baseboard",
        source="epoch-hw",
        instance_type="hgx-h200-baseboard-2024-03",
        gpus_per_instance=8,
        usd_purchase=270565,
        date="2024-03-27",
        excludes_host=True,
        server_power_w=10200,
    ),
    PriceRow(id=13, gpu_id="L4", kind="purchase", provider="market average", source="t", usd_purchase=1800),
    PriceRow(id=14, gpu_id="L4", kind="purchase", provider="MSRP", source="t", usd_purchase=2345),
]


def test_sxm_gpus_are_bought_as_whole_eight_gpu_servers_with_host_power_support_and_colocation() -> None:
    rental = 8 * 2.50 * HOURS_PER_MONTH  # renting the same 8 GPUs: $14,600/month
    cost = purchase_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_bought=2,
        gpus_steady=2,
        prices=SERVERS,
        usd_per_kwh=0.12,
        pue=1.3,
        months=36,
        space_usd_per_gpu_month=None,
        rental_monthly_usd=rental,
        tokens_per_hour=1.0,
    )
    assert cost is not None
    # A complete server wins over a newer bare baseboard; 2 GPUs needed buys one 8-GPU server.
    assert (cost.nodes, cost.gpus_per_node) == (1, 8)
    assert cost.capex_usd == pytest.approx(300000) and cost.prices[0].price_id == 10
    # Per month: energy 6.5 kW × 75 % × 1.3 × $0.12 × 730 = $555.165; colocation 6.5 × $184 = $1,196;
    # support 20 %/year of $300,000 = $5,000.
    assert cost.power_monthly_usd == pytest.approx(555.165, abs=0.01)
    assert cost.opex_monthly_usd == pytest.approx(555.165 + 1196 + 5000, abs=0.01)
    assert cost.tco_usd == pytest.approx(300000 + 36 * 6751.165, abs=0.05)
    assert cost.break_even_month == pytest.approx(300000 / (14600 - 6751.165), abs=0.05)  # 38.2 months
    assert any("6 bought GPUs are spare" in n for n in cost.notes)
    assert any("colocation $184 per kW" in a for a in cost.assumptions)


def test_a_bare_baseboard_gets_a_host_and_pcie_cards_go_in_the_smallest_server_that_holds_them() -> None:
    h200 = server_node("H200-SXM-141GB", board=True, gpus_needed=8, tdp_w=700, prices=SERVERS)
    assert h200 is not None and h200.usd == pytest.approx(270565 + 32010)
    l4 = server_node("L4", board=False, gpus_needed=3, tdp_w=72, prices=SERVERS)
    assert l4 is not None and l4.gpus == 4
    assert l4.usd == pytest.approx(4 * 1800 * 1.64)  # card price × Epoch's server overhead
    assert l4.power_w == pytest.approx(4 * 72 + 1500)


def test_purchase_never_breaks_even_when_renting_is_cheaper() -> None:
    cost = purchase_cost(
        GPU,
        tdp_w=TDP_W,
        gpus_bought=8,
        gpus_steady=8,
        prices=SERVERS,
        usd_per_kwh=0.12,
        pue=1.3,
        months=36,
        space_usd_per_gpu_month=None,
        rental_monthly_usd=100.0,
        tokens_per_hour=1.0,
    )
    assert cost is not None and cost.break_even_month is None
    assert any("never breaks even" in n for n in cost.notes)


def test_a_recommended_purchase_is_whole_servers_at_a_sourced_server_price() -> None:
    from support.catalog import seed_catalog, seed_prices

    from app.intent.schema import DeploymentIntent
    from app.intent.usecases import apply_template, template_for_task
    from app.planning.plan import plan

    gpus = ["H100-SXM-80GB", "L4"]
    catalog = seed_catalog(["Qwen/Qwen2.5-7B-Instruct"], dict.fromkeys(gpus, 1.0), prices=seed_prices(gpus))
    intent = DeploymentIntent(task_type="chatbot", concurrent_users=100, deployment_model="purchase")
    result = plan(apply_template(intent, template_for_task("chatbot")), catalog)
    assert result.options, result.message
    for o in result.options + result.viable:
        cost = o.cost
        assert cost.deployment_model == "purchase" and cost.nodes and cost.gpus_per_node
        assert cost.nodes * cost.gpus_per_node >= o.gpus_total
        if o.gpu_id == "H100-SXM-80GB":
            # An 8-GPU board bought whole, at the most recent complete-server price in the catalog.
            assert cost.gpus_per_node == 8 and cost.node_usd == pytest.approx(375000)
            assert cost.prices[0].source == "epoch-hw"
            assert any("8-GPU server prices range $199,000" in n for n in cost.notes)
        assert (cost.assumptions and cost.break_even_month is None) or cost.break_even_month > 0

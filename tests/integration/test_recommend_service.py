"""The recommender over the seeded knowledge base: worked examples, impossible specs, storage, scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app.intent.schema import Specification
from app.planning.quality import meets_threshold
from app.planning.recommend import RecommendError
from app.services.planner import recommend
from app.services.scenario_store import compare_scenarios, save_scenario, viable_if_ttft
from app.services.specify import spec_from_text
from db import models as m

ROOT = Path(__file__).resolve().parents[2]


async def chatbot(session: Any) -> Specification:
    return await spec_from_text("a chatbot for 1000 users, low latency is critical", session=session)


async def test_seed_design_chatbot_for_1000_users(session: Any) -> None:
    spec = await chatbot(session)
    result = await recommend(spec, session=session)
    # The load, derived in words: 1,000 users × 10% active × 2 requests/min ÷ 60 = 3.33 QPS, × 2 at peak.
    assert result.traffic.steady_qps == pytest.approx(3.3333, abs=1e-3)
    assert result.traffic.peak_qps == pytest.approx(6.6667, abs=1e-3)
    assert "1,000 users × 10% active" in result.traffic.explanation[0]
    assert 3 <= len(result.options) <= 5
    for o in result.options:
        checks = {c.metric: c for c in o.slo_checks}
        assert checks["ttft_p90_ms"].predicted <= spec.target_ttft_p90_ms
        assert checks["tpot_p90_ms"].predicted <= spec.target_tpot_p90_ms
        assert checks["e2e_p95_ms"].predicted <= spec.target_e2e_latency_p95_ms
        assert o.max_replicas >= o.min_replicas >= 2  # N+1 for 99.9%
        assert o.headroom.startswith("N+1")
        assert meets_threshold(o.quality, "high")
        assert o.cost.prices and o.cost.prices[0].source and o.cost.provider
        assert o.rationale and o.model_id.split("/")[-1] in o.rationale
    assert result.pareto and set(result.pareto) & {o.rank for o in result.options}
    # Stored with an id and audited.
    row = await session.get(m.Recommendation, __import__("uuid").UUID(result.recommendation_id))
    assert row is not None and row.result["options"][0]["model_id"] == result.options[0].model_id
    audit = await session.execute(select(m.AuditLog).where(m.AuditLog.object_id == result.recommendation_id))
    assert audit.scalars().first() is not None


async def test_budget_too_small_says_what_to_relax(session: Any) -> None:
    spec = (await chatbot(session)).edit(max_monthly_cost_usd=100)
    result = await recommend(spec, session=session)
    assert result.options == []
    assert result.message and result.message.startswith("nothing meets these constraints")
    assert "$100" in result.message
    assert result.nearest_misses
    budget = [r for r in result.relax if r.field == "max_monthly_cost_usd"]
    assert budget and budget[0].suggested > 100 and "$" in budget[0].effect


async def test_ttft_of_one_millisecond_is_explained(session: Any) -> None:
    spec = (await chatbot(session)).edit(target_ttft_p90_ms=1)
    result = await recommend(spec, session=session)
    assert result.options == []
    assert "TTFT p90 target of 1" in (result.message or "")
    relax = {r.field: r for r in result.relax}
    assert relax["target_ttft_p90_ms"].suggested > 1


async def test_unknown_gpu_and_negative_users_are_clear_errors(session: Any) -> None:
    spec = await chatbot(session)
    with pytest.raises(RecommendError, match="unknown GPU 'H900'"):
        await recommend(spec.edit(available_gpus=["H900"]), session=session)
    with pytest.raises(ValidationError, match="concurrent_users"):
        spec.edit(concurrent_users=-5)
    with pytest.raises(RecommendError, match="no prices from 'Hetzner'"):
        await recommend(spec.edit(cloud_provider="Hetzner"), session=session)


async def test_constraints_are_honoured(session: Any) -> None:
    spec = (await chatbot(session)).edit(
        available_gpus=["H100", "L40S"],
        priority="cost",
        preferred_models=["Qwen2.5-7B-Instruct"],
        max_gpus=4,
        target_e2e_latency_p95_ms=4000,
    )
    result = await recommend(spec, session=session)
    assert result.options
    assert {o.gpu_id for o in result.options} <= {"H100-SXM-80GB", "L40S-48GB"}
    assert all(o.gpus_total <= 4 for o in result.options)
    assert result.options[0].model_id == "Qwen/Qwen2.5-7B-Instruct"  # a preference, ranked up
    assert "prefer" in result.options[0].rationale


async def test_owned_inventory_limits_counts(session: Any) -> None:
    spec = (await chatbot(session)).edit(
        gpu_inventory=[{"gpu": "A100-80GB", "count": 4}],
        deployment_model="owned_hardware",
        power_cost_per_kwh=0.12,
        priority="cost",
        target_e2e_latency_p95_ms=6000,
    )
    result = await recommend(spec, session=session)
    assert result.options
    for o in result.options:
        assert o.gpu_id == "A100-SXM-80GB" and o.gpus_total <= 4
        assert o.cost.deployment_model == "owned_hardware"
        # Energy: GPUs at steady load × (400 W GPU + 412.5 W host share of the DGX A100's 6.5 kW over 8
        # GPUs) × 75 % average draw × 730 h × $0.12 × PUE 1.3; the owned GPUs not used stay free.
        per_gpu_kw = (0.4 + (6.5 - 8 * 0.4) / 8) * 0.75
        assert o.cost.monthly_usd == pytest.approx(
            o.min_replicas * o.tp * per_gpu_kw * 730 * 0.12 * 1.3, abs=0.01
        )
        assert o.cost.idle_owned_gpus == 4 - o.gpus_total


async def test_scenarios_compare_and_tighten(session: Any) -> None:
    result = await recommend(await chatbot(session), session=session)
    rid = result.recommendation_id
    assert rid is not None
    await save_scenario("A", rid, option_rank=1, session=session)
    await save_scenario("B", rid, option_rank=2, session=session)
    table = await compare_scenarios(["A", "B"], session=session)
    a, b = table.columns
    assert table.deltas[0]["monthly_usd"] == pytest.approx(b.monthly_usd - a.monthly_usd, abs=0.01)
    assert [r[0] for r in table.rows[1:]] == [
        "Model",
        "GPUs",
        "Cost",
        "TTFT p90",
        "TPOT p90",
        "E2E p95",
        "Quality",
        "Throughput",
    ]
    assert table.rows[0][-1] == "Difference"
    tight = a.ttft_p90_ms * 1.5
    report = await viable_if_ttft("A", tight, session=session)
    assert report.stays and report.summary.startswith("At TTFT p90")


def test_cli_json_and_exit_codes(cli_env: dict[str, str], tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    run = [sys.executable, "-m", "app.planning.recommend_cli", "recommend"]
    out = subprocess.run(
        [*run, "a chatbot for 1000 users, low latency is critical", "--json"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data)[:7] == [
        "recommendation_id",
        "specification",
        "traffic",
        "options",
        "rejected",
        "pareto",
        "relax",
    ]
    spec = data["specification"]
    spec_file.write_text(json.dumps({**spec, "max_monthly_cost_usd": 50}))
    poor = subprocess.run(
        [*run, "--spec", str(spec_file), "--json"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert poor.returncode == 0 and json.loads(poor.stdout)["options"] == []
    spec_file.write_text(json.dumps({**spec, "concurrent_users": -5}))
    bad = subprocess.run(
        [*run, "--spec", str(spec_file)], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "concurrent_users" in bad.stderr and "Traceback" not in bad.stderr

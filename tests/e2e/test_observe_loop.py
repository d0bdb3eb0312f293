"""Observe and learn against a real simulator process and a real database.

- A load test reproduces the simulator's configured ITL within 5% at moderate load.
- The feedback loop: a simulator deliberately slower than predicted, a load test, SLO compliance, an outcome
  stored, and the next prediction for that configuration moving toward what was observed.
- Killing the simulator mid-observation marks the deployment unhealthy with a clear reason, and no stored
  sample is lost.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.simulator import Simulator
from support.waiting import wait_until

from app.observe import hooks
from app.observe.loadtest import LoadTestConfig, LoadTestReport, run_loadtest
from app.observe.metrics import parse_metrics, window_stats
from app.observe.scrape import Scraper
from app.observe.slo import parse_slo
from db import models as m
from db.session import make_engine

ROOT = Path(__file__).resolve().parents[2]


async def ok_samples_since(
    sessions: async_sessionmaker[AsyncSession], dep_id: uuid.UUID, since: datetime | None
) -> list[int]:
    """Ids of the deployment's successful scrapes (taken after ``since``, when given)."""
    stmt = select(m.MetricSample.id).where(
        m.MetricSample.deployment_id == dep_id, m.MetricSample.ok.is_(True)
    )
    if since is not None:
        stmt = stmt.where(m.MetricSample.at > since)
    async with sessions() as s:
        return list((await s.execute(stmt)).scalars())


async def scrapes_after(
    sessions: async_sessionmaker[AsyncSession], dep_id: uuid.UUID, ended: datetime
) -> bool:
    """Whether the scraper holds the counts as of ``ended``: a sample is stamped when its response is read,
    so only the second one stamped after ``ended`` was surely requested after it."""
    return len(await ok_samples_since(sessions, dep_id, ended)) >= 2


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[list[Simulator]]:
    started: list[Simulator] = []
    yield started
    for sim in started:
        sim.kill()


def flat_profile(base_ms: float, per_seq_ms: float) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "model": "observe-test",
        "prefill": {"overhead_ms": 20.0, "per_token_ms": 0.05},
        "decode": {"base_ms": base_ms, "per_seq_ms": per_seq_ms, "per_context_token_ms": 0.0, "table": None},
        "max_num_seqs": 64,
        "max_num_batched_tokens": 8192,
        "kv_cache": {"tokens": 200000, "block_size": 16},
        "jitter": {"cv": 0.0, "seed": 0},
    }


async def test_loadtest_reproduces_the_configured_itl(tmp_path: Path, simulators: list[Simulator]) -> None:
    base_ms, per_seq_ms, clients = 20.0, 0.5, 8
    sim = Simulator(tmp_path, flat_profile(base_ms, per_seq_ms))
    simulators.append(sim)
    expected_itl = base_ms + per_seq_ms * clients  # every decode step carries the 8 sequences
    async with httpx.AsyncClient() as client:
        before = parse_metrics((await client.get(sim.url + "/metrics")).text, time.time())
    cfg = LoadTestConfig(
        endpoint=sim.url,
        profile="concurrency",
        concurrency=clients,
        duration_s=8,
        prompt_tokens=128,
        output_tokens=64,
    )
    report = await run_loadtest(cfg)
    assert isinstance(report, LoadTestReport)
    async with httpx.AsyncClient() as client:
        after = parse_metrics((await client.get(sim.url + "/metrics")).text, time.time())
    assert report.errors == 0 and report.completed >= 3 * clients
    assert report.output_tokens_avg == 64
    # Client side: the median gap between streamed tokens and the mean TPOT are the configured step.
    assert report.itl_ms.p50 == pytest.approx(expected_itl, rel=0.05)
    assert report.tpot_ms.mean == pytest.approx(expected_itl, rel=0.05)
    # Server side, through the scraped histogram increase: the same figure.
    stats = window_stats({"sim": [before, after]})
    assert stats is not None and stats.itl_ms.mean == pytest.approx(expected_itl, rel=0.05)
    assert stats.requests == pytest.approx(report.completed, abs=clients)


def _slowed(profile: dict[str, Any], factor: float) -> dict[str, Any]:
    slow = json.loads(json.dumps(profile))
    for key in ("overhead_ms", "per_token_ms"):
        slow["prefill"][key] *= factor
    for key in ("base_ms", "per_seq_ms", "per_context_token_ms"):
        slow["decode"][key] *= factor
    for row in slow["decode"].get("table") or []:
        row["step_ms"] *= factor
    return slow


async def test_slower_than_predicted_closes_the_loop(
    tmp_path: Path, simulators: list[Simulator], fresh_db_url: str
) -> None:
    """This proves the loop's wiring: prediction → deployment on the simulator → scraped metrics and load
    test → SLO compliance → outcome stored → the next prediction for the configuration moves toward what
    was observed, both as a corrected prediction and in the next recommendation (``recommend()``). The
    simulator runs the planner's own profile made 1.6x slower, so the outcome is known."""
    from app.intent.schema import DeploymentIntent
    from app.intent.usecases import apply_template, template_for_task
    from app.observe.learning import corrected_prediction
    from app.observe.outcomes import (
        DeploymentConfig,
        observed_from_report,
        record_outcome,
        similar_outcomes,
        summarize_similar,
        traffic_from_report,
    )
    from app.observe.service import observe_deployment
    from app.perf.predict import default_calibration, predict
    from app.perf.profile import performance_profile
    from app.perf.types import Workload
    from app.planning.catalog import default_catalog
    from app.services.planner import recommend

    slow = 1.6
    clients, prompt, output = 4, 256, 64
    cat = default_catalog()
    arch, gpu = cat.get_model("llama-3.1-8b"), cat.get_gpu("H100-SXM-80GB")
    workload = Workload.fixed(prompt, output, concurrency=clients)
    prediction = predict(arch, gpu, workload)
    assert prediction.tpot_ms is not None and prediction.ttft_ms is not None
    predicted_tpot = prediction.tpot_ms.mean
    profile = performance_profile(arch, gpu, default_calibration(), served_model_name="llama-8b-slow")
    sim = Simulator(tmp_path, _slowed(profile, slow))
    simulators.append(sim)

    # SLOs the prediction meets but a 1.6x slower server misses (TPOT), and one it meets anyway (TTFT).
    tpot_target = round(predicted_tpot * 1.3, 2)
    spec = {
        "use_case_description": "internal chat assistant for engineers",
        "expected_qps": 2.0,
        "prompt_length_avg": prompt,
        "generation_length_avg": output,
        "target_ttft_p90_ms": 500.0,
        "target_tpot_p90_ms": tpot_target,
    }
    option = {
        "model_id": arch.id,
        "gpu_id": gpu.id,
        "engine": "vllm",
        "tp": 1,
        "precision": "bf16",
        "replicas": 1,
        "min_replicas": 1,
        **prediction.model_dump(mode="json", include={"ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"}),
        "output_tokens_per_s": prediction.output_tokens_per_s,
    }
    engine = make_engine(fresh_db_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    scraper = Scraper(engine, interval_s=1.0)
    try:
        async with sessions() as s:
            dep = m.Deployment(
                name="loop", state="ready", endpoint=sim.url, specification=spec, prediction=option
            )
            s.add(dep)
            await s.commit()
        scraper.watch(dep.id)
        # A baseline sample before the load starts, so the window holds the whole load test.
        await wait_until(lambda: ok_samples_since(sessions, dep.id, None), "a first scrape")
        cfg = LoadTestConfig(
            endpoint=sim.url,
            profile="concurrency",
            concurrency=clients,
            duration_s=6,
            prompt_tokens=prompt,
            output_tokens=output,
            slos=[parse_slo("ttft_p90_ms", 500.0), parse_slo("tpot_p90_ms", tpot_target)],
        )
        report = await run_loadtest(cfg)
        assert isinstance(report, LoadTestReport) and report.errors == 0
        ended = datetime.now(UTC)
        await wait_until(lambda: scrapes_after(sessions, dep.id, ended), "the final counts")
        await scraper.unwatch(dep.id)

        # SLO compliance from the scraped histograms, per SLO.
        async with sessions() as s:
            obs = await observe_deployment(dep.id, session=s, window_s=120, step_s=2)
        assert obs.compliance is not None
        by_slo = {st.slo: st for st in obs.compliance.slos}
        ttft, tpot = by_slo["ttft_p90_ms"], by_slo["tpot_p90_ms"]
        assert ttft.met is True and ttft.time_in_violation_s == 0
        assert tpot.met is False and tpot.observed is not None and tpot.observed > tpot_target
        # Every request's TPOT missed the target, so the 10% budget burns about 10x. The scraped figure is
        # per token (vLLM's histogram) and interpolated within a (10, 25] ms bucket, and a CPU-starved
        # simulator shortens a few gaps while catching up, so it reads lower, yet far above 1.
        assert tpot.burn_rate is not None and 5.0 <= tpot.burn_rate <= 10.0
        # Beside the as-planned comparison, the model re-run at the traffic actually served: four clients'
        # rate and the 256/64 lengths. The server is 1.6x slower than the model at any load, so TPOT at the
        # observed load reads well above the prediction, not near it and not below it.
        assert obs.observed_load is not None
        assert obs.observed_load.input_tokens == pytest.approx(prompt, rel=0.1)
        at_load = {c.metric: c for c in obs.predicted_at_observed_load}
        tpot_at_load = at_load["tpot_ms.mean"].error_pct
        assert tpot_at_load is not None and 25.0 <= tpot_at_load <= 110.0
        # Every step with traffic missed the TPOT target.
        assert tpot.time_in_violation_s > 0 and tpot.time_in_violation_s == pytest.approx(tpot.evaluated_s)
        # The load test's exact per-request values agree with the scraped verdicts.
        exact = {st.slo: st for st in report.slo_compliance}
        assert exact["tpot_p90_ms"].met is False and exact["tpot_p90_ms"].burn_rate == pytest.approx(10.0)
        assert exact["ttft_p90_ms"].met is True
        assert report.goodput == 0.0
        # Predicted vs observed: the observed TPOT is about 1.6x the prediction.
        assert report.tpot_ms.mean is not None
        assert report.tpot_ms.mean / predicted_tpot == pytest.approx(slow, rel=0.1)
        # The as-planned comparison states an error only when the traffic was close to the planned 2 req/s
        # (four closed-loop clients may or may not be); otherwise the planned figures stand without one.
        errors = {c.metric: c.error_pct for c in obs.predicted_vs_observed}
        planned = {c.metric: c.predicted for c in obs.predicted_vs_observed}
        assert planned["tpot_ms.mean"] == pytest.approx(predicted_tpot)
        if abs(obs.observed_load.requests_per_s / 2.0 - 1.0) <= 0.25:
            assert errors["tpot_ms.mean"] is not None and errors["tpot_ms.mean"] > 30
        else:
            assert errors["tpot_ms.mean"] is None
        # Health is separate from lifecycle: still "ready", but degraded, and it says why.
        async with sessions() as s:
            row = await s.get(m.Deployment, dep.id)
            assert row is not None and row.state == "ready"
            assert row.health == "degraded" and "TPOT p90" in (row.health_reason or "")

        # The recommendation for this model on this GPU, before any outcome is stored.
        intent = DeploymentIntent(
            task_type="chatbot",
            concurrent_users=200,
            use_case_description=spec["use_case_description"],
            preferred_models=[arch.id],
            available_gpus=[gpu.id],
        )
        wanted = apply_template(intent, template_for_task("chatbot"))
        async with sessions() as s:
            planned_before = await recommend(wanted, session=s, store=False)
        first = planned_before.options[0]
        assert (first.model_id, first.gpu_id, first.corrected_by_outcomes) == (arch.id, gpu.id, 0)
        assert first.similar_outcomes is None

        # The outcome is stored, with its embedding.
        config = DeploymentConfig(model_id=arch.id, gpu_id=gpu.id, engine="vllm")
        async with sessions() as s:
            stored = await record_outcome(
                config,
                session=s,
                observed=observed_from_report(report),
                predicted=option,
                deployment_id=dep.id,
                spec=spec,
                traffic=traffic_from_report(report),
                compliance=report.slo_compliance,
            )
            await s.commit()
        async with sessions() as s:
            row_o = await s.get(m.DeploymentOutcome, stored.id)
            assert row_o is not None and row_o.embedding is not None
            assert row_o.compliance["slos"][1]["met"] is False
            similar = await similar_outcomes("a chat assistant for our engineering team", session=s)
            assert similar and similar[0].id == stored.id
            assert "1 similar deployment ran at" in (summarize_similar(similar) or "")

            # The next prediction for this configuration moves toward the observed numbers.
            corrected, corrections = await corrected_prediction(
                prediction, arch.id, gpu.id, "vllm", session=s
            )
        assert corrections.n_outcomes == 1 and corrected.corrected_by_outcomes == 1
        assert corrected.tpot_ms is not None and corrected.output_tokens_per_s is not None
        observed_tpot = report.tpot_ms.mean
        assert predicted_tpot < corrected.tpot_ms.mean < observed_tpot
        assert prediction.output_tokens_per_s is not None
        assert report.output_tokens_per_s < corrected.output_tokens_per_s < prediction.output_tokens_per_s

        # The next recommendation for this configuration is corrected by the outcome and says so.
        async with sessions() as s:
            planned_after = await recommend(wanted, session=s, store=False)
        again = next(
            o
            for o in planned_after.options
            if (o.model_id, o.gpu_id, o.precision, o.tp)
            == (first.model_id, first.gpu_id, first.precision, first.tp)
        )
        assert again.corrected_by_outcomes == 1
        assert (
            "corrected by 1 observed outcome of Llama-3.1-8B-Instruct on H100-SXM-80GB: " in again.rationale
        )
        assert again.replicas >= first.replicas
        if again.replicas == first.replicas:  # same load per replica: TPOT moved by the learnt factor
            assert again.tpot_ms.mean == pytest.approx(first.tpot_ms.mean * corrections.tpot, rel=1e-6)
            assert again.tpot_ms.mean > first.tpot_ms.mean
        assert (again.similar_outcomes or "").startswith("1 similar deployment ran at")
    finally:
        await scraper.close()
        await engine.dispose()


async def test_killing_the_simulator_marks_the_deployment_unhealthy(
    tmp_path: Path, simulators: list[Simulator], fresh_db_url: str
) -> None:
    sim = Simulator(tmp_path, flat_profile(20.0, 0.5))
    simulators.append(sim)
    engine = make_engine(fresh_db_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    scraper = Scraper(engine, interval_s=0.5)
    try:
        async with sessions() as s:
            dep = m.Deployment(
                name="doomed", state="ready", endpoint=sim.url, runtime={"endpoints": [sim.url]}
            )
            s.add(dep)
            await s.commit()
        # What the deployment engine does when the deployment becomes ready (app/deploy/service.py).
        hooks.install(scraper)
        hooks.deployment_ready(dep.id)
        await wait_until(lambda: ok_samples_since(sessions, dep.id, None), "a first scrape")
        load = asyncio.create_task(
            run_loadtest(
                LoadTestConfig(endpoint=sim.url, profile="constant", rate=4, duration_s=3, output_tokens=16)
            )
        )
        await load
        ended = datetime.now(UTC)
        await wait_until(lambda: scrapes_after(sessions, dep.id, ended), "the final counts")
        kept = set(await ok_samples_since(sessions, dep.id, None))
        assert len(kept) >= 2
        async with sessions() as s:
            row = await s.get(m.Deployment, dep.id)
            assert row is not None and row.health == "healthy"

        sim.kill()  # mid-observation

        async def unhealthy_reason() -> str | None:
            async with sessions() as s:
                row = await s.get(m.Deployment, dep.id)
                assert row is not None
                return row.health_reason if row.health == "unhealthy" else None

        reason = await wait_until(unhealthy_reason, "the deployment to be marked unhealthy")
        assert sim.url in reason and "connection refused" in reason and "last good sample" in reason
        hooks.deployment_removed(dep.id)

        async def stopped_watching() -> bool:
            return dep.id not in scraper.watching()

        await wait_until(stopped_watching, "the scraper to stop watching the removed deployment")
        async with sessions() as s:
            rows = (
                (await s.execute(select(m.MetricSample).where(m.MetricSample.deployment_id == dep.id)))
                .scalars()
                .all()
            )
        ok_now = {r.id for r in rows if r.ok}
        assert kept <= ok_now, "samples stored before the endpoint went away must survive it"
        failed = [r for r in rows if not r.ok]
        assert len(failed) >= 2 and all("connection refused" in (r.error or "") for r in failed)
        # The window's statistics still come from the samples taken while it was alive.
        async with sessions() as s:
            from app.observe.service import observe_deployment

            obs = await observe_deployment(dep.id, session=s, window_s=120)
        assert obs.stats is not None and obs.stats.requests >= 8
        assert obs.health.state == "unhealthy"
    finally:
        hooks.install(None)
        await scraper.close()
        await engine.dispose()


def test_loadtest_cli_runs_and_reports(tmp_path: Path, simulators: list[Simulator]) -> None:
    sim = Simulator(tmp_path, flat_profile(20.0, 0.5))
    simulators.append(sim)
    cmd = [
        sys.executable,
        "-m",
        "app",
        "loadtest",
        sim.url,
        "--profile",
        "poisson",
        "--rate",
        "4",
        "--duration",
        "3",
        "--output-tokens",
        "16",
        "--slo",
        "ttft_p90_ms=500",
        "--json",
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["profile"] == "poisson" and data["completed"] > 0 and data["goodput"] is not None
    bad = subprocess.run(
        [sys.executable, "-m", "app", "loadtest", sim.url, "--profile", "poisson"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "needs --rate" in bad.stderr and "Traceback" not in bad.stderr
    gone = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "loadtest",
            "http://127.0.0.1:9",
            "--concurrency",
            "1",
            "--duration",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gone.returncode == 1 and "cannot reach" in gone.stderr and "Traceback" not in gone.stderr

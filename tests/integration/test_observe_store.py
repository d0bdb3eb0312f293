"""Samples, retention, the scraping lock, outcomes by similarity and corrections, on the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.observe.learning import load_corrections
from app.observe.metrics import Snapshot
from app.observe.outcomes import DeploymentConfig, record_outcome, similar_outcomes, summarize_similar
from app.observe.scrape import load_series, prune_samples, release_lock, scrape_states, try_lock
from db import models as m
from db.session import make_engine


async def _deployment(session: Any) -> m.Deployment:
    dep = m.Deployment(name=f"obs-{uuid.uuid4().hex[:6]}", endpoint="http://127.0.0.1:1")
    session.add(dep)
    await session.flush()
    return dep


async def test_samples_are_stored_read_back_and_pruned_by_age(session: Any) -> None:
    dep = await _deployment(session)
    now = datetime.now(UTC)
    old = m.MetricSample(
        deployment_id=dep.id,
        target="t",
        at=now - timedelta(days=10),
        ok=True,
        data=Snapshot(t=0).model_dump(),
    )
    fresh = [
        m.MetricSample(
            deployment_id=dep.id,
            target="t",
            at=now - timedelta(seconds=30 - i * 10),
            ok=True,
            data=Snapshot(
                t=now.timestamp() - 30 + i * 10, counters={"request_success": 5.0 * i}
            ).model_dump(),
        )
        for i in range(3)
    ]
    failed = m.MetricSample(
        deployment_id=dep.id, target="t", at=now, ok=False, error="connection refused at x"
    )
    session.add_all([old, *fresh, failed])
    await session.flush()
    series = await load_series(dep.id, session=session, since=now - timedelta(minutes=5))
    assert [s.counters["request_success"] for s in series["t"]] == [0.0, 5.0, 10.0]
    (state,) = await scrape_states(dep.id, session=session)
    assert state.consecutive_failures == 1 and state.last_error == "connection refused at x"
    assert state.last_ok_at is not None
    deleted = await prune_samples(session=session, retention=timedelta(days=7))
    assert deleted == 1
    left = (
        await session.execute(select(func.count()).where(m.MetricSample.deployment_id == dep.id))
    ).scalar_one()
    assert left == 4


async def test_one_scraper_per_deployment_through_advisory_locks(shared_db_url: str) -> None:
    engine = make_engine(shared_db_url)
    dep_id = uuid.uuid4()
    try:
        async with engine.connect() as replica_a, engine.connect() as replica_b:
            assert await try_lock(replica_a, dep_id)
            assert not await try_lock(replica_b, dep_id), "a second Preflight replica must not scrape it too"
            assert await try_lock(replica_b, uuid.uuid4()), "other deployments stay free"
            # Replica A dies: its database session ends, and so does its lock.
            await replica_a.invalidate()
            assert await try_lock(replica_b, dep_id)
            await release_lock(replica_b, dep_id)  # a scraper that stops gives the lock back
            async with engine.connect() as replica_c:
                assert await try_lock(replica_c, dep_id)
                await release_lock(replica_c, dep_id)
    finally:
        await engine.dispose()


async def test_similar_outcomes_and_corrections(session: Any) -> None:
    cfg = DeploymentConfig(model_id="obs-test/llama-8b", gpu_id="OBS-GPU", engine="vllm")
    predicted = {
        "output_tokens_per_s": 1000.0,
        "ttft_ms": {"p90": 200.0, "mean": 100.0},
        "tpot_ms": {"mean": 10.0},
    }
    for thr, tpot in ((850.0, 11.0), (920.0, 10.5), (880.0, 12.0)):
        await record_outcome(
            cfg,
            session=session,
            observed={
                "output_tokens_per_s": thr,
                "ttft_ms": {"p90": 210.0, "mean": 105.0},
                "tpot_ms": {"mean": tpot},
            },
            predicted=predicted,
            spec={"use_case_description": "customer support chatbot for an airline", "expected_qps": 5},
        )
    other = DeploymentConfig(model_id="obs-test/coder", gpu_id="OBS-GPU2")
    await record_outcome(
        other,
        session=session,
        observed={"output_tokens_per_s": 500.0},
        predicted={"output_tokens_per_s": 1000.0},
        description="nightly batch summarisation of legal contracts",
    )
    found = await similar_outcomes("a support chatbot answering airline customers", session=session, limit=3)
    assert len(found) == 3 and all("chatbot" in s.description for s in found)
    assert summarize_similar(found) == (
        "3 similar deployments ran at 85-92% of predicted throughput, with TTFT p90 at 105% of predicted"
    )
    c = await load_corrections(cfg.model_id, cfg.gpu_id, "vllm", session=session)
    assert c.n_outcomes == 3
    assert 0.85 < c.throughput < 1.0 and 1.0 < c.tpot < 1.12


async def test_a_scraper_holds_all_its_locks_on_one_connection(fresh_db_url: str) -> None:
    """Watching many deployments must not take one pooled connection each: 50 live deployments used to take
    the whole pool (30), and every API request then got 503."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from support.waiting import wait_until

    from app.observe.scrape import LOCK_CLASS, Scraper

    engine = make_engine(fresh_db_url)
    n = 40
    scraper = Scraper(engine, interval_s=1.0, timeout_s=1.0)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            deps = [
                m.Deployment(name=f"many-{i}", state="ready", endpoint="http://127.0.0.1:9") for i in range(n)
            ]
            s.add_all(deps)
            await s.commit()
            ids = [d.id for d in deps]
        for dep_id in ids:
            scraper.watch(dep_id)

        async def held() -> tuple[int, int] | None:
            async with engine.connect() as conn:
                locks, holders = (
                    await conn.execute(
                        text(
                            "SELECT count(*), count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND classid = :c AND objsubid = 2 AND granted AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())"
                        ),
                        {"c": LOCK_CLASS & 0xFFFFFFFF},
                    )
                ).one()
            return (locks, holders) if locks == n else None

        assert await wait_until(held, f"the scraper to lock all {n} deployments") == (n, 1)
        # And they are scraped (each failure is stored), with the pool to spare for everyone else.
        async with async_sessionmaker(engine)() as s:
            failed = await wait_until(
                lambda: s.scalar(
                    select(func.count(func.distinct(m.MetricSample.deployment_id))).where(
                        m.MetricSample.deployment_id.in_(ids)
                    )
                ),
                "a stored scrape of every deployment",
            )
        assert failed >= 1
        await scraper.close()

        async def released() -> bool:
            async with engine.connect() as conn:
                count = (
                    await conn.execute(
                        text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c"),
                        {"c": LOCK_CLASS & 0xFFFFFFFF},
                    )
                ).scalar_one()
            return count == 0

        await wait_until(released, "the locks to be given back")
    finally:
        await scraper.close()
        await engine.dispose()

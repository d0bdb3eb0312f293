"""SLO compliance, burn rate and time in violation on constructed series; health; predicted vs observed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_observe_metrics import FakeVllm  # same folder (pytest prepends it to sys.path)

from app.observe.metrics import parse_metrics
from app.observe.slo import (
    ScrapeState,
    SloError,
    SloStatus,
    compliance,
    compliance_from_values,
    parse_slo,
    predicted_vs_observed,
    runtime_health,
    slos_from_specification,
)

pytestmark = pytest.mark.unit


def _series_fast_then_slow() -> dict[str, list]:
    """Snapshots every 30 s for 300 s: 20 requests per interval, TTFT 50 ms for 150 s, then 600 ms."""
    v = FakeVllm()
    snaps = [parse_metrics(v.text(), 0.0)]
    for i in range(1, 11):
        v.serve(20, ttft_s=0.05 if i <= 5 else 0.6, itl_s=0.02)
        snaps.append(parse_metrics(v.text(), 30.0 * i))
    return {"replica-0": snaps}


def test_compliance_burn_rate_and_time_in_violation() -> None:
    slos = [parse_slo("ttft_p90_ms", 250), parse_slo("tpot_p90_ms", 50)]
    comp = compliance(_series_fast_then_slow(), slos, step_s=60)
    assert comp is not None
    ttft, tpot = comp.slos
    # Half the requests took 600 ms: p90 misses 250 ms; the budget is 10%, half is bad: burn rate 5.
    assert ttft.met is False
    assert ttft.observed is not None and 500 < ttft.observed <= 750
    assert ttft.bad_fraction == pytest.approx(0.5)
    assert ttft.burn_rate == pytest.approx(5.0)
    # Steps of 60 s: [0,60] [60,120] fast; [120,180] mixed (p90 slow) [180,240] [240,300] slow.
    assert ttft.evaluated_s == pytest.approx(300)
    assert ttft.time_in_violation_s == pytest.approx(180)
    assert ttft.compliance_ratio == pytest.approx(0.4)
    # ITL 20 ms everywhere: met, nothing above 50 ms, no budget burnt.
    assert tpot.met is True and tpot.burn_rate == 0.0 and tpot.time_in_violation_s == 0


def test_no_traffic_means_no_verdict() -> None:
    v = FakeVllm()
    series = {"r": [parse_metrics(v.text(), 0.0), parse_metrics(v.text(), 60.0)]}
    comp = compliance(series, [parse_slo("ttft_p90_ms", 250)])
    assert comp is not None and comp.slos[0].met is None and comp.slos[0].burn_rate is None


def test_slo_names_and_specification() -> None:
    assert parse_slo("e2e_latency_p95_ms", 2000).percentile == pytest.approx(0.95)
    assert parse_slo("target_itl_p99_ms", 40).name == "itl_p99_ms"
    with pytest.raises(SloError, match="unknown SLO"):
        parse_slo("latency", 1)
    spec = {
        "target_ttft_p90_ms": 300,
        "target_tpot_p90_ms": 50,
        "target_e2e_latency_p95_ms": 5000,
        "reliability_target": 99.9,
        "expected_qps": 4,
    }
    slos = {s.name: s for s in slos_from_specification(spec)}
    assert set(slos) == {"ttft_p90_ms", "tpot_p90_ms", "e2e_p95_ms", "error_rate"}
    assert slos["error_rate"].target == pytest.approx(0.001)
    assert slos["ttft_p90_ms"].budget == pytest.approx(0.1)


def test_compliance_from_exact_values() -> None:
    ttft = [100.0] * 95 + [900.0] * 5
    (st,) = compliance_from_values({"ttft": ttft}, [parse_slo("ttft_p90_ms", 300)])
    assert st.met is True and st.bad_fraction == pytest.approx(0.05) and st.burn_rate == pytest.approx(0.5)


def test_health_from_reachability_errors_and_slos() -> None:
    t0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    down = ScrapeState(
        target="http://127.0.0.1:9",
        consecutive_failures=3,
        last_error="connection refused at http://127.0.0.1:9/metrics",
        first_failure_at=t0,
        last_ok_at=t0,
    )
    h = runtime_health([down])
    assert h.state == "unhealthy"
    assert "http://127.0.0.1:9" in h.reason and "connection refused" in h.reason and "3 scrapes" in h.reason
    up = ScrapeState(target="http://127.0.0.1:8", last_ok_at=t0)
    assert runtime_health([up, down]).state == "degraded"
    comp = compliance(_series_fast_then_slow(), [parse_slo("ttft_p90_ms", 250)], step_s=60)
    assert comp is not None
    h = runtime_health([up], comp.slos)
    assert h.state == "degraded" and "TTFT p90" in h.reason and "burn rate 5.0x" in h.reason
    assert runtime_health([up], error_rate=0.2).state == "unhealthy"
    assert runtime_health([up]).state == "healthy"


def test_predicted_vs_observed_percent_error() -> None:
    predicted = {"ttft_ms": {"p90": 200.0, "mean": 100.0}, "output_tokens_per_s": 1000.0}
    observed = {"ttft_ms": {"p90": 250.0, "mean": 90.0}, "output_tokens_per_s": 850.0}
    rows = {c.metric: c for c in predicted_vs_observed(predicted, observed)}
    assert rows["ttft_ms.p90"].error_pct == pytest.approx(25.0)
    assert rows["ttft_ms.mean"].error_pct == pytest.approx(-10.0)
    assert rows["output_tokens_per_s"].error_pct == pytest.approx(-15.0)


def test_a_fast_burning_latency_slo_is_degraded_not_unhealthy() -> None:
    """Unhealthy is for not serving; a slow deployment is degraded, and the reason says it burns fast."""
    up = ScrapeState(target="http://127.0.0.1:8", last_ok_at=datetime(2026, 1, 1, tzinfo=UTC))
    slow = SloStatus(
        slo="tpot_p90_ms",
        label="TPOT p90",
        target=20.0,
        unit="ms",
        observed=40.0,
        met=False,
        bad_fraction=1.0,
        error_budget=0.1,
        burn_rate=10.0,
    )
    h = runtime_health([up], [slow])
    assert h.state == "degraded"
    assert "burn rate 10.0x" in h.reason and "fast burn" in h.reason

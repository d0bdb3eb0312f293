"""vLLM metrics → snapshots → windowed percentiles and rates, including counter resets and missing metrics."""

from __future__ import annotations

import math
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from app.observe.metrics import (
    Hist,
    MetricsParseError,
    Snapshot,
    fraction_above,
    parse_metrics,
    quantile,
    snapshot_from_prometheus,
    window_stats,
)
from simulator.metrics import REQUEST_LATENCY_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS

pytestmark = pytest.mark.unit
LABELS = ("model_name", "engine")


class FakeVllm:
    """A real prometheus_client registry with vLLM's names and buckets (what a replica exposes)."""

    def __init__(self, engines: int = 1) -> None:
        r = self.registry = CollectorRegistry()
        self.ttft = Histogram(
            "vllm:time_to_first_token_seconds", "", LABELS, buckets=TTFT_BUCKETS, registry=r
        )
        self.itl = Histogram("vllm:inter_token_latency_seconds", "", LABELS, buckets=TPOT_BUCKETS, registry=r)
        self.e2e = Histogram(
            "vllm:e2e_request_latency_seconds", "", LABELS, buckets=REQUEST_LATENCY_BUCKETS, registry=r
        )
        self.gen = Counter("vllm:generation_tokens", "", LABELS, registry=r)
        self.prompt = Counter("vllm:prompt_tokens", "", LABELS, registry=r)
        self.success = Counter("vllm:request_success", "", (*LABELS, "finished_reason"), registry=r)
        self.waiting = Gauge("vllm:num_requests_waiting", "", LABELS, registry=r)
        self.kv = Gauge("vllm:kv_cache_usage_perc", "", LABELS, registry=r)
        self.engines = [str(i) for i in range(engines)]

    def serve(self, n: int, ttft_s: float, itl_s: float, tokens: int = 10, engine: str = "0") -> None:
        lab = ("m", engine)
        for _ in range(n):
            self.ttft.labels(*lab).observe(ttft_s)
            for _ in range(tokens - 1):
                self.itl.labels(*lab).observe(itl_s)
            self.e2e.labels(*lab).observe(ttft_s + itl_s * (tokens - 1))
            self.gen.labels(*lab).inc(tokens)
            self.prompt.labels(*lab).inc(100)
            self.success.labels(*lab, "length").inc()

    def text(self) -> str:
        return generate_latest(self.registry).decode()


def test_parse_sums_label_sets_and_reads_buckets() -> None:
    v = FakeVllm(engines=2)
    v.serve(3, 0.03, 0.02, engine="0")
    v.serve(2, 0.03, 0.02, engine="1")
    v.kv.labels("m", "0").set(0.2)
    v.kv.labels("m", "1").set(0.4)
    snap = parse_metrics(v.text(), t=100.0)
    assert snap.hists["ttft"].count == 5
    assert snap.hists["ttft"].le[-1] == math.inf
    assert snap.counters["generation_tokens"] == 50
    assert snap.counters["request_success"] == 5
    assert snap.gauges["kv_cache_usage"] == pytest.approx(0.3)  # averaged over engines, not added
    assert snap.models == ["m"]


def test_window_percentiles_come_from_the_increase_only() -> None:
    v = FakeVllm()
    v.serve(200, ttft_s=0.03, itl_s=0.012)  # before the window
    a = parse_metrics(v.text(), t=0.0)
    v.serve(100, ttft_s=0.3, itl_s=0.06)  # inside the window
    b = parse_metrics(v.text(), t=10.0)
    stats = window_stats({"r1": [a, b]})
    assert stats is not None
    assert stats.requests == 100
    assert stats.request_rate == pytest.approx(10.0)
    assert stats.output_tokens_per_s == pytest.approx(100.0)
    # every TTFT in the window is 300 ms: in the (0.25, 0.5] bucket, never the 30 ms ones before it
    assert stats.ttft_ms.p50 is not None and 250 < stats.ttft_ms.p50 <= 500
    assert stats.ttft_ms.mean == pytest.approx(300.0)
    assert stats.itl_ms.mean == pytest.approx(60.0)
    assert stats.tpot_ms.mean == pytest.approx(60.0)  # TPOT falls back to ITL when only one is exposed


def test_counter_reset_counts_the_new_process_from_zero() -> None:
    v = FakeVllm()
    v.serve(50, 0.03, 0.02)
    a = parse_metrics(v.text(), t=0.0)
    v.serve(30, 0.03, 0.02)
    b = parse_metrics(v.text(), t=10.0)
    restarted = FakeVllm()  # the replica restarted: every counter starts again at zero
    restarted.serve(20, 0.6, 0.02)
    c = parse_metrics(restarted.text(), t=20.0)
    stats = window_stats({"r1": [a, b, c]})
    assert stats is not None
    assert stats.resets == 1
    assert stats.requests == 30 + 20  # not 30 + (20 - 80) and not 80 + 20
    assert stats.ttft_ms.count == 50
    # 20 of 50 TTFTs are 600 ms: p90 lies in the (0.5, 0.75] bucket
    assert stats.ttft_ms.p90 is not None and 500 < stats.ttft_ms.p90 <= 750


def test_several_targets_add_up() -> None:
    r1, r2 = FakeVllm(), FakeVllm()
    a1, a2 = parse_metrics(r1.text(), 0.0), parse_metrics(r2.text(), 0.0)
    r1.serve(10, 0.03, 0.02)
    r2.serve(30, 0.03, 0.02)
    stats = window_stats(
        {"r1": [a1, parse_metrics(r1.text(), 5.0)], "r2": [a2, parse_metrics(r2.text(), 5.0)]}
    )
    assert stats is not None and stats.requests == 40 and stats.targets == 2


def test_missing_metrics_are_listed_not_fatal() -> None:
    r = CollectorRegistry()
    g = Gauge("vllm:num_requests_running", "", LABELS, registry=r)
    g.labels("m", "0").set(3)
    text = generate_latest(r).decode()
    stats = window_stats({"x": [parse_metrics(text, 0.0), parse_metrics(text, 1.0)]})
    assert stats is not None
    assert stats.requests == 0 and stats.ttft_ms.p90 is None
    assert "vllm:time_to_first_token_seconds" in stats.missing
    with pytest.raises(MetricsParseError, match="no vllm: metrics"):
        parse_metrics("# HELP up x\n# TYPE up gauge\nup 1\n", 0.0)


def test_one_snapshot_gives_no_window() -> None:
    v = FakeVllm()
    assert window_stats({"r": [parse_metrics(v.text(), 0.0)]}) is None


def test_quantile_follows_histogram_quantile() -> None:
    h = Hist(le=[0.1, 0.2, 0.4, math.inf], counts=[10, 30, 40, 40], sum=8.0, count=40)
    assert quantile(0.25, h) == pytest.approx(0.1)  # rank 10 ends the first bucket
    assert quantile(0.5, h) == pytest.approx(0.15)  # rank 20: halfway through (0.1, 0.2]
    assert quantile(0.9, h) == pytest.approx(0.32)  # rank 36: 60% through (0.2, 0.4]
    inf = Hist(le=[0.1, math.inf], counts=[1, 10], sum=5.0, count=10)
    assert quantile(0.99, inf) == pytest.approx(0.1)  # +Inf answers the highest finite bound
    assert fraction_above(0.15, h) == pytest.approx(1 - 20 / 40)
    assert fraction_above(0.5, h) == pytest.approx(0.0)
    assert quantile(0.5, Hist(le=[0.1, math.inf], counts=[0, 0])) is None


def test_prometheus_api_result_matches_a_direct_scrape() -> None:
    v = FakeVllm()
    v.serve(7, 0.03, 0.02)
    direct = parse_metrics(v.text(), 1.0)
    from prometheus_client.parser import text_string_to_metric_families

    result: list[dict[str, Any]] = []
    for fam in text_string_to_metric_families(v.text()):
        for s in fam.samples:
            if s.name.endswith("_created"):
                continue
            result.append({"metric": {"__name__": s.name, **s.labels}, "value": [1.0, str(s.value)]})
    via_api = snapshot_from_prometheus(result, 1.0)
    assert via_api.hists == direct.hists
    assert via_api.counters == direct.counters


def test_snapshot_round_trips_through_json() -> None:
    import json

    v = FakeVllm()
    v.serve(3, 0.03, 0.02)
    snap = parse_metrics(v.text(), 1.0)
    text = json.dumps(snap.model_dump(mode="json"), allow_nan=False)  # what jsonb accepts
    assert Snapshot.model_validate(json.loads(text)) == snap

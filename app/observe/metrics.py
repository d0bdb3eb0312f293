"""vLLM's Prometheus metrics: parse one scrape into a snapshot, and a series of snapshots into window stats.

A *snapshot* holds the cumulative values of one scrape of one target (a replica's ``/metrics``), summed over
label sets (``model_name``, ``engine``), in a compact JSON-friendly shape so it can be stored as is. Window
statistics come from the *increase* of the counters and histograms between consecutive snapshots, as
Prometheus's ``increase()`` computes it: a value that goes down means the process restarted, so the new
value is the increase since the restart. Percentiles are read from the summed bucket increases the way
``histogram_quantile`` reads them (linear within a bucket; the highest finite bound when the rank falls in
``+Inf``).

Everything here is pure: no I/O.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

logger = logging.getLogger(__name__)

# Short keys of the histograms Preflight reads, and vLLM's names for them (vllm_metrics.md).
HISTOGRAMS: dict[str, str] = {
    "ttft": "vllm:time_to_first_token_seconds",
    "tpot": "vllm:time_per_output_token_seconds",
    "itl": "vllm:inter_token_latency_seconds",
    "e2e": "vllm:e2e_request_latency_seconds",
    "queue": "vllm:request_queue_time_seconds",
}
# Counters, by their family name (prometheus_client's parser strips `_total`).
COUNTERS: dict[str, str] = {
    "prompt_tokens": "vllm:prompt_tokens",
    "generation_tokens": "vllm:generation_tokens",
    "request_success": "vllm:request_success",
    "num_preemptions": "vllm:num_preemptions",
}
GAUGES: dict[str, str] = {
    "running": "vllm:num_requests_running",
    "waiting": "vllm:num_requests_waiting",
    "kv_cache_usage": "vllm:kv_cache_usage_perc",
}
# The deprecated alias is read only when the current name is absent.
_KV_ALIAS = "vllm:gpu_cache_usage_perc"
# vLLM's API server exposes HTTP request counts (prometheus-fastapi-instrumentator) with a `status` label
# such as "2xx" or "503"; they give the error rate when present.
_HTTP_REQUESTS = "http_requests"
PERCENTILES: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)


class MetricsParseError(ValueError):
    """The text is not Prometheus exposition format, or holds no vLLM metric at all."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hist(_M):
    """One cumulative histogram: upper bounds (the last is +Inf), cumulative counts, sum and count."""

    le: list[float]
    counts: list[float]
    sum: float = 0.0
    count: float = 0.0

    # JSON has no infinity (and Postgres refuses `Infinity` in jsonb): store the +Inf bound as "+Inf".
    @field_serializer("le")
    def _le_out(self, le: list[float]) -> list[float | str]:
        return ["+Inf" if math.isinf(v) else v for v in le]

    @field_validator("le", mode="before")
    @classmethod
    def _le_in(cls, le: Any) -> Any:
        return [_finite(v) if isinstance(v, str) else v for v in le] if isinstance(le, list) else le

    def is_reset_from(self, prev: Hist) -> bool:
        if self.le != prev.le or self.count < prev.count or self.sum < prev.sum - 1e-9:
            return True
        return any(c < p for c, p in zip(self.counts, prev.counts, strict=True))

    def minus(self, prev: Hist | None) -> Hist:
        """The increase since ``prev`` (the whole value after a reset)."""
        if prev is None or self.is_reset_from(prev):
            return self
        return Hist(
            le=self.le,
            counts=[c - p for c, p in zip(self.counts, prev.counts, strict=True)],
            sum=self.sum - prev.sum,
            count=self.count - prev.count,
        )

    def plus(self, other: Hist) -> Hist:
        if other.le != self.le:
            raise ValueError("histograms with different buckets cannot be added")
        return Hist(
            le=self.le,
            counts=[a + b for a, b in zip(self.counts, other.counts, strict=True)],
            sum=self.sum + other.sum,
            count=self.count + other.count,
        )

    @property
    def total(self) -> float:
        return self.counts[-1] if self.counts else 0.0


class Snapshot(_M):
    """Cumulative values of one scrape of one target at time ``t`` (unix seconds)."""

    t: float
    counters: dict[str, float] = Field(default_factory=dict)
    gauges: dict[str, float] = Field(default_factory=dict)
    hists: dict[str, Hist] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list, description="model_name label values seen")


def _finite(le: str) -> float:
    return math.inf if le in ("+Inf", "Inf", "inf") else float(le)


def parse_metrics(text: str, t: float) -> Snapshot:
    """Parse Prometheus text exposition into a snapshot. Missing metrics are simply absent from it."""
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError, IndexError) as e:
        raise MetricsParseError(f"not Prometheus text exposition: {e}") from e
    counters: dict[str, float] = {}
    gauges: dict[str, float] = {}
    gauge_n: dict[str, int] = {}
    buckets: dict[str, dict[float, float]] = {}
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    models: set[str] = set()
    hist_keys = {v: k for k, v in HISTOGRAMS.items()}
    counter_keys = {v: k for k, v in COUNTERS.items()}
    gauge_keys = {v: k for k, v in GAUGES.items()}
    kv_alias: list[float] = []
    seen_vllm = False
    for fam in families:
        if fam.name.startswith("vllm:"):
            seen_vllm = True
        for s in fam.samples:
            if "model_name" in s.labels:
                models.add(s.labels["model_name"])
            value = float(s.value)
            if math.isnan(value):
                continue
            if fam.name in hist_keys:
                key = hist_keys[fam.name]
                if s.name.endswith("_bucket"):
                    le = _finite(s.labels["le"])
                    buckets.setdefault(key, {})
                    buckets[key][le] = buckets[key].get(le, 0.0) + value
                elif s.name.endswith("_sum"):
                    sums[key] = sums.get(key, 0.0) + value
                elif s.name.endswith("_count"):
                    counts[key] = counts.get(key, 0.0) + value
            elif fam.name in counter_keys and s.name.endswith("_total"):
                key = counter_keys[fam.name]
                counters[key] = counters.get(key, 0.0) + value
                if key == "request_success" and s.labels.get("finished_reason") == "abort":
                    counters["request_abort"] = counters.get("request_abort", 0.0) + value
            elif fam.name in gauge_keys:
                key = gauge_keys[fam.name]
                gauges[key] = gauges.get(key, 0.0) + value
                gauge_n[key] = gauge_n.get(key, 0) + 1
            elif fam.name == _KV_ALIAS:
                kv_alias.append(value)
            elif fam.name == _HTTP_REQUESTS and s.name.endswith("_total"):
                counters["http_requests"] = counters.get("http_requests", 0.0) + value
                status = str(s.labels.get("status", ""))
                if status[:1] in ("4", "5") and status not in ("404",):
                    counters["http_errors"] = counters.get("http_errors", 0.0) + value
    if not seen_vllm:
        raise MetricsParseError("no vllm: metrics in the scrape; is this a vLLM server's /metrics?")
    # KV cache use is a fraction per engine: average over engines rather than add.
    if "kv_cache_usage" in gauges:
        gauges["kv_cache_usage"] /= gauge_n["kv_cache_usage"]
    elif kv_alias:
        gauges["kv_cache_usage"] = sum(kv_alias) / len(kv_alias)
    hists: dict[str, Hist] = {}
    for key, by_le in buckets.items():
        les = sorted(by_le)
        hists[key] = Hist(
            le=les,
            counts=[by_le[le] for le in les],
            sum=sums.get(key, 0.0),
            count=counts.get(key, by_le.get(math.inf, 0.0)),
        )
    return Snapshot(t=t, counters=counters, gauges=gauges, hists=hists, models=sorted(models))


# ------------------------------------------------------------------------------------------- histograms


def quantile(q: float, h: Hist) -> float | None:
    """``histogram_quantile(q, h)`` in the histogram's unit; None when it holds no observation."""
    total = h.total
    if total <= 0:
        return None
    rank = q * total
    lower, prev_count = 0.0, 0.0
    for le, cum in zip(h.le, h.counts, strict=True):
        if cum >= rank:
            if math.isinf(le):
                # Prometheus answers the highest finite bound when the rank falls in +Inf.
                return lower
            return lower + (le - lower) * (rank - prev_count) / (cum - prev_count)
        lower, prev_count = le, cum
    return lower


def fraction_above(threshold: float, h: Hist) -> float | None:
    """Share of observations above ``threshold``, interpolating linearly within its bucket."""
    total = h.total
    if total <= 0:
        return None
    lower, prev_count = 0.0, 0.0
    for le, cum in zip(h.le, h.counts, strict=True):
        if threshold < le:
            if math.isinf(le):
                below = prev_count  # nothing known inside +Inf: count it all as above
            else:
                below = prev_count + (cum - prev_count) * (threshold - lower) / (le - lower)
            return max(0.0, min(1.0, 1.0 - below / total))
        lower, prev_count = le, cum
    return 0.0


class Percentiles(_M):
    """Latency percentiles in milliseconds (None without observations)."""

    count: float = 0.0
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None

    def get(self, name: str) -> float | None:
        value = getattr(self, name, None)
        return float(value) if isinstance(value, (int, float)) else None


def percentiles_ms(h: Hist | None) -> Percentiles:
    if h is None or h.total <= 0:
        return Percentiles()

    def ms(q: float) -> float | None:
        v = quantile(q, h)
        return None if v is None else round(v * 1e3, 3)

    return Percentiles(
        count=h.total,
        mean=round(h.sum / h.count * 1e3, 3) if h.count > 0 else None,
        p50=ms(0.5),
        p90=ms(0.9),
        p95=ms(0.95),
        p99=ms(0.99),
    )


# ---------------------------------------------------------------------------------------------- windows


class Increase(_M):
    """What happened between the first and last snapshot of a window, over all targets."""

    start: float
    end: float
    counters: dict[str, float] = Field(default_factory=dict)
    hists: dict[str, Hist] = Field(default_factory=dict)
    gauge_values: dict[str, list[float]] = Field(default_factory=dict)
    resets: int = 0

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 0.0)


def increase(series_by_target: Mapping[str, Sequence[Snapshot]]) -> Increase | None:
    """Sum the increases over consecutive snapshots of each target (counter resets handled)."""
    start, end = math.inf, -math.inf
    counters: dict[str, float] = {}
    hists: dict[str, Hist] = {}
    gauges: dict[str, list[float]] = {}
    resets = 0
    for target, series in series_by_target.items():
        ordered = sorted(series, key=lambda s: s.t)
        for snap in ordered:
            for k, v in snap.gauges.items():
                gauges.setdefault(k, []).append(v)
        if len(ordered) < 2:
            continue
        start, end = min(start, ordered[0].t), max(end, ordered[-1].t)
        for prev, cur in itertools.pairwise(ordered):
            reset_seen = False
            for k, v in cur.counters.items():
                p = prev.counters.get(k)
                # A labelled counter appears on its first use, so one missing before started from zero.
                p = p or 0.0
                if v < p:
                    reset_seen = True
                counters[k] = counters.get(k, 0.0) + (v if v < p else v - p)
            for k, h in cur.hists.items():
                ph = prev.hists.get(k)
                if ph is not None and h.is_reset_from(ph):
                    reset_seen = True
                d = h.minus(ph)
                if k in hists and hists[k].le != d.le:
                    logger.warning(
                        "target %s changed the buckets of %s; dropping the older increase", target, k
                    )
                    hists[k] = d
                else:
                    hists[k] = hists[k].plus(d) if k in hists else d
            resets += reset_seen
    if math.isinf(start):
        return None
    return Increase(start=start, end=end, counters=counters, hists=hists, gauge_values=gauges, resets=resets)


class WindowStats(_M):
    """Service level indicators over a window, from the metrics of every target of a deployment."""

    start: float
    end: float
    seconds: float
    targets: int
    samples: int
    resets: int = Field(description="Counter resets seen (a replica restarted)")
    requests: float = Field(description="Requests finished in the window")
    request_rate: float = Field(description="Finished requests per second")
    prompt_tokens_per_s: float
    output_tokens_per_s: float
    ttft_ms: Percentiles
    tpot_ms: Percentiles
    itl_ms: Percentiles
    e2e_ms: Percentiles
    queue_ms: Percentiles
    queue_depth_mean: float | None = None
    queue_depth_max: float | None = None
    running_mean: float | None = None
    kv_cache_usage_mean: float | None = None
    kv_cache_usage_max: float | None = None
    preemptions_per_s: float = 0.0
    error_rate: float | None = Field(
        default=None, description="HTTP 4xx/5xx share, when the server exposes http_requests_total"
    )
    missing: list[str] = Field(default_factory=list, description="Metrics the targets did not expose")

    def sli(self, name: str) -> Percentiles:
        return {"ttft": self.ttft_ms, "tpot": self.tpot_ms, "itl": self.itl_ms, "e2e": self.e2e_ms}[name]


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def window_stats(series_by_target: Mapping[str, Sequence[Snapshot]]) -> WindowStats | None:
    """Window statistics, or None when no target has two snapshots to compare."""
    inc = increase(series_by_target)
    if inc is None:
        return None
    secs = inc.seconds or 1e-9
    c, h = inc.counters, inc.hists
    e2e = h.get("e2e")
    requests = c.get("request_success", e2e.total if e2e else 0.0)
    tpot_h = h.get("tpot") or h.get("itl")
    itl_h = h.get("itl") or h.get("tpot")
    present: set[str] = set()
    for series in series_by_target.values():
        for snap in series:
            present.update(snap.hists)
            present.update(snap.counters)
            present.update(snap.gauges)
    missing = sorted(
        name
        for key, name in {**HISTOGRAMS, **COUNTERS, **GAUGES}.items()
        if key not in present and key not in ("itl", "tpot", "queue")
    )
    if "itl" not in present and "tpot" not in present:
        missing.append(HISTOGRAMS["itl"])
    waiting = inc.gauge_values.get("waiting", [])
    kv = inc.gauge_values.get("kv_cache_usage", [])
    http_total = c.get("http_requests")
    return WindowStats(
        start=inc.start,
        end=inc.end,
        seconds=round(inc.seconds, 3),
        targets=len(series_by_target),
        samples=sum(len(s) for s in series_by_target.values()),
        resets=inc.resets,
        requests=requests,
        request_rate=requests / secs,
        prompt_tokens_per_s=c.get("prompt_tokens", 0.0) / secs,
        output_tokens_per_s=c.get("generation_tokens", 0.0) / secs,
        ttft_ms=percentiles_ms(h.get("ttft")),
        tpot_ms=percentiles_ms(tpot_h),
        itl_ms=percentiles_ms(itl_h),
        e2e_ms=percentiles_ms(e2e),
        queue_ms=percentiles_ms(h.get("queue")),
        queue_depth_mean=_mean(waiting),
        queue_depth_max=max(waiting) if waiting else None,
        running_mean=_mean(inc.gauge_values.get("running", [])),
        kv_cache_usage_mean=_mean(kv),
        kv_cache_usage_max=max(kv) if kv else None,
        preemptions_per_s=c.get("num_preemptions", 0.0) / secs,
        error_rate=(c.get("http_errors", 0.0) / http_total) if http_total else None,
        missing=missing,
    )


# ----------------------------------------------------------------------------------- Prometheus HTTP API


def snapshot_from_prometheus(result: Sequence[Mapping[str, Any]], t: float) -> Snapshot:
    """Build a snapshot from the ``data.result`` of a Prometheus instant query over vLLM's series.

    Each element is ``{"metric": {"__name__": ..., labels...}, "value": [ts, "value"]}``. The series are
    rendered back into exposition text and parsed by the same code as a direct scrape, so both paths agree.
    """
    lines: list[str] = []
    for series in result:
        metric = dict(series.get("metric", {}))
        name = str(metric.pop("__name__", ""))
        value = series.get("value", [None, None])[1]
        if not name or value is None:
            continue
        labels = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(metric.items()))
        lines.append(f"{name}{{{labels}}} {value}" if labels else f"{name} {value}")
    return parse_metrics(_with_types(lines), t)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _with_types(lines: list[str]) -> str:
    """Add TYPE lines so the parser groups `_bucket`/`_sum`/`_count` and `_total` into their families."""
    types: dict[str, str] = {}
    for name in HISTOGRAMS.values():
        types[name] = "histogram"
    for name in [*list(COUNTERS.values()), _HTTP_REQUESTS]:
        types[name] = "counter"
    for name in [*GAUGES.values(), _KV_ALIAS]:
        types[name] = "gauge"
    grouped: dict[str, list[str]] = {}
    other: list[str] = []
    for line in lines:
        series_name = line.split("{", 1)[0].split(" ", 1)[0]
        for fam, kind in types.items():
            suffixes = (
                ("_bucket", "_sum", "_count")
                if kind == "histogram"
                else ("_total",)
                if kind == "counter"
                else ("",)
            )
            if any(series_name == fam + s for s in suffixes):
                grouped.setdefault(fam, []).append(line)
                break
        else:
            if series_name.startswith("vllm:"):
                other.append(line)
    out: list[str] = []
    for fam, fam_lines in grouped.items():
        # Counters are declared by their sample name (`..._total`), as prometheus_client writes them.
        declared = fam + "_total" if types[fam] == "counter" else fam
        out.append(f"# TYPE {declared} {types[fam]}")
        out.extend(fam_lines)
    for line in other:
        name = line.split("{", 1)[0].split(" ", 1)[0]
        out.append(f"# TYPE {name} untyped")
        out.append(line)
    return "\n".join(out) + "\n"

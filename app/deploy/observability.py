"""PromQL for a deployment's SLOs: burn-rate alerts and dashboard queries over vLLM's own histograms.

The metric names and bucket boundaries are vLLM's (see shared/data/vllm_metrics.md). An SLO like
"TTFT p90 <= 500 ms" is turned into an SLI "fraction of requests with TTFT <= the bucket boundary at or just
above 500 ms"; 10% of requests may miss it (the error budget). Bucket counts are exact, whereas
histogram_quantile interpolates inside a bucket, so the SLI uses a real `le` boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.deploy.plan import DeploymentPlan
from simulator.vllm_buckets import REQUEST_LATENCY_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS

TTFT_METRIC = "vllm:time_to_first_token_seconds"
TPOT_METRIC = "vllm:time_per_output_token_seconds"
E2E_METRIC = "vllm:e2e_request_latency_seconds"
WAITING_METRIC = "vllm:num_requests_waiting"
RUNNING_METRIC = "vllm:num_requests_running"
KV_USAGE_METRIC = "vllm:kv_cache_usage_perc"
GENERATION_TOKENS_METRIC = "vllm:generation_tokens_total"
PROMPT_TOKENS_METRIC = "vllm:prompt_tokens_total"
REQUEST_SUCCESS_METRIC = "vllm:request_success_total"

E2E_BUCKETS = REQUEST_LATENCY_BUCKETS


# Multi-window burn-rate pairs (long window, short window), after the SRE workbook. The short window makes
# the alert stop soon after the problem does.
FAST_WINDOWS = ("1h", "5m")
SLOW_WINDOWS = ("6h", "30m")
ALL_WINDOWS = ("5m", "30m", "1h", "6h")


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal (PromQL follows Go's escaping)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def le_label(bound: float) -> str:
    """The `le` label value as prometheus_client writes it (repr of a float: 0.5, 1.0, 2560.0)."""
    return repr(float(bound))


def bucket_at_or_above(target_s: float, buckets: tuple[float, ...]) -> float:
    """The smallest bucket boundary >= target; the largest one when the target is beyond them all."""
    for b in buckets:
        if b >= target_s - 1e-12:
            return b
    return buckets[-1]


@dataclass(frozen=True)
class LatencySLO:
    key: str  # short id used in rule names: ttft, tpot, e2e
    title: str
    metric: str
    quantile: float
    target_s: float
    bucket_s: float

    @property
    def budget(self) -> float:
        return round(1.0 - self.quantile, 6)

    @property
    def fast_burn(self) -> float:
        # 14.4x is the textbook page threshold for a 99.9% objective; with the loose budgets of latency
        # quantiles (10% for p90) that would need more than 100% bad requests, so cap it where half of
        # all requests miss the target.
        return round(min(14.4, 0.5 / self.budget), 4)

    @property
    def slow_burn(self) -> float:
        # Textbook 6x, capped where a quarter of all requests miss the target.
        return round(min(6.0, 0.25 / self.budget), 4)

    def record_name(self, window: str) -> str:
        return f"preflight:{self.key}_slo_errors:ratio_rate{window}"


def latency_slos(plan: DeploymentPlan) -> list[LatencySLO]:
    s = plan.slo
    out = []
    for key, title, metric, q, target_ms, buckets in (
        ("ttft", "Time to first token", TTFT_METRIC, 0.9, s.ttft_p90_ms, TTFT_BUCKETS),
        ("tpot", "Time per output token", TPOT_METRIC, 0.9, s.tpot_p90_ms, TPOT_BUCKETS),
        ("e2e", "End-to-end request latency", E2E_METRIC, 0.95, s.e2e_p95_ms, E2E_BUCKETS),
    ):
        target_s = target_ms / 1000.0
        out.append(LatencySLO(key, title, metric, q, target_s, bucket_at_or_above(target_s, buckets)))
    return out


def selector(plan: DeploymentPlan) -> str:
    """Label matchers for this deployment's series: its namespace (added by the ServiceMonitor scrape)
    and vLLM's model_name label."""
    return f"namespace={promql_string(plan.namespace)},model_name={promql_string(plan.model_name)}"


def error_ratio_expr(slo: LatencySLO, sel: str, window: str) -> str:
    # Keep namespace and model_name on the result, so the recorded series of different deployments
    # scraped by one Prometheus stay apart.
    by = "sum by (namespace, model_name)"
    good = f'{by} (rate({slo.metric}_bucket{{{sel},le="{le_label(slo.bucket_s)}"}}[{window}]))'
    total = f"{by} (rate({slo.metric}_count{{{sel}}}[{window}]))"
    # clamp_min avoids a division by zero when there is no traffic (no traffic burns no budget).
    return f"1 - ({good} / clamp_min({total}, 1e-9))"


def quantile_expr(metric: str, quantile: float, sel: str, window: str = "5m") -> str:
    return f"histogram_quantile({quantile}, sum by (le) (rate({metric}_bucket{{{sel}}}[{window}])))"


def recording_rules(plan: DeploymentPlan) -> list[dict[str, Any]]:
    sel = selector(plan)
    rules = []
    for slo in latency_slos(plan):
        for w in ALL_WINDOWS:
            rules.append({"record": slo.record_name(w), "expr": error_ratio_expr(slo, sel, w)})
    return rules


def alert_rules(plan: DeploymentPlan) -> list[dict[str, Any]]:
    """Two burn-rate alerts per latency SLO plus saturation alerts; label values are plain strings."""
    alerts: list[dict[str, Any]] = []
    sel = selector(plan)
    camel = "".join(part.capitalize() for part in plan.name.split("-"))
    for slo in latency_slos(plan):
        for severity, factor, (long_w, short_w), for_ in (
            ("critical", slo.fast_burn, FAST_WINDOWS, "2m"),
            ("warning", slo.slow_burn, SLOW_WINDOWS, "15m"),
        ):
            threshold = round(factor * slo.budget, 6)
            expr = (
                f"{slo.record_name(long_w)}{{{sel}}} > {threshold} "
                f"and {slo.record_name(short_w)}{{{sel}}} > {threshold}"
            )
            alerts.append(
                {
                    "alert": f"{camel}{slo.key.upper()}SLOBurn{'Fast' if severity == 'critical' else 'Slow'}",
                    "expr": expr,
                    "for": for_,
                    "labels": {"severity": severity, "slo": slo.key},
                    "annotations": {
                        "summary": (
                            f"{slo.title} SLO of {plan.name} is burning its error budget {factor}x too fast"
                        ),
                        "description": (
                            f"More than {threshold:.0%} of requests over {long_w} and {short_w} exceeded "
                            f"{slo.bucket_s * 1000:g} ms (objective: p{round(slo.quantile * 100)} <= "
                            f"{slo.target_s * 1000:g} ms)."
                        ),
                    },
                }
            )
    queue_limit = plan.autoscale_waiting_per_replica * plan.replicas_max
    alerts.append(
        {
            "alert": f"{camel}QueueBuildingUp",
            "expr": f"sum({WAITING_METRIC}{{{sel}}}) > {queue_limit}",
            "for": "10m",
            "labels": {"severity": "warning", "slo": "capacity"},
            "annotations": {
                "summary": f"{plan.name} has more requests waiting than its replicas can absorb",
                "description": "Requests are queueing even at the maximum replica count: add capacity.",
            },
        }
    )
    alerts.append(
        {
            "alert": f"{camel}KVCacheFull",
            "expr": f"max({KV_USAGE_METRIC}{{{sel}}}) > 0.95",
            "for": "10m",
            "labels": {"severity": "warning", "slo": "capacity"},
            "annotations": {
                "summary": f"{plan.name} KV cache is over 95% full",
                "description": "Requests will be preempted; lower max_num_seqs or add replicas.",
            },
        }
    )
    return alerts


def dashboard(plan: DeploymentPlan) -> dict[str, Any]:
    """A Grafana dashboard (schema 39) whose panels query vLLM's metrics for this deployment."""
    sel = selector(plan)
    slos = {s.key: s for s in latency_slos(plan)}

    def panel(
        pid: int,
        title: str,
        exprs: list[tuple[str, str]],
        unit: str,
        x: int,
        y: int,
        threshold: float | None = None,
    ) -> dict[str, Any]:
        field_config: dict[str, Any] = {"defaults": {"unit": unit}, "overrides": []}
        if threshold is not None:
            field_config["defaults"]["thresholds"] = {
                "mode": "absolute",
                "steps": [{"color": "green", "value": None}, {"color": "red", "value": threshold}],
            }
            field_config["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
        return {
            "id": pid,
            "type": "timeseries",
            "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
            "fieldConfig": field_config,
            "targets": [
                {"refId": chr(65 + i), "expr": e, "legendFormat": legend}
                for i, (e, legend) in enumerate(exprs)
            ],
        }

    panels = [
        panel(
            1,
            "TTFT p50 / p90 / p99",
            [(quantile_expr(TTFT_METRIC, q, sel), f"p{round(q * 100)}") for q in (0.5, 0.9, 0.99)],
            "s",
            0,
            0,
            slos["ttft"].target_s,
        ),
        panel(
            2,
            "Time per output token p50 / p90 / p99",
            [(quantile_expr(TPOT_METRIC, q, sel), f"p{round(q * 100)}") for q in (0.5, 0.9, 0.99)],
            "s",
            12,
            0,
            slos["tpot"].target_s,
        ),
        panel(
            3,
            "End-to-end latency p50 / p95",
            [(quantile_expr(E2E_METRIC, q, sel), f"p{round(q * 100)}") for q in (0.5, 0.95)],
            "s",
            0,
            8,
            slos["e2e"].target_s,
        ),
        panel(
            4,
            "SLO error ratio (1h)",
            [(f"{s.record_name('1h')}{{{sel}}}", s.key) for s in slos.values()],
            "percentunit",
            12,
            8,
        ),
        panel(
            5,
            "Requests running / waiting",
            [(f"sum({RUNNING_METRIC}{{{sel}}})", "running"), (f"sum({WAITING_METRIC}{{{sel}}})", "waiting")],
            "short",
            0,
            16,
        ),
        panel(
            6,
            "KV cache usage",
            [(f"max by (pod) ({KV_USAGE_METRIC}{{{sel}}})", "{{pod}}")],
            "percentunit",
            12,
            16,
            0.95,
        ),
        panel(
            7,
            "Token throughput",
            [
                (f"sum(rate({GENERATION_TOKENS_METRIC}{{{sel}}}[5m]))", "generated"),
                (f"sum(rate({PROMPT_TOKENS_METRIC}{{{sel}}}[5m]))", "prompt"),
            ],
            "short",
            0,
            24,
        ),
        panel(
            8,
            "Finished requests by reason",
            [
                (
                    f"sum by (finished_reason) (rate({REQUEST_SUCCESS_METRIC}{{{sel}}}[5m]))",
                    "{{finished_reason}}",
                )
            ],
            "reqps",
            12,
            24,
        ),
    ]
    return {
        "uid": f"preflight-{plan.deployment_id}"[:40],
        "title": f"Preflight: {plan.name} ({plan.namespace})",
        "tags": ["preflight", "vllm"],
        "schemaVersion": 39,
        "time": {"from": "now-3h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    }


def dashboard_json(plan: DeploymentPlan) -> str:
    return json.dumps(dashboard(plan), indent=2, sort_keys=True)

"""Markdown views of stage 4 (deploy) and of "my deployments": pure functions, no Chainlit and no I/O.

They take the deployment service's and app/observe's typed objects, so live rendering, "my deployments"
and the re-render after a page reload all show the same thing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.chat.deploying import InferenceResult, PendingDeploy, Watched
from app.deploy.events import Finished, SmokeTested
from app.deploy.service import DeploymentDetail, Preview
from app.deploy.smoke import SmokeTestResult

STATE_TITLES = {
    "planned": "Planned",
    "validating": "Validating the manifests",
    "applying": "Applying",
    "waiting_ready": "Waiting until ready",
    "ready": "Ready",
    "failed": "Failed",
    "rolling_back": "Rolling back",
    "rolled_back": "Rolled back",
    "deleted": "Deleted",
}
STATE_MARK = {"ready": "🟢", "failed": "🔴", "deleted": "⚪", "rolled_back": "⚪", "planned": "🔵"}
MANIFESTS_FILE = "manifests.yaml"
# The rows of predicted vs observed a deployment card shows; the monitoring view shows them all.
KEY_METRICS = frozenset({"ttft_ms.p90", "itl_ms.p90", "tpot_ms.p90", "e2e_ms.p95"})

_DEPLOY_WORDS = re.compile(
    r"^deploy(?:\s+(?:the\s+)?(?:option\s*)?#?(?P<rank>\d+|top|first|best))?"
    r"(?:\s+(?:to|on)\s+(?:the\s+)?(?P<target>local|locally|laptop|kubernetes|k8s|cluster|the cluster))?"
    r"(?:\s+(?:in\s+)?(?:the\s+)?namespace\s+(?P<ns>[a-z0-9]([-a-z0-9]*[a-z0-9])?))?\s*[.!]?$",
    re.IGNORECASE,
)
_MY_DEPLOYMENTS = {
    "my deployments",
    "deployments",
    "list deployments",
    "show my deployments",
    "show deployments",
}
_MONITOR_WORDS = re.compile(
    r"^(?:monitor|deployment|watch)\s+(?P<ref>[0-9a-f][0-9a-f-]{5,35}|[a-z][-a-z0-9]+)$"
)


def parse_deploy_command(text: str) -> tuple[int, str, str] | None:
    """ "deploy option 2 to kubernetes namespace ml" -> (2, "kubernetes", "ml"); None when not a deploy."""
    match = _DEPLOY_WORDS.match(text.strip())
    if match is None:
        return None
    raw_rank = (match.group("rank") or "1").lower()
    rank = 1 if raw_rank in ("top", "first", "best") else int(raw_rank)
    raw_target = (match.group("target") or "local").lower()
    target = "local" if raw_target in ("local", "locally", "laptop") else "kubernetes"
    return rank, target, (match.group("ns") or "default").lower()


def is_my_deployments(text: str) -> bool:
    return text.strip().lower().rstrip(".!?") in _MY_DEPLOYMENTS


def monitor_ref(text: str) -> str | None:
    """ "monitor 1a2b3c" or "monitor llama-3-2-3b-1a2b3c" -> the id prefix or name; None otherwise."""
    match = _MONITOR_WORDS.match(text.strip().lower())
    return match.group("ref") if match else None


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} ms" if v >= 10 else f"{v:,.1f} ms"


def short_id(deployment_id: str) -> str:
    return deployment_id.replace("-", "")[:8]


def dry_run_lines(lines: list[str]) -> list[str]:
    """The target's preview as sentences; a JSON line (a raw API answer) becomes "kind/name: action"."""
    out = []
    for line in lines:
        text = line.strip()
        if text[:1] in "{[":
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                meta = data.get("metadata") or {}
                text = (
                    f"{data.get('kind', 'object')} {meta.get('name', '?')}: accepted by the server (dry run)"
                )
            elif isinstance(data, list):
                text = f"{len(data)} objects accepted by the server (dry run)"
        out.append(text[:1].upper() + text[1:])
    return out


def preview_card(pending: PendingDeploy, preview: Preview) -> str:
    plan = pending.plan
    where = "this machine (simulator processes)" if pending.target == "local" else "the Kubernetes cluster"
    lines = [
        f"### Deploy option {pending.rank}: {plan.get('model_id')} on {plan.get('gpu_id')}",
        f"Target **{pending.target}** ({where}), namespace **{pending.namespace}**, "
        f"{plan.get('replicas_min')}–{plan.get('replicas_max')} replica(s) of TP "
        f"{plan.get('tensor_parallel_size')}, {plan.get('mode')} mode; name `{plan.get('name')}`.",
    ]
    if pending.note:
        lines.append(f"*Note: {pending.note}.*")
    lines += ["", f"**{len(preview.objects)} manifests**, rendered and validated:", ""]
    lines += [f"- {o}" for o in preview.objects]
    if preview.dry_run:
        title = "Server-side dry run" if pending.target == "kubernetes" else "What the local target would do"
        lines += ["", f"**{title}:**", ""]
        lines += [f"- {x}" for x in dry_run_lines(preview.dry_run)]
    lines += [
        "",
        f"The YAML ({len(preview.yaml.splitlines()):,} lines) is attached below as {MANIFESTS_FILE}.",
        "",
        "Nothing has been applied yet. **Confirm** to deploy, or **Cancel**.",
    ]
    return "\n".join(lines)


def smoke_line(result: SmokeTestResult | None, skipped: str | None = None) -> str:
    if skipped:
        return f"smoke test skipped: {skipped}"
    if result is None:
        return "no smoke test yet"
    if not result.ok:
        return f"smoke test **failed**: {result.error}"
    return (
        f"smoke test ok: TTFT {_ms(result.ttft_ms)}, ITL {_ms(result.itl_ms_mean)} (mean), "
        f"{result.chunks} tokens"
    )


def smoke_event_text(event: SmokeTested) -> str:
    text = smoke_line(event.result, event.skipped)
    if event.result.ok and event.result.text:
        text += f"\n\n> {event.result.text[:200]}"
    return text


def finished_card(event: Finished, d: DeploymentDetail) -> str:
    if not event.ok or event.state != "ready":
        mark = STATE_MARK.get(event.state, "⚠️")
        return (
            f"### {mark} Deployment {d.name} is {event.state}\n{event.message}\n\n"
            "Nothing is left running for a failed local deployment. Change the plan and deploy again, or "
            "say **my deployments** to see its history."
        )
    lines = [
        f"### 🟢 {d.name} is ready",
        f"- Endpoint (OpenAI-compatible): `{event.endpoint or d.endpoint}/v1`",
        f"- Deployment: **{d.name}** · id `{d.id}` · target {d.target}/{d.namespace} · revision {d.revision}",
        f"- API: `GET /api/deployments/{d.id}` (with your API token)",
        f"- {smoke_line(d.smoke_test)}",
        "",
        "Use **Send a test prompt** to try it: the reply streams here with its measured TTFT and ITL. "
        "**Monitor** shows latency over time against your targets; say **my deployments** any time.",
    ]
    return "\n".join(lines)


SIMULATED_NOTE = (
    "**Simulated reply.** This deployment runs Preflight's vLLM simulator: the words are placeholder text, "
    "the timing is modelled on the planned GPU."
)


def inference_footer(result: InferenceResult, *, simulated: bool = False) -> str:
    if not result.ok:
        return "*The endpoint answered with an empty stream.*"
    return (SIMULATED_NOTE + "\n\n" if simulated else "") + (
        f"*Measured through the endpoint: TTFT **{_ms(result.ttft_ms)}**, ITL **{_ms(result.itl_ms_mean)}** "
        f"mean (p50 {_ms(result.itl_ms_p50)}), {result.tokens} tokens in {_ms(result.e2e_ms)} from "
        f"`{result.model}`.*"
    )


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _spec_summary(spec: dict[str, Any]) -> str:
    parts = []
    if spec.get("task_type"):
        parts.append(str(spec["task_type"]).replace("_", " "))
    if spec.get("concurrent_users"):
        parts.append(f"{int(spec['concurrent_users']):,} users")
    if spec.get("expected_qps") is not None:
        parts.append(f"{float(spec['expected_qps']):,.2f} req/s steady")
    if spec.get("target_ttft_p90_ms"):
        parts.append(f"TTFT p90 ≤ {float(spec['target_ttft_p90_ms']):,.0f} ms")
    if spec.get("target_tpot_p90_ms"):
        parts.append(f"TPOT p90 ≤ {float(spec['target_tpot_p90_ms']):,.0f} ms")
    return ", ".join(parts) or "no specification recorded"


def _prediction_summary(pred: dict[str, Any]) -> str:
    if not pred:
        return "no prediction recorded (deployed from a plan file)"
    ttft = (pred.get("ttft_ms") or {}).get("p90")
    tpot = (pred.get("tpot_ms") or {}).get("p90")
    cost = (pred.get("cost") or {}).get("monthly_usd")
    return (
        f"{pred.get('model_id')} on {pred.get('gpus_total')}× {pred.get('gpu_id')}: TTFT p90 {_ms(ttft)}, "
        f"TPOT p90 {_ms(tpot)}" + (f", ${float(cost):,.0f}/month" if cost is not None else "")
    )


def state_history(d: DeploymentDetail) -> str:
    steps = []
    for e in d.events:
        why = e.detail.get("error") or e.detail.get("reason") or ""
        steps.append(f"{e.at:%H:%M:%S} {e.to_state}" + (f" ({str(why)[:80]})" if why else ""))
    return " → ".join(steps) or "no events"


def _predicted_cell(c: Any | None) -> str:
    """A prediction with how far the observation is from it; no percentage when it was not compared."""
    if c is None or c.predicted is None:
        return "—"
    return _num(c.predicted) + ("" if c.error_pct is None else f" ({c.error_pct:+.0f}%)")


def comparison_table(obs: Any, *, only: frozenset[str] | None = None) -> list[str]:
    """Observed beside two predictions: as planned (the plan's traffic) and at the load actually served
    (the performance model re-run at the observed rate and lengths). A percentage is observed against that
    prediction; the as-planned one has none when the traffic was idle or far from the plan."""
    planned = {c.metric: c for c in getattr(obs, "predicted_vs_observed", None) or []}
    at_load = {c.metric: c for c in getattr(obs, "predicted_at_observed_load", None) or []}
    metrics = [m for m in [*planned, *(m for m in at_load if m not in planned)] if only is None or m in only]
    if not metrics:
        return []
    lines = [
        "| Metric | Observed | Predicted as planned | Predicted at observed load |",
        "|---|---|---|---|",
    ]
    for metric in metrics:
        p, a = planned.get(metric), at_load.get(metric)
        observed = (p if p is not None else at_load[metric]).observed  # each metric is in one of the two
        label = metric.replace("_ms", "").replace("_", " ").replace(".", " ")
        lines.append(f"| {label} | {_num(observed)} | {_predicted_cell(p)} | {_predicted_cell(a)} |")
    return lines


def comparison_notes(obs: Any) -> list[str]:
    """What the two prediction columns mean for this window, in words."""
    notes = ["Milliseconds; a percentage is the observed value against that prediction (+ is slower)."]
    planned = getattr(obs, "predicted_vs_observed", None) or []
    if any(c.observed is not None and c.predicted for c in planned) and all(
        c.error_pct is None for c in planned
    ):
        notes.append(
            "The traffic served was idle or far from the planned load, so the as-planned figures are shown "
            "but not compared; the prediction at the observed load is the fair comparison."
        )
    load = getattr(obs, "observed_load", None)
    if load is not None and getattr(obs, "predicted_at_observed_load", None):
        notes.append(
            f"Observed load per replica: {load.requests_per_s:.2f} req/s, {load.input_tokens:,.0f} tokens in "
            f"/ {load.output_tokens:,.0f} out per request."
        )
    elif planned:
        notes.append(
            "Predicted at observed load: none for this window (no traffic served, or the configuration "
            "does not fit at that load)."
        )
    return notes


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f}"


def observation_lines(obs: Any, *, full: bool = True) -> list[str]:
    """Health, SLO compliance, predicted vs observed (the key rows unless ``full``) and advice; or why
    there is nothing yet."""
    if obs is None:
        return ["- Observed: nothing yet."]
    lines = [f"- Health: **{obs.health.state}** — {obs.health.reason}"]
    if obs.stats is None:
        lines.append(
            f"- Observed: no metric samples in the last {obs.window_s / 60:.0f} minutes yet (the server "
            "scrapes live deployments every few seconds; send some prompts and look again)."
        )
    else:
        s = obs.stats
        lines.append(
            f"- Observed over {s.seconds:.0f} s: {s.request_rate:.2f} req/s, TTFT p90 {_ms(s.ttft_ms.p90)}, "
            f"ITL p90 {_ms(s.itl_ms.p90)}, E2E p95 {_ms(s.e2e_ms.p95)}"
        )
    if obs.compliance:
        for st in obs.compliance.slos:
            verdict = "✓ met" if st.met else "✗ missed" if st.met is False else "no data"
            lines.append(f"- SLO {st.label}: {_num(st.observed)} vs target {st.target:g} — {verdict}")
    table = comparison_table(obs, only=None if full else KEY_METRICS)
    if table:
        lines += ["", "**Predicted vs observed**", "", *table, ""]
        if full:
            lines += [f"- {n}" for n in comparison_notes(obs)]
    for a in obs.advice:
        icon = {"info": "💡", "warning": "⚠️", "critical": "🚨"}.get(a.severity, "💡")
        lines.append(f"- {icon} Advice: {a.message}")
    return lines


def deployment_card(w: Watched) -> str:
    """One deployment: specification, prediction, state history, smoke test, observed vs predicted, advice."""
    d = w.detail
    mark = STATE_MARK.get(d.state, "🟡")
    owner = f" · owner {w.owner}" if w.owner else ""
    lines = [
        f"#### {mark} {d.name} — {d.state}",
        f"id `{d.id}` · {d.target}/{d.namespace} · {d.mode or '?'} · revision {d.revision}{owner} · "
        f"created {d.created_at:%Y-%m-%d %H:%M}",
        "",
        f"- Endpoint: `{d.endpoint}/v1`" if d.endpoint else "- Endpoint: none (not running)",
        f"- Specification: {_spec_summary(w.specification)}",
        f"- Prediction: {_prediction_summary(d.prediction)}",
        f"- State history: {state_history(d)}",
        "- " + _first_upper(smoke_line(d.smoke_test)),
    ]
    if d.state != "deleted":
        lines += observation_lines(w.observation, full=False)
    return "\n".join(lines)


def my_deployments_header(shown: int, total: int, *, admin: bool) -> str:
    if total == 0:
        return (
            "### My deployments\nYou have no deployments yet. Plan something, then use **Deploy** under an "
            "option."
        )
    whose = "Everyone's deployments (you are an administrator)" if admin else "My deployments"
    more = f" (the {shown} most recent of {total})" if total > shown else ""
    return f"### {whose}{more}\nNewest first; deleted ones keep their history."


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def serving_lines(obs: Any, prediction: dict[str, Any], gpu_utilisation: float | None) -> list[str]:
    """What the GPUs are doing and what it costs: KV cache, batch, queue, GPU utilisation, and the actual
    spend and cost per 1k tokens against the prediction's."""
    stats = getattr(obs, "stats", None)
    lines = []
    if stats is not None:
        lines.append(
            f"- Serving: KV cache {_pct(stats.kv_cache_usage_mean)} used on average "
            f"(peak {_pct(stats.kv_cache_usage_max)}), average batch {_num(stats.running_mean)} running "
            f"requests, queue {_num(stats.queue_depth_mean)} waiting on average "
            f"(most {_num(stats.queue_depth_max)})"
        )
    lines.append(
        "- GPU utilisation: "
        + (
            f"{gpu_utilisation:.0%} (DCGM exporter)"
            if gpu_utilisation is not None
            else "unavailable (no DCGM exporter metrics reachable through Prometheus)"
        )
    )
    cost = prediction.get("cost") or {}
    hourly, min_replicas = cost.get("hourly_usd"), prediction.get("min_replicas") or 1
    if hourly is None:
        return lines
    predicted_month = float(cost.get("monthly_usd") or hourly * 730)
    line = f"- Cost: predicted ${predicted_month:,.0f}/month"
    if stats is not None and stats.targets:
        # The prediction's hourly cost is for its steady replica count; scale it to the replicas scraped.
        actual_hourly = float(hourly) / float(min_replicas) * stats.targets
        line += f", running now ${actual_hourly * 730:,.0f}/month ({stats.targets} replica(s))"
        tokens_per_hour = (stats.prompt_tokens_per_s + stats.output_tokens_per_s) * 3600
        per_1k_pred = cost.get("per_1k_tokens_usd")
        if tokens_per_hour > 0:
            line += f"; per 1k tokens ${actual_hourly / tokens_per_hour * 1000:.4f} at the observed load"
            if per_1k_pred is not None:
                line += f" (predicted ${float(per_1k_pred):.4f} at the planned load)"
        else:
            line += "; no tokens served in the window, so no cost per 1k tokens yet"
    lines.append(line)
    return lines


def monitoring_card(w: Watched, *, gpu_utilisation: float | None = None) -> str:
    d = w.detail
    slo = d.plan.get("slo") or {}
    lines = [
        f"### Monitoring {d.name} ({d.state})",
        f"Targets: TTFT p90 ≤ {_ms(slo.get('ttft_p90_ms'))}, TPOT/ITL p90 ≤ {_ms(slo.get('tpot_p90_ms'))}, "
        f"E2E p95 ≤ {_ms(slo.get('e2e_p95_ms'))}.",
        f"Predicted: {_prediction_summary(d.prediction)}.",
        "",
    ]
    if not w.points:
        lines.append("No latency samples in the last hour yet, so there is nothing to plot.")
    lines += observation_lines(w.observation)
    lines += serving_lines(w.observation, d.prediction or {}, gpu_utilisation)
    return "\n".join(lines)

"""Stage 4's pure parts: deploy commands in words, the preview and deployment cards, the monitoring plot and
the friendly errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.chat import deploy_views as dv
from app.chat.deploying import InferenceResult, PendingDeploy, Watched
from app.chat.monitor_plot import latency_over_time_figure
from app.deploy.service import DeploymentDetail, DeploymentEventView, Preview
from app.deploy.smoke import SmokeTestResult
from app.deploy.targets.kubernetes import ClusterUnreachableError
from app.errors import chat_message
from app.observe.advice import Advice
from app.observe.metrics import Percentiles, WindowStats
from app.observe.service import Observation, SeriesPoint
from app.observe.slo import Comparison, Health
from app.perf.observed import ObservedLoad

pytestmark = pytest.mark.unit

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
DEP_ID = "1a2b3c4d-0000-4000-8000-000000000001"


def test_deploy_commands_in_words() -> None:
    assert dv.parse_deploy_command("deploy") == (1, "local", "default")
    assert dv.parse_deploy_command("Deploy option 2 to kubernetes namespace ml") == (2, "kubernetes", "ml")
    assert dv.parse_deploy_command("deploy the top option locally") is None  # word order it does not know
    assert dv.parse_deploy_command("deploy top to the cluster") == (1, "kubernetes", "default")
    assert dv.parse_deploy_command("deploy a chatbot for 1000 users") is None  # a description, not a command
    assert dv.is_my_deployments("My deployments") and dv.is_my_deployments("show deployments?")
    assert not dv.is_my_deployments("my deployments are slow, plan a bigger one")
    assert dv.monitor_ref("monitor 1a2b3c4d") == "1a2b3c4d"
    assert dv.monitor_ref("monitor my chatbot please") is None


def _detail(state: str = "ready", **extra: object) -> DeploymentDetail:
    smoke = SmokeTestResult(ok=True, endpoint="http://127.0.0.1:9", ttft_ms=12.3, itl_ms_mean=4.5, chunks=9)
    fields: dict[str, object] = {
        "id": DEP_ID,
        "name": "llama-3-2-3b-1a2b3c",
        "owner_id": 7,
        "state": state,
        "target": "local",
        "namespace": "default",
        "mode": "simulator",
        "model_id": "meta-llama/Llama-3.2-3B-Instruct",
        "endpoint": "http://127.0.0.1:9" if state == "ready" else None,
        "health": None,
        "cancel_requested": False,
        "recommendation_id": None,
        "option_index": 1,
        "revision": 1,
        "created_at": NOW,
        "updated_at": NOW,
        "smoke_test": smoke,
        "plan": {"slo": {"ttft_p90_ms": 210.0, "tpot_p90_ms": 35.0, "e2e_p95_ms": 9000.0}},
        "prediction": {
            "model_id": "meta-llama/Llama-3.2-3B-Instruct",
            "gpu_id": "B200",
            "gpus_total": 2,
            "ttft_ms": {"p90": 3.0},
            "tpot_ms": {"p90": 1.2},
            "cost": {"monthly_usd": 6869.0},
        },
        "runtime": {},
        "manifests_yaml": "",
        "revisions": [],
        "events": [
            DeploymentEventView(at=NOW, from_state=None, to_state="planned", actor="alice", detail={}),
            DeploymentEventView(
                at=NOW, from_state="planned", to_state="validating", actor="alice", detail={}
            ),
            DeploymentEventView(at=NOW, from_state="waiting_ready", to_state=state, actor="alice", detail={}),
        ],
    }
    fields.update(extra)
    return DeploymentDetail.model_validate(fields)


def _observation() -> Observation:
    p = Percentiles(count=10, mean=5.0, p50=4.0, p90=8.0, p95=9.0, p99=12.0)
    stats = WindowStats(
        start=0,
        end=60,
        seconds=60,
        targets=2,
        samples=12,
        resets=0,
        requests=30,
        request_rate=0.5,
        prompt_tokens_per_s=10,
        output_tokens_per_s=40,
        ttft_ms=p,
        tpot_ms=p,
        itl_ms=p,
        e2e_ms=p,
        queue_ms=p,
    )
    return Observation(
        deployment_id=DEP_ID,
        at=NOW,
        window_s=300,
        health=Health(state="healthy", reason="every SLO met"),
        stats=stats,
        compliance=None,
        predicted_vs_observed=[
            Comparison(metric="ttft_ms.p90", predicted=3.0, observed=8.0, error_pct=166.7)
        ],
        advice=[Advice(kind="scale_in", severity="info", message="1 replica would do, saving $3,400/month")],
        samples_stored=12,
    )


def test_preview_card_shows_target_manifests_and_dry_run() -> None:
    pending = PendingDeploy(
        deployment_id=DEP_ID,
        recommendation_id=DEP_ID,
        rank=1,
        target="local",
        namespace="default",
        plan={"model_id": "m", "gpu_id": "L4", "mode": "simulator", "replicas_min": 2, "replicas_max": 2},
        specification={},
        prediction={},
        note="locally this runs 2 simulator replicas instead of the 4 the option plans",
    )
    preview = Preview(
        objects=["Deployment/m-1a2b3c", "Service/m-1a2b3c"],
        yaml="kind: Deployment\n" * 80,
        dry_run=["would start 2 local preflight-simulator process(es) on free loopback ports"],
    )
    card = dv.preview_card(pending, preview)
    assert "Target **local**" in card and "namespace **default**" in card
    assert "- Deployment/m-1a2b3c" in card and "Would start 2 local" in card
    assert "instead of the 4" in card and "```" not in card, "the YAML is a download, not a wall of text"
    assert "80 lines) is attached below as manifests.yaml" in card
    assert "Nothing has been applied yet" in card


def test_dry_run_json_reads_as_sentences() -> None:
    raw = '{"kind": "Deployment", "metadata": {"name": "m-1a2b3c"}, "spec": {"replicas": 2}}'
    assert dv.dry_run_lines([raw, "deployment/m: created (dry run)"]) == [
        "Deployment m-1a2b3c: accepted by the server (dry run)",
        "Deployment/m: created (dry run)",
    ]


def test_deployment_card_has_spec_prediction_history_smoke_and_observed() -> None:
    w = Watched(_detail(), "alice", {"task_type": "chatbot", "concurrent_users": 1000}, _observation())
    card = dv.deployment_card(w)
    assert "llama-3-2-3b-1a2b3c — ready" in card and "owner alice" in card
    assert "chatbot, 1,000 users" in card
    assert "Prediction: meta-llama/Llama-3.2-3B-Instruct on 2× B200" in card and "$6,869/month" in card
    assert "planned → " in card and "validating" in card
    assert "Smoke test ok: TTFT 12 ms, ITL 4.5 ms" in card
    assert "| ttft p90 | 8.0 | 3.0 (+167%) | — |" in card
    assert "Advice: 1 replica would do" in card
    deleted = dv.deployment_card(Watched(_detail("deleted"), None, {}, None))
    assert "not running" in deleted and "Health" not in deleted


def test_monitoring_plot_has_observed_lines_targets_and_predictions() -> None:
    points = [
        SeriesPoint(
            at=NOW + timedelta(seconds=30 * i),
            request_rate=1.0,
            ttft_p90_ms=10.0 + i,
            itl_p90_ms=4.0,
            e2e_p95_ms=300.0,
            queue_depth=0.0,
            kv_cache_usage=0.1,
        )
        for i in range(4)
    ]
    fig = latency_over_time_figure(
        points, ttft_target_ms=210, itl_target_ms=35, ttft_predicted_ms=3.0, itl_predicted_ms=1.2
    )
    names = [t.name for t in fig.data]
    assert names == ["TTFT p90 observed", "ITL p90 observed"]
    assert list(fig.data[0].y) == [10.0, 11.0, 12.0, 13.0]
    shapes = {round(s.y0, 1) for s in fig.layout.shapes}
    assert shapes == {210.0, 35.0, 3.0, 1.2}
    card = dv.monitoring_card(Watched(_detail(), None, {}, _observation(), points))
    assert "Targets: TTFT p90 ≤ 210 ms" in card and "Predicted vs observed" in card
    assert "GPU utilisation: unavailable (no DCGM exporter" in card
    assert "KV cache" in card and "average batch" in card and "queue" in card


def test_monitoring_shows_prediction_at_observed_load_beside_as_planned() -> None:
    load = ObservedLoad(requests_per_s=0.25, input_tokens=20, output_tokens=80)
    at_load = [Comparison(metric="ttft_ms.p90", predicted=6.0, observed=8.0, error_pct=33.3)]
    obs = _observation().model_copy(update={"observed_load": load, "predicted_at_observed_load": at_load})
    card = dv.monitoring_card(Watched(_detail(), None, {}, obs))
    assert "| Metric | Observed | Predicted as planned | Predicted at observed load |" in card
    assert "| ttft p90 | 8.0 | 3.0 (+167%) | 6.0 (+33%) |" in card
    assert "Observed load per replica: 0.25 req/s, 20 tokens in / 80 out per request." in card
    assert "not compared" not in card

    # Idle or far from the plan: the as-planned figure stands without a percentage, and says why.
    far = obs.model_copy(
        update={
            "predicted_vs_observed": [
                Comparison(metric="ttft_ms.p90", predicted=3.0, observed=8.0, error_pct=None)
            ]
        }
    )
    card = dv.monitoring_card(Watched(_detail(), None, {}, far))
    assert "| ttft p90 | 8.0 | 3.0 | 6.0 (+33%) |" in card
    assert "+167%" not in card and "far from the planned load" in card and "not compared" in card

    # Nothing served: no prediction at the observed load, said in words.
    idle = far.model_copy(update={"observed_load": None, "predicted_at_observed_load": []})
    card = dv.monitoring_card(Watched(_detail(), None, {}, idle))
    assert "| ttft p90 | 8.0 | 3.0 | — |" in card and "%)" not in card
    assert "Predicted at observed load: none for this window" in card


def test_monitoring_shows_serving_state_and_actual_against_predicted_cost() -> None:
    obs = _observation()
    assert obs.stats is not None
    stats = obs.stats.model_copy(
        update={"kv_cache_usage_mean": 0.42, "running_mean": 6.0, "queue_depth_mean": 1.5}
    )
    obs = obs.model_copy(update={"stats": stats})
    prediction = {
        "min_replicas": 1,
        "cost": {"hourly_usd": 2.0, "monthly_usd": 1460.0, "per_1k_tokens_usd": 0.01},
    }
    lines = "\n".join(dv.serving_lines(obs, prediction, 0.73))
    assert "KV cache 42%" in lines and "average batch 6.0" in lines and "1.5 waiting" in lines
    assert "GPU utilisation: 73%" in lines
    # 2 replicas scraped at $2/hour each = $2,920/month; 50 tokens/s = 180,000 tokens/hour -> $0.0222 per 1k.
    assert "predicted $1,460/month, running now $2,920/month (2 replica(s))" in lines
    assert "per 1k tokens $0.0222 at the observed load (predicted $0.0100" in lines


def test_inference_footer_and_friendly_cluster_errors() -> None:
    result = InferenceResult(
        ok=True, model="m", tokens=12, ttft_ms=21.0, itl_ms_mean=5.25, itl_ms_p50=5.0, e2e_ms=80.0
    )
    assert "TTFT **21 ms**, ITL **5.2 ms**" in dv.inference_footer(result)
    text = chat_message(ClusterUnreachableError("cannot reach https://10.0.0.1:6443\nTraceback ..."))
    assert "cluster" in text and "Traceback" not in text and "local" in text

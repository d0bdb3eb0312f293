"""Stage 4 in the chat: deploy an option, watch it, test it; "my deployments" and the monitoring view.

- **Deploy** under an option card (or "deploy option 2 to kubernetes namespace ml") renders, validates and
  previews the manifests (on a cluster, with the server-side dry run) and waits for **Confirm**.
- The run's progress events become steps (one per lifecycle state, then the smoke test), with a
  **Cancel deployment** action. The run is a background task of this chat session, so the cancel action
  (and anything else the person does) is handled while it runs.
- At the end: the endpoint, the deployment's id and name, and **Send a test prompt**: the reply streams
  from the deployment's endpoint with its measured TTFT and ITL.
- "my deployments" lists the person's deployments (admins: all) from Postgres, so it survives a reload;
  **Monitor** shows TTFT/ITL over time against the targets, predicted vs observed, and the advice.

State: pending previews live in this browser session only; the ids of deployments made in a thread are in
the thread's state (for resume). Every read goes through the owner-scoped deployment service.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import chainlit as cl

from app.auth import Principal
from app.chat import deploy_views as dv
from app.chat import deploying
from app.chat.handlers import current_principal, friendly, get_state, put_state, say
from app.chat.monitor_plot import latency_over_time_figure
from app.deploy.events import Finished, ManifestsRendered, SmokeTested, StateChanged, StepProgress

logger = logging.getLogger(__name__)

PENDING_KEY = "preflight_pending_deploys"
TEST_TARGET_KEY = "preflight_test_deployment"
STEP_STATES = ("validating", "applying", "waiting_ready", "rolling_back")
_running: set[asyncio.Task[None]] = set()  # references to deploy runs in progress, nothing else


# --- actions ------------------------------------------------------------------------------------------------


def _card_actions(d: Any) -> list[cl.Action]:
    payload = {"deployment_id": d.id}
    actions = []
    if d.state == "ready":
        actions.append(
            cl.Action(name="test_deployment", payload=payload, label="Send a test prompt", icon="send")
        )
    if d.state != "deleted":
        actions.append(
            cl.Action(name="monitor_deployment", payload=payload, label="Monitor", icon="activity")
        )
        actions.append(
            cl.Action(name="delete_deployment", payload=payload, label="Delete deployment", icon="trash-2")
        )
    return actions


# --- preview and confirm ------------------------------------------------------------------------------------


async def start_preview(
    rank: int, *, target: str, namespace: str, recommendation_id: str | None = None
) -> None:
    rec_id = recommendation_id or get_state().recommendation_id
    if rec_id is None:
        await say("There is no recommendation to deploy yet: describe what you need first.").send()
        return
    principal = await current_principal()
    kind: deploying.Target = "kubernetes" if target == "kubernetes" else "local"
    async with cl.Step(name=f"Previewing option {rank} on {kind}", type="tool") as step:
        step.input = f"option {rank}, target {kind}, namespace {namespace}"
        draft = await deploying.draft(rec_id, rank, target=kind, namespace=namespace, principal=principal)
        step.output = f"{len(draft.preview.objects)} manifests rendered and validated."
    pending: dict[str, Any] = cl.user_session.get(PENDING_KEY) or {}
    pending[draft.pending.deployment_id] = draft.pending.model_dump(mode="json")
    cl.user_session.set(PENDING_KEY, pending)
    dep_id = draft.pending.deployment_id
    elements = [
        # A real download (Chainlit serves the file to this session). Not shown as text: a side element
        # opens by itself and the YAML's embedded JSON (the simulator profile) reads as escaped noise.
        cl.File(
            name=dv.MANIFESTS_FILE, content=draft.preview.yaml.encode(), mime="text/yaml", display="inline"
        ),
    ]
    await say(
        dv.preview_card(draft.pending, draft.preview),
        elements=elements,
        actions=[
            cl.Action(
                id=f"confirm-{dep_id}",
                name="confirm_deploy",
                payload={"deployment_id": dep_id},
                label="Confirm",
                tooltip="Apply these manifests",
                icon="check",
            ),
            cl.Action(
                id=f"discard-{dep_id}",
                name="discard_deploy",
                payload={"deployment_id": dep_id},
                label="Cancel",
                tooltip="Deploy nothing",
                icon="x",
            ),
        ],
    ).send()


async def _remove_preview_actions(dep_id: str) -> None:
    for action_id, name in ((f"confirm-{dep_id}", "confirm_deploy"), (f"discard-{dep_id}", "discard_deploy")):
        await cl.Action(id=action_id, name=name, payload={}).remove()


def _take_pending(dep_id: str) -> deploying.PendingDeploy | None:
    pending: dict[str, Any] = cl.user_session.get(PENDING_KEY) or {}
    raw = pending.pop(dep_id, None)
    cl.user_session.set(PENDING_KEY, pending)
    return deploying.PendingDeploy.model_validate(raw) if raw else None


@cl.action_callback("deploy")
@friendly
async def on_deploy(action: cl.Action) -> None:
    await start_preview(
        int(action.payload.get("rank", 1)),
        target=str(action.payload.get("target") or "local"),
        namespace=str(action.payload.get("namespace") or "default"),
        recommendation_id=action.payload.get("recommendation_id"),
    )


@cl.action_callback("discard_deploy")
@friendly
async def on_discard(action: cl.Action) -> None:
    dep_id = str(action.payload.get("deployment_id"))
    _take_pending(dep_id)
    await _remove_preview_actions(dep_id)
    await say("Cancelled: nothing was deployed.").send()


@cl.action_callback("confirm_deploy")
@friendly
async def on_confirm(action: cl.Action) -> None:
    dep_id = str(action.payload.get("deployment_id"))
    pending = _take_pending(dep_id)
    await _remove_preview_actions(dep_id)
    if pending is None:
        await say(
            "That preview is no longer waiting (already deployed or cancelled); use **Deploy** again."
        ).send()
        return
    principal = await current_principal()
    view = await deploying.create(pending, principal=principal)
    state = get_state()
    state.deployment_ids.append(view.id)
    await put_state(state)
    cancel = cl.Action(
        id=f"cancel-{view.id}",
        name="cancel_deploy",
        payload={"deployment_id": view.id},
        label="Cancel deployment",
        tooltip="Stop and roll back",
        icon="circle-stop",
    )
    await say(
        f"Deploying **{view.name}** to {view.target}/{view.namespace} (id `{view.id}`). Progress follows "
        "as steps; **Cancel deployment** stops it and rolls back.",
        actions=[cancel],
    ).send()
    # A background task of this session (it keeps the session's context): the cancel action and new
    # messages are handled while the deployment runs.
    task = asyncio.create_task(follow(view.id, principal, cancel))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _begin(name: str) -> cl.Step:
    step = cl.Step(name=name, type="tool", show_input=False)
    step.start = step.created_at
    await step.send()
    return step


async def _end(step: cl.Step | None, *, error: bool = False) -> None:
    if step is None:
        return
    from chainlit.utils import utc_now

    step.end = utc_now()
    step.is_error = error
    await step.update()


@friendly
async def follow(dep_id: str, principal: Principal, cancel: cl.Action) -> None:
    """Render the deployment's progress events as steps; end with the endpoint and the next actions."""
    step: cl.Step | None = None
    final: Finished | None = None
    try:
        async for ev in deploying.run(dep_id, principal=principal):
            if isinstance(ev, StateChanged):
                await _end(step, error=ev.to_state == "failed")
                step = None
                if ev.to_state in STEP_STATES:
                    step = await _begin(dv.STATE_TITLES[ev.to_state])
                elif ev.to_state == "ready":
                    step = await _begin("Smoke test")
            elif isinstance(ev, StepProgress):
                step = step or await _begin(ev.step.replace("_", " ").capitalize())
                await step.stream_token(f"{ev.message}\n")
            elif isinstance(ev, ManifestsRendered):
                step = step or await _begin(dv.STATE_TITLES["validating"])
                await step.stream_token(
                    f"{ev.count} manifests rendered and validated: {', '.join(ev.objects)}\n"
                )
            elif isinstance(ev, SmokeTested):
                step = step or await _begin("Smoke test")
                await step.stream_token(dv.smoke_event_text(ev) + "\n")
                await _end(step, error=not ev.result.ok and not ev.skipped)
                step = None
            elif isinstance(ev, Finished):
                await _end(step, error=not ev.ok)
                step = None
                final = ev
    finally:
        await _end(step, error=True)
        await cancel.remove()
    if final is None:
        await say(
            "The deployment stopped without a result; say **my deployments** to see where it is."
        ).send()
        return
    d = await deploying.detail(dep_id, principal=principal)
    await say(dv.finished_card(final, d), actions=_card_actions(d)).send()


@cl.action_callback("cancel_deploy")
@friendly
async def on_cancel(action: cl.Action) -> None:
    """Ask first: stopping rolls back what was applied."""
    dep_id = str(action.payload.get("deployment_id"))
    await ask_first(
        "Stop this deployment and **roll back** what was applied so far?",
        name="confirm_cancel_deploy",
        dep_id=dep_id,
        yes="Yes, stop and roll back",
    )


async def ask_first(question: str, *, name: str, dep_id: str, yes: str) -> None:
    """A question with a Yes and a Keep button, both bound to one deployment."""
    payload = {"deployment_id": dep_id}
    await say(
        question,
        actions=[
            cl.Action(id=f"{name}-{dep_id}", name=name, payload=payload, label=yes, icon="check"),
            cl.Action(
                id=f"keep-{name}-{dep_id}",
                name="keep_deployment",
                payload=payload,
                label="No, keep it",
                icon="x",
            ),
        ],
    ).send()


async def _remove_question(name: str, dep_id: str) -> None:
    for action_id, action_name in ((f"{name}-{dep_id}", name), (f"keep-{name}-{dep_id}", "keep_deployment")):
        await cl.Action(id=action_id, name=action_name, payload={}).remove()


@cl.action_callback("keep_deployment")
@friendly
async def on_keep(action: cl.Action) -> None:
    dep_id = str(action.payload.get("deployment_id"))
    for name in ("confirm_cancel_deploy", "confirm_delete_deployment"):
        await _remove_question(name, dep_id)
    await say("Kept: nothing was changed.").send()


@cl.action_callback("confirm_cancel_deploy")
@friendly
async def on_cancel_confirmed(action: cl.Action) -> None:
    dep_id = str(action.payload.get("deployment_id"))
    await _remove_question("confirm_cancel_deploy", dep_id)
    principal = await current_principal()
    events = await deploying.cancel(dep_id, principal=principal)
    if events:  # no run was alive: the rollback happened here
        final = next((e for e in reversed(events) if isinstance(e, Finished)), None)
        await say(f"Cancelled and rolled back: {final.message if final else 'done'}.").send()
        return
    await say("Cancel requested: the deployment stops within a second or two and rolls back.").send()


# --- inference test -----------------------------------------------------------------------------------------


async def run_inference(dep_id: str, prompt: str) -> None:
    principal = await current_principal()
    simulated = (await deploying.detail(dep_id, principal=principal)).mode == "simulator"
    stream = await deploying.inference_stream(dep_id, prompt, principal=principal)
    reply = cl.Message(content="", author="Deployment (simulated)" if simulated else "Deployment")
    async for chunk in stream.chunks():
        await reply.stream_token(chunk)
    if stream.result is not None:
        reply.content = (
            (reply.content or "") + "\n\n" + dv.inference_footer(stream.result, simulated=simulated)
        )
    await reply.send()


@cl.action_callback("test_deployment")
@friendly
async def on_test(action: cl.Action) -> None:
    """The person's next message goes to the deployment's endpoint (an ordinary chat turn, so the UI shows
    it as one; a blocking ask would keep the UI busy)."""
    dep_id = str(action.payload.get("deployment_id"))
    d = await deploying.detail(dep_id, principal=await current_principal())  # owner check before asking
    cl.user_session.set(TEST_TARGET_KEY, dep_id)
    await say(
        f"Type a prompt for **{d.name}**: your next message goes to its endpoint and the reply streams "
        "here with its measured TTFT and ITL. (Say *cancel* to skip.)"
    ).send()


async def take_test_prompt(text: str) -> bool:
    """When a test prompt was asked for, send ``text`` to that deployment; True when it was consumed."""
    dep_id = cl.user_session.get(TEST_TARGET_KEY)
    if not dep_id:
        return False
    cl.user_session.set(TEST_TARGET_KEY, None)
    if text.strip().lower() in ("cancel", "skip", "never mind"):
        await say("No test prompt sent.").send()
        return True
    await run_inference(str(dep_id), text)
    return True


async def test_latest(prompt: str) -> None:
    """ "test: PROMPT" sends PROMPT to the newest deployment made in this thread."""
    state = get_state()
    if not state.deployment_ids:
        await say("No deployment in this conversation yet: use **Deploy** under an option first.").send()
        return
    if not prompt:
        await say("Write the prompt after the colon, e.g. *test: say hello*.").send()
        return
    await run_inference(state.deployment_ids[-1], prompt)


# --- my deployments and monitoring --------------------------------------------------------------------------


async def show_my_deployments(ids: list[str] | None = None) -> None:
    """All the person's deployments, or (``ids``, on resume) those made in this conversation; the resume
    copy is marked as a render, so reopening a thread shows it once."""
    from app.chat.handlers import RENDER_KEY

    principal = await current_principal()
    found, total = await deploying.my_deployments(principal=principal, ids=ids)
    meta = {RENDER_KEY: "deployments"} if ids is not None else None
    if ids is None:
        await say(dv.my_deployments_header(len(found), total, admin=principal.is_admin)).send()
    elif found:
        await say("### Deployments made in this conversation", metadata=meta).send()
    for w in found:
        await say(dv.deployment_card(w), actions=_card_actions(w.detail), metadata=meta).send()


async def show_monitoring(dep_id: str) -> None:
    w = await deploying.watch(dep_id, principal=await current_principal())
    slo = w.detail.plan.get("slo") or {}
    pred = w.detail.prediction or {}
    elements: list[Any] = []
    if w.points:
        figure = latency_over_time_figure(
            w.points,
            ttft_target_ms=slo.get("ttft_p90_ms"),
            itl_target_ms=slo.get("tpot_p90_ms"),
            ttft_predicted_ms=(pred.get("ttft_ms") or {}).get("p90"),
            itl_predicted_ms=(pred.get("tpot_ms") or {}).get("p90"),
            title=f"{w.detail.name}: latency over time",
        )
        elements.append(cl.Plotly(name="latency_over_time", figure=figure, display="inline", size="large"))
    refresh = cl.Action(
        name="monitor_deployment", payload={"deployment_id": w.detail.id}, label="Refresh", icon="refresh-cw"
    )
    from app.config import get_settings
    from app.observe.dcgm import gpu_utilisation

    util = (
        await gpu_utilisation(get_settings().prometheus_url, w.detail.name)
        if w.detail.target == "kubernetes"
        else None
    )
    await say(dv.monitoring_card(w, gpu_utilisation=util), elements=elements, actions=[refresh]).send()


@cl.action_callback("monitor_deployment")
@friendly
async def on_monitor(action: cl.Action) -> None:
    await show_monitoring(str(action.payload.get("deployment_id")))


async def monitor_by_ref(ref: str) -> None:
    await show_monitoring(await deploying.resolve(ref, principal=await current_principal()))


@cl.action_callback("delete_deployment")
@friendly
async def on_delete(action: cl.Action) -> None:
    """Ask first: deleting stops the model and removes its processes or cluster objects."""
    dep_id = str(action.payload.get("deployment_id"))
    d = await deploying.detail(dep_id, principal=await current_principal())  # owner check before asking
    await ask_first(
        f"Delete **{d.name}**? Its endpoint stops answering and its processes or cluster objects are "
        "removed; its history stays.",
        name="confirm_delete_deployment",
        dep_id=dep_id,
        yes="Yes, delete it",
    )


@cl.action_callback("confirm_delete_deployment")
@friendly
async def on_delete_confirmed(action: cl.Action) -> None:
    dep_id = str(action.payload.get("deployment_id"))
    await _remove_question("confirm_delete_deployment", dep_id)
    principal = await current_principal()
    async with cl.Step(name="Deleting the deployment", type="tool") as step:
        events = await deploying.delete(dep_id, principal=principal)
        step.output = "\n".join(ev.message for ev in events if isinstance(ev, StepProgress | Finished))
    final = next((e for e in reversed(events) if isinstance(e, Finished)), None)
    if final is not None and final.ok:
        await say(
            "Deleted: its processes or objects are gone; its history stays in **my deployments**."
        ).send()
    else:
        await say(f"⚠️ The delete did not finish: {final.message if final else 'no result'}.").send()

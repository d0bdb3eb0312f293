"""Chainlit event handlers: they route to :mod:`app.chat.flow` and render with :mod:`app.chat.views`.

Stage 1 (understand): extraction as a visible step, at most two clarifying questions (an answer is always
used: unreadable or out-of-bounds answers get a follow-up), the specification card, implausible values
confirmed before planning, every field editable in the settings panel or in words. Stage 2 (recommend):
one options table (a row opens its details, with Deploy and Save bound to that plan and rank), the plot, a
folded "why not" list. Stage 3 (explore): what-ifs answered as a change, saved scenarios, comparisons of
exactly the named scenarios. A resumed thread renders its plan once, from the stored recommendation.

Stage 4 (deploy) and "my deployments" live in :mod:`app.chat.deploy_handlers`; the table's Deploy button
calls its ``deploy`` action, and :func:`on_message` routes "deploy ...", "my deployments", "monitor ID"
and "test: PROMPT" to it (imported lazily: it imports this module's plumbing).

All per-person state is in ``cl.user_session`` (per browser session) and the thread's metadata; this module
keeps none, so sessions never see each other's state.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import string
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import chainlit as cl
from chainlit.data import get_data_layer
from chainlit.types import ThreadDict

from app.auth import Principal
from app.chat import answers, editing, flow, views
from app.chat.datalayer import make_data_layer
from app.chat.labels import short_model
from app.chat.plots import cost_latency_figure
from app.chat.session_state import STATE_KEY, ChatState
from app.chat.thread_guard import NOT_FOUND
from app.errors import Forbidden, chat_message, kind_of
from app.intent.clarify import ClarifyingQuestion
from app.intent.schema import DeploymentIntent, Specification
from app.planning.result import RecommendationResult

logger = logging.getLogger(__name__)

AUTHOR = "Preflight"
RESUME_RENDER_DELAY_S = 0.5
P = ParamSpec("P")
R = TypeVar("R")


# --- plumbing -------------------------------------------------------------------------------------------


def friendly(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R | None]]:
    """Any failure in a handler becomes a chat message with what to do next; details go to the log."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return await fn(*args, **kwargs)
        except Exception as e:  # the edge of the chat: log it, tell the person, never show a traceback
            if kind_of(e) is not None:
                logger.warning("chat handler %s: %s: %s", fn.__name__, type(e).__name__, e)
            else:
                logger.exception("chat handler %s failed", fn.__name__)
            await cl.Message(content=chat_message(e), author=AUTHOR).send()
            return None

    return wrapper


def get_state() -> ChatState:
    raw = cl.user_session.get(STATE_KEY)
    return ChatState.model_validate(raw) if isinstance(raw, dict) else ChatState()


async def put_state(state: ChatState) -> None:
    """Keep the state in the session and in the thread's metadata (so it survives a server restart)."""
    cl.user_session.set(STATE_KEY, state.model_dump(mode="json"))
    data_layer = get_data_layer()
    thread_id = cl.context.session.thread_id
    if data_layer is not None and thread_id and cl.context.session.has_first_interaction:
        await data_layer.update_thread(thread_id=thread_id, metadata=state.to_metadata())


async def current_principal() -> Principal:
    user = cl.user_session.get("user")
    if user is None:
        raise Forbidden("you are not signed in")
    principal = await flow.principal_for(user.identifier)
    if principal is None:
        raise Forbidden(f"the account {user.identifier!r} no longer exists or is disabled")
    return principal


def say(content: str, **kwargs: Any) -> cl.Message:
    return cl.Message(content=content, author=AUTHOR, **kwargs)


# --- authentication and persistence ----------------------------------------------------------------------


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    from fastapi import HTTPException

    from app.chat.login_guard import current_attempt
    from app.errors import PreflightError

    attempt = current_attempt()
    try:
        principal = await flow.sign_in(
            username, password, client_ip=attempt.client_ip if attempt else "unknown"
        )
    except (PreflightError, HTTPException) as e:
        # Throttled, or the knowledge base is down: Chainlit can only say "wrong password", so the guard
        # around /login answers with this error instead (429 + Retry-After, 503).
        if attempt is None:
            raise
        attempt.refusal = e
        return None
    if principal is None:
        return None
    return cl.User(identifier=principal.name, metadata={"role": "admin" if principal.is_admin else "user"})


@cl.data_layer
def data_layer() -> Any:
    return make_data_layer()


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [
        cl.Starter(
            label="Chatbot, 1000 users", message="I need a chatbot for 1000 users, low latency is critical"
        ),
        cl.Starter(
            label="Code assistant on a budget",
            message="Code completion for 300 developers, TTFT under 200 ms, budget $8,000 a month",
        ),
        cl.Starter(
            label="Summarize documents on our GPUs",
            message="Summarize 5000 documents an hour on our own 4 A100-80GB at the lowest cost, power costs "
            "$0.12/kWh",
        ),
        cl.Starter(label="My deployments", message="my deployments"),
    ]


# --- stage 1: understand ---------------------------------------------------------------------------------


@cl.on_message
@friendly
async def on_message(message: cl.Message) -> None:
    text = (message.content or "").strip()
    state = get_state()
    lowered = text.lower()
    if not text:
        await say(
            "Tell me what you want to serve, for example *a chatbot for 1000 users, low latency*."
        ).send()
        return
    if lowered in {"start over", "restart", "new plan", "reset"}:
        await put_state(ChatState())
        await say("Starting over. Describe what you need.").send()
        return
    if lowered.startswith("compare"):
        await compare(state, editing.compare_refs(text))
        return
    if await route_deploy_command(text, state):
        return
    if lowered in {"scenarios", "list scenarios", "my scenarios"}:
        found = await flow.scenarios(state.scenario_ids, principal=await current_principal())
        await say(views.scenario_list(found)).send()
        return
    if state.stage == "clarifying" and state.pending_question and state.intent is not None:
        await on_answer(state, text)
        return
    if state.stage == "confirming" and state.spec is not None:
        await on_confirmation(state, text)
        return
    if state.stage == "planned" and state.spec is not None:
        spec = Specification.model_validate(state.spec)
        changes = editing.changes_from_text(text, spec)
        if changes:
            await replan(state, spec, changes, said=text)
            return
        await say(
            "I didn't find a change in that. Try *“tighten TTFT to 150 ms”*, *“what if we use L40S?”*, "
            "*“double the users”*, *“budget $5000 a month”*, or say **start over** for a new plan."
        ).send()
        return
    await on_description(ChatState(), text)


async def route_deploy_command(text: str, state: ChatState) -> bool:
    """Stage 4 in words: "my deployments", "deploy option 2 to kubernetes namespace ml", "monitor ID",
    "test: PROMPT". True when ``text`` was one of them."""
    from app.chat import deploy_handlers as dh
    from app.chat import deploy_views as dv

    if await dh.take_test_prompt(text):
        return True
    if dv.is_my_deployments(text):
        await dh.show_my_deployments()
        return True
    if text.lower().startswith("test:"):
        await dh.test_latest(text[5:].strip())
        return True
    ref = dv.monitor_ref(text)
    if ref is not None:
        await dh.monitor_by_ref(ref)
        return True
    parsed = dv.parse_deploy_command(text)
    if parsed is not None:
        rank, target, namespace = parsed
        await dh.start_preview(
            rank, target=target, namespace=namespace, recommendation_id=state.recommendation_id
        )
        return True
    return False


async def on_description(state: ChatState, text: str) -> None:
    async with cl.Step(name="Understanding your request", type="tool") as step:
        step.input = text
        understood = await flow.understand(text)
        stated = understood.intent.stated()
        stated.pop("use_case_description", None)
        lines = [f"Extracted by {understood.extracted_by} in {understood.elapsed_ms:.0f} ms:"]
        lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in stated.items()] or ["- nothing specific yet"]
        lines += [f"- note: {w}" for w in understood.warnings]
        step.output = "\n".join(lines)
    state.input_text = text
    state.intent = understood.intent.model_dump(mode="json")
    state.unused_numbers = list(understood.unused_numbers)
    if understood.questions:
        await ask(state, understood.questions[0])
        return
    await specify_and_plan(state, understood.intent, frozenset())


async def ask(state: ChatState, question: ClarifyingQuestion) -> None:
    state.stage = "clarifying"
    state.pending_question = question.model_dump(mode="json")
    state.asked.append(question.key)
    await put_state(state)
    options = ", ".join(f"*{o}*" for o in question.options)
    number = len(state.asked)
    await say(
        f"**Question {number} of at most 2.** {question.question}\n\n"
        f"For example: {options}. Or say *I don't know*: {question.if_unknown}"
    ).send()


async def on_answer(state: ChatState, reply: str) -> None:
    assert state.pending_question is not None and state.intent is not None
    question = ClarifyingQuestion.model_validate(state.pending_question)
    reading = answers.read_answer(DeploymentIntent.model_validate(state.intent), question, reply)
    if reading.problem is not None:  # never a silent "don't know": say why, and ask the same again
        await say(f"{reading.problem}\n\n{question.question}").send()
        return
    intent = reading.intent
    state.intent = intent.model_dump(mode="json")
    state.unknown_fields = sorted(set(state.unknown_fields) | reading.unknown)
    state.input_text = f"{state.input_text or ''}\n{reply}".strip()
    if len(state.asked) < 2:
        following = [q for q in flow.clarifying_questions(intent, already_asked=frozenset(state.asked))]
        if following:
            await ask(state, following[0])
            return
    state.pending_question = None
    await specify_and_plan(state, intent, frozenset(state.unknown_fields))


async def specify_and_plan(state: ChatState, intent: DeploymentIntent, unknown: frozenset[str]) -> None:
    spec = await flow.specify(intent, principal=await current_principal(), unknown_fields=unknown)
    state.spec = spec.model_dump(mode="json")
    state.pending_question = None
    flags = views.plausibility_flags(spec)
    state.stage = "confirming" if flags else "planned"
    await put_state(state)
    await say(views.spec_card(spec, unused_numbers=state.unused_numbers)).send()
    await send_settings(spec)
    if flags:
        await ask_to_confirm(flags)
        return
    await plan_and_render(state, spec, step_name="Planning")


async def ask_to_confirm(flags: list[str]) -> None:
    keep = cl.Action(name="confirm_values", payload={}, label="Plan with these values", icon="check")
    await say(
        "**Before I plan, please check:**\n\n"
        + "\n".join(f"- ⚠ {f}" for f in flags)
        + "\n\nSay **yes** (or use the button) to plan with them anyway, or tell me the right value, "
        "e.g. *“TTFT 300 ms”* or *“2,000 users”*.",
        actions=[keep],
    ).send()


_YES = {"yes", "y", "ok", "okay", "sure", "keep", "keep them", "confirm", "correct", "right", "plan", "go"}


async def on_confirmation(state: ChatState, text: str) -> None:
    assert state.spec is not None
    spec = Specification.model_validate(state.spec)
    if text.strip().lower().rstrip(".!") in _YES:
        await plan_confirmed(state, spec)
        return
    changes = editing.changes_from_text(text, spec)
    if not changes:
        await ask_to_confirm(views.plausibility_flags(spec))
        return
    edited = editing.apply_changes(spec, changes)
    state.spec = edited.model_dump(mode="json")
    await say(f"Changed: {editing.describe_changes(spec, changes)}.").send()
    flags = views.plausibility_flags(edited)
    await put_state(state)
    await send_settings(edited)
    if flags:
        await ask_to_confirm(flags)
        return
    await plan_confirmed(state, edited)


async def plan_confirmed(state: ChatState, spec: Specification) -> None:
    state.stage = "planned"
    await put_state(state)
    await plan_and_render(state, spec, step_name="Planning")


@cl.action_callback("confirm_values")
@friendly
async def on_confirm_values(action: cl.Action) -> None:
    state = get_state()
    if state.stage != "confirming" or state.spec is None:
        await say("Those values are already planned; change them with ⚙ or in words.").send()
        return
    await action.remove()
    await plan_confirmed(state, Specification.model_validate(state.spec))


# --- stage 2: recommend ----------------------------------------------------------------------------------


async def send_settings(spec: Specification) -> None:
    choices = await flow.choices(await current_principal())
    widgets = editing.settings_widgets(spec, gpus=choices.gpus, providers=choices.providers)
    await cl.ChatSettings(widgets).send()


async def plan_and_render(
    state: ChatState, spec: Specification, *, step_name: str, edits: str | None = None
) -> None:
    principal = await current_principal()
    before: RecommendationResult | None = None
    if edits is not None and state.recommendation_id is not None:
        before = await flow.load_recommendation(state.recommendation_id, principal=principal)
    async with cl.Step(name=step_name, type="tool") as step:
        await step.stream_token("Sizing every model × GPU candidate against your targets…\n")
        started = time.perf_counter()
        result = await flow.recommend(spec, input_text=state.input_text, principal=principal)
        elapsed = (time.perf_counter() - started) * 1000
        await step.stream_token(
            f"{len(result.options)} options, {len(result.viable)} viable, {len(result.rejected)} rejected "
            f"in {elapsed:.0f} ms.\n"
        )
    state.recommendation_id = result.recommendation_id
    await put_state(state)
    await render_result(spec, result, before=before, edits=edits)


# Messages that show a plan carry this metadata key: a resumed thread drops them and renders the plan
# once, fresh, from the stored recommendation (stored copies lose their plot, details and buttons).
RENDER_KEY = "preflight_render"


async def folded(name: str, output: str, *, elements: list[Any] | None = None, meta: dict[str, Any]) -> None:
    """A collapsed step: one line until opened (the plot and the specification after a what-if)."""
    async with cl.Step(name=name, type="tool", show_input=False, metadata=meta) as step:
        step.elements = elements or []
        step.output = output


async def render_result(
    spec: Specification,
    result: RecommendationResult,
    *,
    before: RecommendationResult | None = None,
    edits: str | None = None,
) -> None:
    """The plan as one message: the options table (a row opens its details, with Deploy and Save bound to
    this plan and rank) and the plot. A what-if leads with the change; its plot and specification are
    folded one click away."""
    meta = {RENDER_KEY: result.recommendation_id or True}
    whatif = edits is not None
    why = views.why_not(result)
    if not result.options:
        text = views.nothing_fits(result)
        if whatif:
            text = views.whatif_change(before, result, edits or "") + "\n\n" + text
        await say(text, metadata=meta).send()
        if why:
            await folded("Why not the others", why, meta=meta)
        return
    table = cl.CustomElement(name="OptionsTable", props=views.options_table_props(result), display="inline")
    figure = cost_latency_figure(result, target_ms=spec.target_ttft_p90_ms)
    plot = cl.Plotly(name="cost_vs_latency", figure=figure, display="inline", size="large")
    if whatif:
        text = (
            views.whatif_change(before, result, edits or "")
            + "\n\n"
            + views.options_summary(result, title="Options now")
        )
        await say(text, elements=[table], metadata=meta).send()
        await folded("Cost and latency plot", "Cost against predicted latency:", elements=[plot], meta=meta)
        await folded("Updated specification", views.spec_card(spec, title="Updated specification"), meta=meta)
    else:
        await say(views.options_summary(result), elements=[table, plot], metadata=meta).send()
    if why:
        await folded("Why not the others", why, meta=meta)


# --- stage 3: explore ------------------------------------------------------------------------------------


async def replan(state: ChatState, spec: Specification, changes: dict[str, Any], *, said: str | None) -> None:
    summary = editing.describe_changes(spec, changes)
    edited = editing.apply_changes(spec, changes)  # raises ValidationError for out-of-range values
    state.spec = edited.model_dump(mode="json")
    await put_state(state)
    await send_settings(edited)
    await plan_and_render(
        state, edited, step_name="Re-planning", edits=summary + (f" (from “{said}”)" if said else "")
    )


@cl.on_settings_update
@friendly
async def on_settings(settings: dict[str, Any]) -> None:
    state = get_state()
    if state.spec is None:
        await say("Describe your use case first; then the settings panel edits its specification.").send()
        return
    spec = Specification.model_validate(state.spec)
    changes = editing.changes_from_settings(spec, settings)
    if not changes:
        return
    await replan(state, spec, changes, said=None)


def _scenario_name(state: ChatState) -> str:
    letters = string.ascii_uppercase
    n = len(state.scenario_ids)
    return f"Scenario {letters[n % 26]}" + (str(n // 26) if n >= 26 else "")


@cl.action_callback("save_scenario")
@friendly
async def on_save_scenario(action: cl.Action) -> None:
    state = get_state()
    # The button's own plan: a button under an older plan saves that plan's option, not the current one.
    rec_id = action.payload.get("recommendation_id") or state.recommendation_id
    if rec_id is None:
        await say("There is no recommendation to save yet.").send()
        return
    principal = await current_principal()
    rank = int(action.payload.get("rank", 1))
    saved = await flow.save_scenario(
        _scenario_name(state), recommendation_id=rec_id, rank=rank, principal=principal
    )
    older = " from an earlier plan" if rec_id != state.recommendation_id else ""
    state.scenario_ids.append(saved.id)
    await put_state(state)
    actions = []
    if len(state.scenario_ids) >= 2:
        actions.append(
            cl.Action(name="compare_scenarios", payload={}, label="Compare the last two", icon="columns-2")
        )
    await say(
        f"Saved **{saved.name}**: option {rank}{older}"
        + (
            f" ({short_model(saved.option.model_id)} on {views.gpu_label(saved.option)})"
            if saved.option
            else ""
        )
        + ".",
        actions=actions,
    ).send()


@cl.action_callback("compare_scenarios")
@friendly
async def on_compare(action: cl.Action) -> None:
    await compare(get_state(), None)


async def compare(state: ChatState, refs: tuple[str, str] | None) -> None:
    """Compare exactly the two scenarios named ("compare A with C"), or the last two saved."""
    if len(state.scenario_ids) < 2:
        await say("Save at least two scenarios first (use **Save** under the options table).").send()
        return
    principal = await current_principal()
    if refs is None:
        ids = state.scenario_ids[-2:]
    else:
        saved = await flow.scenarios(state.scenario_ids, principal=principal)
        by_name = {s.name.lower(): s.id for s in saved}
        picked = [by_name.get(r.lower()) or by_name.get(f"scenario {r}".lower()) for r in refs]
        missing = [r for r, i in zip(refs, picked, strict=True) if i is None]
        if missing:
            names = ", ".join(s.name for s in saved)
            await say(
                f"I have no scenario {' or '.join(missing)} in this conversation; saved: {names}."
            ).send()
            return
        ids = [i for i in picked if i is not None]
    found = await flow.scenarios(ids, principal=principal)
    if len(found) < 2:
        await say("I could not find both scenarios any more; save them again.").send()
        return
    state.compared = ids
    await put_state(state)
    await say(views.compare_table(found[0], found[1])).send()


# --- resume ----------------------------------------------------------------------------------------------


@cl.on_chat_resume
@friendly
async def on_resume(thread: ThreadDict) -> None:
    metadata = thread.get("metadata") or {}
    state = ChatState.from_metadata(metadata if isinstance(metadata, dict) else {})
    cl.user_session.set(STATE_KEY, state.model_dump(mode="json"))
    if state.spec is None:
        return
    # Drop the stored copies of earlier renders (from the page about to be shown and from the database):
    # the plan is rendered once, below, from the stored recommendation.
    await drop_renders(thread)
    # Chainlit replaces the UI's message list with the stored thread right after this hook returns, which
    # would hide anything sent here; re-render once that has happened.
    task = asyncio.create_task(rerender_after_resume(state))
    _background.add(task)
    task.add_done_callback(_background.discard)


def _is_render(step: dict[str, Any]) -> bool:
    meta = step.get("metadata") or {}
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return False
    return isinstance(meta, dict) and RENDER_KEY in meta


async def drop_renders(thread: ThreadDict) -> None:
    steps = list(thread.get("steps") or [])
    dropped = {s["id"] for s in steps if _is_render(dict(s))}
    if not dropped:
        return
    thread["steps"] = [s for s in steps if s["id"] not in dropped and s.get("parentId") not in dropped]
    data_layer = get_data_layer()
    if data_layer is not None:
        for step_id in dropped:
            await data_layer.delete_step(step_id)


_background: set[asyncio.Task[None]] = set()  # keeps references to running re-render tasks only


@friendly
async def rerender_after_resume(state: ChatState) -> None:
    await asyncio.sleep(RESUME_RENDER_DELAY_S)
    assert state.spec is not None
    spec = Specification.model_validate(state.spec)
    await send_settings(spec)
    if state.recommendation_id is None:
        return
    principal = await current_principal()
    result = await flow.load_recommendation(state.recommendation_id, principal=principal)
    await say(
        "Restored this plan from your history: the current options, plot and scenarios.",
        metadata={RENDER_KEY: "restored"},
    ).send()
    await render_result(spec, result)
    if state.deployment_ids:
        from app.chat.deploy_handlers import show_my_deployments

        await show_my_deployments(ids=state.deployment_ids)


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set(STATE_KEY, ChatState().model_dump(mode="json"))
    wanted = cl.context.session.thread_id_to_resume
    if wanted:
        # The thread could not be resumed: it does not exist or belongs to someone else. Say which in
        # words (the same words either way, so ids cannot be probed).
        await say(
            f"**{NOT_FOUND}.** It does not exist, or it belongs to another account. "
            "Start a new one here, or pick one of yours from the history."
        ).send()

"""The chat in a real browser (Debian's Chromium, headless) against a running server on a fresh database.

Stages 1-3: Preflight's login ("Username"), a compact specification card, ONE options table whose rows open
their details, a what-if answered as a change, a stale Save button that saves its own (older) plan,
"compare A with C" comparing exactly those, reopening the thread three times with the plan shown once, the
plan on a phone without sideways scrolling, clarifying answers that are never dropped (beyond the bound ->
the bound and the question again; unreadable -> a follow-up), an implausible target confirmed before
planning, owned GPUs on the card; a second person sees none of it and the thread's URL says "not found".
Stage 4: deploy the top option to the local target (simulator processes) after a preview whose manifests
download, watch the steps, send a test prompt (labelled simulated), monitor it, find it after a reload, and
delete it after a confirmation (the first answer "No" keeps it). Screenshots of each stage at 1440×900 and
390×844 go to test-artifacts/chat/.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from chat_fixtures import CHROMIUM, CHROMIUM_ARGS, ROOT, Account, chat_server, create_accounts

from app.chat.thread_guard import NOT_FOUND

ARTIFACTS = ROOT / "test-artifacts" / "chat"
PROMPT = "I need a chatbot for 1000 users, low latency is critical"
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium",
)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, module_db_url: str
) -> Iterator[tuple[str, dict[str, Account]]]:
    accounts = create_accounts(module_db_url, "alice", "bob")
    data_dir = tmp_path_factory.mktemp("chat-data")
    # Scrape live deployments often, so the monitoring view has samples within the test.
    extra = {"PREFLIGHT_SCRAPE_INTERVAL_S": "2"}
    with chat_server(module_db_url, data_dir, ARTIFACTS / "server.log", extra) as url:
        yield url, accounts


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shot(page: object, name: str, focus: object | None = None) -> None:
    """The stage as a person sees it on a laptop (1440×900) and on a phone (390×844); ``focus`` (a
    locator) is scrolled into view again after each resize, which moves the page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
        if focus is not None:
            focus.scroll_into_view_if_needed()  # type: ignore[attr-defined]
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=False)  # type: ignore[attr-defined]
    page.set_viewport_size(DESKTOP)  # type: ignore[attr-defined]


def log_in(browser: object, url: str, who: Account, viewport: dict[str, int] = DESKTOP) -> object:
    context = browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/login")
    page.locator("input").first.fill(who.name)
    page.locator("input[type=password]").fill(who.password)
    return page


def send(page: object, text: str) -> None:
    # The submit button is enabled once the text is in, the websocket is connected and no task runs. The
    # first message of a thread moves the page to /thread/ID, which can clear the input: fill it again.
    for _ in range(6):
        page.locator("#chat-input").fill(text)  # type: ignore[attr-defined]
        try:
            page.wait_for_selector("#chat-submit:not([disabled])", timeout=5_000)  # type: ignore[attr-defined]
            break
        except Exception:  # playwright's TimeoutError: try again with the text filled in anew
            continue
    page.locator("#chat-submit").click()  # type: ignore[attr-defined]


def step_text(page: object, heading: str) -> str:
    """The text of the newest message with an ``h3`` heading containing ``heading``."""
    step = page.locator(".step", has=page.locator("h3", has_text=heading)).last  # type: ignore[attr-defined]
    return str(step.inner_text())


def option_row(page: object, rank: int, table: int = -1) -> object:
    """Row ``rank`` of an options table (the newest by default); clicking it opens the row's details."""
    tables = page.get_by_test_id("options-table")  # type: ignore[attr-defined]
    chosen = tables.last if table == -1 else tables.nth(table)
    return chosen.get_by_test_id(f"option-row-{rank}")


def open_row(page: object, rank: int, table: int = -1) -> object:
    """Open row ``rank``'s details (Deploy and Save are in there); returns the details row."""
    tables = page.get_by_test_id("options-table")  # type: ignore[attr-defined]
    chosen = tables.last if table == -1 else tables.nth(table)
    details = chosen.get_by_test_id(f"option-details-{rank}")
    # A message re-renders once when its elements arrive, which closes a row opened just before: open it
    # again until it stays open.
    for _ in range(5):
        if not details.is_visible():
            option_row(page, rank, table).click()  # type: ignore[attr-defined]
        try:
            details.wait_for(timeout=3_000)
            page.wait_for_timeout(300)  # type: ignore[attr-defined]
            if details.is_visible():
                return details
        except Exception:  # playwright's TimeoutError: click again
            continue
    details.wait_for()
    return details


def api_scenarios(url: str, who: Account) -> list[dict[str, object]]:
    with httpx.Client(base_url=url, timeout=10) as client:
        found = client.get("/api/scenarios", headers={"Authorization": f"Bearer {who.token}"}).json()
    assert isinstance(found, list)
    return found


def new_chat(page: object, url: str, first: str, reply: str) -> None:
    """Open a new conversation, send ``first`` and wait for ``reply``; the first message of a thread moves
    the page to /thread/ID and re-renders it once, so wait for that before the next message."""
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_selector("#chat-input")  # type: ignore[attr-defined]
    send(page, first)
    page.get_by_text(reply).first.wait_for()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/thread/"))  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]


def chat_cookie(url: str, who: Account) -> str:
    """The chat's access-token cookie for ``who`` (Chainlit's sign-in)."""
    login = httpx.post(f"{url}/login", data={"username": who.name, "password": who.password}, timeout=30)
    login.raise_for_status()
    return f"access_token={login.cookies['access_token']}"


async def resume_over_websocket(url: str, cookie: str, thread_id: str) -> dict[str, Any]:
    """Connect Chainlit's websocket with ``cookie`` asking to resume ``thread_id``, as the page does on an
    in-app navigation; returns the resume error and the messages sent until the chat's first reply."""
    import socketio

    seen: dict[str, Any] = {"error": None, "messages": []}
    replied = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False)

    async def on_error(error: str) -> None:
        seen["error"] = error

    async def on_message(step: dict[str, Any]) -> None:
        output = str(step.get("output") or "")
        if output:  # a message can be announced empty and filled by an update
            seen["messages"].append(output)
            replied.set()

    client.on("resume_thread_error", on_error)
    client.on("new_message", on_message)
    client.on("update_message", on_message)
    await client.connect(
        url,
        socketio_path="/ws/socket.io",
        transports=["websocket"],
        headers={"Cookie": cookie},
        auth={"sessionId": str(uuid.uuid4()), "clientType": "webapp", "userEnv": "{}", "threadId": thread_id},
    )
    try:
        await client.emit("connection_successful")
        await asyncio.wait_for(replied.wait(), timeout=TIMEOUT_MS / 1000)
    finally:
        await client.disconnect()
    return seen


def test_chat_stages_1_to_3_and_isolation(server: tuple[str, dict[str, Account]], browser: object) -> None:
    url, accounts = server
    alice, bob = accounts["alice"], accounts["bob"]

    # --- log in: Preflight's name and logo, a username field ---
    page = log_in(browser, url, alice)
    page.get_by_text("Sign in to Preflight").wait_for()
    assert page.get_by_text("Username").count() >= 1
    assert "Email" not in page.inner_text("body")
    shot(page, "01-login")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("#chat-input")
    logo = page.locator("img[alt*='logo' i]").first
    if logo.count():
        assert "/logo" in (logo.get_attribute("src") or "")
    with httpx.Client(base_url=url, timeout=10) as client:
        assert "Preflight" in client.get("/logo?theme=light").text
    shot(page, "02-signed-in")

    # --- stage 1 + 2: a compact specification card and ONE options table ---
    send(page, PROMPT)
    page.locator("h3", has_text="Deployment specification").wait_for()
    page.locator("h3", has_text="recommended option").first.wait_for()
    option_row(page, 3).wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    spec_text = page.locator("table").first.inner_text()
    assert "1,000 ●" in spec_text and "○" in spec_text and "no limit" in spec_text
    assert "_" not in spec_text, "no internal field names on the card"
    first_table = page.get_by_test_id("options-table").first
    assert first_table.locator("tbody tr").count() >= 3
    table_text = first_table.inner_text()
    assert "TTFT p90" in table_text and ("✓" in table_text or "≈" in table_text)
    first_row = option_row(page, 1).inner_text()
    thread_url = page.url
    assert "/thread/" in thread_url
    # The details of a row are one click away, under the row.
    details = open_row(page, 1)
    assert "Numbers are" in details.inner_text() and "80% range" in details.inner_text()
    shot(page, "03-recommendations-with-details")

    # --- a what-if in the settings panel answers with the change ---
    page.locator("#chat-settings-open-modal").click()
    page.locator("input#target_ttft_p90_ms").fill("150")
    shot(page, "04-settings-panel")
    page.locator("button#confirm").click()
    page.locator("h3", has_text="Options now").first.wait_for()
    option_row(page, 1).wait_for()
    page.wait_for_timeout(800)  # the message re-renders once when its elements arrive
    change = step_text(page, "Options now")
    page.locator("h3", has_text="Options now").last.scroll_into_view_if_needed()
    assert "What changed" in change and "210 ms → 150 ms" in change
    assert re.search(r"\$[\d,]+ → \$[\d,]+/month", change) and "TTFT p90" in change
    assert "TTFT p90 ≤ 150 ms" in change
    assert page.locator("h3", has_text="Deployment specification").count() == 1, "the card is not reposted"
    shot(page, "05-what-if-change")

    # --- a stale button acts on its own plan: Save #1 under the FIRST table saves the first plan ---
    open_row(page, 1, table=0).get_by_role("button", name="Save #1").click()
    page.get_by_text("Saved Scenario A").wait_for()
    assert "from an earlier plan" in page.get_by_text("Saved Scenario A").inner_text()
    open_row(page, 1).get_by_role("button", name="Save #1").click()
    page.get_by_text("Saved Scenario B").wait_for()
    saved = {s["name"]: s for s in api_scenarios(url, alice)}
    spec_a, spec_b = saved["Scenario A"]["specification"], saved["Scenario B"]["specification"]
    assert isinstance(spec_a, dict) and isinstance(spec_b, dict)
    assert spec_a["target_ttft_p90_ms"] == 210 and spec_b["target_ttft_p90_ms"] == 150
    send(page, "double the users")
    page.locator("h3", has_text="Options now").nth(1).wait_for()
    open_row(page, 2).get_by_role("button", name="Save #2").click()
    page.get_by_text("Saved Scenario C").wait_for()

    # --- "compare A with C" compares exactly those; "compare" alone the last two ---
    send(page, "compare A with C")
    page.locator("h3", has_text="Comparison: Scenario A vs Scenario C").wait_for()
    table = step_text(page, "Comparison: Scenario A vs Scenario C")
    assert "Scenario A" in table and "Scenario C" in table and "Scenario B" not in table
    assert "Difference" in table and "2,000" in table and "+1,000" in table
    shot(page, "06-compare-a-with-c")
    send(page, "compare")
    page.locator("h3", has_text="Comparison: Scenario B vs Scenario C").wait_for()
    assert first_row  # the first plan's row is still what Scenario A saved
    assert page.get_by_text("Scenario B (A)").count() == 0

    # --- reopening the thread three times shows the plan once ---
    for attempt in range(3):
        page.goto(thread_url)
        page.get_by_text("Restored this plan from your history").wait_for(timeout=60_000)
        option_row(page, 1).wait_for()
        page.wait_for_timeout(1500)  # anything duplicated would have arrived by now
        assert page.get_by_test_id("options-table").count() == 1, attempt
        assert page.get_by_text("Restored this plan from your history").count() == 1, attempt
        assert page.locator("h3", has_text="recommended option").count() == 1, attempt
        assert page.locator(".js-plotly-plot").count() == 1, attempt
    shot(page, "07-resumed-three-times")
    thread_id = thread_url.rsplit("/", 1)[1]

    # --- the same thread on a phone: nothing wider than the screen ---
    phone = log_in(browser, url, alice, viewport=PHONE)
    phone.locator("button[type=submit]").click()
    phone.wait_for_selector("#chat-input")
    phone.goto(thread_url)
    option_row(phone, 1).wait_for(timeout=60_000)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    phone.screenshot(path=str(ARTIFACTS / "07b-phone-plan.png"), full_page=False)
    phone.context.close()

    # --- a clarifying answer is never dropped: out of bounds -> the bound and the question again ---
    new_chat(page, url, "chatbot", "Question 1 of at most 2")
    send(page, "a trillion users")
    page.get_by_text("more than I can plan for").wait_for()
    assert "100,000,000" in page.inner_text("body")
    send(page, "latency")
    page.get_by_text("I couldn't read a number of users").wait_for()
    send(page, "about 2,000 users")
    page.get_by_text("Question 2 of at most 2").wait_for()
    send(page, "latency")
    page.locator("h3", has_text="Deployment specification").wait_for()
    card = page.locator("table").first.inner_text()
    assert "2,000 ●" in card and "Fast responses ●" in card, card
    assert "you said you don't know" not in page.inner_text("body")
    shot(page, "08-clarifying-answers-used")

    # --- implausible but in bounds: kept, flagged with what it implies, confirmed ---
    new_chat(page, url, "a chatbot for 500 users, low cost, TTFT under 1 ms", "Before I plan, please check")
    assert "every option will miss it" in page.inner_text("body")
    assert page.locator("h3", has_text="recommended option").count() == 0
    send(page, "TTFT 300 ms")
    page.locator("h3", has_text="recommended option").first.wait_for()

    # --- GPUs the person owns are on the card ---
    new_chat(
        page,
        url,
        "Summarize 5000 documents an hour on our own 4 A100-80GB at the lowest cost, power costs $0.12/kWh, "
        "contracts of 30 pages",
        "Deployment specification",
    )
    card = page.locator("table").first.inner_text()
    assert "GPUs owned" in card and "4× A100" in card, card
    # A number no field took is on the card, never dropped silently.
    assert "Numbers not used: 30." in step_text(page, "Deployment specification")
    page.locator("h3", has_text=re.compile("recommended option|Nothing meets")).first.wait_for()
    shot(page, "09-owned-gpus")

    # --- /api: owner-scoped ---
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/api/threads").status_code == 401
        mine = client.get("/api/threads", headers={"Authorization": f"Bearer {alice.token}"}).json()
        assert thread_id in {t["id"] for t in mine}
        bob_h = {"Authorization": f"Bearer {bob.token}"}
        assert client.get("/api/threads", headers=bob_h).json() == []
        assert client.get("/api/scenarios", headers=bob_h).json() == []
        assert client.get("/api/scenarios/Scenario A", headers=bob_h).status_code == 404
        assert client.get(f"/api/threads/{thread_id}", headers=bob_h).status_code == 404

    # --- a second person sees none of it; the thread's URL says "not found" ---
    other = log_in(browser, url, bob)
    other.locator("button[type=submit]").click()
    other.wait_for_selector("#chat-input")
    other.wait_for_timeout(1500)
    assert other.locator(f"#thread-{thread_id}").count() == 0
    assert PROMPT not in other.inner_text("body")
    # A pasted link answers 404 with a page that says so in words (never the "could not reach the server"
    # banner); the page's thread API answers 404 with the same words; an id that never existed reads the same.
    answer = other.goto(thread_url)
    assert answer is not None and answer.status == 404
    assert other.locator("#not-found").inner_text() == f"{NOT_FOUND}."
    shot(other, "10-second-user-not-found")
    body = other.inner_text("body")
    assert "Restored this plan" not in body and "Scenario A" not in body
    assert "Could not reach" not in body and "Couldn't" not in body, body[:2000]
    missing = other.goto(f"{url}/thread/{uuid.uuid4()}")
    assert missing is not None and missing.status == 404
    assert other.locator("#not-found").inner_text() == f"{NOT_FOUND}."
    for path in (f"/project/thread/{thread_id}", f"/project/thread/{uuid.uuid4()}"):
        data = other.request.get(f"{url}{path}")
        assert data.status == 404, (path, data.status, data.text())
        assert data.json() == {"detail": NOT_FOUND}
    # The websocket resume of Alice's thread (in-app navigation) connects, fails as "not found" and the chat
    # says so; Chainlit alone would refuse the connection (the "could not reach the server" banner).
    # (in a thread of its own: Playwright's sync API holds this thread's event loop)
    with ThreadPoolExecutor(1) as pool:
        cookie = chat_cookie(url, bob)
        resumed = pool.submit(asyncio.run, resume_over_websocket(url, cookie, thread_id)).result()
    assert resumed["error"] == "Thread not found.", resumed
    assert any(m.startswith(f"**{NOT_FOUND}.**") for m in resumed["messages"]), resumed
    assert not any(PROMPT in m or "Restored this plan" in m for m in resumed["messages"]), resumed
    other.get_by_role("link", name="Start a new conversation").click()
    other.wait_for_selector("#chat-input")
    # Bob can carry on: what he types lands in a thread of his own, never in Alice's.
    send(other, "hello")
    other.wait_for_url(re.compile(r"/thread/"))
    with httpx.Client(base_url=url, timeout=10) as client:
        bobs = client.get("/api/threads", headers=bob_h).json()
        alices = client.get(f"/api/threads/{thread_id}", headers={"Authorization": f"Bearer {alice.token}"})
    assert [t["id"] for t in bobs] != [] and thread_id not in {t["id"] for t in bobs}
    assert alices.status_code == 200
    log = (ARTIFACTS / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


DEPLOY_TIMEOUT_MS = 240_000


def _pids(detail: dict[str, object]) -> list[int]:
    runtime = detail.get("runtime") or {}
    assert isinstance(runtime, dict)
    return [int(p["pid"]) for p in runtime.get("processes") or []]


def _alive(pid: int) -> bool:
    """Still running: a zombie has exited (its parent, the chat server, reaps it in its own time)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_chat_stage_4_deploy_test_monitor_and_isolation(
    server: tuple[str, dict[str, Account]], browser: object
) -> None:
    url, accounts = server
    alice, bob = accounts["alice"], accounts["bob"]
    alice_h = {"Authorization": f"Bearer {alice.token}"}
    bob_h = {"Authorization": f"Bearer {bob.token}"}
    api = httpx.Client(base_url=url, timeout=30)
    dep_id: str | None = None
    pids: list[int] = []
    try:
        page = log_in(browser, url, alice)
        page.locator("button[type=submit]").click()  # type: ignore[attr-defined]
        page.wait_for_selector("#chat-input")  # type: ignore[attr-defined]
        send(page, PROMPT)
        option_row(page, 1).wait_for()  # type: ignore[attr-defined]

        # --- deploy the top option: preview first, nothing applied ---
        open_row(page, 1).get_by_role("button", name="Deploy #1").click()  # type: ignore[attr-defined]
        preview = page.locator("h3", has_text="Deploy option 1:")  # type: ignore[attr-defined]
        preview.wait_for()
        page.wait_for_timeout(500)
        preview.scroll_into_view_if_needed()
        body = page.inner_text("body")  # type: ignore[attr-defined]
        assert "Target **local**" not in body and "Target local" in body
        assert "manifests" in body and "Nothing has been applied yet" in body
        assert "Would start" in body, "the local target says what it would do"
        assert "\\n" not in body and '{"' not in body, "no escaped JSON"
        # The manifests are a real download.
        with page.expect_download() as download:  # type: ignore[attr-defined]
            page.get_by_text("manifests.yaml").last.click()  # type: ignore[attr-defined]
        yaml_text = Path(download.value.path()).read_text()
        assert "kind: Deployment" in yaml_text and "apiVersion:" in yaml_text
        assert api.get("/api/deployments", headers=alice_h).json() == []
        shot(page, "11-deploy-preview")

        # --- confirm; progress streams as steps; the end shows the endpoint ---
        page.get_by_role("button", name="Confirm", exact=True).click()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Cancel deployment").wait_for()  # type: ignore[attr-defined]
        page.get_by_text("Deploying").first.wait_for()  # type: ignore[attr-defined]
        shot(page, "12-deploy-running")
        page.locator("h3", has_text="is ready").wait_for(timeout=DEPLOY_TIMEOUT_MS)  # type: ignore[attr-defined]
        body = page.inner_text("body")  # type: ignore[attr-defined]
        for step in ("Validating the manifests", "Applying", "Waiting until ready", "Smoke test"):
            assert step in body, f"step {step!r} is shown"
        assert "Endpoint (OpenAI-compatible)" in body and "http://127.0.0.1:" in body
        assert page.get_by_role("button", name="Cancel deployment").count() == 0  # type: ignore[attr-defined]
        mine = api.get("/api/deployments", headers=alice_h).json()
        assert len(mine) == 1 and mine[0]["state"] == "ready"
        dep_id = mine[0]["id"]
        name = mine[0]["name"]
        assert dep_id in body
        pids = _pids(api.get(f"/api/deployments/{dep_id}", headers=alice_h).json())
        assert pids and all(_alive(p) for p in pids)
        # Open the steps so the screenshot shows what each one did.
        for used in page.get_by_text(re.compile(r"^Used ")).all():  # type: ignore[attr-defined]
            used.click()
        shot(page, "13-deploy-ready")

        # --- inline inference test: streamed reply with TTFT and ITL ---
        page.get_by_role("button", name="Send a test prompt").first.click()  # type: ignore[attr-defined]
        page.get_by_text("Type a prompt for").wait_for()  # type: ignore[attr-defined]
        send(page, "Say hello and name three colours.")
        footer = page.get_by_text("Measured through the endpoint")  # type: ignore[attr-defined]
        footer.wait_for(timeout=60_000)
        text = footer.inner_text()
        assert re.search(r"TTFT [\d.,]+ ms, ITL [\d.,]+ ms", text), text
        assert page.get_by_text("Simulated reply").count() >= 1, "a simulator's reply says so"
        shot(page, "14-inference-test")

        # --- monitoring view: latency over time against the targets, predicted vs observed, advice ---
        page.wait_for_timeout(5000)  # a few scrapes (every 2 s in this server)
        plots_before = page.locator(".js-plotly-plot").count()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Monitor").first.click()  # type: ignore[attr-defined]
        heading = page.locator("h3", has_text=f"Monitoring {name}")  # type: ignore[attr-defined]
        heading.wait_for()
        page.wait_for_timeout(1000)
        heading.scroll_into_view_if_needed()
        plots = page.locator(".js-plotly-plot")  # type: ignore[attr-defined]
        if "nothing to plot" not in page.inner_text("body"):  # type: ignore[attr-defined]
            plots.nth(plots_before).wait_for()
            plots.nth(plots_before).scroll_into_view_if_needed()
        body = page.inner_text("body")  # type: ignore[attr-defined]
        assert "Targets: TTFT p90" in body and "Health:" in body
        monitor = step_text(page, f"Monitoring {name}")
        if "Predicted vs observed" in monitor:  # samples arrived: both predictions, labelled
            assert "Predicted as planned" in monitor and "Predicted at observed load" in monitor, monitor
            assert "Observed load per replica" in monitor or "none for this window" in monitor, monitor
            table_head = page.get_by_text("Predicted vs observed", exact=True).last  # type: ignore[attr-defined]
            shot(page, "15a-monitoring-predicted-vs-observed", focus=table_head)
            if plots.count() > plots_before:
                plots.nth(plots_before).scroll_into_view_if_needed()
        shot(page, "15-monitoring")

        # --- reload: "my deployments" is rebuilt from Postgres ---
        thread_url = page.url  # type: ignore[attr-defined]
        page.goto(thread_url)  # type: ignore[attr-defined]
        page.get_by_text("Deployments made in this conversation").wait_for(timeout=60_000)  # type: ignore[attr-defined]
        page.goto(url)  # type: ignore[attr-defined]
        page.wait_for_selector("#chat-input")  # type: ignore[attr-defined]
        send(page, "my deployments")
        card = page.locator("h4", has_text=name)  # type: ignore[attr-defined]
        card.wait_for()
        page.wait_for_timeout(1000)
        card.scroll_into_view_if_needed()
        body = page.inner_text("body")  # type: ignore[attr-defined]
        assert "State history" in body and "Smoke test ok" in body and "Prediction:" in body
        shot(page, "16-my-deployments-after-reload")

        # --- a second person cannot see it: UI and /api ---
        assert api.get("/api/deployments", headers=bob_h).json() == []
        assert api.get(f"/api/deployments/{dep_id}", headers=bob_h).status_code == 404
        assert api.delete(f"/api/deployments/{dep_id}", headers=bob_h).status_code == 404
        other = log_in(browser, url, bob)
        other.locator("button[type=submit]").click()  # type: ignore[attr-defined]
        other.wait_for_selector("#chat-input")  # type: ignore[attr-defined]
        send(other, "my deployments")
        other.get_by_text("You have no deployments yet").wait_for()  # type: ignore[attr-defined]
        other.wait_for_url(re.compile(r"/thread/"))  # type: ignore[attr-defined]
        other.wait_for_timeout(1500)  # the first message of a thread re-renders the page once
        send(other, f"monitor {dep_id[:8]}")
        other.get_by_text("no deployment of yours matches").wait_for()  # type: ignore[attr-defined]
        assert name not in other.inner_text("body")  # type: ignore[attr-defined]
        shot(other, "17-second-user-deployments")

        # --- delete from the chat asks first; "No" keeps it, "Yes" deletes; nothing keeps running ---
        page.get_by_role("button", name="Delete deployment").first.click()  # type: ignore[attr-defined]
        page.get_by_role("button", name="No, keep it").wait_for()  # type: ignore[attr-defined]
        page.get_by_role("button", name="No, keep it").scroll_into_view_if_needed()  # type: ignore[attr-defined]
        shot(page, "18-delete-confirmation")
        page.get_by_role("button", name="No, keep it").click()  # type: ignore[attr-defined]
        page.get_by_text("Kept: nothing was changed").wait_for()  # type: ignore[attr-defined]
        assert api.get(f"/api/deployments/{dep_id}", headers=alice_h).json()["state"] == "ready"
        assert all(_alive(p) for p in pids)
        page.get_by_role("button", name="Delete deployment").first.click()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Yes, delete it").click()  # type: ignore[attr-defined]
        page.get_by_text("Deleted: its processes").wait_for(timeout=60_000)  # type: ignore[attr-defined]
        shot(page, "19-deleted")
    finally:
        if dep_id is not None:
            state = api.get(f"/api/deployments/{dep_id}", headers=alice_h).json().get("state")
            if state != "deleted":
                api.delete(f"/api/deployments/{dep_id}?stream=true", headers=alice_h, timeout=120).read()
        api.close()
    assert api.is_closed
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get(f"/api/deployments/{dep_id}", headers=alice_h).json()["state"] == "deleted"
    # A stopped process can take a moment to exit and be reaped: wait for that, with a deadline.
    deadline = time.monotonic() + 20
    while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if _alive(p)], "no simulator or balancer process is left"
    log = (ARTIFACTS / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]

"""The chat in a real browser (Debian's Chromium, headless) against a running server on a fresh database.

Stages 1-3: log in, describe a need, see the specification and >= 3 priced options, edit the TTFT target in
the settings panel and see the options change, save two scenarios and compare them, resume the thread after
a reload; and a second person sees none of it, in the UI or through /api. Stage 4: deploy the top option to
the local target (simulator processes), watch the steps finish, send an inference test and see the streamed
reply with its TTFT/ITL, open the monitoring view, find the deployment in "my deployments" after a reload,
and check that a second person cannot see it (UI and /api/deployments); the deployment is deleted at the end
so no simulator process is left. Screenshots of each stage go to test-artifacts/chat/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import httpx
import pytest
from chat_fixtures import CHROMIUM, CHROMIUM_ARGS, ROOT, Account, chat_server, create_accounts

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


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)  # type: ignore[attr-defined]


def log_in(browser: object, url: str, who: Account) -> object:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
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


def option_headers(page: object) -> list[str]:
    return page.locator("h4", has_text=re.compile(r"^Option \d+:")).all_inner_texts()  # type: ignore[attr-defined]


def option_cards(page: object) -> list[str]:
    """The text of every option card (heading to rationale), oldest first."""
    texts: list[str] = page.locator(  # type: ignore[attr-defined]
        "div:has(> h4)",
        has=page.locator("h4", has_text=re.compile(r"^Option \d+:")),  # type: ignore[attr-defined]
    ).all_inner_texts()
    return texts


def test_chat_stages_1_to_3_and_isolation(server: tuple[str, dict[str, Account]], browser: object) -> None:
    url, accounts = server
    alice, bob = accounts["alice"], accounts["bob"]

    # --- log in ---
    page = log_in(browser, url, alice)
    shot(page, "01-login")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("#chat-input")
    shot(page, "02-signed-in")

    # --- stage 1 + 2: specification and options ---
    send(page, PROMPT)
    page.locator("h3", has_text="Deployment specification").wait_for()
    page.locator("h3", has_text="recommended option").first.wait_for()
    page.locator("h4", has_text=re.compile(r"^Option 3:")).first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    spec_text = page.locator("table").first.inner_text()
    assert "1,000" in spec_text and "you said" in spec_text and "default" in spec_text
    first = option_headers(page)
    assert len(first) >= 3
    body = page.inner_text("body")
    assert re.search(r"\$[\d,]+/month", body), "options show a monthly cost"
    assert "TTFT p90" in body and ("✓" in body or "≈" in body)
    thread_url = page.url
    assert "/thread/" in thread_url
    shot(page, "03-recommendations")

    # --- edit the TTFT target in the settings panel; the options change ---
    saves_before = page.get_by_role("button", name="Save as scenario").count()
    page.locator("#chat-settings-open-modal").click()
    ttft = page.locator("input#target_ttft_p90_ms")
    ttft.fill("150")
    shot(page, "04-settings-panel")
    page.locator("button#confirm").click()
    page.locator("h3", has_text="Updated specification").wait_for()
    page.get_by_role("button", name="Save as scenario").nth(saves_before).wait_for()
    page.wait_for_timeout(500)
    cards = option_cards(page)
    before_cards, after_cards = cards[: len(first)], cards[len(first) :]
    assert after_cards, "re-planning shows options again"
    assert after_cards != before_cards, "the option cards change with the TTFT target"
    assert all("target 150" in card for card in after_cards), "each card checks TTFT against the new target"
    assert "150 ms" in page.locator("table").last.inner_text()
    shot(page, "05-after-ttft-edit")

    # --- save two scenarios and compare ---
    page.get_by_role("button", name="Save as scenario").nth(saves_before).click()
    page.get_by_text("Saved Scenario A").wait_for()
    saves_before = page.get_by_role("button", name="Save as scenario").count()
    send(page, "double the users")
    page.locator("h3", has_text="Updated specification").nth(1).wait_for()
    page.get_by_role("button", name="Save as scenario").nth(saves_before).wait_for()
    assert "2,000" in page.locator("table").last.inner_text()
    page.get_by_role("button", name="Save as scenario").nth(saves_before).click()
    page.get_by_text("Saved Scenario B").wait_for()
    page.get_by_role("button", name="Compare the last two").click()
    page.locator("h3", has_text="Comparison: Scenario A vs Scenario B").wait_for()
    table = page.locator("table").last.inner_text()
    assert "Difference" in table and "Monthly cost" in table and "TTFT p90" in table
    assert "Users" in table and "+1,000" in table
    shot(page, "06-comparison")

    # --- resume: reload the thread, the cards and the plot come back ---
    page.goto(thread_url)
    page.get_by_text("Restored this plan from your history").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for()
    assert len(option_headers(page)) >= 1
    shot(page, "07-resumed")
    thread_id = thread_url.rsplit("/", 1)[1]

    # --- /api: owner-scoped ---
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/api/threads").status_code == 401
        mine = client.get("/api/threads", headers={"Authorization": f"Bearer {alice.token}"}).json()
        assert thread_id in {t["id"] for t in mine}
        scenarios = client.get("/api/scenarios", headers={"Authorization": f"Bearer {alice.token}"}).json()
        assert [s["name"] for s in scenarios] == ["Scenario A", "Scenario B"]
        bob_h = {"Authorization": f"Bearer {bob.token}"}
        assert client.get("/api/threads", headers=bob_h).json() == []
        assert client.get("/api/scenarios", headers=bob_h).json() == []
        assert client.get("/api/scenarios/Scenario A", headers=bob_h).status_code == 404
        assert client.get(f"/api/threads/{thread_id}", headers=bob_h).status_code == 404

    # --- a second person sees none of it in the UI ---
    other = log_in(browser, url, bob)
    other.locator("button[type=submit]").click()
    other.wait_for_selector("#chat-input")
    other.wait_for_timeout(1500)
    assert other.locator(f"#thread-{thread_id}").count() == 0
    assert PROMPT not in other.inner_text("body")
    other.goto(thread_url)
    other.wait_for_timeout(3000)
    assert "Restored this plan" not in other.inner_text("body")
    assert "Scenario A" not in other.inner_text("body")
    shot(other, "08-second-user")
    log = (ARTIFACTS / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


DEPLOY_TIMEOUT_MS = 240_000


def _pids(detail: dict[str, object]) -> list[int]:
    runtime = detail.get("runtime") or {}
    assert isinstance(runtime, dict)
    return [int(p["pid"]) for p in runtime.get("processes") or []]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        page.locator("h4", has_text=re.compile(r"^Option 1:")).first.wait_for()  # type: ignore[attr-defined]

        # --- deploy the top option: preview first, nothing applied ---
        page.get_by_role("button", name="Deploy", exact=True).first.click()  # type: ignore[attr-defined]
        preview = page.locator("h3", has_text="Deploy option 1:")  # type: ignore[attr-defined]
        preview.wait_for()
        page.wait_for_timeout(500)
        preview.scroll_into_view_if_needed()
        body = page.inner_text("body")  # type: ignore[attr-defined]
        assert "Target **local**" not in body and "Target local" in body
        assert "manifests" in body and "Nothing has been applied yet" in body
        assert "would start" in body, "the local target says what it would do"
        assert api.get("/api/deployments", headers=alice_h).json() == []
        shot(page, "09-deploy-preview")

        # --- confirm; progress streams as steps; the end shows the endpoint ---
        page.get_by_role("button", name="Confirm", exact=True).click()  # type: ignore[attr-defined]
        page.get_by_role("button", name="Cancel deployment").wait_for()  # type: ignore[attr-defined]
        page.get_by_text("Deploying").first.wait_for()  # type: ignore[attr-defined]
        shot(page, "10-deploy-running")
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
        shot(page, "11-deploy-ready")

        # --- inline inference test: streamed reply with TTFT and ITL ---
        page.get_by_role("button", name="Send a test prompt").first.click()  # type: ignore[attr-defined]
        page.get_by_text("Type a prompt for").wait_for()  # type: ignore[attr-defined]
        send(page, "Say hello and name three colours.")
        footer = page.get_by_text("Measured through the endpoint")  # type: ignore[attr-defined]
        footer.wait_for(timeout=60_000)
        text = footer.inner_text()
        assert re.search(r"TTFT [\d.,]+ ms, ITL [\d.,]+ ms", text), text
        shot(page, "12-inference-test")

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
        shot(page, "13-monitoring")

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
        shot(page, "14-my-deployments-after-reload")

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
        shot(other, "15-second-user-deployments")

        # --- delete from the chat; nothing keeps running ---
        page.get_by_role("button", name="Delete deployment").first.click()  # type: ignore[attr-defined]
        page.get_by_text("Deleted: its processes").wait_for(timeout=60_000)  # type: ignore[attr-defined]
        shot(page, "16-deleted")
    finally:
        if dep_id is not None:
            state = api.get(f"/api/deployments/{dep_id}", headers=alice_h).json().get("state")
            if state != "deleted":
                api.delete(f"/api/deployments/{dep_id}?stream=true", headers=alice_h, timeout=120).read()
        api.close()
    assert api.is_closed
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.get(f"/api/deployments/{dep_id}", headers=alice_h).json()["state"] == "deleted"
    assert not [p for p in pids if _alive(p)], "no simulator or balancer process is left"
    log = (ARTIFACTS / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]

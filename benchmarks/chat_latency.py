"""Chat latency and isolation against a running server, over Chainlit's websocket (socket.io), no LLM.

1. Latency: one signed-in session sends a description N times (a fresh chat each time); the time from
   sending to the options table arriving is measured; p50/p95/max are reported. Target: p95 < 2 s.
2. Concurrency: C sessions (spread over two accounts) each send a description with a distinct user count at
   once; every session must get its own options, with no error message and no other session's numbers.

    python benchmarks/chat_latency.py --url http://127.0.0.1:8000 --user alice --password ... \
        [--user2 bob --password2 ...] [--runs 20] [--sessions 50]

With ``--spawn`` it starts a server itself on a fresh database under the embedded Postgres (slow to start;
Preflight's own app, as `uvicorn --factory app.api:create_app`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import socketio

OPTION_MARK = "recommended option"  # the heading of the message that carries the options table
PROMPT = "I need a chatbot for {users} users, low latency is critical"


@dataclass
class Turn:
    seconds: float | None = None
    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def login(url: str, user: str, password: str) -> str:
    r = httpx.post(f"{url}/login", data={"username": user, "password": password}, timeout=30)
    r.raise_for_status()
    token = r.cookies.get("access_token")
    if not token:
        raise SystemExit(f"login as {user} returned no access_token cookie")
    return token


async def one_turn(url: str, token: str, text: str, timeout_s: float = 60.0) -> Turn:
    """Open a fresh chat session, send ``text``, wait for the options table (or an error)."""
    turn = Turn()
    done = asyncio.Event()
    started = 0.0
    client = socketio.AsyncClient(reconnection=False)

    async def on_message(step: dict[str, Any]) -> None:
        output = str(step.get("output") or "")
        if step.get("type") == "assistant_message" and output:
            turn.messages.append(output)
            if output.startswith("⚠️") or step.get("isError"):
                turn.errors.append(output[:300])
                done.set()
            elif OPTION_MARK in output and turn.seconds is None:
                turn.seconds = time.perf_counter() - started
                done.set()
            elif "Nothing meets these constraints" in output:
                turn.errors.append("no options")
                done.set()

    client.on("new_message", on_message)
    session_id = str(uuid.uuid4())
    await client.connect(
        url,
        socketio_path="/ws/socket.io",
        transports=["websocket"],
        headers={"Cookie": f"access_token={token}"},
        auth={
            "sessionId": session_id,
            "clientType": "webapp",
            "userEnv": "{}",
            "chatProfile": None,
            "threadId": None,
        },
    )
    try:
        await client.emit("connection_successful")
        await asyncio.sleep(0.05)
        message = {
            "id": str(uuid.uuid4()),
            "threadId": "",
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        started = time.perf_counter()
        await client.emit("client_message", {"message": message, "fileReferences": None})
        try:
            await asyncio.wait_for(done.wait(), timeout=timeout_s)
        except TimeoutError:
            turn.errors.append(f"no option card within {timeout_s:.0f} s")
    finally:
        await client.disconnect()
    return turn


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


async def latency(url: str, token: str, runs: int) -> dict[str, Any]:
    await one_turn(url, token, PROMPT.format(users=1000))  # warm-up (imports, first plan)
    times: list[float] = []
    errors: list[str] = []
    for _ in range(runs):
        turn = await one_turn(url, token, PROMPT.format(users=1000))
        if turn.seconds is None:
            errors += turn.errors
        else:
            times.append(turn.seconds)
    result: dict[str, Any] = {"runs": runs, "ok": len(times), "errors": errors}
    if times:
        result.update(
            p50_s=round(statistics.median(times), 3),
            p95_s=round(pct(times, 0.95), 3),
            max_s=round(max(times), 3),
        )
    return result


async def concurrency(url: str, tokens: list[str], sessions: int) -> dict[str, Any]:
    users = [1000 + 37 * i for i in range(sessions)]  # a distinct number per session, to detect cross-talk
    started = time.perf_counter()
    turns = await asyncio.gather(
        *(
            one_turn(url, tokens[i % len(tokens)], PROMPT.format(users=u), timeout_s=180)
            for i, u in enumerate(users)
        )
    )
    wall = time.perf_counter() - started
    errors, crosstalk = [], 0
    for u, turn in zip(users, turns, strict=True):
        errors += turn.errors
        mine = f"{u:,}"
        spec_cards = [m for m in turn.messages if "Deployment specification" in m]
        if not spec_cards or mine not in spec_cards[0]:
            crosstalk += 1
        others = {f"{v:,}" for v in users if v != u}
        if any(o in m for m in spec_cards for o in others):
            crosstalk += 1
    ok = [t.seconds for t in turns if t.seconds is not None]
    return {
        "sessions": sessions,
        "ok": len(ok),
        "errors": errors[:5],
        "error_count": len(errors),
        "crosstalk": crosstalk,
        "wall_s": round(wall, 2),
        "p95_s": round(pct(ok, 0.95), 3) if ok else None,
    }


def spawn(workdir: Path) -> tuple[str, dict[str, tuple[str, str]], Any]:
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root), str(root / "tests"), str(root / "tests" / "e2e")]
    from chat_fixtures import chat_server, create_accounts  # type: ignore[import-not-found]

    from db.embedded import ensure_running
    from db.migrate import prepare_database
    from db.session import make_engine

    admin = ensure_running(workdir / "pg")
    name = f"pf_bench_{uuid.uuid4().hex[:8]}"

    async def build() -> None:
        from conftest import _admin_exec, _with_db  # type: ignore[import-not-found]

        await _admin_exec(admin, f"CREATE DATABASE {name}")
        engine = make_engine(_with_db(admin, name))
        await prepare_database(engine, seed=True)
        await engine.dispose()

    asyncio.run(build())
    from conftest import _with_db  # type: ignore[import-not-found]

    db_url = _with_db(admin, name)
    accounts = create_accounts(db_url, "bench1", "bench2")
    ctx = chat_server(db_url, workdir / "data", workdir / "server.log")
    url = ctx.__enter__()
    return url, {k: (v.name, v.password) for k, v in accounts.items()}, ctx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--user2")
    ap.add_argument("--password2")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--spawn", type=Path, help="Start a server on a fresh database under this directory")
    args = ap.parse_args()
    ctx = None
    if args.spawn:
        args.url, accounts, ctx = spawn(args.spawn)
        (args.user, args.password), (args.user2, args.password2) = accounts["bench1"], accounts["bench2"]
    if not args.user or not args.password:
        raise SystemExit("give --user and --password (or --spawn DIR)")
    try:
        tokens = [login(args.url, args.user, args.password)]
        if args.user2 and args.password2:
            tokens.append(login(args.url, args.user2, args.password2))
        report = {
            "first_recommendation": asyncio.run(latency(args.url, tokens[0], args.runs)),
            "concurrent_sessions": asyncio.run(concurrency(args.url, tokens, args.sessions)),
        }
    finally:
        if ctx is not None:
            ctx.__exit__(None, None, None)
    sys.stdout.write(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

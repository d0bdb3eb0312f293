"""The `preflight` command as a person meets it: fast help, help on every command, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = [sys.executable, "-m", "app.cli"]


def run(
    args: list[str], env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=timeout, env=env)


def _commands() -> list[list[str]]:
    from typer.main import get_command

    from app.cli import app

    root = get_command(app)
    out: list[list[str]] = []

    def walk(cmd, path):  # type: ignore[no-untyped-def]
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return out


def test_help_is_fast_and_loads_no_heavy_modules() -> None:
    probe = (
        "import sys, time; t=time.perf_counter(); import app.cli; "
        "heavy=[m for m in ('torch','numpy','sqlalchemy','chainlit','app.embeddings','kubernetes_asyncio') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout
    # How fast: benchmarks/text_speed.py (no wall-clock assertions in tests).
    assert run(["--help"]).returncode == 0


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    result = run([*path, "--help"])
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_bad_option_is_a_usage_error() -> None:
    result = run(["seed", "load", "x.json", "--kind", "planets"])
    assert result.returncode == 2
    assert "--kind must be one of" in result.stderr


def test_fresh_data_dir_works_and_user_add(tmp_path: Path) -> None:
    """Any command works on a fresh PREFLIGHT_DATA_DIR: it starts, migrates and seeds the embedded server."""
    data_dir = Path("/tmp") / f"pfe-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k != "PREFLIGHT_DATABASE_URL"}
    env["PREFLIGHT_DATA_DIR"] = str(data_dir)
    env["PREFLIGHT_NEW_PASSWORD"] = "correct horse battery"
    try:
        added = run(["user", "add", "alice", "--admin"], env, timeout=300)
        assert added.returncode == 0, added.stderr
        assert "API token (shown once): pf_" in added.stdout
        again = run(["user", "add", "alice"], env)
        assert again.returncode == 1 and "already exists" in again.stderr
        status = run(["db", "status"], env)
        assert '"users": 1' in status.stdout
    finally:
        run(["db", "stop"], env)
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


def test_unreachable_database_is_a_clear_error() -> None:
    env = dict(os.environ, PREFLIGHT_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    result = run(["data", "health"], env)
    assert result.returncode == 3
    assert "cannot reach the database" in result.stderr and "Traceback" not in result.stderr


def test_people_and_tokens_from_the_command_line(cli_env: dict[str, str]) -> None:
    """`preflight user list|disable|enable|remove`, `preflight token list|create|revoke`, as the operator."""
    import json

    env = {**cli_env, "PREFLIGHT_NEW_PASSWORD": "correct horse battery"}
    assert run(["user", "add", "ops", "--admin"], env).returncode == 0
    added = run(["user", "add", "eve"], env)
    assert added.returncode == 0, added.stderr

    created = run(["token", "create", "--user", "eve", "--name", "laptop", "--expires-in-days", "7"], env)
    assert created.returncode == 0, created.stderr
    assert "API token (shown once): pf_" in created.stdout
    tokens = json.loads(run(["token", "list", "--user", "eve", "--json"], env).stdout)
    assert [(t["name"], t["state"]) for t in tokens] == [("laptop", "active"), ("default", "active")]
    assert all("token" not in t for t in tokens)
    laptop = tokens[0]["id"]

    revoked = run(["token", "revoke", str(laptop)], env)
    assert revoked.returncode == 0 and f"revoked token {laptop} (laptop) of eve" in revoked.stdout
    states = {t["name"]: t["state"] for t in json.loads(run(["token", "list", "--json"], env).stdout)}
    assert states["laptop"] == "revoked"

    assert run(["user", "disable", "eve"], env).returncode == 0
    users = {u["name"]: u for u in json.loads(run(["user", "list", "--json"], env).stdout)}
    assert users["eve"]["disabled_at"] is not None and users["ops"]["disabled_at"] is None
    assert "disabled since" in run(["user", "list"], env).stdout
    assert run(["user", "enable", "eve"], env).returncode == 0

    removed = run(["user", "remove", "eve", "--yes"], env)
    assert removed.returncode == 0 and "removed eve" in removed.stdout
    assert "eve" not in run(["user", "list"], env).stdout

    # Clear errors, never a traceback.
    missing = run(["user", "disable", "nobody"], env)
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr
    last_admin = run(["user", "remove", "ops", "--yes"], env)
    assert last_admin.returncode == 1 and "last active administrator" in last_admin.stderr
    bad = run(["token", "create", "--user", "ops", "--expires-in-days", "0"], env)
    assert bad.returncode == 2 and "expires_in_days" in bad.stderr
    unknown = run(["token", "revoke", "99999"], env)
    assert unknown.returncode == 1 and "no API token 99999" in unknown.stderr
    for r in (missing, last_admin, bad, unknown):
        assert "Traceback" not in r.stderr


def test_server_path_options_are_for_administrators(cli_env: dict[str, str], tmp_path: Path) -> None:
    """`--output-dir` and `--kubeconfig` name server paths: a person acting as themselves may not use them."""
    env = {**cli_env, "PREFLIGHT_NEW_PASSWORD": "correct horse battery"}
    assert run(["user", "add", "eve"], env).returncode == 0
    out = tmp_path / "manifests"
    plan = tmp_path / "plan.json"
    plan.write_text("{}")
    for option, value in (("--output-dir", str(out)), ("--kubeconfig", "/etc/passwd")):
        refused = run(["deploy", "--plan", str(plan), option, value, "--dry-run", "--user", "eve"], env)
        assert refused.returncode == 1, refused.stderr
        assert "only administrators" in refused.stderr and "Traceback" not in refused.stderr
    assert not out.exists()


def test_every_command_acts_as_the_same_principal(cli_env: dict[str, str]) -> None:
    """`--user` / PREFLIGHT_USER is applied by every command through the services (issue 14 probe 7: bob's
    `observe show` read alice's deployment while `deployments show` refused; `scenario` ignored the user)."""
    import json

    env = {**cli_env, "PREFLIGHT_NEW_PASSWORD": "correct horse battery"}
    for name in ("alice", "bob"):
        assert run(["user", "add", name], env).returncode == 0
    alice, bob = {**env, "PREFLIGHT_USER": "alice"}, {**env, "PREFLIGHT_USER": "bob"}
    rec = run(["recommend", "a chatbot for 100 users", "--json", "--top", "1"], alice)
    assert rec.returncode == 0, rec.stderr
    rid = json.loads(rec.stdout)["recommendation_id"]
    assert run(["scenario", "save", "mine", "--recommendation", rid], alice).returncode == 0
    assert run(["scenario", "show", "mine"], alice).returncode == 0
    theirs = run(["scenario", "show", "mine"], bob)
    assert theirs.returncode == 1 and "Traceback" not in theirs.stderr
    assert run(["--user", "bob", "scenario", "show", "mine"], env).returncode == 1
    assert "mine" not in run(["scenario", "list"], bob).stdout
    # A deployment of alice's (a row: nothing runs).
    insert = (
        "import asyncio\n"
        "from sqlalchemy import select\n"
        "from db import models as m\n"
        "from db.session import session_scope\n"
        "async def go():\n"
        "    async with session_scope() as s:\n"
        "        uid = (await s.execute(select(m.User.id).where(m.User.name == 'alice'))).scalar_one()\n"
        "        d = m.Deployment(name='alice-dep', owner_id=uid, state='ready', target='local', plan={})\n"
        "        s.add(d)\n"
        "        await s.flush()\n"
        "        print(d.id)\n"
        "asyncio.run(go())\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", insert], capture_output=True, text=True, env=env, timeout=120
    )
    assert made.returncode == 0, made.stderr
    dep = made.stdout.strip().splitlines()[-1]
    for args in (["deployments", "show", dep], ["observe", "show", dep]):
        refused = run(args, bob)
        assert refused.returncode == 1, (args, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr
    # Administration is refused for a person, whichever command.
    for args in (["user", "list"], ["data", "health"], ["user", "add", "mallory"]):
        denied = run(args, bob)
        assert denied.returncode == 1 and "administrator" in denied.stderr, (args, denied.stderr)

"""The `local` target: each replica is a local process on a free loopback port.

- Simulator mode: `preflight-simulator --profile FILE --port P --host 127.0.0.1 --model NAME`, with the
  planner's predicted performance profile. Real mode: `vllm serve MODEL ...` with the plan's engine flags,
  only where `vllm` is installed and enough GPUs are visible (replica i gets GPUs i*TP .. i*TP+TP-1).
- With more than one replica, `python -m app.deploy.balancer` fronts them with one OpenAI base URL.

Lifetime (the choice, see docs/deploy-lifecycle.md): the processes are detached (own session, output to log
files under <data_dir>/deployments/<id>/), so they outlive the `preflight` command or server that started
them, as a Kubernetes workload outlives `kubectl apply`. Each pid, port and the process start time (from
/proc, which tells a reused pid apart) is recorded in deployments.runtime the moment it is spawned. A
restarted Preflight finds them there: it health-checks them, reuses live ones, replaces dead ones, and stops
them on delete, rollback or a failed deployment.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from app.deploy.plan import DeploymentPlan
from app.deploy.targets.base import ApplyOutcome, Note, ReadyOutcome, SaveRuntime, TargetError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_LOCAL_REPLICAS = 16


class LocalTargetError(TargetError):
    """A local process could not be started or did not become healthy."""


class LocalReadyTimeoutError(LocalTargetError):
    """A local replica did not answer /health in time."""


class ProcessRecord(BaseModel):
    role: Literal["replica", "balancer"]
    index: int = 0
    pid: int
    port: int
    start_ticks: int | None = Field(None, description="/proc/<pid>/stat starttime: guards against pid reuse")
    log: str
    cmd: list[str]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"


class LocalRuntime(BaseModel):
    kind: Literal["local"] = "local"
    dir: str
    plan_hash: str
    processes: list[ProcessRecord] = Field(default_factory=list)
    endpoint: str | None = None
    endpoints: list[str] = Field(default_factory=list, description="per-replica base URLs (for scraping)")

    def replicas(self) -> list[ProcessRecord]:
        return sorted((p for p in self.processes if p.role == "replica"), key=lambda p: p.index)

    def balancer(self) -> ProcessRecord | None:
        return next((p for p in self.processes if p.role == "balancer"), None)


# --- processes ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; fields after the closing parenthesis are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has exited
        return None
    return int(fields[19])


def is_alive(rec: ProcessRecord) -> bool:
    """The recorded process is still running (and is the one we started, not a reused pid)."""
    _reap(rec.pid)
    ticks = _start_ticks(rec.pid)
    if ticks is None:
        return False
    return rec.start_ticks is None or ticks == rec.start_ticks


# Processes this Preflight process started (others are found through /proc only).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _reap(pid: int) -> None:
    # When this process started it, collect its exit status so it does not linger as a zombie.
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        del _CHILDREN[pid]


async def stop_process(rec: ProcessRecord, grace_s: float = 5.0, kill_wait_s: float = 60.0) -> bool:
    """SIGTERM the process group, SIGKILL after the grace period. Returns whether it was running."""
    if not is_alive(rec):
        return False
    try:
        os.killpg(rec.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not is_alive(rec):
            return True
        await asyncio.sleep(0.1)
    try:
        os.killpg(rec.pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    # SIGKILL cannot be ignored, but on a loaded machine the exit can take a while: return only once the
    # process is gone, so "stopped" is true when the caller reports it (a bounded wait, then an error).
    deadline = time.monotonic() + kill_wait_s
    while is_alive(rec):
        if time.monotonic() > deadline:
            raise LocalTargetError(
                f"{rec.role} {rec.index} (pid {rec.pid}) survived SIGKILL for {kill_wait_s:.0f} s"
            )
        await asyncio.sleep(0.05)
    return True


def log_tail(path: str, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def plan_hash(plan: DeploymentPlan) -> str:
    return hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:16]


def visible_gpus() -> int:
    """GPUs `nvidia-smi -L` lists (0 without the tool or a driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def simulator_command() -> list[str]:
    exe = Path(sys.executable).with_name("preflight-simulator")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("preflight-simulator")
    return [found] if found else [sys.executable, "-m", "simulator"]


# --- the target ---------------------------------------------------------------------------------------------
class LocalTarget:
    kind = "local"

    def __init__(
        self,
        base_dir: Path,
        *,
        extra_env: dict[str, str] | None = None,
        health_poll_s: float = 0.25,
    ) -> None:
        self.base_dir = base_dir
        self.extra_env = extra_env or {}
        self.health_poll_s = health_poll_s

    # -- helpers
    def _run_dir(self, plan: DeploymentPlan) -> Path:
        return self.base_dir / plan.deployment_id

    @staticmethod
    def replica_count(plan: DeploymentPlan) -> int:
        # Locally the steady count runs (the autoscaler's floor): there is no autoscaler to add more.
        # Beyond the cap the plan is refused (the service checks first), never quietly run smaller.
        if plan.replicas_min > MAX_LOCAL_REPLICAS:
            raise LocalTargetError(
                f"replicas: {plan.replicas_min} is above the local target's limit of {MAX_LOCAL_REPLICAS}"
            )
        return plan.replicas_min

    def _replica_cmd(self, plan: DeploymentPlan, run_dir: Path, port: int) -> list[str]:
        if plan.mode == "simulator":
            return [
                *simulator_command(),
                "--profile",
                str(run_dir / "profile.json"),
                "--port",
                str(port),
                "--host",
                LOOPBACK,
                "--model",
                plan.model_name,
            ]
        vllm = shutil.which("vllm")
        assert vllm is not None  # checked in _check_real_mode
        return [vllm, "serve", plan.model_id, "--host", LOOPBACK, "--port", str(port), *plan.vllm_cli_args()]

    def _check_real_mode(self, plan: DeploymentPlan) -> None:
        if plan.mode != "real":
            return
        if shutil.which("vllm") is None:
            raise LocalTargetError(
                "real mode runs `vllm serve`, which is not installed here: install vLLM, or deploy in "
                "simulator mode (--mode simulator)"
            )
        need = plan.tensor_parallel_size * self.replica_count(plan)
        have = visible_gpus()
        if have < need:
            raise LocalTargetError(
                f"real mode needs {need} GPU(s) (TP {plan.tensor_parallel_size} x "
                f"{self.replica_count(plan)} replicas) and {have} are visible: deploy in simulator mode, "
                "or to a cluster with --target kubernetes"
            )

    def _spawn(
        self,
        role: Literal["replica", "balancer"],
        index: int,
        cmd: list[str],
        run_dir: Path,
        env: dict[str, str],
    ) -> ProcessRecord:
        port = int(cmd[cmd.index("--port") + 1])
        log_path = run_dir / f"{role}-{index}.log"
        with log_path.open("ab") as out:
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=run_dir,
                    env=env,
                    start_new_session=True,  # survives the command that started it, and Ctrl-C there
                )
            except OSError as e:
                raise LocalTargetError(f"cannot start {cmd[0]}: {e}") from e
        _CHILDREN[proc.pid] = proc  # reaped in _reap(); tracked by pid and start time from now on
        return ProcessRecord(
            role=role,
            index=index,
            pid=proc.pid,
            port=port,
            start_ticks=_start_ticks(proc.pid),
            log=str(log_path),
            cmd=cmd,
        )

    def _env(self, plan: DeploymentPlan, index: int) -> dict[str, str]:
        env = {**os.environ, **self.extra_env}
        if plan.mode == "real":
            tp = plan.tensor_parallel_size
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(index * tp, index * tp + tp))
        return env

    # -- DeployTarget
    async def preview(self, plan: DeploymentPlan, docs: list[dict[str, Any]]) -> list[str]:
        n = self.replica_count(plan)
        what = "preflight-simulator" if plan.mode == "simulator" else "vllm serve"
        lines = [f"would start {n} local {what} process(es) on free loopback ports"]
        if n > 1:
            lines.append("would start a local round-robin balancer in front of them")
        return lines

    async def apply(
        self,
        plan: DeploymentPlan,
        docs: list[dict[str, Any]],
        runtime: dict[str, Any],
        save_runtime: SaveRuntime,
        note: Note,
    ) -> ApplyOutcome:
        """Start what is missing. Live processes of the same plan are reused, so re-applying changes
        nothing; a different plan (a new revision) replaces them."""
        self._check_real_mode(plan)
        run_dir = self._run_dir(plan)
        wanted_hash = plan_hash(plan)
        current = LocalRuntime.model_validate(runtime) if _is_local(runtime) else None
        lines: list[str] = []
        if current is not None and current.plan_hash != wanted_hash:
            for rec in current.processes:
                if await stop_process(rec):
                    lines.append(f"stopped {rec.role} {rec.index} (pid {rec.pid}) of the previous revision")
                    await note(lines[-1])
            current = None
        rt = current or LocalRuntime(dir=str(run_dir), plan_hash=wanted_hash)
        run_dir.mkdir(parents=True, exist_ok=True)
        if plan.mode == "simulator":
            profile = json.dumps(plan.performance_profile, indent=2, sort_keys=True)
            path = run_dir / "profile.json"
            if not path.exists() or path.read_text() != profile:
                path.write_text(profile)

        changed = False
        replicas: list[ProcessRecord] = []
        for i in range(self.replica_count(plan)):
            old = next((p for p in rt.replicas() if p.index == i), None)
            if old is not None and is_alive(old):
                lines.append(f"replica {i} already running (pid {old.pid}, port {old.port})")
                await note(lines[-1])
                replicas.append(old)
                continue
            if old is not None:
                lines.append(f"replica {i} (pid {old.pid}) is gone: starting it again")
                await note(lines[-1])
                rt.processes.remove(old)
            port = free_port()
            rec = self._spawn(
                "replica", i, self._replica_cmd(plan, run_dir, port), run_dir, self._env(plan, i)
            )
            rt.processes.append(rec)
            replicas.append(rec)
            changed = True
            await save_runtime(rt.model_dump(mode="json"))
            lines.append(f"started replica {i}: pid {rec.pid} on {rec.url}")
            await note(lines[-1])
        # Replicas beyond the plan's count (the plan shrank) are stopped.
        for rec in [p for p in rt.replicas() if p not in replicas]:
            await stop_process(rec)
            rt.processes.remove(rec)
            changed = True
            lines.append(f"stopped surplus replica {rec.index} (pid {rec.pid})")
            await note(lines[-1])

        rt.endpoints = [r.url for r in replicas]
        balancer = rt.balancer()
        if len(replicas) > 1:
            backends = rt.endpoints
            if balancer is not None and (
                not is_alive(balancer)
                or balancer.cmd[balancer.cmd.index("--backend") :] != _backend_args(backends)
            ):
                await stop_process(balancer)
                rt.processes.remove(balancer)
                balancer = None
            if balancer is None:
                port = free_port()
                cmd = [
                    sys.executable,
                    "-m",
                    "app.deploy.balancer",
                    "--port",
                    str(port),
                    *_backend_args(backends),
                ]
                balancer = self._spawn("balancer", 0, cmd, run_dir, {**os.environ, **self.extra_env})
                rt.processes.append(balancer)
                changed = True
                await save_runtime(rt.model_dump(mode="json"))
                lines.append(
                    f"started balancer: pid {balancer.pid} on {balancer.url} -> {len(backends)} replicas"
                )
                await note(lines[-1])
            else:
                lines.append(f"balancer already running (pid {balancer.pid}, port {balancer.port})")
                await note(lines[-1])
            rt.endpoint = balancer.url
        else:
            if balancer is not None:
                await stop_process(balancer)
                rt.processes.remove(balancer)
                changed = True
            rt.endpoint = replicas[0].url
        await save_runtime(rt.model_dump(mode="json"))
        return ApplyOutcome(changed=changed, lines=lines, runtime=rt.model_dump(mode="json"))

    async def wait_ready(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any], timeout_s: float
    ) -> ReadyOutcome:
        rt = LocalRuntime.model_validate(runtime)
        deadline = time.monotonic() + timeout_s
        order = [*rt.replicas(), *([b] if (b := rt.balancer()) else [])]
        async with httpx.AsyncClient(timeout=2.0) as client:
            for rec in order:
                await self._wait_healthy(client, rec, deadline, timeout_s)
        return ReadyOutcome(endpoint=rt.endpoint, endpoints=rt.endpoints, runtime=rt.model_dump(mode="json"))

    async def _wait_healthy(
        self, client: httpx.AsyncClient, rec: ProcessRecord, deadline: float, timeout_s: float
    ) -> None:
        last = "no answer yet"
        while True:
            if not is_alive(rec):
                raise LocalTargetError(
                    f"{rec.role} {rec.index} (pid {rec.pid}) exited before it was healthy; its log "
                    f"({rec.log}) ends with:\n{log_tail(rec.log)}"
                )
            try:
                resp = await client.get(f"{rec.url}/health")
                if resp.status_code == 200:
                    return
                last = f"/health answered {resp.status_code}"
            except httpx.HTTPError as e:
                last = f"{type(e).__name__}"
            if time.monotonic() > deadline:
                raise LocalReadyTimeoutError(
                    f"{rec.role} {rec.index} on {rec.url} not healthy after {timeout_s:g} s ({last})"
                )
            await asyncio.sleep(self.health_poll_s)

    async def health(self, runtime: dict[str, Any]) -> dict[str, str]:
        """Per process: 'healthy', 'unhealthy' (answers but not 200 / no answer) or 'gone'."""
        rt = LocalRuntime.model_validate(runtime)
        out: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=2.0) as client:
            for rec in rt.processes:
                key = f"{rec.role}-{rec.index}"
                if not is_alive(rec):
                    out[key] = "gone"
                    continue
                try:
                    ok = (await client.get(f"{rec.url}/health")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                out[key] = "healthy" if ok else "unhealthy"
        return out

    async def delete(
        self, plan: DeploymentPlan, docs: list[dict[str, Any]], runtime: dict[str, Any]
    ) -> list[str]:
        lines: list[str] = []
        if not _is_local(runtime):
            return lines
        rt = LocalRuntime.model_validate(runtime)
        # Balancer first, so no request is routed to a replica that is going away.
        for rec in sorted(rt.processes, key=lambda p: p.role != "balancer"):
            stopped = await stop_process(rec)
            lines.append(
                f"{'stopped' if stopped else 'already gone:'} {rec.role} {rec.index} (pid {rec.pid})"
            )
        shutil.rmtree(rt.dir, ignore_errors=True)
        return lines

    async def close(self) -> None:
        return None


def _is_local(runtime: dict[str, Any]) -> bool:
    """A runtime record this target wrote (and not an empty or foreign one)."""
    return runtime.get("kind") == "local" and "plan_hash" in runtime


def _backend_args(backends: list[str]) -> list[str]:
    out: list[str] = []
    for b in backends:
        out += ["--backend", b]
    return out

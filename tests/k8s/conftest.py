"""A real etcd + kube-apiserver on loopback for the `k8s` tier (envtest style: no controllers run).

Binaries come from scripts/build-k8s-binaries.sh, cached at
${PREFLIGHT_CACHE_DIR:-~/.cache/preflight}/k8s/<version>/. When they are missing the fixture builds them if
Go is installed (10-20 minutes the first time), and skips the tier with the reason when it is not.

Auth: static bearer tokens (--token-auth-file) for an admin in system:masters and a restricted user `dev`,
with RBAC authorization, so denials are the real API server's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes_asyncio import client as k8s_client

from app.deploy.targets.kubernetes import KubernetesTarget
from app.deploy.validate import load_crds

REPO = Path(__file__).resolve().parents[2]
K8S_VERSION = os.environ.get("PREFLIGHT_K8S_VERSION", "v1.36.3")
CACHE_DIR = (
    Path(os.environ.get("PREFLIGHT_CACHE_DIR", Path.home() / ".cache" / "preflight")) / "k8s" / K8S_VERSION
)
ADMIN_TOKEN = "preflight-admin-token"
DEV_TOKEN = "preflight-dev-token"
DEV_USER = "dev"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> Path:
    if (CACHE_DIR / "kube-apiserver").exists() and (CACHE_DIR / "etcd").exists():
        return CACHE_DIR
    if shutil.which("go") is None:
        pytest.skip(
            f"k8s tier skipped: no kube-apiserver/etcd in {CACHE_DIR} and Go is not installed to build "
            "them (scripts/build-k8s-binaries.sh)"
        )
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO / "scripts" / "build-k8s-binaries.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "PREFLIGHT_K8S_VERSION": K8S_VERSION},
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"building kube-apiserver/etcd failed after {time.monotonic() - started:.0f} s:\n"
            f"{proc.stderr[-4000:]}"
        )
    return CACHE_DIR


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not open after {timeout_s} s:\n{log.read_text()[-4000:]}")


@dataclass
class Cluster:
    url: str
    ca_file: Path
    workdir: Path
    admin_token: str = ADMIN_TOKEN
    dev_token: str = DEV_TOKEN
    dev_user: str = DEV_USER

    def api_client(self, token: str) -> k8s_client.ApiClient:
        cfg = k8s_client.Configuration()
        cfg.host = self.url
        cfg.api_key = {"BearerToken": token}
        cfg.api_key_prefix = {"BearerToken": "Bearer"}
        cfg.ssl_ca_cert = str(self.ca_file)
        return k8s_client.ApiClient(cfg)

    def target(self, token: str = ADMIN_TOKEN) -> KubernetesTarget:
        return KubernetesTarget(self.api_client(token))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    bins = _binaries()
    workdir = Path(tempfile.mkdtemp(prefix="preflight-k8s-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        etcd_port, peer_port, api_port = _free_port(), _free_port(), _free_port()
        etcd_log = workdir / "etcd.log"
        with etcd_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        str(bins / "etcd"),
                        "--data-dir",
                        str(workdir / "etcd"),
                        "--name",
                        "test",
                        "--listen-client-urls",
                        f"http://127.0.0.1:{etcd_port}",
                        "--advertise-client-urls",
                        f"http://127.0.0.1:{etcd_port}",
                        "--listen-peer-urls",
                        f"http://127.0.0.1:{peer_port}",
                        "--initial-advertise-peer-urls",
                        f"http://127.0.0.1:{peer_port}",
                        "--initial-cluster",
                        f"test=http://127.0.0.1:{peer_port}",
                        "--unsafe-no-fsync",
                        "--max-request-bytes",
                        str(8 * 1024 * 1024),
                        "--log-level",
                        "warn",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_port(etcd_port, procs[0], etcd_log, 30)

        certs = workdir / "certs"
        certs.mkdir()
        subprocess.run(
            ["openssl", "genrsa", "-out", str(certs / "sa.key"), "2048"], check=True, capture_output=True
        )
        subprocess.run(
            ["openssl", "rsa", "-in", str(certs / "sa.key"), "-pubout", "-out", str(certs / "sa.pub")],
            check=True,
            capture_output=True,
        )
        tokens = workdir / "tokens.csv"
        tokens.write_text(f'{ADMIN_TOKEN},admin,uid-admin,"system:masters"\n{DEV_TOKEN},{DEV_USER},uid-dev\n')
        api_log = workdir / "kube-apiserver.log"
        with api_log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        str(bins / "kube-apiserver"),
                        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                        f"--cert-dir={certs}",
                        "--bind-address=127.0.0.1",
                        "--advertise-address=127.0.0.1",
                        f"--secure-port={api_port}",
                        "--service-cluster-ip-range=10.0.0.0/24",
                        "--authorization-mode=RBAC",
                        f"--token-auth-file={tokens}",
                        "--service-account-issuer=https://kubernetes.default.svc",
                        f"--service-account-key-file={certs / 'sa.pub'}",
                        f"--service-account-signing-key-file={certs / 'sa.key'}",
                        "--allow-privileged=true",
                        "--v=1",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_port(api_port, procs[1], api_log, 120)
        ca = certs / "apiserver.crt"
        c = Cluster(f"https://127.0.0.1:{api_port}", ca, workdir)
        asyncio.run(_wait_ready_and_install_crds(c, procs[1], api_log))
        yield c
    finally:
        for p in reversed(procs):
            _kill(p)
        shutil.rmtree(workdir, ignore_errors=True)


async def _wait_ready_and_install_crds(c: Cluster, proc: subprocess.Popen[bytes], log: Path) -> None:
    api = c.api_client(ADMIN_TOKEN)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                resp = await api.call_api(
                    "/readyz",
                    "GET",
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _return_http_data_only=True,
                )
                if resp.status == 200:
                    break
            except Exception as e:  # any failure here only means "not ready yet"
                if time.monotonic() > deadline or proc.poll() is not None:
                    tail = log.read_text()[-4000:]  # noqa: ASYNC240 - test setup, once, on failure
                    raise RuntimeError(f"kube-apiserver not ready: {e}\n{tail}") from e
            await asyncio.sleep(0.5)
        # CRDs server-side (KServe's is ~2 MB: too big for client-side apply's annotation).
        target = KubernetesTarget(api)
        await target.apply(load_crds())
        ext = k8s_client.ApiextensionsV1Api(api)
        for _ in range(120):
            crds = (await ext.list_custom_resource_definition()).items
            established = [
                x
                for x in crds
                if any(
                    cond.type == "Established" and cond.status == "True"
                    for cond in (x.status.conditions or [])
                )
            ]
            if len(established) >= len(load_crds()):
                break
            await asyncio.sleep(0.5)
    finally:
        await api.close()


@pytest.fixture
async def admin(cluster: Cluster) -> AsyncIterator[KubernetesTarget]:
    target = cluster.target(ADMIN_TOKEN)
    yield target
    await target.close()


@pytest.fixture
async def dev(cluster: Cluster) -> AsyncIterator[KubernetesTarget]:
    target = cluster.target(DEV_TOKEN)
    yield target
    await target.close()

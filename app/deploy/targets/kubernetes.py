"""The `kubernetes` target: server-side dry-run, server-side apply, watch until ready, delete, rollback.

Everything goes through kubernetes_asyncio's DynamicClient, so custom resources need no generated models.
Apply is server-side with a fixed field manager: re-applying the same manifests is a no-op on the server
(resourceVersion unchanged), and large CRDs such as KServe's (~2 MB) work, which client-side apply cannot
do (its last-applied annotation would exceed the 256 KiB annotation limit).

Every failure becomes one of the typed errors below with a message a person can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.dynamic import DynamicClient
from kubernetes_asyncio.dynamic.exceptions import ResourceNotFoundError
from kubernetes_asyncio.dynamic.resource import Resource

from app.errors import Conflict, Invalid, Unavailable

log = logging.getLogger(__name__)

FIELD_MANAGER = "preflight"
# Which product installs each API group, for the "CRD missing" message.
GROUP_PRODUCTS = {
    "serving.kserve.io": "KServe",
    "monitoring.coreos.com": "the Prometheus Operator",
    "keda.sh": "KEDA",
    "gateway.networking.k8s.io": "the Gateway API CRDs",
    "inference.networking.k8s.io": "the Gateway API Inference Extension",
}
# Server-populated fields ignored when deciding whether an apply would change an object.
_VOLATILE_METADATA = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid")

Action = Literal["created", "configured", "unchanged", "deleted", "absent"]


# --- errors -----------------------------------------------------------------------------------------------
class KubernetesTargetError(Unavailable):
    """Base of every error the kubernetes target raises."""

    hint = (
        "The cluster refused or could not be reached; nothing was changed there. Check the kubeconfig and "
        "context Preflight uses (`kubectl get nodes` from the server), or deploy to the **local** target."
    )


class ClusterUnreachableError(KubernetesTargetError):
    """The API server did not answer (wrong address, network, TLS)."""


class AuthenticationError(KubernetesTargetError):
    """The API server did not accept the credentials (401)."""


class CRDMissingError(KubernetesTargetError):
    """The cluster does not serve a kind the manifests use (e.g. KServe not installed)."""

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing
        parts = []
        for api_version, kind in missing:
            group = api_version.split("/")[0] if "/" in api_version else ""
            product = GROUP_PRODUCTS.get(group, f"the CRD for {group or 'core'}")
            parts.append(f"{kind} ({api_version}): install {product}")
        super().__init__(
            "the cluster does not serve these kinds: "
            + "; ".join(parts)
            + ". Or pick a plan flavor/options that do not need them."
        )


class PermissionDeniedError(KubernetesTargetError):
    """RBAC denied a request (403)."""

    def __init__(self, verb: str, ref: str, server_message: str) -> None:
        self.verb = verb
        self.ref = ref
        self.server_message = server_message
        super().__init__(
            f"permission denied: cannot {verb} {ref}. The API server said: {server_message}. "
            "Ask a cluster admin for a Role granting this (see Preflight's RBAC manifests)."
        )


class ManifestRejectedError(Invalid, KubernetesTargetError):
    """The API server or an admission webhook/quota rejected an object (400/422, or 403 from quota)."""

    def __init__(self, ref: str, status: int, server_message: str, causes: list[str]) -> None:
        self.ref = ref
        self.status = status
        self.server_message = server_message
        self.causes = causes
        detail = "".join(f"\n  - {c}" for c in causes)
        super().__init__(f"the API server rejected {ref} ({status}): {server_message}{detail}")


class ConflictError(Conflict, KubernetesTargetError):
    """Another field manager owns fields this apply would change (409)."""


class ReadyTimeoutError(KubernetesTargetError):
    """The deployment did not become ready in time."""


# --- results ----------------------------------------------------------------------------------------------
@dataclass
class ObjectResult:
    ref: str
    action: Action
    resource_version: str | None = None
    object: dict[str, Any] | None = None
    note: str = ""


@dataclass
class ApplyResult:
    dry_run: bool
    objects: list[ObjectResult] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(o.action in ("created", "configured", "deleted") for o in self.objects)


def ref_of(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


class _Failure(Exception):
    """A failed API call, as (HTTP status, Status message, field causes)."""

    def __init__(self, status: int, message: str, causes: list[str]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.causes = causes


def _failure_from_status(status: dict[str, Any], default_code: int = 0) -> _Failure:
    causes = [
        f"{c.get('field', '')}: {c.get('message', '')}".strip(": ")
        for c in (status.get("details") or {}).get("causes") or []
    ]
    return _Failure(int(status.get("code") or default_code), str(status.get("message") or ""), causes)


def _failure_from_exception(e: ApiException) -> _Failure:
    body: Any = e.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        status = json.loads(body) if body else {}
    except (TypeError, ValueError):
        status = None
    if not isinstance(status, dict):
        return _Failure(int(e.status or 0), str(body or e.reason), [])
    failure = _failure_from_status(status, int(e.status or 0))
    failure.message = failure.message or str(e.reason)
    return failure


def translate_api_error(e: ApiException, verb: str, ref: str) -> KubernetesTargetError:
    f = _failure_from_exception(e)
    return error_for(f.status, f.message, f.causes, verb, ref)


def error_for(status: int, message: str, causes: list[str], verb: str, ref: str) -> KubernetesTargetError:
    """The typed error for a failed API call."""
    if status == 401:
        return AuthenticationError(
            f"the API server rejected the credentials while trying to {verb} {ref}: "
            f"{message}. Check the kubeconfig user/token."
        )
    if status == 403:
        if "exceeded quota" in message or "forbidden: failed quota" in message:
            return ManifestRejectedError(ref, 403, message, causes)
        return PermissionDeniedError(verb, ref, message)
    if status in (400, 422):
        return ManifestRejectedError(ref, status, message, causes)
    if status == 500 and "failed to create typed patch object" in message:
        # Server-side apply reports a value of the wrong type (e.g. a string for an integer) this way.
        return ManifestRejectedError(ref, status, message, causes)
    if status == 409:
        return ConflictError(
            f"{ref}: fields are owned by another manager: {message}. Re-run with "
            "force=True to take them over."
        )
    if status == 404 and "namespaces" in message:
        return ManifestRejectedError(ref, 404, message + " (create the namespace first)", causes)
    return KubernetesTargetError(f"{verb} {ref} failed ({status}): {message}")


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for key in _VOLATILE_METADATA:
        meta.pop(key, None)
    out["metadata"] = meta
    return out


def is_ready(obj: dict[str, Any]) -> tuple[bool, str]:
    """Whether a workload object is ready, and a human-readable reason when it is not."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    if kind == "InferenceService":
        for cond in status.get("conditions") or []:
            if cond.get("type") == "Ready":
                if cond.get("status") == "True":
                    return True, "ready"
                return False, cond.get("message") or cond.get("reason") or "not ready"
        return False, "waiting for the KServe controller to report a Ready condition"
    if kind == "Deployment":
        want = int((obj.get("spec") or {}).get("replicas", 1))
        gen = int((obj.get("metadata") or {}).get("generation", 0))
        if int(status.get("observedGeneration", 0)) < gen:
            return False, "waiting for the Deployment controller to observe the new spec"
        available = int(status.get("availableReplicas", 0))
        if available >= want and int(status.get("updatedReplicas", 0)) >= want:
            return True, "ready"
        return False, f"{available}/{want} replicas available"
    return True, "exists"


WORKLOAD_KINDS = ("InferenceService", "Deployment")


# --- the target -------------------------------------------------------------------------------------------
class KubernetesTarget:
    """Applies manifests to one cluster. Create with `connect()` or from an ApiClient; close when done."""

    def __init__(
        self,
        api_client: k8s_client.ApiClient,
        field_manager: str = FIELD_MANAGER,
        discovery_cache: Path | None = None,
    ) -> None:
        self.api_client = api_client
        self.field_manager = field_manager
        # A private discovery cache: the default one is shared by every client of the same host.
        self._cache_dir: tempfile.TemporaryDirectory[str] | None = None
        if discovery_cache is None:
            self._cache_dir = tempfile.TemporaryDirectory(prefix="preflight-discovery-")
            discovery_cache = Path(self._cache_dir.name) / "discovery.json"
        self._cache_file = str(discovery_cache)
        self._dyn: DynamicClient | None = None

    @classmethod
    async def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        in_cluster: bool = False,
        field_manager: str = FIELD_MANAGER,
    ) -> KubernetesTarget:
        """From a kubeconfig (default ~/.kube/config or $KUBECONFIG) or the in-cluster service account."""
        configuration = k8s_client.Configuration()
        try:
            if in_cluster:
                k8s_config.load_incluster_config(client_configuration=configuration)
            else:
                await k8s_config.load_kube_config(
                    config_file=kubeconfig, context=context, client_configuration=configuration
                )
        except (k8s_config.ConfigException, OSError) as e:
            raise ClusterUnreachableError(f"cannot load Kubernetes configuration: {e}") from e
        return cls(k8s_client.ApiClient(configuration), field_manager)

    async def close(self) -> None:
        await self.api_client.close()
        if self._cache_dir is not None:
            self._cache_dir.cleanup()

    async def __aenter__(self) -> KubernetesTarget:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    async def _dynamic(self) -> DynamicClient:
        if self._dyn is None:
            # The DynamicClient's discovery does not report HTTP errors (it crashes on the error body), so
            # probe discovery first through a call that does.
            try:
                await k8s_client.ApisApi(self.api_client).get_api_versions(_request_timeout=30)
                self._dyn = await DynamicClient(self.api_client, cache_file=self._cache_file)
            except ApiException as e:
                raise translate_api_error(e, "discover APIs on", self.host) from e
            except (TimeoutError, aiohttp.ClientError, OSError) as e:
                raise ClusterUnreachableError(
                    f"cannot reach the Kubernetes API server at {self.host}: {e}"
                ) from e
        return self._dyn

    async def _call(self, verb: str, ref: str, coro: Any, missing_ok: bool = False) -> dict[str, Any] | None:
        """Await a DynamicClient call and return the object as a dict; raise the typed error on failure.

        kubernetes_asyncio's DynamicClient reads responses unparsed, so HTTP errors come back as a
        Status object rather than an exception: both forms are handled. With missing_ok a 404 is None."""
        try:
            result = await coro
        except ApiException as e:
            failure = _failure_from_exception(e)
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise ClusterUnreachableError(
                f"cannot reach the Kubernetes API server at {self.host} (while trying to {verb} {ref}): {e}"
            ) from e
        else:
            data: Any = result.to_dict() if hasattr(result, "to_dict") else result
            if not (
                isinstance(data, dict) and data.get("kind") == "Status" and data.get("status") == "Failure"
            ):
                return data if isinstance(data, dict) else None
            failure = _failure_from_status(data)
        if missing_ok and failure.status == 404:
            return None
        raise error_for(failure.status, failure.message, failure.causes, verb, ref) from failure

    async def resource_for(self, doc: dict[str, Any]) -> Resource:
        dyn = await self._dynamic()
        try:
            return await dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        except ResourceNotFoundError as e:
            raise CRDMissingError([(doc["apiVersion"], doc["kind"])]) from e
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise ClusterUnreachableError(
                f"cannot reach the Kubernetes API server at {self.host}: {e}"
            ) from e

    async def check_kinds(self, docs: Iterable[dict[str, Any]]) -> dict[tuple[str, str], Resource]:
        """Resolve every kind before touching anything, so a missing CRD fails the whole apply up front."""
        found: dict[tuple[str, str], Resource] = {}
        missing: list[tuple[str, str]] = []
        for doc in docs:
            key = (doc["apiVersion"], doc["kind"])
            if key in found or key in missing:
                continue
            try:
                found[key] = await self.resource_for(doc)
            except CRDMissingError:
                missing.append(key)
        if missing:
            raise CRDMissingError(missing)
        return found

    async def get(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The live object, or None."""
        res = await self.resource_for(doc)
        meta = doc["metadata"]
        dyn = await self._dynamic()
        return await self._call(
            "get",
            ref_of(doc),
            dyn.get(res, name=meta["name"], namespace=meta.get("namespace")),
            missing_ok=True,
        )

    async def apply(
        self, docs: list[dict[str, Any]], dry_run: bool = False, force: bool = False
    ) -> ApplyResult:
        """Server-side apply each document in order (namespaces first). With dry_run the server runs every
        admission step and schema check but stores nothing; the result says what would change."""
        resources = await self.check_kinds(docs)
        dyn = await self._dynamic()
        result = ApplyResult(dry_run=dry_run)
        pending_namespaces: set[str] = set()
        for doc in sorted(docs, key=lambda d: 0 if d["kind"] == "Namespace" else 1):
            ref = ref_of(doc)
            res = resources[(doc["apiVersion"], doc["kind"])]
            meta = doc["metadata"]
            namespace = meta.get("namespace")
            if dry_run and namespace in pending_namespaces:
                # The namespace itself is only dry-run created, so the server cannot dry-run objects in it.
                result.objects.append(
                    ObjectResult(ref, "created", note="namespace not created yet: not checked")
                )
                continue
            live = await self.get(doc)
            kwargs: dict[str, Any] = {
                "field_manager": self.field_manager,
                "query_params": [("fieldValidation", "Strict")],
            }
            if dry_run:
                kwargs["dry_run"] = "All"
            if force:
                kwargs["force_conflicts"] = True
            applied = await self._call(
                "apply",
                ref,
                dyn.server_side_apply(res, body=doc, name=meta["name"], namespace=namespace, **kwargs),
            )
            applied_dict: dict[str, Any] = applied or {}
            rv = (applied_dict.get("metadata") or {}).get("resourceVersion")
            action: Action
            if live is None:
                action = "created"
                if dry_run and doc["kind"] == "Namespace":
                    pending_namespaces.add(meta["name"])
            elif dry_run:
                action = "unchanged" if _comparable(applied_dict) == _comparable(live) else "configured"
            else:
                action = (
                    "unchanged" if rv == (live.get("metadata") or {}).get("resourceVersion") else "configured"
                )
            log.info("%s %s%s", ref, action, " (dry run)" if dry_run else "")
            result.objects.append(ObjectResult(ref, action, rv, applied_dict))
        return result

    async def dry_run(self, docs: list[dict[str, Any]]) -> ApplyResult:
        return await self.apply(docs, dry_run=True)

    async def delete(self, docs: list[dict[str, Any]], include_namespaces: bool = False) -> ApplyResult:
        """Delete in reverse apply order. Namespaces are kept unless asked (a team's namespace is shared)."""
        dyn = await self._dynamic()
        result = ApplyResult(dry_run=False)
        for doc in reversed(docs):
            if doc["kind"] == "Namespace" and not include_namespaces:
                continue
            ref = ref_of(doc)
            try:
                res = await self.resource_for(doc)
            except CRDMissingError:
                result.objects.append(ObjectResult(ref, "absent", note="kind not served"))
                continue
            meta = doc["metadata"]
            # A 404 Status is returned (not raised) for an object already gone.
            gone = await self._call(
                "delete",
                ref,
                dyn.delete(
                    res, name=meta["name"], namespace=meta.get("namespace"), propagation_policy="Background"
                ),
                missing_ok=True,
            )
            result.objects.append(ObjectResult(ref, "deleted" if gone is not None else "absent"))
        return result

    async def rollback(
        self, current: list[dict[str, Any]], previous: list[dict[str, Any]] | None
    ) -> ApplyResult:
        """Go back to `previous` (re-apply it and delete objects it does not have), or delete everything
        when there is no previous revision."""
        if not previous:
            return await self.delete(current)
        result = await self.apply(previous, force=True)
        keep = {ref_of(d) for d in previous}
        stale = [d for d in current if ref_of(d) not in keep]
        if stale:
            result.objects += (await self.delete(stale)).objects
        return result

    async def wait_ready(
        self, docs: list[dict[str, Any]], timeout_s: float = 900.0, poll_s: float = 2.0
    ) -> dict[str, str]:
        """Wait until every workload (InferenceService, Deployment) is ready, watching for changes.

        Returns ref -> "ready". Raises ReadyTimeoutError naming what is still not ready and why."""
        workloads = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
        state: dict[str, str] = {ref_of(d): "not checked" for d in workloads}
        deadline = time.monotonic() + timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                for doc in workloads:
                    await self._wait_one(doc, state, deadline, poll_s)
        except TimeoutError as e:
            waiting = "; ".join(f"{r}: {s}" for r, s in state.items() if s != "ready")
            raise ReadyTimeoutError(f"not ready after {timeout_s:g} s: {waiting}") from e
        return state

    async def _wait_one(
        self, doc: dict[str, Any], state: dict[str, str], deadline: float, poll_s: float
    ) -> None:
        ref = ref_of(doc)
        res = await self.resource_for(doc)
        dyn = await self._dynamic()
        meta = doc["metadata"]
        while True:
            live = await self.get(doc)
            if live is None:
                state[ref] = "does not exist"
            else:
                ready, why = is_ready(live)
                state[ref] = "ready" if ready else why
                if ready:
                    return
            # Watch from the version we saw, so no change between the get and the watch is missed.
            remaining = max(1, int(deadline - time.monotonic()))
            rv = (live or {}).get("metadata", {}).get("resourceVersion")
            try:
                async for event in dyn.watch(
                    res,
                    namespace=meta.get("namespace"),
                    name=meta["name"],
                    resource_version=rv,
                    timeout=min(remaining, 60),
                ):
                    obj = event["raw_object"]
                    if event["type"] == "DELETED":
                        state[ref] = "deleted while waiting"
                        continue
                    ready, why = is_ready(obj)
                    state[ref] = "ready" if ready else why
                    if ready:
                        return
            except ApiException as e:
                if e.status != 410:  # 410 Gone: our resourceVersion is too old; get again
                    raise translate_api_error(e, "watch", ref) from e
            except (aiohttp.ClientError, OSError) as e:
                log.warning("watch of %s interrupted (%s); polling again", ref, e)
            await asyncio.sleep(poll_s)

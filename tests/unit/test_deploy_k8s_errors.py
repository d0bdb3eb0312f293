"""Pure parts of the kubernetes target: error classification and readiness rules."""

from __future__ import annotations

import pytest

from app.deploy.targets.kubernetes import (
    AuthenticationError,
    ConflictError,
    CRDMissingError,
    ManifestRejectedError,
    PermissionDeniedError,
    error_for,
    is_ready,
)

pytestmark = pytest.mark.unit


def test_api_errors_map_to_actionable_types() -> None:
    ref = "InferenceService/ns/chat"
    denied = error_for(403, 'inferenceservices "chat" is forbidden: User "dev" cannot get', [], "get", ref)
    assert isinstance(denied, PermissionDeniedError) and "Ask a cluster admin" in str(denied)
    quota = error_for(403, "exceeded quota: gpus, requested: nvidia.com/gpu=8", [], "apply", ref)
    assert isinstance(quota, ManifestRejectedError)
    invalid = error_for(422, "InferenceService is invalid", ["spec.predictor.minReplicas: bad"], "apply", ref)
    assert isinstance(invalid, ManifestRejectedError) and "spec.predictor.minReplicas: bad" in str(invalid)
    assert isinstance(error_for(401, "Unauthorized", [], "get", ref), AuthenticationError)
    assert isinstance(error_for(409, "conflict with kubectl", [], "apply", ref), ConflictError)
    typed = error_for(
        500, "failed to create typed patch object (x): .spec: expected numeric", [], "apply", ref
    )
    assert isinstance(typed, ManifestRejectedError)


def test_missing_crd_message_names_products() -> None:
    err = CRDMissingError(
        [("serving.kserve.io/v1beta1", "InferenceService"), ("keda.sh/v1alpha1", "ScaledObject")]
    )
    assert "InferenceService (serving.kserve.io/v1beta1): install KServe" in str(err)
    assert "ScaledObject (keda.sh/v1alpha1): install KEDA" in str(err)


def test_readiness_rules() -> None:
    isvc = {
        "kind": "InferenceService",
        "status": {"conditions": [{"type": "Ready", "status": "False", "message": "pulling image"}]},
    }
    assert is_ready(isvc) == (False, "pulling image")
    isvc["status"]["conditions"][0].update(status="True")
    assert is_ready(isvc)[0]
    dep = {
        "kind": "Deployment",
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 2, "availableReplicas": 1, "updatedReplicas": 2},
    }
    assert is_ready(dep) == (False, "1/2 replicas available")
    dep["status"]["availableReplicas"] = 2
    assert is_ready(dep)[0]
    dep["metadata"]["generation"] = 3
    assert not is_ready(dep)[0]
    assert is_ready({"kind": "ConfigMap"})[0]

"""Recommend, the domain part: the errors a plan request can raise, and the person's names (models, GPUs,
provider) resolved against the knowledge base's name indexes, which the service passes in.

The service (``app.services.planner``) loads the catalog (SQL), runs the pure planner (``app.planning.plan``)
and stores the result; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.errors import NotFound
from app.intent.schema import Specification
from app.names import AliasIndex, AmbiguousNameError
from app.perf.errors import PlanningError

# Runs ``fn(*args)`` somewhere that does not block the event loop (the service layer's worker pool).
Offload = Callable[..., Awaitable[Any]]


class RecommendError(PlanningError):
    """A specification the planner cannot act on (unknown names, contradictions); the message says why."""


class RecommendationNotFound(NotFound, LookupError):
    """No stored recommendation with that id."""


# --- checking the person's names ---------------------------------------------------------------------------


def _resolve(index: AliasIndex, names: list[str], what: str, field: str, known: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        try:
            found = index.resolve(name)
        except AmbiguousNameError as e:
            raise RecommendError(f"{field}: {e}; use the full id") from e
        if found is None:
            raise RecommendError(
                f"{field}: unknown {what} {name!r}; known {what}s: {', '.join(sorted(known))}"
            )
        out.append(found)
    return out


def resolve_names(
    spec: Specification, models_idx: AliasIndex, gpus_idx: AliasIndex, providers: list[str] | None
) -> Specification:
    """The spec with catalog ids for every model and GPU name; RecommendError for unknown names.

    ``providers`` are those with prices (checked when the spec rents from a named cloud); None skips it.
    """
    gpu_ids = sorted(gpus_idx.ids())
    changes: dict[str, Any] = {}
    for field in ("available_gpus", "excluded_gpus"):
        names = getattr(spec, field)
        if names:
            resolved = _resolve(gpus_idx, names, "GPU", field, gpu_ids)
            if resolved != names:
                changes[field] = resolved
    if spec.gpu_inventory:
        inv = []
        for item in spec.gpu_inventory:
            gid = _resolve(gpus_idx, [item.gpu], "GPU", "gpu_inventory", gpu_ids)[0]
            inv.append({"gpu": gid, "count": item.count})
        if [i["gpu"] for i in inv] != [i.gpu for i in spec.gpu_inventory]:
            changes["gpu_inventory"] = inv
    if spec.quality_reference_model:
        known = sorted({mid.split("/")[-1] for mid in models_idx.ids()})
        ref = _resolve(models_idx, [spec.quality_reference_model], "model", "quality_reference_model", known)[
            0
        ]
        if ref != spec.quality_reference_model:
            changes["quality_reference_model"] = ref
    if spec.preferred_models:
        known = sorted({mid.split("/")[-1] for mid in models_idx.ids()})
        resolved = _resolve(models_idx, spec.preferred_models, "model", "preferred_models", known)
        if resolved != spec.preferred_models:
            changes["preferred_models"] = resolved
    if spec.cloud_provider and spec.deployment_model == "cloud_rental" and providers is not None:
        match = next((p for p in providers if p.casefold() == spec.cloud_provider.casefold()), None)
        if match is None:
            raise RecommendError(
                f"cloud_provider: no prices from {spec.cloud_provider!r}; providers with prices: "
                f"{', '.join(providers)}"
            )
    if not changes:
        return spec
    # Keep the person's origins: names are the same choices, spelled as catalog ids.
    data = spec.model_dump()
    data.update(changes)
    return Specification.model_validate(data)

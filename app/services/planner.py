"""The recommendation service's I/O: the catalog the planner needs (candidates by SQL, rows mapped into the
performance model's types, cached per catalog version), the observed outcomes that correct it, and the
stored result with its audit entry. The planning itself is pure (``app.planning.plan``) and runs on the
caller's worker pool when one is passed (``offload``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal, audit
from app.intent.schema import Specification
from app.perf.corrections import ConfigOutcomes, OutcomeKey
from app.perf.errors import PlanningError
from app.perf.types import GpuSpec, Interconnect, ModelArch
from app.planning.catalog import arch_from_catalog_record, default_catalog
from app.planning.cost import PriceRow
from app.planning.plan import GpuEntry, ModelEntry, PlanCatalog, PlanSettings, plan
from app.planning.quality import ModelFacts, QualityProfile, quality_profiles, task_quality
from app.planning.recommend import Offload, RecommendationNotFound, resolve_names
from app.planning.result import Option, RecommendationResult, Rejected
from app.services.gc_pause import collector_paused
from db import catalog_queries as q
from db import models as m

if TYPE_CHECKING:
    from app.observe.outcomes import SimilarOutcome

log = logging.getLogger(__name__)


# --- adapters from database rows to the performance model's types ------------------------------------------

_ARCH_CACHE: dict[tuple[str, Any], ModelArch] = {}
_GPU_CACHE: dict[tuple[str, Any], GpuSpec] = {}
_QUALITY_CACHE: dict[tuple[tuple[str, Any], ...], dict[str, QualityProfile]] = {}


def arch_from_row(row: m.Model) -> ModelArch:
    """ModelArch from a models row, through the perf engineer's catalog mapping (one interpretation)."""
    key = (row.id, row.updated_at)
    hit = _ARCH_CACHE.get(key)
    if hit is not None:
        return hit
    rec = {c.name: getattr(row, c.name) for c in m.Model.__table__.columns}
    rec["hf_id"] = row.id
    arch = arch_from_catalog_record(rec)
    _ARCH_CACHE[key] = arch
    return arch


_FAMILIES = (
    ("hopper", "hopper"),
    ("ampere", "ampere"),
    ("ada", "ada"),
    ("blackwell", "blackwell"),
    ("turing", "turing"),
    ("cdna", "cdna3"),
)


def gpu_spec_from_row(row: m.Gpu) -> GpuSpec:
    """The catalog's GpuSpec for a known GPU id (same specs as `preflight predict`), else one built from the
    row (generated or newly added GPUs)."""
    key = (row.id, row.updated_at)
    hit = _GPU_CACHE.get(key)
    if hit is not None:
        return hit
    spec: GpuSpec | None = None
    try:
        found = default_catalog().get_gpu(row.id)
        spec = found if found.id == row.id else None
    except PlanningError:
        spec = None
    if spec is None:
        arch = (row.architecture or "").lower()
        family = next((fam for word, fam in _FAMILIES if word in arch), "unknown")
        kind: Interconnect = (
            "nvlink"
            if (row.interconnect or "").startswith("nvlink")
            else ("xgmi" if row.interconnect == "xgmi" else "pcie")
        )
        link = float(row.interconnect_gb_s or 32.0)
        if kind == "nvlink":
            link /= 2.0  # catalog rows give NVLink bidirectional; the model wants per direction
        spec = GpuSpec(
            id=row.id,
            aliases=tuple(row.aliases or ()),
            vendor=row.vendor,
            family=family,
            memory_gb=row.memory_gb,
            mem_bw_tb_s=row.mem_bw_tb_s,
            bf16_tflops=row.bf16_tflops,
            fp16_tflops=row.fp16_tflops or row.bf16_tflops,
            fp8_tflops=row.fp8_tflops,
            int8_tops=row.int8_tops,
            interconnect=kind,
            interconnect_gb_s=link,
            tdp_w=row.tdp_w,
        )
    _GPU_CACHE[key] = spec
    return spec


def price_from_row(row: m.Price) -> PriceRow:
    return PriceRow(
        id=row.id,
        gpu_id=row.gpu_id,
        kind=row.kind,
        provider=row.provider,
        source=row.source,
        region=row.region,
        instance_type=row.instance_type,
        gpus_per_instance=row.gpus_per_instance,
        usd_per_gpu_hour=row.usd_per_gpu_hour,
        usd_purchase=row.usd_purchase,
        usd_purchase_high=row.usd_purchase_high,
        date=row.price_date,
        excludes_host=bool(row.excludes_host),
        server_power_w=row.server_power_w,
        label=row.label,
        notes=row.notes,
    )


def _tier(row: m.Model) -> str | None:
    judgement = (row.judgements or {}).get("quality_tier")
    if isinstance(judgement, dict):
        value = judgement.get("value")
        return str(value) if value else None
    return None


# One cheap query says whether the catalog tables changed: row counts and the sum of the row versions
# (``xmin``, the transaction that wrote each row version; an insert, update or delete changes count or sum,
# and a rolled-back change restores both). Everything derived from the catalog is cached under this key, per
# database, so warm plans skip the SQL and the row mapping.
_VERSION_SQL = text(
    "SELECT current_database() AS db, "
    + ", ".join(
        f"(SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM {t}) AS {t}"
        for t in ("models", "gpus", "prices")
    )
)
_CATALOG_CACHE: dict[tuple[object, ...], Any] = {}
_CATALOG_CACHE_SIZE = 16


def _plan(spec: Specification, catalog: PlanCatalog, settings: PlanSettings) -> RecommendationResult:
    # Pausing the cyclic collector changes interpreter-wide state, so it lives here, where plans run (on
    # the worker pool), and not in the pure planner: see app.services.gc_pause.
    with collector_paused():
        return plan(spec, catalog, settings)


async def catalog_version(*, session: AsyncSession) -> tuple[object, ...]:
    """A key that changes whenever the models, GPUs or prices tables change (see ``_VERSION_SQL``)."""
    row = (await session.execute(_VERSION_SQL)).one()
    url = session.get_bind().engine.url
    return (url.host, url.port, row.db, row.models, row.gpus, row.prices)


def _cached(version: tuple[object, ...], what: tuple[object, ...]) -> Any:
    return _CATALOG_CACHE.get((version, what))


def _remember(version: tuple[object, ...], what: tuple[object, ...], value: Any) -> Any:
    stale = [k for k in _CATALOG_CACHE if k[0] != version]
    if len(stale) > _CATALOG_CACHE_SIZE * 8:  # many versions seen: drop the older ones
        for k in stale:
            del _CATALOG_CACHE[k]
    _CATALOG_CACHE[(version, what)] = value
    return value


async def model_profiles(*, session: AsyncSession) -> dict[str, QualityProfile]:
    """Per-family quality standings of every recommendable model, from the comparable published scores of
    the whole catalog (``app.planning.quality``); a task's index is computed from them per plan."""
    key = tuple(await q.model_versions(session=session))
    hit = _QUALITY_CACHE.get(key)
    if hit is not None:
        return hit
    rows = await q.load_all_models(session=session)
    facts = []
    from app.perf.memory import param_counts

    for r in rows:
        try:
            pc = param_counts(arch_from_row(r))
        except (PlanningError, ValueError) as e:
            log.warning("no parameter count for %s: %s", r.id, e)
            continue
        facts.append(
            ModelFacts(
                id=r.id,
                family=r.family,
                total_params_b=pc.total / 1e9,
                active_params_b=pc.active / 1e9,
                scores=tuple(r.quality or ()),
                tier=_tier(r),
            )
        )
    result = quality_profiles(facts)
    _QUALITY_CACHE.clear()
    _QUALITY_CACHE[key] = result
    return result


async def check_names(spec: Specification, *, session: AsyncSession) -> Specification:
    """The spec with catalog ids for every model and GPU name (name indexes and providers loaded here, cached
    per catalog version); RecommendError for unknown names."""
    version = await catalog_version(session=session)
    indexes = _cached(version, ("names",))
    if indexes is None:
        indexes = _remember(version, ("names",), await q.name_indexes(session=session))
    models_idx, gpus_idx = indexes
    providers: list[str] | None = None
    if spec.cloud_provider and spec.deployment_model == "cloud_rental":
        providers = _cached(version, ("providers",))
        if providers is None:
            providers = _remember(version, ("providers",), await q.providers(session=session))
    return resolve_names(spec, models_idx, gpus_idx, providers)


# --- catalog and the service function ------------------------------------------------------------------


def _filter_for(spec: Specification, settings: PlanSettings) -> q.CandidateFilter:
    allowed = list(spec.available_gpus)
    if spec.gpu_inventory:
        owned = [i.gpu for i in spec.gpu_inventory]
        allowed = [g for g in allowed if g in owned] if allowed else owned
        if not allowed:
            allowed = ["(none)"]  # available and owned GPUs do not overlap: no candidates
    if spec.deployment_model == "cloud_rental":
        kinds: tuple[str, ...] | None = settings.rental_kinds
    elif spec.deployment_model == "purchase":
        kinds = ("purchase",)
    else:
        kinds = None
    return q.CandidateFilter(
        task_type=spec.task_type,
        allowed_gpus=tuple(allowed),
        excluded_gpus=tuple(spec.excluded_gpus),
        price_kinds=kinds,
        provider=spec.cloud_provider if spec.deployment_model == "cloud_rental" else None,
    )


async def load_catalog(spec: Specification, *, session: AsyncSession, settings: PlanSettings) -> PlanCatalog:
    """Candidates by SQL, and the rows they need, mapped into the planner's types.

    Cached per catalog version and candidate filter: the same PlanCatalog (and so the planner's memo of
    configurations and memory plans) serves every plan until the catalog tables change.
    """
    version = await catalog_version(session=session)
    cfilter = _filter_for(spec, settings)
    base = _cached(version, ("catalog", cfilter))
    if base is None:
        base = _remember(version, ("catalog", cfilter), await _load_catalog(cfilter, session=session))
    if not spec.preferred_models:
        return base
    excluded = [
        Rejected(model_id=mid, reason=f"{mid.split('/')[-1]}: {why}")
        for mid, why in await q.excluded_models(spec.task_type, session=session)
        if mid in spec.preferred_models
    ]
    return dataclasses.replace(base, catalog_rejections=excluded)


async def _load_catalog(cfilter: q.CandidateFilter, *, session: AsyncSession) -> PlanCatalog:
    triples = await q.candidate_configs(cfilter, session=session)
    model_ids = sorted({t[0] for t in triples})
    gpu_ids = sorted({t[1] for t in triples})
    profiles = await model_profiles(session=session)
    models: dict[str, ModelEntry] = {}
    reference: dict[str, ModelEntry] = {}
    for row in await q.load_all_models(session=session):
        profile = profiles.get(row.id)
        if profile is None:
            continue
        entry = ModelEntry(
            id=row.id,
            family=row.family,
            arch=arch_from_row(row),
            quality=task_quality(profile, cfilter.task_type),
            license=row.license,
            context_window=row.context_window_tokens or row.max_position_embeddings,
            checkpoints=tuple(row.checkpoints or ()),
            profile=profile,
            params_b=row.params_computed_b or row.params_total_b,
        )
        if row.id in model_ids:
            models[row.id] = entry
        else:
            reference[row.id] = entry
    gpus = {
        row.id: GpuEntry(id=row.id, spec=gpu_spec_from_row(row), tdp_w=row.tdp_w)
        for row in await q.load_gpus(gpu_ids, session=session)
    }
    prices = [price_from_row(r) for r in await q.load_prices(gpu_ids, session=session)]
    return PlanCatalog(
        models=models, gpus=gpus, prices=prices, candidates=triples, reference_models=reference
    )


# --- learning from observed outcomes ----------------------------------------------------------------------

# Most databases have no outcomes yet: one index probe says so, and then nothing below is imported or run
# (the observe modules and the embedding model stay unloaded).
_OUTCOMES_EXIST = text("SELECT EXISTS (SELECT 1 FROM deployment_outcomes)")


async def observed_outcomes(
    spec: Specification, *, session: AsyncSession, offload: Offload | None = None
) -> tuple[dict[OutcomeKey, ConfigOutcomes], list[SimilarOutcome]]:
    """The outcomes that correct configurations' predictions (per model, GPU, engine) and the stored
    outcomes most similar to this request; both empty when no outcome is stored."""
    if not (await session.execute(_OUTCOMES_EXIST)).scalar():
        return {}, []
    from app.embeddings import EmbeddingError
    from app.observe.learning import load_all_corrections
    from app.observe.outcomes import describe_request, similar_outcomes

    corrections = {
        key: ConfigOutcomes(outcomes=tuple(c.outcomes), prior_weight=c.prior_strength)
        for key, c in (await load_all_corrections(session=session)).items()
    }
    text_ = describe_request(spec.model_dump())
    try:
        embedding = await offload(_request_embedding, text_) if offload else _request_embedding(text_)
        similar = await similar_outcomes(text_, session=session, embedding=embedding)
    except EmbeddingError as e:  # the corrections still apply; only the similarity line is missing
        log.warning("similar outcomes unavailable: %s", e)
        similar = []
    return corrections, similar


@functools.lru_cache(maxsize=256)
def _request_embedding(text_: str) -> tuple[float, ...]:
    """A request's embedding, kept: re-planning one request (edits of budget, GPUs, targets) reuses it."""
    from app.embeddings import embed_one

    return tuple(embed_one(text_))


def annotate_similar(result: RecommendationResult, similar: list[SimilarOutcome]) -> None:
    """Put the similar-outcomes line on every option; options whose model and GPU ran in one of those
    outcomes get their own line, and a sentence in the rationale."""
    from app.observe.outcomes import summarize_similar

    overall = summarize_similar(similar)
    for option in [*result.options, *result.viable]:
        mine = [s for s in similar if _same_config(s, option)]
        own = summarize_similar(mine)
        if own is None:
            option.similar_outcomes = overall
            continue
        others = len([s for s in similar if s.throughput_ratio is not None]) - len(mine)
        option.similar_outcomes = f"{own} (this model on {option.gpu_id})" + (
            f"; overall, {overall}" if others > 0 and overall else ""
        )
        option.rationale += f" Observed before with this model on {option.gpu_id}: {own}."


def _same_config(s: SimilarOutcome, option: Option) -> bool:
    return (s.model_id or "").lower() == option.model_id.lower() and (
        s.gpu_id or ""
    ).lower() == option.gpu_id.lower()


async def recommend(
    spec: Specification,
    *,
    session: AsyncSession,
    principal: Principal | None = None,
    input_text: str | None = None,
    settings: PlanSettings | None = None,
    store: bool = True,
    offload: Offload | None = None,
) -> RecommendationResult:
    """Plan, explain and (by default) store a recommendation; returns it with its id.

    ``offload(fn, *args)`` runs the CPU-heavy planning (the service passes its bounded worker pool, so the
    event loop never plans); without it the planning runs inline (CLI, tests).
    Raises RecommendError for names the catalog does not know and other inputs that cannot be planned.
    """
    t0 = time.perf_counter()
    settings = settings or PlanSettings()
    spec = await check_names(spec, session=session)
    catalog = await load_catalog(spec, session=session, settings=settings)
    t_outcomes = time.perf_counter()
    corrections, similar = await observed_outcomes(spec, session=session, offload=offload)
    if corrections:
        # A per-request copy: the cached catalog (and its physics memo) stays shared and uncorrected.
        catalog = dataclasses.replace(catalog, outcomes=corrections)
    t1 = time.perf_counter()
    result = await offload(_plan, spec, catalog, settings) if offload else _plan(spec, catalog, settings)
    if similar:
        annotate_similar(result, similar)
    t2 = time.perf_counter()
    if store:
        who = principal or Principal.system()
        rid = uuid.uuid4()
        result.recommendation_id = str(rid)
        session.add(
            m.Recommendation(
                id=rid,
                owner_id=who.id,
                input_text=input_text,
                specification=result.specification,
                result=result.model_dump(mode="json"),
            )
        )
        top = result.options[0] if result.options else None
        await audit(
            who,
            "recommendation.create",
            "recommendation",
            str(rid),
            {
                "options": len(result.options),
                "top": f"{top.model_id} on {top.gpus_total}x {top.gpu_id}" if top else None,
                "message": result.message,
            },
            session=session,
        )
        await session.flush()
    t3 = time.perf_counter()
    result.timings_ms.update(
        {
            "load_catalog_ms": round((t_outcomes - t0) * 1e3, 2),
            "outcomes_ms": round((t1 - t_outcomes) * 1e3, 2),
            "plan_ms": round((t2 - t1) * 1e3, 2),
            "store_ms": round((t3 - t2) * 1e3, 2),
            "total_ms": round((t3 - t0) * 1e3, 2),
        }
    )
    return result


async def get_recommendation(
    recommendation_id: str, *, session: AsyncSession, principal: Principal | None = None
) -> RecommendationResult:
    """A stored recommendation (its owner's, or any for an admin or the system)."""
    try:
        rid = uuid.UUID(str(recommendation_id))
    except ValueError as e:
        raise RecommendationNotFound(f"{recommendation_id!r} is not a recommendation id") from e
    row = await session.get(m.Recommendation, rid)
    who = principal or Principal.system()
    if row is None or (not who.is_admin and row.owner_id != who.id):
        raise RecommendationNotFound(f"no recommendation {recommendation_id}")
    result = RecommendationResult.model_validate(row.result)
    result.recommendation_id = str(row.id)
    return result

"""Quality that fits the task: a per-task 0-100 index from published scores, compared only where comparable.

Formula (also in docs/quality-index.md):

1. **Comparable groups.** A score is compared only with scores of the same benchmark from the same source
   (``benchmark``, ``source``): sources differ in shots, prompts, subsets and judges (catalog QUALITY.md).
   A group needs at least two catalog models; a score alone in its group says nothing and is not used.
   Rows of a base (pre-trained) checkpoint are used only for base models, never for an instruct model.
2. **Standardise within the group**: ``z = (score − group mean) / group sd`` (sign flipped where lower is
   better), so a point on Arena Elo and a point on HumanEval never meet.
3. **One standing per model and task family** (general, coding, math_reasoning, multilingual, long_context,
   instruction_following, chat_preference): a two-way additive fit ``z[m, g] ≈ q[m] + c[g]`` over every
   group of the family, solved by alternating means. The group offset ``c[g]`` absorbs who was tested: a
   source that only tests strong models does not push them down. Each source weighs the same in a family
   however many of its benchmarks are there, and ``q`` is shrunk towards the catalog mean by one
   quarter of a pseudo-observation, so a model seen in one group does not get an extreme standing. Runs of an
   instruct model without its chat template (flagged by the Open LLM Leaderboard) are left out: it is never
   served that way.
4. **Task index** = ``100 × Φ(weighted mean of the task's family standings)`` (Φ the standard normal CDF):
   50 is the catalog's average model, 84 one group standard deviation above it. The weights per task and
   subject (coding tasks → coding; legal/medical/finance → general knowledge and reasoning) are in
   ``TASK_FAMILIES`` and ``SUBJECT_FAMILIES``.
5. **Unknown** when a model has no comparable score in any of the task's families: ``basis="unknown"``,
   never estimated from its size. Unknown ranks below every known model and passes only the ``standard``
   threshold.
6. Quantised weights cost a little quality: ``PRECISION_PENALTY`` points per option.

``quality_threshold`` maps to a minimum index with ``THRESHOLDS``; ``MIN_PARAMS_B`` is the smallest model
size per task (the seed design's chatbot template asks for at least 7B).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.planning.result import Quality

FAMILIES: tuple[str, ...] = (
    "general",
    "coding",
    "math_reasoning",
    "multilingual",
    "long_context",
    "instruction_following",
    "chat_preference",
)
# Which families make up quality for each task, and how much each weighs (Preflight's judgement).
TASK_FAMILIES: dict[str, dict[str, float]] = {
    "chatbot": {"general": 1.0, "instruction_following": 1.0, "chat_preference": 1.0},
    "code_completion": {"coding": 1.0},
    "code_generation": {"coding": 2.0, "instruction_following": 0.5},
    "summarization": {"general": 1.0, "instruction_following": 1.0, "long_context": 0.5},
    "rag_qa": {"general": 1.0, "instruction_following": 1.0, "long_context": 0.5},
    "translation": {"multilingual": 2.0, "general": 1.0},
    "content_generation": {"general": 1.0, "instruction_following": 1.0, "chat_preference": 1.0},
    "batch_processing": {"general": 1.0, "instruction_following": 1.0},
}
# Subject matter adds families: knowledge-heavy domains lean on general knowledge and reasoning.
SUBJECT_FAMILIES: dict[str, dict[str, float]] = {
    "legal": {"general": 1.0, "math_reasoning": 1.0},
    "medical": {"general": 1.0, "math_reasoning": 1.0},
    "health": {"general": 1.0, "math_reasoning": 1.0},
    "finance": {"general": 1.0, "math_reasoning": 1.0},
    "science": {"general": 1.0, "math_reasoning": 1.0},
    "math": {"math_reasoning": 2.0},
    "code": {"coding": 1.0},
    "software": {"coding": 1.0},
    "multilingual": {"multilingual": 1.0},
}
# Minimum model size (total parameters, B) per task. The seed design's chatbot template says at least 7B;
# the same floor holds for every task that writes prose for people, batch summaries included. Code completion
# is short, latency-bound infilling where small models do well.
MIN_PARAMS_B: dict[str, float] = {
    "chatbot": 7.0,
    "code_completion": 1.0,
    "code_generation": 7.0,
    "summarization": 7.0,
    "rag_qa": 7.0,
    "translation": 7.0,
    "content_generation": 7.0,
    "batch_processing": 7.0,
}
# Minimum task index per quality_threshold. 50 is the catalog's average model, and the catalog reaches up to
# frontier models: 'high' keeps out what stands more than 0.85 standard deviations below the average
# (outdated 7B chat models such as Mistral-7B-v0.3, reasoning distills used for chat, the sub-4B models),
# 'very_high' asks for half a standard deviation above it (the 70B class and its equals).
THRESHOLDS: dict[str, float] = {"standard": 0.0, "high": 20.0, "very_high": 70.0}
PRECISION_PENALTY: dict[str, float] = {
    "bf16": 0.0,
    "fp16": 0.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 3.0,
    "mxfp4": 0.0,  # gpt-oss is trained and released in MXFP4: its scores are of these weights
}
# How close to a named model counts as "as good as" it (index points): the noise of the fit.
REFERENCE_TOLERANCE = 3.0
# Pseudo-observations pulling a standing towards the catalog mean. Small: the mean is a strong model's, so a
# large pull would flatter sparsely scored small models.
_SHRINK = 0.25
_ROUNDS = 60
_FAMILY_PRIOR = 1.0  # sources' worth of the model's overall standing in each family standing
_SLOPE_PRIOR = 0.5  # pulls a group's slope towards 0 when its models' standings barely differ
_MIN_SLOPE = 0.2


@dataclass(frozen=True)
class ModelFacts:
    """What the index needs to know about a model."""

    id: str
    family: str
    total_params_b: float
    active_params_b: float
    scores: tuple[Mapping[str, Any], ...] = ()
    base_checkpoint: bool = False  # a pre-trained (not instruction-tuned) checkpoint
    tier: str | None = None  # kept for callers; never used to estimate a score


@dataclass(frozen=True)
class Standing:
    """A model's standing in one task family: group standard deviations above the catalog mean."""

    value: float
    scores: int  # comparable scores used
    sources: tuple[str, ...]


@dataclass(frozen=True)
class QualityProfile:
    """A model's standings per task family (absent: no comparable score in that family)."""

    model_id: str
    params_b: float
    standings: dict[str, Standing] = field(default_factory=dict)
    # (family, benchmark, source) -> the model's score there, signed so that higher is better; only groups
    # with another catalog model. Direct evidence against a named model comes from these.
    groups: dict[tuple[str, str, str], float] = field(default_factory=dict)


def _family_of(row: Mapping[str, Any]) -> str | None:
    fam = row.get("family")
    if isinstance(fam, str) and fam in FAMILIES:
        return fam
    return None


def _without_chat_template(row: Mapping[str, Any]) -> bool:
    return "chat_template=false" in str(row.get("setting") or "").lower().replace(" ", "")


def quality_profiles(models: Sequence[ModelFacts]) -> dict[str, QualityProfile]:
    """Every model's family standings from the comparable groups of the whole catalog (formula above)."""
    # (family, benchmark, source) -> model -> scores (a model's repeated rows in one group are averaged)
    groups: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m in models:
        for row in m.scores:
            fam = _family_of(row)
            score = row.get("score")
            if fam is None or not isinstance(score, int | float) or isinstance(score, bool):
                continue
            if bool(row.get("base_checkpoint")) and not m.base_checkpoint:
                continue  # a base model's number says nothing about its instruct checkpoint
            if not m.base_checkpoint and _without_chat_template(row):
                continue  # an instruct model is served with its chat template; such runs understate it
            sign = 1.0 if row.get("higher_is_better", True) else -1.0
            key = (fam, str(row.get("benchmark")), str(row.get("source")))
            groups[key][m.id].append(sign * float(score))
    z: dict[str, dict[tuple[str, str, str], float]] = defaultdict(dict)  # family-free key per model
    by_family: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for key, members in groups.items():
        if len(members) < 2:
            continue
        means = {mid: sum(v) / len(v) for mid, v in members.items()}
        mu = sum(means.values()) / len(means)
        sd = math.sqrt(sum((v - mu) ** 2 for v in means.values()) / (len(means) - 1))
        if sd <= 0:
            continue
        by_family[key[0]].append(key)
        for mid, v in means.items():
            z[mid][key] = (v - mu) / sd
    out = {m.id: QualityProfile(model_id=m.id, params_b=m.total_params_b) for m in models}
    for key, members in groups.items():
        if len(members) >= 2:
            for mid, scores in members.items():
                out[mid].groups[key] = sum(scores) / len(scores)
    for fam, keys in by_family.items():
        for mid, standing in _fit_family(keys, z).items():
            out[mid].standings[fam] = standing
    for profile in out.values():
        _shrink_to_overall(profile)
    return out


def _shrink_to_overall(profile: QualityProfile) -> None:
    """A family seen through few sources leans towards the model's standing over all its families
    (``_FAMILY_PRIOR`` sources' worth), so two scores cannot lift a model far above its overall level."""
    st = profile.standings
    if len(st) < 2:
        return
    weights = {f: float(len(s.sources)) for f, s in st.items()}
    overall = sum(s.value * weights[f] for f, s in st.items()) / sum(weights.values())
    for f, s in list(st.items()):
        n = weights[f]
        value = (n * s.value + _FAMILY_PRIOR * overall) / (n + _FAMILY_PRIOR)
        st[f] = Standing(value=value, scores=s.scores, sources=s.sources)


def _fit_family(
    keys: Sequence[tuple[str, str, str]], z: Mapping[str, Mapping[tuple[str, str, str], float]]
) -> dict[str, Standing]:
    """Fit z[m, g] ≈ a[g] + b[g]·q[m] over one family's groups by alternating least squares.

    ``a[g]`` absorbs who a group tested (a source that only tests strong models does not push them down) and
    ``b[g]`` how far apart its standardised scores lie (a group of three small models is spread as wide as
    a group spanning the whole catalog, which must not make their small gaps look large). Each source
    weighs one in total however many benchmarks it has; ``q`` is centred and scaled to unit spread over the
    models and shrunk towards the mean by ``_SHRINK`` pseudo-observations.
    """
    per_source: dict[str, int] = defaultdict(int)
    for key in keys:
        per_source[key[2]] += 1
    weight = {key: 1.0 / per_source[key[2]] for key in keys}
    obs: dict[str, list[tuple[tuple[str, str, str], float]]] = defaultdict(list)
    members: dict[tuple[str, str, str], list[tuple[str, float]]] = defaultdict(list)
    for mid, values in z.items():
        for key in keys:
            if key in values:
                obs[mid].append((key, values[key]))
                members[key].append((mid, values[key]))
    q = dict.fromkeys(obs, 0.0)
    a = dict.fromkeys(keys, 0.0)
    b = dict.fromkeys(keys, 1.0)
    for round_ in range(_ROUNDS):
        for mid, items in obs.items():
            num = sum(weight[k] * b[k] * (v - a[k]) for k, v in items)
            den = sum(weight[k] * b[k] * b[k] for k, _ in items) + _SHRINK
            q[mid] = num / den
        centre = sum(q.values()) / len(q)
        spread = math.sqrt(sum((v - centre) ** 2 for v in q.values()) / len(q)) or 1.0
        for mid in q:
            q[mid] = (q[mid] - centre) / spread
        for key in keys:
            got = members[key]
            qm = sum(q[mid] for mid, _ in got) / len(got)
            zm = sum(v for _, v in got) / len(got)
            if round_ >= _ROUNDS // 4:  # slopes once the standings have settled on the additive fit
                sxx = sum((q[mid] - qm) ** 2 for mid, _ in got)
                sxy = sum((q[mid] - qm) * (v - zm) for mid, v in got)
                b[key] = min(max(sxy / (sxx + _SLOPE_PRIOR), _MIN_SLOPE), 1.0 / _MIN_SLOPE)
            a[key] = zm - b[key] * qm
    return {
        mid: Standing(value=q[mid], scores=len(items), sources=tuple(sorted({k[2] for k, _ in items})))
        for mid, items in obs.items()
    }


def task_weights(task_type: str, subject_matter: str | None = None) -> dict[str, float]:
    """The families (and weights) quality means for this task and subject."""
    weights = dict(TASK_FAMILIES.get(task_type, TASK_FAMILIES["chatbot"]))
    for word, extra in SUBJECT_FAMILIES.items():
        if subject_matter and re.search(rf"\b{word}", subject_matter.lower()):
            for fam, w in extra.items():
                weights[fam] = weights.get(fam, 0.0) + w
    return weights


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def task_quality(
    profile: QualityProfile | None, task_type: str, subject_matter: str | None = None
) -> Quality:
    """The model's 0-100 index for this task, with the families and sources it comes from; 'unknown' when
    no family of the task has a comparable score."""
    weights = task_weights(task_type, subject_matter)
    what = task_type + (f" ({subject_matter})" if subject_matter else "")
    used = {f: w for f, w in weights.items() if profile is not None and f in profile.standings}
    if profile is None or not used:
        return Quality(
            index=0.0,
            basis="unknown",
            detail=f"unknown for {what}: no comparable published score in "
            f"{', '.join(sorted(weights))}; not estimated from model size",
            task=task_type,
        )
    total = sum(used.values())
    value = sum(profile.standings[f].value * w for f, w in used.items()) / total
    parts = [
        f"{f} {profile.standings[f].value:+.2f} ({profile.standings[f].scores} scores: "
        f"{', '.join(profile.standings[f].sources)})"
        for f in sorted(used, key=lambda f: -used[f])
    ]
    missing = sorted(set(weights) - set(used))
    detail = (
        f"{what}: {100 * _phi(value):.0f} = 100·Φ({value:+.2f}), standings in group standard deviations "
        f"from the catalog mean, compared within each benchmark and source: " + "; ".join(parts)
    )
    if missing:
        detail += f"; no comparable score in {', '.join(missing)}"
    sources = sorted({s for f in used for s in profile.standings[f].sources})
    return Quality(
        index=round(100.0 * _phi(value), 1),
        basis="published",
        detail=detail,
        task=task_type,
        families={f: round(100.0 * _phi(profile.standings[f].value), 1) for f in used},
        sources=sources,
    )


def quality_indexes(models: Sequence[ModelFacts], task_type: str = "chatbot") -> dict[str, Quality]:
    """Every model's index for one task (published where comparable scores exist, else unknown)."""
    profiles = quality_profiles(models)
    return {m.id: task_quality(profiles[m.id], task_type) for m in models}


def option_quality(base: Quality, precision: str) -> Quality:
    """The model's index less the precision penalty, saying so."""
    penalty = PRECISION_PENALTY.get(precision, 0.0)
    if penalty == 0 or base.basis == "unknown":
        return base
    return base.model_copy(
        update={
            "index": round(max(0.0, base.index - penalty), 1),
            "detail": f"{base.detail}; −{penalty:g} for {precision} weights",
        }
    )


def meets_threshold(quality: Quality, threshold: str) -> bool:
    """Unknown quality passes only 'standard': nothing says it reaches more."""
    if quality.basis == "unknown":
        return threshold == "standard"
    return quality.index >= THRESHOLDS[threshold]


# A model under this share of a named model's size must show it matches that model directly.
DIRECT_EVIDENCE_BELOW = 1.0 / 3.0


def direct_evidence(
    candidate: QualityProfile, reference: QualityProfile, task_type: str, subject_matter: str | None = None
) -> str | None:
    """A benchmark of the task's families where one source scored both and the candidate matched or beat the
    named model, in words; None when no source compared them head to head or the candidate lost every time."""
    families = task_weights(task_type, subject_matter)
    best: tuple[float, str] | None = None
    for key, mine in candidate.groups.items():
        if key[0] not in families or key not in reference.groups:
            continue
        theirs = reference.groups[key]
        if mine >= theirs:
            margin = mine - theirs
            text = f"{key[1]} ({key[2]}): {abs(mine):g} vs {abs(theirs):g}"
            if best is None or margin > best[0]:
                best = (margin, text)
    return best[1] if best else None


def needs_direct_evidence(candidate: QualityProfile | None, reference: QualityProfile | None) -> bool:
    """Whether the candidate is small enough next to the named model that an index reached only through
    other models is not enough: a far smaller model must beat it somewhere, head to head."""
    if candidate is None or reference is None or not candidate.params_b or not reference.params_b:
        return False
    return candidate.params_b < reference.params_b * DIRECT_EVIDENCE_BELOW


def below_size_floor(params_b: float, task_type: str) -> float | None:
    """The task's minimum size when the model is below it, else None."""
    floor = MIN_PARAMS_B.get(task_type)
    # Nominal sizes round (Llama 3.1 8B has 8.03 B, Qwen2.5 7B 7.6 B, Mistral 7B 7.25 B): 5 % slack.
    return floor if floor is not None and params_b < floor * 0.95 else None

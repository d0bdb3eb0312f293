"""Choose the profile to serve from the settings.

Precedence: a profile file (`--profile`), then a benchmarks lookup (`--benchmarks` with `--gpu`), then a
preset (`--preset`), then the default preset `llama-3.1-8b-h100` served as meta-llama/Llama-3.1-8B-Instruct.
`--model` renames the served model in every case (and is the lookup key for the benchmarks file).
"""

from __future__ import annotations

from simulator.lookup import derive_profile
from simulator.presets import DEFAULT_PRESET, get_preset
from simulator.profile import Jitter, Profile, ProfileError, load_profile
from simulator.settings import Settings


def resolve_profile(settings: Settings) -> Profile:
    if settings.profile:
        profile = load_profile(settings.profile)
    elif settings.benchmarks_path:
        if not settings.gpu or not settings.model:
            raise ProfileError(
                "a benchmarks lookup needs a model and a GPU: pass --model and --gpu "
                "(or MODEL_NAME and GPU_TYPE) together with --benchmarks"
            )
        base = get_preset(settings.preset or DEFAULT_PRESET)
        profile = derive_profile(
            settings.benchmarks_path, model=settings.model, gpu=settings.gpu, tp=settings.tp, base=base
        )
    else:
        profile = get_preset(settings.preset or DEFAULT_PRESET)
    updates: dict[str, object] = {}
    if settings.model:
        updates["model"] = settings.model
    if settings.jitter_cv is not None:
        updates["jitter"] = Jitter(cv=settings.jitter_cv, seed=profile.jitter.seed)
    return profile.model_copy(update=updates) if updates else profile

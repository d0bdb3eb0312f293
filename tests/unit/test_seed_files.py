"""The curated seed files in seed/data/ are valid, consistent and traceable.

These read the committed files (no database): every row validates, every GPU and model label used by a
benchmark or price resolves to exactly one catalog row, aliases are unambiguous, computed parameter counts
match the exact HF Hub counts, and every source id resolves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.names import AliasIndex
from seed.aliases import alias_key, build_index
from seed.params import count_params
from seed.schemas import ROW_MODELS, SEED_KINDS, TaskType

pytestmark = pytest.mark.unit

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
SHARED = SEED_DIR.parent.parent / "shared" / "data"


def _load(kind: str) -> dict[str, Any]:
    with (SEED_DIR / "data" / f"{kind}.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@pytest.fixture(scope="module")
def seed() -> dict[str, dict[str, Any]]:
    return {kind: _load(kind) for kind in SEED_KINDS}


@pytest.fixture(scope="module")
def sources() -> dict[str, Any]:
    with (SEED_DIR / "sources.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)["sources"]
    return data


@pytest.mark.parametrize("kind", SEED_KINDS)
def test_every_row_validates(seed: dict[str, dict[str, Any]], kind: str) -> None:
    document = seed[kind]
    assert document["kind"] == kind
    assert document["rows"], f"{kind}.json has no rows"
    model = ROW_MODELS[kind]  # type: ignore[index]
    errors = []
    for i, row in enumerate(document["rows"]):
        try:
            model.model_validate(row)
        except ValidationError as e:
            errors.append(f"{kind}[{i}]: {e}")
    assert not errors


def test_row_counts_match_the_shared_data(seed: dict[str, dict[str, Any]]) -> None:
    models = seed["models"]["rows"]
    assert sum(m["role"] == "recommendable" for m in models) == 41
    assert sum(m["role"] == "reference" for m in models) == 10
    assert not any(m["approved"] for m in models if m["role"] == "reference")
    assert len(seed["prices"]["rows"]) == 188 + 25  # gpu_prices.json + priced servers of server_prices.json
    assert len(seed["benchmarks"]["rows"]) == 3384
    assert len(seed["gpus"]["rows"]) == 16


def _index(rows: list[dict[str, Any]], key: str) -> dict[str, set[str]]:
    return build_index((row[key], row["aliases"]) for row in rows)


@pytest.mark.parametrize(("kind", "key"), [("gpus", "id"), ("models", "hf_id")])
def test_aliases_are_unique_across_rows(seed: dict[str, dict[str, Any]], kind: str, key: str) -> None:
    clashes = {k: ids for k, ids in _index(seed[kind]["rows"], key).items() if len(ids) > 1}
    assert not clashes


def _resolve(label: str, index: dict[str, set[str]]) -> set[str]:
    return index.get(alias_key(label), set())


def _resolve_casefold(label: str, rows: list[dict[str, Any]], key: str) -> set[str]:
    """Resolution by case-insensitive equality only, as the simplest loader would do it."""
    return {r[key] for r in rows for name in (r[key], *r["aliases"]) if name.lower() == label.lower()}


@pytest.mark.parametrize("kind", ["benchmarks", "prices"])
def test_every_gpu_label_resolves_to_one_gpu(seed: dict[str, dict[str, Any]], kind: str) -> None:
    gpus = seed["gpus"]["rows"]
    index = _index(gpus, "id")
    for label in {row["gpu"] for row in seed[kind]["rows"]}:
        assert len(_resolve(label, index)) == 1, label
        assert len(_resolve_casefold(label, gpus, "id")) == 1, label


def test_the_loaders_alias_index_resolves_every_label(seed: dict[str, dict[str, Any]]) -> None:
    gpus, models = AliasIndex(), AliasIndex()
    for g in seed["gpus"]["rows"]:
        gpus.add(g["id"], g["aliases"])
    for m in seed["models"]["rows"]:
        models.add(m["hf_id"], m["aliases"])
    for kind in ("benchmarks", "prices"):
        for label in {row["gpu"] for row in seed[kind]["rows"]}:
            assert gpus.resolve(label) is not None, label
    for label in {row["model"] for row in seed["benchmarks"]["rows"]}:
        assert models.resolve(label) is not None, label


def test_every_measurement_model_label_resolves_to_one_model(seed: dict[str, dict[str, Any]]) -> None:
    models = seed["models"]["rows"]
    index = _index(models, "hf_id")
    for label in {row["model"] for row in seed["benchmarks"]["rows"]}:
        assert len(_resolve(label, index)) == 1, label
        assert len(_resolve_casefold(label, models, "hf_id")) == 1, label


@pytest.mark.parametrize(
    ("label", "gpu_id"),
    [
        ("H100", "H100-SXM-80GB"),
        ("nvidia-h100-80gb-hbm3", "H100-SXM-80GB"),
        ("NVIDIA-H100-80GB", "H100-SXM-80GB"),
        ("H100-80GB", "H100-SXM-80GB"),
        ("NVIDIA A100-SXM4-80GB", "A100-SXM-80GB"),
        ("A100-40GB", "A100-SXM-40GB"),
        ("H100-PCIe", "H100-PCIe-80GB"),
        ("H100-NVL", "H100-NVL-94GB"),
        ("H200", "H200-SXM-141GB"),
        ("GH200-120GB", "GH200-96GB"),
        ("GB200-192GB", "GB200-186GB"),
        ("B200", "B200-180GB"),
        ("MI300X", "MI300X-192GB"),
        ("L40S", "L40S-48GB"),
        ("NVIDIA-L4", "L4"),
        ("Tesla T4", "T4"),
    ],
)
def test_common_gpu_names_resolve(seed: dict[str, dict[str, Any]], label: str, gpu_id: str) -> None:
    assert _resolve(label, _index(seed["gpus"]["rows"], "id")) == {gpu_id}


@pytest.mark.parametrize(
    ("label", "hf_id"),
    [
        ("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct"),
        ("Llama 3.1 8B", "meta-llama/Llama-3.1-8B-Instruct"),
        ("Llama-2-70B", "meta-llama/Llama-2-70b-hf"),
        ("Llama-3-8B", "meta-llama/Meta-Llama-3-8B-Instruct"),
        ("Mixtral-8x7B", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("Falcon-180B", "tiiuae/falcon-180B"),
        ("GPT-J-6B", "EleutherAI/gpt-j-6b"),
        ("Mistral-7B", "mistralai/Mistral-7B-v0.1"),
        ("Mistral-7B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3"),
        ("Llama-3.3-70B", "meta-llama/Llama-3.3-70B-Instruct"),
        ("Llama-3.1-405B", "meta-llama/Llama-3.1-405B-Instruct"),
    ],
)
def test_common_model_names_resolve(seed: dict[str, dict[str, Any]], label: str, hf_id: str) -> None:
    assert _resolve(label, _index(seed["models"]["rows"], "hf_id")) == {hf_id}


def test_computed_params_agree_with_the_hf_hub_count(seed: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for row in seed["models"]["rows"]:
        exact = row.get("hf_safetensors_params")
        if not exact:
            continue
        # MXFP4 checkpoints also store one scale per 32 expert weights; the Hub count includes them.
        stored = row["params_computed_b"] * 1e9 + row["config"].get("checkpoint_scale_elements", 0)
        assert abs(stored - exact) / exact < 0.02, row["hf_id"]
        checked += 1
    assert checked >= 10


def test_stored_params_match_a_fresh_computation(seed: dict[str, dict[str, Any]]) -> None:
    llama = next(m for m in seed["models"]["rows"] if m["hf_id"] == "meta-llama/Llama-3.1-8B-Instruct")
    count = count_params(llama, vocab_size=llama["vocab_size"], tied=False)
    assert count.total == llama["config"]["params_computed"] == llama["hf_safetensors_params"]
    v3 = next(m for m in seed["models"]["rows"] if m["hf_id"] == "deepseek-ai/DeepSeek-V3")
    assert v3["params_computed_b"] == pytest.approx(671.0, rel=0.01)
    assert v3["config"]["params_computed_active_b"] == pytest.approx(37.0, rel=0.03)


def test_judgements_carry_reasons_and_cover_the_calls(seed: dict[str, dict[str, Any]]) -> None:
    for row in seed["models"]["rows"]:
        for name in ("approved", "supported_tasks", "precisions"):
            assert len(row["judgements"][name]["reason"]) > 10, (row["hf_id"], name)
        if row["role"] == "recommendable":
            assert row["supported_tasks"] and row["domains"], row["hf_id"]
            if not row["quality"]:
                assert "quality_tier" in row["judgements"], row["hf_id"]
    h100 = next(g for g in seed["gpus"]["rows"] if g["id"] == "H100-SXM-80GB")
    assert "H100" in h100["aliases"] and "alias_H100" in h100["judgements"]


def test_every_task_type_has_a_use_case(seed: dict[str, dict[str, Any]]) -> None:
    rows = seed["usecases"]["rows"]
    assert {u["task_type"] for u in rows} == set(TaskType.__args__)  # type: ignore[attr-defined]
    for u in rows:
        assert 4 <= len(u["examples"]) <= 8, u["id"]
        assert u["reason"], u["id"]
    chatbot = next(u for u in rows if u["id"] == "chatbot")
    assert (chatbot["ttft_p90_ms"], chatbot["tpot_p90_ms"], chatbot["e2e_p95_ms"]) == (300, 50, 2000)


def test_every_source_id_resolves(seed: dict[str, dict[str, Any]], sources: dict[str, Any]) -> None:
    used = {row["source"] for kind in ("prices", "benchmarks", "usecases") for row in seed[kind]["rows"]}
    for gpu in seed["gpus"]["rows"]:
        for ids in gpu["source"]["fields"].values():
            used.update(ids)
    assert used - set(sources) == set()


def test_prices_keep_their_numbers_and_flag_gpu_only_rows(seed: dict[str, dict[str, Any]]) -> None:
    rows = seed["prices"]["rows"]
    gcp_sky = [r for r in rows if r["source"] == "sky-gcp"]
    assert gcp_sky and all(r["excludes_host"] for r in gcp_sky)
    assert not any(r["excludes_host"] for r in rows if r["provider"] not in ("GCP", "GPU baseboard"))
    boards = [r for r in rows if r["provider"] == "GPU baseboard"]
    assert boards and all(r["excludes_host"] and r["gpus_per_instance"] == 8 for r in boards)
    assert all(r["source_url"] for r in rows)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data directory not present")
def test_seed_files_are_up_to_date_with_the_shared_data() -> None:
    from seed.build import build, rendered_files

    for path, text in rendered_files(build(SHARED), SEED_DIR).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m seed.build"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data directory not present")
def test_benchmarks_are_the_published_measurements_unchanged(seed: dict[str, dict[str, Any]]) -> None:
    with (SHARED / "published" / "serving_measurements.json").open(encoding="utf-8") as fh:
        published = json.load(fh)["measurements"]
    for original, row in zip(published, seed["benchmarks"]["rows"], strict=True):
        assert {k: v for k, v in row.items() if k != "collected"} == original
        assert row["collected"]

"""The simulator's batching engine behaves like a GPU under load (virtual clock, plus one short real run)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.engine import Engine, EngineOverloadedError, PromptTooLongError, Sequence, VirtualClock
from simulator.lookup import derive_profile
from simulator.metrics import EngineMetrics
from simulator.presets import DEFAULT_PRESET, get_preset, preset_names
from simulator.profile import Profile, ProfileError, load_profile, parse_profile
from simulator.resolve import resolve_profile
from simulator.settings import Settings
from simulator.text import apply_stop, approximate_tokens, detect_use_case, generate_tokens

pytestmark = pytest.mark.unit


def make_profile(**overrides: Any) -> Profile:
    data: dict[str, Any] = {
        "model": "test-model",
        "prefill": {"overhead_ms": 10.0, "per_token_ms": 0.05},
        "decode": {"base_ms": 10.0, "per_seq_ms": 0.1, "per_context_token_ms": 0.0},
        "max_num_seqs": 64,
        "max_num_batched_tokens": 8192,
        "kv_cache": {"tokens": 1_000_000, "block_size": 16},
        "jitter": {"cv": 0.0, "seed": 0},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_profile(data)


def run_batch(
    profile: Profile, n: int, prompt: int, output: int
) -> tuple[Engine, list[Sequence], VirtualClock]:
    clock = VirtualClock()
    engine = Engine(profile, clock=clock)
    seqs = [engine.add(Sequence(str(i), prompt, output, "length", record_token_times=True)) for i in range(n)]
    while engine.step_virtual(clock):
        pass
    return engine, seqs, clock


def ttft(s: Sequence) -> float:
    assert s.first_token is not None
    return s.first_token - s.arrival


def itl(s: Sequence) -> float:
    assert s.first_token is not None and s.last_token is not None
    return (s.last_token - s.first_token) / (s.num_output - 1)


def test_unloaded_request_sees_the_profile_latencies() -> None:
    profile = make_profile()
    _, (seq,), _ = run_batch(profile, 1, prompt=200, output=50)
    assert ttft(seq) == pytest.approx((10.0 + 0.05 * 200) / 1000)
    assert itl(seq) == pytest.approx((10.0 + 0.1) / 1000)
    assert seq.num_output == 50 and seq.finish_reason == "length"


def test_ttft_grows_with_queueing_past_max_num_seqs() -> None:
    profile = make_profile(max_num_seqs=4)
    _, seqs, _ = run_batch(profile, 12, prompt=100, output=20)
    first_wave = [ttft(s) for s in seqs[:4]]
    third_wave = [ttft(s) for s in seqs[8:]]
    assert max(first_wave) < min(third_wave)
    # The queued wave starts when the first two waves have finished: its TTFT is their whole duration.
    wave = (10.0 + 0.05 * 400) + 19 * (10.0 + 0.1 * 4)
    assert statistics.fmean(third_wave) == pytest.approx((2 * wave + 10.0 + 0.05 * 400) / 1000, rel=1e-6)


def test_itl_grows_with_batch_size() -> None:
    profile = make_profile(decode={"per_context_token_ms": 0.0001})
    small = statistics.fmean(itl(s) for s in run_batch(profile, 1, 100, 50)[1])
    large = statistics.fmean(itl(s) for s in run_batch(profile, 64, 100, 50)[1])
    assert large > small * 1.5
    # In a lockstep batch every decode step costs base + per_seq * 64 + per_context * summed context.
    mean_context = 64 * (100 + 25)
    assert large == pytest.approx((10.0 + 0.1 * 64 + 0.0001 * mean_context) / 1000, rel=0.02)


def test_throughput_saturates_at_max_num_seqs() -> None:
    profile = make_profile(max_num_seqs=32)

    def tokens_per_s(n: int) -> float:
        _, seqs, clock = run_batch(profile, n, 50, 100)
        return sum(s.num_output for s in seqs) / clock.now

    t8, t32, t128 = tokens_per_s(8), tokens_per_s(32), tokens_per_s(128)
    assert t32 > 3 * t8  # batching pays while the batch can grow
    assert t128 == pytest.approx(t32, rel=0.05)  # then extra load only queues


def test_chunked_prefill_spreads_a_long_prompt_over_steps() -> None:
    profile = make_profile(max_num_batched_tokens=1000)
    engine, (seq,), _ = run_batch(profile, 1, prompt=2500, output=2)
    # Three prefill steps (1000 + 1000 + 500 tokens), each with its overhead, before the first token.
    assert ttft(seq) == pytest.approx((3 * 10.0 + 0.05 * 2500) / 1000)
    assert engine.num_steps == 4


def test_decodes_keep_running_while_a_long_prompt_prefills() -> None:
    profile = make_profile(max_num_batched_tokens=512)
    clock = VirtualClock()
    engine = Engine(profile, clock=clock)
    short = engine.add(Sequence("short", 10, 30, "length", record_token_times=True))
    for _ in range(3):
        engine.step_virtual(clock)
    engine.add(Sequence("long", 5000, 5, "length"))
    while engine.step_virtual(clock):
        pass
    assert short.token_times is not None
    gaps = [b - a for a, b in zip(short.token_times, short.token_times[1:], strict=False)]
    # The short request never stops decoding; steps that carry a prefill chunk are just longer.
    assert max(gaps) < 0.05
    assert max(gaps) > min(gaps)


def test_requests_wait_when_the_kv_cache_is_full() -> None:
    # 40 blocks of 16 tokens: room for two 300-token requests, not four.
    profile = make_profile(kv_cache={"tokens": 640, "block_size": 16})
    clock = VirtualClock()
    engine = Engine(profile, clock=clock)
    seqs = [engine.add(Sequence(str(i), 280, 20, "length")) for i in range(4)]
    engine.step_virtual(clock)
    assert len(engine.running) == 2 and len(engine.waiting) == 2
    while engine.step_virtual(clock):
        pass
    assert all(s.num_output == 20 for s in seqs)
    assert engine.free_blocks == engine.total_blocks


def test_running_requests_are_preempted_when_decode_runs_out_of_blocks() -> None:
    profile = make_profile(kv_cache={"tokens": 640, "block_size": 16})
    metrics = EngineMetrics(model_name="m", engine="0", max_model_len=640, block_size=16, num_blocks=40)
    clock = VirtualClock()
    engine = Engine(profile, clock=clock, metrics=metrics)
    # Prompts fit together at admission, but their outputs outgrow the cache: the latest is preempted,
    # recomputed later, and still finishes with all its tokens.
    seqs = [engine.add(Sequence(str(i), 150, 150, "length", record_token_times=True)) for i in range(3)]
    while engine.step_virtual(clock):
        pass
    assert engine.num_preemptions > 0
    assert metrics.num_preemptions._value.get() == engine.num_preemptions
    assert all(s.num_output == 150 for s in seqs)
    assert engine.free_blocks == engine.total_blocks


def test_prompts_that_can_never_fit_are_rejected() -> None:
    engine = Engine(make_profile(kv_cache={"tokens": 640, "block_size": 16}, max_model_len=10_000))
    with pytest.raises(PromptTooLongError, match="KV cache"):
        engine.add(Sequence("x", 600, 100, "length"))
    with pytest.raises(PromptTooLongError, match="maximum context length"):
        Engine(make_profile(max_model_len=100)).add(Sequence("x", 90, 20, "length"))


def test_waiting_queue_limit_rejects_new_requests() -> None:
    engine = Engine(make_profile(), max_waiting=2)
    engine.add(Sequence("a", 10, 5, "length"))
    engine.add(Sequence("b", 10, 5, "length"))
    with pytest.raises(EngineOverloadedError, match="retry later"):
        engine.add(Sequence("c", 10, 5, "length"))


def test_abort_frees_blocks_and_counts_abort() -> None:
    profile = make_profile()
    metrics = EngineMetrics(model_name="m", engine="0", max_model_len=1000, block_size=16, num_blocks=100)
    clock = VirtualClock()
    engine = Engine(profile, clock=clock, metrics=metrics)
    seq = engine.add(Sequence("a", 100, 50, "length"))
    engine.step_virtual(clock)
    engine.abort(seq)
    assert engine.free_blocks == engine.total_blocks and not engine.running
    assert metrics.request_success["abort"]._value.get() == 1
    assert not engine.step_virtual(clock)


def test_jitter_is_seeded_and_keeps_the_mean() -> None:
    profile = make_profile(jitter={"cv": 0.2, "seed": 7})
    a = [itl(s) for s in run_batch(profile, 1, 10, 400)[1]]
    b = [itl(s) for s in run_batch(profile, 1, 10, 400)[1]]
    assert a == b
    assert a[0] == pytest.approx(0.0101, rel=0.05)
    clock = VirtualClock()
    engine = Engine(profile, clock=clock)
    seq = engine.add(Sequence("x", 10, 400, "length", record_token_times=True))
    while engine.step_virtual(clock):
        pass
    assert seq.token_times is not None
    gaps = [y - x for x, y in zip(seq.token_times, seq.token_times[1:], strict=False)]
    assert statistics.stdev(gaps) / statistics.fmean(gaps) == pytest.approx(0.2, rel=0.25)


async def test_real_scheduler_loop_paces_tokens_with_one_timer_per_step() -> None:
    profile = make_profile(decode={"base_ms": 15.0, "per_seq_ms": 0.0}, prefill={"overhead_ms": 5.0})
    engine = Engine(profile)
    engine.start()
    try:
        queues: list[asyncio.Queue[tuple[int, str | None]]] = [asyncio.Queue() for _ in range(4)]
        seqs = [engine.add(Sequence(str(i), 20, 20, "length", queue=q)) for i, q in enumerate(queues)]
        t0 = time.monotonic()
        for q in queues:
            while (await asyncio.wait_for(q.get(), 5))[1] is None:
                pass
        elapsed = time.monotonic() - t0
    finally:
        await engine.stop()
    assert all(s.finish_reason == "length" for s in seqs)
    assert engine.num_steps == 20  # one step per token for the whole batch, not one timer per request
    # Paced in real time: never faster than the profile's steps (a lower bound only: a loaded machine may
    # run late, and that is not what this test is about).
    assert elapsed >= 0.95 * (0.006 + 19 * 0.015)


# ----- profile, presets, lookup, settings, text --------------------------------------------------


def test_profile_table_interpolates_bilinearly() -> None:
    table = [
        {"batch_size": 1, "context_tokens": 0, "step_ms": 10.0},
        {"batch_size": 1, "context_tokens": 1000, "step_ms": 12.0},
        {"batch_size": 9, "context_tokens": 0, "step_ms": 14.0},
        {"batch_size": 9, "context_tokens": 1000, "step_ms": 20.0},
    ]
    p = make_profile(decode={"table": table})
    assert p.step_ms(1, 500, 0) == pytest.approx(11.0)
    assert p.step_ms(5, 500, 0) == pytest.approx(14.0)
    assert p.step_ms(50, 5000, 0) == pytest.approx(20.0)  # clamped at the edges
    assert p.step_ms(5, 500, 100) == pytest.approx(14.0 + 10.0 + 5.0)


def test_profile_errors_are_actionable(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "m"}))
    with pytest.raises(ProfileError, match="not a valid performance profile"):
        load_profile(bad)
    good = tmp_path / "good.json"
    good.write_text(make_profile(future_field=1).to_json())
    assert load_profile(good).model == "test-model"


def test_every_preset_is_valid_and_the_default_is_llama_8b() -> None:
    for name in preset_names():
        p = get_preset(name)
        assert p.source is not None and p.source.kind == "preset"
        assert 1.0 < p.step_ms(1, 1000, 0) < 100.0
    assert get_preset(DEFAULT_PRESET).model == "meta-llama/Llama-3.1-8B-Instruct"
    with pytest.raises(ProfileError, match="choose one of"):
        get_preset("nope")


def test_benchmarks_lookup_fits_the_rows(tmp_path: Path) -> None:
    rows = [
        {
            "model": "Llama-3-8B",
            "gpu": "H100-SXM-80GB",
            "tp": 1,
            "engine": "vLLM 0.6",
            "concurrency": c,
            "input_tokens": 1000,
            "output_tokens": 200,
            "ttft_ms_mean": 30.0 + 0.05 * 1000 if c == 1 else 500.0,
            "itl_ms_mean": 7.0 + 0.05 * c,
        }
        for c in (1, 8, 32, 64)
    ]
    rows.append(
        {
            "model": "Llama-3-8B",
            "gpu": "H100-SXM-80GB",
            "tp": 1,
            "engine": "vLLM 0.6",
            "concurrency": 1,
            "input_tokens": 3000,
            "output_tokens": 200,
            "ttft_ms_mean": 30.0 + 0.05 * 3000,
            "itl_ms_mean": 7.05,
        }
    )
    rows.append(
        {
            "model": "Llama-3-8B",
            "gpu": "H100-SXM-80GB",
            "tp": 1,
            "engine": "TensorRT-LLM",
            "concurrency": 1,
            "input_tokens": 100,
            "output_tokens": 100,
            "ttft_ms_mean": 1.0,
            "itl_ms_mean": 1.0,
        }
    )
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"measurements": rows}))
    base = get_preset(DEFAULT_PRESET)
    p = derive_profile(path, model="meta-llama/Llama-3-8B-Instruct", gpu="H100", tp=2, base=base)
    assert p.model == "meta-llama/Llama-3-8B-Instruct"
    assert (
        p.source is not None
        and "vLLM rows only" in p.source.detail
        and "TP 1 (asked TP 2)" in p.source.detail
    )
    assert p.prefill.overhead_ms == pytest.approx(30.0, abs=0.5)
    assert p.prefill.per_token_ms == pytest.approx(0.05, rel=0.02)
    assert p.step_ms(32, 32 * 1100, 0) == pytest.approx(7.0 + 0.05 * 32, rel=0.03)
    with pytest.raises(ProfileError, match="no measurements"):
        derive_profile(path, model="Mistral-7B", gpu="H100", tp=1, base=base)


def test_settings_accept_the_seed_design_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rows = [
        {
            "model": "Llama-3-8B",
            "gpu": "A100-SXM-80GB",
            "tp": 2,
            "concurrency": c,
            "input_tokens": 500,
            "output_tokens": 100,
            "ttft_ms_mean": 40.0,
            "itl_ms_mean": 9.0 + 0.1 * c,
        }
        for c in (1, 10)
    ]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"measurements": rows}))
    monkeypatch.setenv("MODEL_NAME", "Llama-3-8B")
    monkeypatch.setenv("GPU_TYPE", "A100")
    monkeypatch.setenv("TENSOR_PARALLEL_SIZE", "2")
    monkeypatch.setenv("BENCHMARKS_PATH", str(path))
    monkeypatch.setenv("PREFLIGHT_SIM_PORT", "9123")
    settings = Settings()
    assert (settings.model, settings.gpu, settings.tp, settings.port) == ("Llama-3-8B", "A100", 2, 9123)
    profile = resolve_profile(settings)
    assert profile.source is not None and profile.source.kind == "benchmarks"
    assert profile.step_ms(1, 0, 0) == pytest.approx(9.1, rel=0.02)


def test_text_is_deterministic_plausible_and_honours_stop() -> None:
    import random

    a = generate_tokens("chat", 50, random.Random(3))
    assert a == generate_tokens("chat", 50, random.Random(3))
    assert all(a) and len(a) == 50
    assert detect_use_case("Write a Python function that sorts") == "code"
    assert detect_use_case("Please summarize this article") == "summary"
    assert detect_use_case("What is the capital of France?") == "answer"
    kept, stopped = apply_stop(["Hello", " world", ".", " Bye"], ["."])
    assert (kept, stopped) == (["Hello", " world"], True)
    assert approximate_tokens("Hello, world!") == 4

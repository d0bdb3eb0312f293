"""The simulator as a real HTTP server in its own process, driven by the official openai client and httpx."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.simulator import Simulator
from support.waiting import wait_until

pytestmark = pytest.mark.e2e

MODEL = "sim/test-model"


def _profile(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": 1,
        "model": MODEL,
        "prefill": {"overhead_ms": 3.0, "per_token_ms": 0.001},
        "decode": {"base_ms": 4.0, "per_seq_ms": 0.01, "per_context_token_ms": 0.0},
        "max_num_seqs": 64,
        "max_num_batched_tokens": 4096,
        "kv_cache": {"tokens": 200_000, "block_size": 16},
        "max_model_len": 32768,
        "jitter": {"cv": 0.05, "seed": 1},
        "source": {"kind": "test"},
    }
    data.update(overrides)
    return data


class SimServer(Simulator):
    """The simulator, waited for only until it answers: the slow-start test sees /health still 503."""

    def __init__(self, tmp: Path, profile: dict[str, Any], env: dict[str, str] | None = None) -> None:
        super().__init__(tmp, profile, env, ready=False)

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key="unused", max_retries=0)

    def metrics(self) -> dict[str, list[tuple[str, dict[str, str], float]]]:
        families = text_string_to_metric_families(httpx.get(self.url + "/metrics").text)
        out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
        for fam in families:
            out[fam.name] = [(s.name, s.labels, s.value) for s in fam.samples]
        return out

    def close(self) -> None:
        self.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    srv = SimServer(tmp_path_factory.mktemp("sim"), _profile())
    yield srv
    srv.close()


def test_models_health_version(server: SimServer) -> None:
    models = server.client().models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert httpx.get(server.url + "/health").status_code == 200
    assert httpx.get(server.url + "/version").json()["version"]


def test_chat_non_streaming_and_streaming_agree(server: SimServer) -> None:
    client = server.client()
    messages: Any = [{"role": "user", "content": "How does continuous batching work?"}]
    full = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=30, seed=42)
    assert full.choices[0].message.role == "assistant"
    text = full.choices[0].message.content or ""
    assert len(text.split()) > 10
    assert full.usage is not None and full.usage.prompt_tokens > 5

    stream = client.chat.completions.create(
        model=MODEL,
        messages=messages,
        max_tokens=30,
        seed=42,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert "".join(pieces) == text  # same seed, same text
    assert usage is not None and usage.completion_tokens == len(pieces) == full.usage.completion_tokens
    assert finish == full.choices[0].finish_reason


def test_completions_streaming_and_not(server: SimServer) -> None:
    client = server.client()
    full = client.completions.create(
        model=MODEL,
        prompt="Write a python function",
        max_tokens=25,
        extra_body={"ignore_eos": True, "some_vllm_extra": 1},
    )
    assert full.choices[0].finish_reason == "length"
    assert full.usage is not None and full.usage.completion_tokens == 25
    chunks = list(
        client.completions.create(
            model=MODEL,
            prompt="Write a python function",
            max_tokens=25,
            stream=True,
            extra_body={"ignore_eos": True},
        )
    )
    assert sum(1 for c in chunks if c.choices and c.choices[0].text) == 25
    assert chunks[-1].choices[0].finish_reason == "length"


def test_stop_and_temperature_zero_are_honoured(server: SimServer) -> None:
    client = server.client()
    msgs: Any = [{"role": "user", "content": "Tell me about your weekend plans"}]
    a = client.chat.completions.create(model=MODEL, messages=msgs, max_tokens=200, temperature=0, stop=["."])
    b = client.chat.completions.create(model=MODEL, messages=msgs, max_tokens=200, temperature=0, stop=["."])
    assert a.choices[0].message.content == b.choices[0].message.content
    assert "." not in (a.choices[0].message.content or "")
    assert a.choices[0].finish_reason == "stop"


def test_bad_requests_get_openai_shaped_errors(server: SimServer) -> None:
    url = server.url + "/v1/chat/completions"
    hello = [{"role": "user", "content": "hi"}]
    cases: list[tuple[Any, int]] = [
        ({"model": MODEL}, 400),  # missing messages
        ({"model": MODEL, "messages": []}, 400),
        ({"model": MODEL, "messages": hello, "max_tokens": 0}, 400),
        ({"model": MODEL, "messages": hello, "max_tokens": -5}, 400),
        ({"model": MODEL, "messages": hello, "n": 2}, 400),
        ({"model": MODEL, "messages": [{"role": "user", "content": "word " * 200_000}]}, 400),  # 1 MB prompt
        ({"model": "no-such-model", "messages": hello}, 404),
        ("{not json", 400),
    ]
    for body, status in cases:
        if isinstance(body, str):
            r = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
        else:
            r = httpx.post(url, json=body, timeout=30)
        assert r.status_code == status, (body if isinstance(body, str) else list(body), r.text[:200])
        err = r.json()["error"]
        assert set(err) == {"message", "type", "param", "code"} and err["code"] == status and err["message"]
    r = httpx.get(server.url + "/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == 404
    with pytest.raises(openai.NotFoundError):
        server.client().chat.completions.create(model="other", messages=hello)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        server.client().completions.create(model=MODEL, prompt="x", max_tokens=0)


def test_client_disconnect_aborts_the_request(server: SimServer) -> None:
    before = server.metrics()["vllm:request_success"]
    aborts_before = sum(v for n, lab, v in before if lab.get("finished_reason") == "abort")
    stream = server.client().completions.create(
        model=MODEL, prompt="hello", max_tokens=2000, stream=True, extra_body={"ignore_eos": True}
    )
    for i, _ in enumerate(stream):
        if i == 3:
            break
    stream.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = server.metrics()["vllm:request_success"]
        if sum(v for n, lab, v in after if lab.get("finished_reason") == "abort") == aborts_before + 1:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the aborted stream was not counted as finished_reason=abort")


async def gauge(h: httpx.AsyncClient, url: str, name: str, **labels: str) -> float:
    """The current value of one of the simulator's samples, summed over the label sets that match."""
    text = (await h.get(url + "/metrics")).text
    return sum(
        s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def test_metrics_have_vllm_names_and_consistent_histograms(server: SimServer) -> None:
    # Streams long enough that none can finish during the test (thousands of decode steps): once each has
    # produced its first token, all of them are running, whatever the machine's load. A poll racing short
    # requests used to miss them on a loaded machine.
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    n = 20

    async def first_token(i: int) -> Any:
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"request {i}"}],
            max_tokens=4000,
            stream=True,
            extra_body={"ignore_eos": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                return stream
        raise AssertionError("the stream ended before its first token")

    async with httpx.AsyncClient() as h:
        aborts_before = await gauge(h, server.url, "vllm:request_success_total", finished_reason="abort")
        streams = await asyncio.gather(*(first_token(i) for i in range(n)))
        assert await gauge(h, server.url, "vllm:num_requests_running") == n
        assert await gauge(h, server.url, "vllm:kv_cache_usage_perc") > 0
        for stream in streams:
            await stream.close()

        async def all_aborted() -> bool:
            aborted = await gauge(h, server.url, "vllm:request_success_total", finished_reason="abort")
            return aborted == aborts_before + n

        await wait_until(all_aborted, "the closed streams to be counted as aborted")
        assert await gauge(h, server.url, "vllm:num_requests_running") == 0

    # And requests that run to their end.
    async def one(i: int) -> None:
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"request {i}"}],
            max_tokens=60,
            stream=True,
            extra_body={"ignore_eos": True},
        )
        async for _ in stream:
            pass

    await asyncio.gather(*(one(i) for i in range(n)))

    m = server.metrics()
    labels = {"model_name": MODEL, "engine": "0"}
    for name in [
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:prompt_tokens",
        "vllm:generation_tokens",
        "vllm:request_success",
        "vllm:num_preemptions",
        "vllm:time_to_first_token_seconds",
        "vllm:time_per_output_token_seconds",
        "vllm:inter_token_latency_seconds",
        "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds",
        "vllm:request_prefill_time_seconds",
        "vllm:request_decode_time_seconds",
        "vllm:request_prompt_tokens",
        "vllm:request_generation_tokens",
    ]:
        assert name in m, name
        assert all(
            lab["model_name"] == labels["model_name"] and lab["engine"] == "0" for _, lab, _ in m[name]
        )
    finished = sum(v for n, _, v in m["vllm:request_success"] if n == "vllm:request_success_total")
    assert finished >= 20

    def count(name: str) -> float:
        return next(v for n, _, v in m[name] if n == name + "_count")

    for hist in [
        "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds",
        "vllm:request_prefill_time_seconds",
        "vllm:request_decode_time_seconds",
        "vllm:request_prompt_tokens",
        "vllm:request_generation_tokens",
    ]:
        assert count(hist) == finished, hist
    generated = next(v for n, _, v in m["vllm:generation_tokens"] if n == "vllm:generation_tokens_total")
    gen_hist_sum = next(v for n, _, v in m["vllm:request_generation_tokens"] if n.endswith("_sum"))
    assert gen_hist_sum == generated
    # One TTFT per request that produced a token, one ITL per later token.
    assert count("vllm:inter_token_latency_seconds") == generated - count("vllm:time_to_first_token_seconds")
    ttft_buckets = [lab["le"] for n, lab, _ in m["vllm:time_to_first_token_seconds"] if n.endswith("_bucket")]
    assert ttft_buckets[:3] == ["0.001", "0.005", "0.01"] and ttft_buckets[-2:] == ["2560.0", "+Inf"]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    env = {"PREFLIGHT_SIM_SLOW_START_S": "1.5", "PREFLIGHT_SIM_MAX_WAITING_REQUESTS": "1"}
    srv = SimServer(tmp_path_factory.mktemp("faulty"), _profile(max_num_seqs=1), env=env)
    yield srv
    srv.close()


def test_fault_injection(faulty: SimServer) -> None:
    # Slow start: /health is 503 until the configured time has passed.
    assert httpx.get(faulty.url + "/health").status_code == 503
    deadline = time.monotonic() + 10
    while httpx.get(faulty.url + "/health").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    client = faulty.client()
    hello: Any = [{"role": "user", "content": "hi"}]
    r = httpx.put(faulty.url + "/sim/faults", json={"error_rate": 1.0, "error_codes": [429]})
    assert r.status_code == 200
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=MODEL, messages=hello, max_tokens=5)

    # A stall in the middle of a stream: a gap of stall_s after stall_after_tokens tokens.
    httpx.put(faulty.url + "/sim/faults", json={"stall_rate": 1.0, "stall_s": 0.6, "stall_after_tokens": 3})
    times = []
    for chunk in client.completions.create(
        model=MODEL, prompt="hi", max_tokens=8, stream=True, extra_body={"ignore_eos": True}
    ):
        if chunk.choices and chunk.choices[0].text:
            times.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 8 and max(gaps) > 0.5 and gaps.index(max(gaps)) == 2
    httpx.put(faulty.url + "/sim/faults", json={})


async def test_overload_is_rejected_with_429(faulty: SimServer) -> None:
    async with httpx.AsyncClient() as h:
        await h.put(faulty.url + "/sim/faults", json={})
    client = openai.AsyncOpenAI(base_url=faulty.url + "/v1", api_key="unused", max_retries=0)

    async def one(max_tokens: int = 5) -> str:
        try:
            await client.completions.create(
                model=MODEL, prompt="x", max_tokens=max_tokens, extra_body={"ignore_eos": True}
            )
            return "ok"
        except openai.RateLimitError:
            return "429"

    async with httpx.AsyncClient() as h:

        async def counts(running: float, waiting: float) -> bool:
            return (
                await gauge(h, faulty.url, "vllm:num_requests_running"),
                await gauge(h, faulty.url, "vllm:num_requests_waiting"),
            ) == (running, waiting)

        first = asyncio.create_task(one(2000))
        await wait_until(lambda: counts(1, 0), "the first request to run (max_num_seqs 1)")
        second = asyncio.create_task(one(400))
        await wait_until(lambda: counts(1, 1), "the second request to wait (limit 1)")
    # The rest are turned away.
    rest = await asyncio.gather(*(one() for _ in range(3)))
    assert rest == ["429", "429", "429"]
    assert await first == "ok" and await second == "ok"

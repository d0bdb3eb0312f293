"""vLLM's Prometheus metrics, with its exact names, labels and buckets, on a dedicated registry.

Names and buckets follow vLLM's V1 engine (`vllm/v1/metrics/loggers.py`, about v0.10); see
`../shared/data/vllm_metrics.md`. Every metric carries `model_name` and `engine`. Label children are bound
once here so that the engine's hot path only calls `inc`/`set`/`observe`.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from simulator.vllm_buckets import REQUEST_LATENCY_BUCKETS, TPOT_BUCKETS, TTFT_BUCKETS

PREFILL_TOKEN_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
N_BUCKETS = [1, 2, 5, 10, 20]


def build_1_2_5_buckets(max_value: int) -> list[float]:
    """1, 2, 5, 10, 20, 50, ... up to and including max_value (vLLM's build_1_2_5_buckets)."""
    out: list[float] = []
    exponent = 0
    while True:
        for m in (1, 2, 5):
            v = m * 10**exponent
            if v > max_value:
                return out
            out.append(float(v))
        exponent += 1


class EngineMetrics:
    """All simulator metrics for one served model and engine index."""

    def __init__(self, *, model_name: str, engine: str, max_model_len: int, block_size: int, num_blocks: int):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        labels = ["model_name", "engine"]
        lv = {"model_name": model_name, "engine": engine}

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, labels, registry=r)

        def hist(name: str, doc: str, buckets: Sequence[float]) -> Histogram:
            return Histogram(name, doc, labels, buckets=buckets, registry=r)

        self.num_requests_running = gauge(
            "vllm:num_requests_running", "Number of requests in model execution batches."
        ).labels(**lv)
        self.num_requests_waiting = gauge(
            "vllm:num_requests_waiting", "Number of requests waiting to be processed."
        ).labels(**lv)
        self.kv_cache_usage = gauge(
            "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."
        ).labels(**lv)
        self.gpu_cache_usage = gauge(
            "vllm:gpu_cache_usage_perc", "GPU KV-cache usage (deprecated alias)."
        ).labels(**lv)
        info = Gauge(
            "vllm:cache_config_info",
            "Information of the LLMEngine CacheConfig",
            [*labels, "block_size", "num_gpu_blocks", "cache_dtype", "enable_prefix_caching"],
            registry=r,
        )
        info.labels(
            block_size=str(block_size),
            num_gpu_blocks=str(num_blocks),
            cache_dtype="auto",
            enable_prefix_caching="False",
            **lv,
        ).set(1)

        self.prompt_tokens = Counter(
            "vllm:prompt_tokens", "Number of prefill tokens processed.", labels, registry=r
        ).labels(**lv)
        self.generation_tokens = Counter(
            "vllm:generation_tokens", "Number of generation tokens processed.", labels, registry=r
        ).labels(**lv)
        success = Counter(
            "vllm:request_success",
            "Count of successfully processed requests.",
            [*labels, "finished_reason"],
            registry=r,
        )
        self.request_success = {
            reason: success.labels(finished_reason=reason, **lv) for reason in ("stop", "length", "abort")
        }
        self.num_preemptions = Counter(
            "vllm:num_preemptions", "Cumulative number of preemption from the engine.", labels, registry=r
        ).labels(**lv)
        self.prefix_cache_queries = Counter(
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
            labels,
            registry=r,
        ).labels(**lv)
        self.prefix_cache_hits = Counter(
            "vllm:prefix_cache_hits",
            "Prefix cache hits, in terms of number of cached tokens.",
            labels,
            registry=r,
        ).labels(**lv)

        token_buckets = build_1_2_5_buckets(max_model_len)
        self.time_to_first_token = hist(
            "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_BUCKETS
        ).labels(**lv)
        self.time_per_output_token = hist(
            "vllm:time_per_output_token_seconds",
            "Histogram of time per output token in seconds.",
            TPOT_BUCKETS,
        ).labels(**lv)
        self.inter_token_latency = hist(
            "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", TPOT_BUCKETS
        ).labels(**lv)
        self.time_per_prefill_token = hist(
            "vllm:time_per_prefill_token_request_seconds",
            "Histogram of time per prefill token per request in seconds.",
            PREFILL_TOKEN_BUCKETS,
        ).labels(**lv)
        self.e2e_request_latency = hist(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(**lv)
        self.request_queue_time = hist(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(**lv)
        self.request_inference_time = hist(
            "vllm:request_inference_time_seconds",
            "Histogram of time spent in RUNNING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(**lv)
        self.request_prefill_time = hist(
            "vllm:request_prefill_time_seconds",
            "Histogram of time spent in PREFILL phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(**lv)
        self.request_decode_time = hist(
            "vllm:request_decode_time_seconds",
            "Histogram of time spent in DECODE phase for request.",
            REQUEST_LATENCY_BUCKETS,
        ).labels(**lv)
        self.request_prompt_tokens = hist(
            "vllm:request_prompt_tokens", "Number of prefill tokens processed.", token_buckets
        ).labels(**lv)
        self.request_generation_tokens = hist(
            "vllm:request_generation_tokens", "Number of generation tokens processed.", token_buckets
        ).labels(**lv)
        self.request_max_num_generation_tokens = hist(
            "vllm:request_max_num_generation_tokens",
            "Histogram of maximum number of requested generation tokens.",
            token_buckets,
        ).labels(**lv)
        self.request_params_max_tokens = hist(
            "vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", token_buckets
        ).labels(**lv)
        self.request_params_n = hist(
            "vllm:request_params_n", "Histogram of the n request parameter.", [float(b) for b in N_BUCKETS]
        ).labels(**lv)
        self.iteration_tokens = hist(
            "vllm:iteration_tokens_total",
            "Histogram of number of tokens per engine_step.",
            [float(b) for b in ITERATION_TOKEN_BUCKETS],
        ).labels(**lv)

    def render(self) -> bytes:
        return generate_latest(self.registry)

"""A step-level emulation of vLLM's V1 scheduler: continuous batching on a virtual GPU.

One loop runs engine steps back to back. Each step:
1. schedules running sequences first (decodes, and the next chunk of unfinished prefills), then admits
   waiting sequences while the token budget (`max_num_batched_tokens`), `max_num_seqs` and free KV blocks
   allow (chunked prefill: a long prompt is spread over several steps);
2. when a running sequence needs a KV block and none is free, preempts the most recently admitted running
   sequence (recompute preemption, as vLLM V1: its blocks are freed and it goes back to the front of the
   waiting queue, to prefill prompt and generated tokens again);
3. takes the time the profile gives for the batch (one timer for the whole step, never one per request);
4. at the end of the step, every sequence whose pending tokens are all computed samples one token. Each such
   sequence gets exactly one `asyncio.Queue.put_nowait` per step (the serving layer turns it into SSE).

Time: the loop keeps an absolute schedule (step k ends at start + sum of step times), so wake-up latency
of the event loop does not accumulate: a late step is followed by a shorter wait. The schedule may lag wall
time by at most `max_lag_s` (default 50 ms, a few steps); beyond that (a CPU-starved simulator) it restarts
from now, so a saturated simulator shows longer ITL instead of hiding it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.metrics import EngineMetrics
from simulator.profile import Profile

logger = logging.getLogger(__name__)

# Item put on a sequence's queue at the end of a step: (tokens produced so far, finish reason or None).
TokenEvent = tuple[int, str | None]


class EngineOverloadedError(RuntimeError):
    """The waiting queue is at its configured limit; the caller should retry later."""


class PromptTooLongError(ValueError):
    """The request can never fit: prompt + output exceed the context or the whole KV cache."""


class Sequence:
    """One request inside the engine. Plain slots class: the step loop touches these thousands of times."""

    __slots__ = (
        "aborted",
        "arrival",
        "finish_reason",
        "finished",
        "first_scheduled",
        "first_token",
        "last_token",
        "max_tokens_param",
        "num_blocks",
        "num_computed",
        "num_output",
        "prompt_tokens",
        "queue",
        "request_id",
        "target_output",
        "target_reason",
        "token_times",
    )

    def __init__(
        self,
        request_id: str,
        prompt_tokens: int,
        target_output: int,
        target_reason: str,
        *,
        max_tokens_param: int | None = None,
        queue: asyncio.Queue[TokenEvent] | None = None,
        record_token_times: bool = False,
    ) -> None:
        self.request_id = request_id
        self.prompt_tokens = prompt_tokens
        self.target_output = target_output  # tokens this request will produce (stop/EOS decided up front)
        self.target_reason = target_reason  # "stop" or "length"
        self.max_tokens_param = max_tokens_param if max_tokens_param is not None else target_output
        self.queue = queue
        self.num_computed = 0  # tokens whose KV is in the cache
        self.num_output = 0
        self.num_blocks = 0
        self.arrival = 0.0
        self.first_scheduled: float | None = None
        self.first_token: float | None = None
        self.last_token: float | None = None
        self.finished = False
        self.aborted = False
        self.finish_reason: str | None = None
        self.token_times: list[float] | None = [] if record_token_times else None


@dataclass
class StepPlan:
    scheduled: list[tuple[Sequence, int]] = field(default_factory=list)
    num_decode: int = 0
    context_tokens: int = 0
    prefill_tokens: int = 0

    @property
    def num_tokens(self) -> int:
        return self.num_decode + self.prefill_tokens


class Engine:
    """The scheduler and its virtual GPU. Single-threaded: call it only from the event loop's thread."""

    def __init__(
        self,
        profile: Profile,
        *,
        metrics: EngineMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_waiting: int = 0,
        max_lag_s: float = 0.05,
    ) -> None:
        self.profile = profile
        self.metrics = metrics
        self.clock = clock
        self.max_waiting = max_waiting
        self.max_lag_s = max_lag_s
        self.block_size = profile.kv_cache.block_size
        self.total_blocks = profile.kv_cache.num_blocks
        self.free_blocks = self.total_blocks
        self.waiting: collections.deque[Sequence] = collections.deque()
        self.running: list[Sequence] = []
        self.num_preemptions = 0
        self.num_steps = 0
        self._rng = random.Random(profile.jitter.seed)
        cv = profile.jitter.cv
        self._jitter_sigma = math.sqrt(math.log1p(cv * cv)) if cv > 0 else 0.0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ----- requests ---------------------------------------------------------------------------------

    def check_fits(self, prompt_tokens: int, max_output: int) -> None:
        limit = self.profile.effective_max_model_len
        if prompt_tokens + max_output > limit:
            raise PromptTooLongError(
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt_tokens + max_output} tokens ({prompt_tokens} in the messages, {max_output} in the "
                "completion). Please reduce the length of the messages or completion."
            )
        if self._blocks_for(prompt_tokens + max_output) > self.total_blocks:
            raise PromptTooLongError(
                f"the request needs {prompt_tokens + max_output} tokens of KV cache but the cache holds "
                f"{self.profile.kv_cache.tokens}; shorten the prompt or max_tokens"
            )

    def add(self, seq: Sequence) -> Sequence:
        """Queue a sequence. Raises EngineOverloadedError when the waiting queue is at its limit."""
        if self.max_waiting and len(self.waiting) >= self.max_waiting:
            raise EngineOverloadedError(
                f"the server is overloaded: {len(self.waiting)} requests are waiting; retry later"
            )
        self.check_fits(seq.prompt_tokens, seq.target_output)
        seq.arrival = self.clock()
        self.waiting.append(seq)
        if self.metrics is not None:
            self.metrics.num_requests_waiting.set(len(self.waiting))
        self._wakeup.set()
        return seq

    def abort(self, seq: Sequence) -> None:
        """Drop a sequence (client went away). Idempotent."""
        if seq.finished:
            return
        seq.aborted = True
        if seq in self.running:
            self.running.remove(seq)
        else:
            with contextlib.suppress(ValueError):
                self.waiting.remove(seq)
        self.free_blocks += seq.num_blocks
        seq.num_blocks = 0
        self._finish(seq, "abort", self.clock())

    # ----- scheduling -------------------------------------------------------------------------------

    def _blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.block_size)

    def _preempt_last(self) -> Sequence:
        victim = self.running.pop()
        self.free_blocks += victim.num_blocks
        victim.num_blocks = 0
        victim.num_computed = 0
        self.waiting.appendleft(victim)
        self.num_preemptions += 1
        if self.metrics is not None:
            self.metrics.num_preemptions.inc()
        return victim

    def plan_step(self) -> StepPlan | None:
        """Choose what the next step computes, allocating KV blocks (and preempting) as vLLM does."""
        budget = self.profile.max_num_batched_tokens
        plan = StepPlan()
        scheduled = plan.scheduled
        preempted = False
        i = 0
        running = self.running
        while i < len(running) and budget > 0:
            seq = running[i]
            pending = seq.prompt_tokens + seq.num_output - seq.num_computed
            chunk = pending if pending < budget else budget
            need = self._blocks_for(seq.num_computed + chunk) - seq.num_blocks
            victim = None
            while need > self.free_blocks:
                victim = self._preempt_last()
                preempted = True
                if victim is seq:
                    break
            if victim is seq:
                break
            self.free_blocks -= need
            seq.num_blocks += need
            scheduled.append((seq, chunk))
            budget -= chunk
            if pending == 1 and seq.num_output > 0:
                plan.num_decode += 1
                plan.context_tokens += seq.num_computed + 1
            else:
                plan.prefill_tokens += chunk
            i += 1

        if not preempted:
            max_seqs = self.profile.max_num_seqs
            now = None
            while self.waiting and len(running) < max_seqs and budget > 0:
                seq = self.waiting[0]
                pending = seq.prompt_tokens + seq.num_output - seq.num_computed
                chunk = pending if pending < budget else budget
                need = self._blocks_for(seq.num_computed + chunk) - seq.num_blocks
                if need > self.free_blocks:
                    break
                self.waiting.popleft()
                running.append(seq)
                self.free_blocks -= need
                seq.num_blocks += need
                if seq.first_scheduled is None:
                    if now is None:
                        now = self.clock()
                    seq.first_scheduled = now
                scheduled.append((seq, chunk))
                budget -= chunk
                plan.prefill_tokens += chunk

        m = self.metrics
        if m is not None:
            m.num_requests_running.set(len(running))
            m.num_requests_waiting.set(len(self.waiting))
            usage = 1.0 - self.free_blocks / self.total_blocks
            m.kv_cache_usage.set(usage)
            m.gpu_cache_usage.set(usage)
        return plan if scheduled else None

    def step_seconds(self, plan: StepPlan) -> float:
        ms = self.profile.step_ms(plan.num_decode, plan.context_tokens, plan.prefill_tokens)
        if self._jitter_sigma > 0:
            s = self._jitter_sigma
            ms *= self._rng.lognormvariate(-0.5 * s * s, s)
        return ms / 1000.0

    def finish_step(self, plan: StepPlan, now: float) -> None:
        """Apply a computed step: advance KV, emit one token per sequence that completed its pending work."""
        self.num_steps += 1
        m = self.metrics
        produced = 0
        finished: list[Sequence] = []
        for seq, chunk in plan.scheduled:
            if seq.aborted:
                continue
            seq.num_computed += chunk
            if seq.num_computed < seq.prompt_tokens + seq.num_output:
                continue  # a prefill chunk that does not finish the prompt: no token yet
            seq.num_output += 1
            produced += 1
            if seq.num_output == 1:
                seq.first_token = now
                if m is not None:
                    m.time_to_first_token.observe(now - seq.arrival)
                    m.prompt_tokens.inc(seq.prompt_tokens)
                    m.prefix_cache_queries.inc(seq.prompt_tokens)
            elif m is not None:
                last = seq.last_token if seq.last_token is not None else now
                m.inter_token_latency.observe(now - last)
                m.time_per_output_token.observe(now - last)
            seq.last_token = now
            if seq.token_times is not None:
                seq.token_times.append(now)
            done = seq.num_output >= seq.target_output
            if done:
                finished.append(seq)
            if seq.queue is not None:
                seq.queue.put_nowait((seq.num_output, seq.target_reason if done else None))
        if m is not None:
            if produced:
                m.generation_tokens.inc(produced)
            m.iteration_tokens.observe(plan.num_tokens)
        if finished:
            done_ids = {id(s) for s in finished}
            self.running = [s for s in self.running if id(s) not in done_ids]
            for seq in finished:
                self.free_blocks += seq.num_blocks
                seq.num_blocks = 0
                self._finish(seq, seq.target_reason, now)

    def _finish(self, seq: Sequence, reason: str, now: float) -> None:
        seq.finished = True
        seq.finish_reason = reason
        if reason == "abort" and seq.queue is not None:
            seq.queue.put_nowait((seq.num_output, "abort"))
        m = self.metrics
        if m is None:
            return
        m.request_success[reason].inc()
        m.e2e_request_latency.observe(now - seq.arrival)
        start = seq.first_scheduled if seq.first_scheduled is not None else now
        m.request_queue_time.observe(start - seq.arrival)
        m.request_inference_time.observe(now - start)
        first = seq.first_token if seq.first_token is not None else now
        m.request_prefill_time.observe(first - start)
        m.request_decode_time.observe(now - first)
        if seq.prompt_tokens > 0:
            m.time_per_prefill_token.observe((first - start) / seq.prompt_tokens)
        m.request_prompt_tokens.observe(seq.prompt_tokens)
        m.request_generation_tokens.observe(seq.num_output)
        m.request_max_num_generation_tokens.observe(seq.num_output)
        m.request_params_max_tokens.observe(seq.max_tokens_param)
        m.request_params_n.observe(1)

    # ----- driving ----------------------------------------------------------------------------------

    def step_virtual(self, clock: VirtualClock) -> bool:
        """Run one step on a virtual clock (tests, what-if runs). False when there is nothing to do."""
        plan = self.plan_step()
        if plan is None:
            return False
        clock.now += self.step_seconds(plan)
        self.finish_step(plan, clock.now)
        return True

    async def run(self) -> None:
        """The scheduler loop: one timer per step, absolute schedule, bounded catch-up (see module doc)."""
        next_start = self.clock()
        while True:
            plan = self.plan_step()
            if plan is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                next_start = self.clock()
                continue
            dt = self.step_seconds(plan)
            now = self.clock()
            start = next_start if now - next_start <= max(dt, self.max_lag_s) else now
            end = start + dt
            delay = end - now
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let the serving side run even when behind schedule
            self.finish_step(plan, self.clock())
            next_start = end

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="simulator-engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class VirtualClock:
    """A clock that only moves when the engine steps on it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

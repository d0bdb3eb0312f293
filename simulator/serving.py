"""The OpenAI-compatible serving layer: turns requests into engine sequences and engine tokens into responses.

The streaming hot path avoids pydantic and per-token object churn: every SSE event is built by string
concatenation around a prefix and suffix prepared once per request, the token escaped by `json.dumps`.
When a client reads slower than the engine produces, the tokens queued since its last write go out in one
write (still one SSE event per token, so clients count tokens correctly).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from starlette.responses import Response

from simulator.engine import Engine, EngineOverloadedError, PromptTooLongError, Sequence, TokenEvent
from simulator.faults import FaultInjector, error_type
from simulator.profile import Profile
from simulator.protocol import ChatCompletionRequest, CompletionRequest
from simulator.text import (
    CHAT_TOKENS_PER_CONVERSATION,
    CHAT_TOKENS_PER_MESSAGE,
    TokenCounter,
    apply_stop,
    detect_use_case,
    generate_tokens,
    natural_length,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Kind = Literal["chat", "completion"]


class APIError(Exception):
    """An error the client caused or should handle; rendered in OpenAI's error shape."""

    def __init__(self, status: int, message: str, *, param: str | None = None, type_: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.type = type_ or error_type(status)

    def body(self) -> dict[str, Any]:
        return {
            "error": {"message": self.message, "type": self.type, "param": self.param, "code": self.status}
        }


def error_response(err: APIError) -> Response:
    return Response(json.dumps(err.body()), status_code=err.status, media_type="application/json")


class _Prepared:
    __slots__ = ("created", "request_id", "seq", "tokens")

    def __init__(self, request_id: str, created: int, seq: Sequence, tokens: list[str]) -> None:
        self.request_id = request_id
        self.created = created
        self.seq = seq
        self.tokens = tokens


class OpenAIServing:
    def __init__(
        self,
        *,
        engine: Engine,
        profile: Profile,
        counter: TokenCounter,
        faults: FaultInjector,
        seed: int = 0,
        overload_status: int = 429,
    ) -> None:
        self.engine = engine
        self.profile = profile
        self.model = profile.model
        self.counter = counter
        self.faults = faults
        self.overload_status = overload_status
        self._rng = random.Random(seed)
        self._model_json = json.dumps(self.model)

    # ----- request preparation -----------------------------------------------------------------------

    def _admit_checks(self, model: str | None) -> None:
        if model is not None and model != self.model:
            raise APIError(404, f"The model `{model}` does not exist.", param="model")
        if not self.faults.ready():
            raise APIError(503, f"the server is starting; ready in {self.faults.seconds_until_ready():.1f} s")
        code = self.faults.draw_error()
        if code is not None:
            raise APIError(code, f"injected fault: HTTP {code} (simulator fault injection)")

    def _prepare(
        self,
        req: ChatCompletionRequest | CompletionRequest,
        prompt_text: str,
        prompt_tokens: int,
        prefix: str,
    ) -> _Prepared:
        max_len = self.profile.effective_max_model_len
        limit = req.limit()
        if prompt_tokens + (limit or 1) > max_len:
            raise APIError(
                400,
                f"This model's maximum context length is {max_len} tokens. However, you requested "
                f"{prompt_tokens + (limit or 1)} tokens ({prompt_tokens} in the prompt, {limit or 1} in the "
                "completion). Please reduce the length of the prompt or completion.",
                param="messages" if prefix == "chatcmpl" else "prompt",
            )
        if limit is None:
            limit = max_len - prompt_tokens
        # Deterministic for a given seed (or greedy sampling); else drawn from the server's seeded stream.
        if req.seed is not None:
            rng = random.Random(f"{req.seed}:{prompt_text}")
        elif req.temperature == 0:
            rng = random.Random(prompt_text)
        else:
            rng = random.Random(self._rng.getrandbits(64))
        use_case = detect_use_case(prompt_text)
        natural = natural_length(use_case, rng)
        if req.ignore_eos or natural >= limit:
            count, reason = limit, "length"
        else:
            count, reason = natural, "stop"
        tokens = generate_tokens(use_case, count, rng)
        tokens, stopped = apply_stop(tokens, req.stop_list())
        if stopped:
            reason = "stop"
        if not tokens:
            tokens = [""]  # the stop string came first: one token is generated, none is shown (as vLLM)
        seq = Sequence(
            "",
            prompt_tokens,
            len(tokens),
            reason,
            max_tokens_param=req.limit() or limit,
            queue=asyncio.Queue(),
        )
        try:
            self.engine.add(seq)
        except PromptTooLongError as e:
            raise APIError(400, str(e), param="max_tokens") from e
        except EngineOverloadedError as e:
            raise APIError(self.overload_status, str(e)) from e
        request_id = f"{prefix}-{uuid.uuid4().hex}"
        seq.request_id = request_id
        return _Prepared(request_id, int(time.time()), seq, tokens)

    # ----- endpoints -------------------------------------------------------------------------------

    async def chat(self, req: ChatCompletionRequest) -> Response:
        self._admit_checks(req.model)
        texts = [m.text() for m in req.messages]
        prompt_tokens = sum(self.counter.count(t) for t in texts)
        prompt_tokens += CHAT_TOKENS_PER_MESSAGE * len(texts) + CHAT_TOKENS_PER_CONVERSATION
        prep = self._prepare(req, "\n".join(texts), prompt_tokens, "chatcmpl")
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        if req.stream:
            return TokenStream(self, prep, "chat", include_usage)
        await _wait_finished(prep.seq)
        return self._final_response(prep, "chat")

    async def completion(self, req: CompletionRequest) -> Response:
        self._admit_checks(req.model)
        prompt = req.prompt
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], str):
            prompt = prompt[0]
        if isinstance(prompt, str):
            text, prompt_tokens = prompt, max(1, self.counter.count(prompt))
        else:
            ids = prompt[0] if prompt and isinstance(prompt[0], list) else prompt
            text, prompt_tokens = "", max(1, len(ids))
        prep = self._prepare(req, text, prompt_tokens, "cmpl")
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        if req.stream:
            return TokenStream(self, prep, "completion", include_usage)
        await _wait_finished(prep.seq)
        return self._final_response(prep, "completion")

    def _final_response(self, prep: _Prepared, kind: Kind) -> Response:
        seq = prep.seq
        text = "".join(prep.tokens[: seq.num_output])
        usage = _usage(seq)
        if kind == "chat":
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text, "tool_calls": []},
                "logprobs": None,
                "finish_reason": seq.finish_reason,
                "stop_reason": None,
            }
            obj = "chat.completion"
        else:
            choice = {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": seq.finish_reason,
                "stop_reason": None,
            }
            obj = "text_completion"
        body = {
            "id": prep.request_id,
            "object": obj,
            "created": prep.created,
            "model": self.model,
            "choices": [choice],
            "usage": usage,
        }
        return Response(json.dumps(body), media_type="application/json")


def _usage(seq: Sequence) -> dict[str, int]:
    return {
        "prompt_tokens": seq.prompt_tokens,
        "completion_tokens": seq.num_output,
        "total_tokens": seq.prompt_tokens + seq.num_output,
    }


async def _wait_finished(seq: Sequence) -> None:
    queue = seq.queue
    assert queue is not None
    while True:
        _, reason = await queue.get()
        if reason is not None:
            return


class TokenStream(Response):
    """A raw ASGI SSE response fed by the engine: one queue item per step, pre-built event strings."""

    def __init__(self, serving: OpenAIServing, prep: _Prepared, kind: Kind, include_usage: bool) -> None:
        # Response.__init__ is not called: this class writes to the ASGI channel itself.
        self.background = None
        self.status_code = 200
        self._serving = serving
        self._prep = prep
        self._kind = kind
        self._include_usage = include_usage
        self._stall_s = serving.faults.draw_stall()
        self._stall_after = serving.faults.config.stall_after_tokens
        head = (
            f'data: {{"id":"{prep.request_id}","object":"{{obj}}","created":{prep.created},'
            f'"model":{serving._model_json},'
        )
        if kind == "chat":
            self._obj = "chat.completion.chunk"
            self._prefix = head.replace("{obj}", self._obj) + '"choices":[{"index":0,"delta":{"content":'
            self._mid = '},"logprobs":null,"finish_reason":'
        else:
            self._obj = "text_completion"
            self._prefix = head.replace("{obj}", self._obj) + '"choices":[{"index":0,"text":'
            self._mid = ',"logprobs":null,"finish_reason":'
        self._head = head.replace("{obj}", self._obj)

    def _event(self, token: str, reason: str | None) -> str:
        fin = "null" if reason is None else f'"{reason}"'
        return f"{self._prefix}{json.dumps(token)}{self._mid}{fin}}}]}}\n\n"

    def _role_event(self) -> str:
        return (
            f'{self._head}"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},'
            '"logprobs":null,"finish_reason":null}]}\n\n'
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seq = self._prep.seq
        engine = self._serving.engine
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, engine, seq))
        queue = seq.queue
        assert queue is not None
        tokens = self._prep.tokens
        sent = 0
        stall = self._stall_s
        try:
            while True:
                item: TokenEvent = await queue.get()
                while not queue.empty():
                    item = queue.get_nowait()
                produced, reason = item
                if reason == "abort":
                    return
                parts: list[str] = []
                if sent == 0 and self._kind == "chat":
                    parts.append(self._role_event())
                last = produced - 1
                for k in range(sent, produced):
                    parts.append(self._event(tokens[k], reason if k == last else None))
                sent = produced
                await send({"type": "http.response.body", "body": "".join(parts).encode(), "more_body": True})
                if stall and sent >= self._stall_after:
                    await asyncio.sleep(stall)
                    stall = 0.0
                if reason is not None:
                    break
            tail = ""
            if self._include_usage:
                tail = f'{self._head}"choices":[],"usage":{json.dumps(_usage(seq))}}}\n\n'
            tail += "data: [DONE]\n\n"
            await send({"type": "http.response.body", "body": tail.encode(), "more_body": False})
        finally:
            watcher.cancel()
            if not seq.finished:
                engine.abort(seq)


async def _watch_disconnect(receive: Receive, engine: Engine, seq: Sequence) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            engine.abort(seq)
            return

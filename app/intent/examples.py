"""Where the classifier's labelled examples come from: Postgres, or the bundled seed file without one.

- :func:`bundled_index` reads ``seed/data/examples.json`` and its precomputed vectors (``examples.npy``),
  for ``preflight extract`` and anything else that runs without a database.
- The ``intent_examples`` table is read by the service layer (``app.services.intent_data.load_examples``);
  this module does no database I/O.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from app.intent.classify import ExampleIndex, LabelledExample

_SEED = Path(__file__).resolve().parents[2] / "seed" / "data"
EXAMPLES_FILE = _SEED / "examples.json"
VECTORS_FILE = _SEED / "examples.npy"


def _bundled() -> tuple[list[LabelledExample], np.ndarray, str]:
    raw = EXAMPLES_FILE.read_bytes()
    rows = json.loads(raw)["rows"]
    texts = list(dict.fromkeys(r["text"] for r in rows))  # the vectors file holds each text once
    vectors = np.load(VECTORS_FILE).astype(np.float32)
    if len(texts) != len(vectors):
        raise ValueError(
            f"{VECTORS_FILE} holds {len(vectors)} vectors for {len(texts)} example texts: "
            "run python -m seed.intent_examples"
        )
    by_text = dict(zip(texts, vectors, strict=True))
    examples = [LabelledExample(r["field"], r["label"], r["text"]) for r in rows]
    matrix = np.asarray([by_text[ex.text] for ex in examples], dtype=np.float32)
    return examples, matrix, "bundled:" + hashlib.sha256(raw).hexdigest()[:12]


@lru_cache(maxsize=1)
def bundled_index() -> ExampleIndex:
    examples, vectors, version = _bundled()
    return ExampleIndex.build(examples, vectors, version)


@lru_cache(maxsize=1)
def bundled_vectors_by_text() -> dict[str, np.ndarray]:
    examples, vectors, _ = _bundled()
    return {ex.text: v for ex, v in zip(examples, vectors, strict=True)}

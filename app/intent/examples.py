"""Where the classifier's labelled examples come from: Postgres, or the bundled seed file without one.

- :func:`bundled_index` reads ``seed/data/examples.json`` and its precomputed vectors (``examples.npy``),
  for ``preflight extract`` and anything else that runs without a database.
- :func:`load_index` reads the ``intent_examples`` table. The index is cached by the table's version (row
  count, last change), so an example an admin loads is used by the next request and an unchanged table
  costs one small query. An empty table (a database seeded before examples existed) falls back to the
  bundled examples.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.intent.classify import ExampleIndex, LabelledExample

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

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


_CACHE: dict[str, ExampleIndex] = {}  # version -> index; only the latest is kept


async def load_index(session: AsyncSession) -> ExampleIndex:
    """The examples in Postgres as an index (cached by version); the bundled ones when the table is empty."""
    from sqlalchemy import func, select

    from db.models import IntentExample

    count, last, top = (
        await session.execute(
            select(func.count(), func.max(IntentExample.updated_at), func.max(IntentExample.id)).where(
                IntentExample.embedding.is_not(None)
            )
        )
    ).one()
    if not count:
        return bundled_index()
    version = f"db:{count}:{top}:{last.isoformat() if last else ''}"
    cached = _CACHE.get(version)
    if cached is not None:
        return cached
    rows = (
        await session.execute(
            select(IntentExample.field, IntentExample.label, IntentExample.text, IntentExample.embedding)
            .where(IntentExample.embedding.is_not(None))
            .order_by(IntentExample.id)
        )
    ).all()
    examples = [LabelledExample(f, label, text) for f, label, text, _ in rows]
    index = ExampleIndex.build(examples, np.asarray([list(e) for *_, e in rows], dtype=np.float32), version)
    _CACHE.clear()
    _CACHE[version] = index
    return index

"""Categorical intent fields by meaning: k-nearest labelled example sentences, with a margin.

Pure: no database, no model, no files. The caller embeds the message once (``app.embeddings``) and passes
the vector and an :class:`ExampleIndex` built from labelled examples (from Postgres, or the bundled seed
file when there is no database). An example's label ``none`` means "this sentence does not state the
field", so a message close to such sentences leaves the field unset instead of guessing.

Each of the ``k`` nearest examples of a field votes for its label with a weight that grows sharply with
its cosine similarity. The winner's
``margin`` is its lead over the runner-up as a share of all the votes: a small margin means the examples
disagree, and the extractor says so and asks rather than picking one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

NONE = "none"  # the label of an example that does not state the field
CATEGORICAL_FIELDS: tuple[str, ...] = (
    "task_type",
    "priority",
    "subject_matter",
    "deployment_model",
    "burstiness_pattern",
)
K = 7
# Below these the examples do not agree enough (or are too far) to decide; measured on the held-out split
# (benchmarks/intent_eval.py prints what the classifier decides and how often it is right).
MIN_MARGIN = 0.4
MIN_SIMILARITY = 0.35
TEMPERATURE = 0.05  # vote weight exp((similarity - 1) / T): 0.05 lower similarity weighs 1/e as much


@dataclass(frozen=True)
class LabelledExample:
    field: str
    label: str
    text: str


@dataclass(frozen=True)
class _FieldIndex:
    labels: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray  # (n, dim), rows L2-normalised


@dataclass(frozen=True)
class ExampleIndex:
    """Labelled example vectors per field, identified by ``version`` (changes when the examples change)."""

    version: str
    fields: dict[str, _FieldIndex]

    @classmethod
    def build(
        cls,
        examples: Sequence[LabelledExample],
        vectors: np.ndarray | Sequence[Sequence[float]],
        version: str,
    ) -> ExampleIndex:
        matrix = np.asarray(vectors, dtype=np.float32)
        if len(examples) != len(matrix):
            raise ValueError(f"{len(examples)} examples but {len(matrix)} vectors")
        if len(matrix):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        by_field: dict[str, list[int]] = {}
        for i, ex in enumerate(examples):
            by_field.setdefault(ex.field, []).append(i)
        fields = {
            f: _FieldIndex(
                labels=tuple(examples[i].label for i in idx),
                texts=tuple(examples[i].text for i in idx),
                vectors=matrix[idx],
            )
            for f, idx in by_field.items()
        }
        return cls(version=version, fields=fields)

    def size(self) -> int:
        return sum(len(f.labels) for f in self.fields.values())


@dataclass(frozen=True)
class Vote:
    """The examples' verdict on one field."""

    field: str
    label: str  # the winning label (may be NONE)
    margin: float  # (winner - runner-up) / all votes, 0..1
    similarity: float  # cosine similarity of the nearest example with the winning label
    runner_up: str | None
    nearest: str  # the nearest example with the winning label, to explain the choice

    @property
    def confident(self) -> bool:
        return self.margin >= MIN_MARGIN and self.similarity >= MIN_SIMILARITY


def classify(
    index: ExampleIndex, vector: np.ndarray | Sequence[float], field: str, k: int = K
) -> Vote | None:
    """The k-NN vote for ``field``, or None when the index has no examples for it."""
    fi = index.fields.get(field)
    if fi is None or not fi.labels:
        return None
    q = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(q))
    if norm == 0.0:
        return None
    sims = fi.vectors @ (q / norm)
    top = np.argsort(-sims)[: min(k, len(sims))]
    scores: dict[str, float] = {}
    best_sim: dict[str, tuple[float, int]] = {}
    for i in top:
        label = fi.labels[i]
        s = max(float(sims[i]), 0.0)
        # Sharpened so a near-paraphrase outweighs several loosely related sentences.
        scores[label] = scores.get(label, 0.0) + math.exp((s - 1.0) / TEMPERATURE)
        if label not in best_sim or s > best_sim[label][0]:
            best_sim[label] = (s, int(i))
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    total = sum(scores.values()) or 1.0
    winner, first = ranked[0]
    runner_up, second = ranked[1] if len(ranked) > 1 else (None, 0.0)
    sim, nearest = best_sim[winner]
    return Vote(
        field=field,
        label=winner,
        margin=round((first - second) / total, 4),
        similarity=round(sim, 4),
        runner_up=runner_up,
        nearest=fi.texts[nearest],
    )


def classify_all(
    index: ExampleIndex, vector: np.ndarray | Sequence[float], fields: Iterable[str] = CATEGORICAL_FIELDS
) -> dict[str, Vote]:
    out: dict[str, Vote] = {}
    for field in fields:
        vote = classify(index, vector, field)
        if vote is not None:
            out[field] = vote
    return out

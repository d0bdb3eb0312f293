"""Similarity search over embeddings goes through the HNSW index, and returns the nearest rows."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert, select, text

from db import models as m


async def test_cosine_search_uses_hnsw_index(session) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    await session.execute(
        insert(m.DeploymentOutcome),
        [{"description": f"outcome {i}", "embedding": v.tolist()} for i, v in enumerate(vectors)],
    )
    await session.execute(text("ANALYZE deployment_outcomes"))

    query = vectors[42] + 0.01 * rng.normal(size=384).astype(np.float32)
    stmt = (
        select(m.DeploymentOutcome.description)
        .order_by(m.DeploymentOutcome.embedding.cosine_distance(query.tolist()))
        .limit(5)
    )
    literal = "[" + ",".join(f"{x:.6f}" for x in query) + "]"
    plan = (
        (
            await session.execute(
                text(
                    "EXPLAIN SELECT description FROM deployment_outcomes "
                    f"ORDER BY embedding <=> '{literal}'::vector LIMIT 5"
                )
            )
        )
        .scalars()
        .all()
    )
    assert any("ix_outcomes_embedding_hnsw" in line for line in plan), "\n".join(plan)

    nearest = (await session.execute(stmt)).scalars().all()
    assert nearest[0] == "outcome 42"

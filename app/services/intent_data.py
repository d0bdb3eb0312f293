"""The intent domain's data from Postgres: the closest use-case template by meaning (pgvector), and the
classifier's labelled examples. The domain (``app.intent``) receives what is loaded here and does no I/O."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.intent.classify import ExampleIndex, LabelledExample
from app.intent.examples import bundled_index
from app.intent.usecases import TemplateNotFound, template_from_row
from db.models import IntentExample, UseCaseExample, UseCaseTemplate
from seed.schemas import UseCaseRow


async def find_template(
    description: str, *, session: AsyncSession, task_type: str | None = None
) -> tuple[UseCaseRow, float]:
    """The template closest to ``description`` by cosine similarity, and that similarity.

    Compares against each template's own embedding and its example phrases; with ``task_type`` the search
    is limited to templates of that task. Raises :class:`TemplateNotFound` when none match.
    """
    from app.embeddings import embed_one

    query = embed_one(description)
    by_template = select(
        UseCaseTemplate.id.label("template_id"),
        UseCaseTemplate.embedding.cosine_distance(query).label("distance"),
    ).where(UseCaseTemplate.embedding.is_not(None))
    by_example = select(
        UseCaseExample.template_id.label("template_id"),
        UseCaseExample.embedding.cosine_distance(query).label("distance"),
    )
    candidates = union_all(by_template, by_example).subquery()
    best = (
        select(candidates.c.template_id, func.min(candidates.c.distance).label("distance"))
        .group_by(candidates.c.template_id)
        .subquery()
    )
    stmt = select(UseCaseTemplate, best.c.distance).join(best, best.c.template_id == UseCaseTemplate.id)
    if task_type is not None:
        stmt = stmt.where(UseCaseTemplate.task_type == literal(task_type))
    stmt = stmt.order_by(best.c.distance).limit(1)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise TemplateNotFound(
            "no use-case template in the database"
            + (f" for task {task_type!r}" if task_type else "")
            + "; run `preflight seed`"
        )
    template, distance = row
    return template_from_row(template), round(1.0 - float(distance), 4)


_EXAMPLES: dict[str, ExampleIndex] = {}  # version -> index; only the latest is kept


async def load_examples(session: AsyncSession) -> ExampleIndex:
    """The labelled examples in Postgres as an index, cached by the table's version (row count, highest
    id, last change), so an example an admin loads is used by the next request and an unchanged table
    costs one small query. An empty table (a database seeded before examples existed) gives the bundled
    examples."""
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
    cached = _EXAMPLES.get(version)
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
    _EXAMPLES.clear()
    _EXAMPLES[version] = index
    return index

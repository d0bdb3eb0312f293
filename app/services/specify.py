"""Text -> specification: the one path (rules, plus the LLM when configured; the use-case template by task or
by meaning). The chat calls :func:`understand` and :func:`specify` separately, to ask its clarifying questions
in between; the API and CLI call :func:`specification_from_text`.

Extraction (a synchronous LLM client when one is configured) and the embedding of the request run on the
worker pool, never on the event loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from app.intent.clarify import ClarifyingQuestion, clarifying_questions
from app.intent.classify import ExampleIndex
from app.intent.llm import understand_text
from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import TemplateNotFound, apply_template, search_text, template_for_task
from app.services.bounds import TEXT_MAX
from app.services.context import Context
from app.services.intent_data import find_template, load_examples
from app.services.workers import cpu_pool, llm_pool

log = logging.getLogger(__name__)


@dataclass
class Understanding:
    intent: DeploymentIntent
    questions: list[ClarifyingQuestion]
    extracted_by: str
    warnings: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    unused_numbers: list[float] = field(default_factory=list)  # typed numbers no field took
    uncertain: dict[str, list[str]] = field(default_factory=dict)  # field -> the readings it could have


def check_text(text: str, what: str = "text") -> str:
    if "\x00" in text:
        raise Invalid(f"{what}: text must not contain NUL (\\u0000) characters")
    if len(text) > TEXT_MAX:
        raise Invalid(f"{what}: at most {TEXT_MAX} characters (got {len(text)})")
    if not text.strip():
        raise Invalid(f"{what}: the request is empty; describe the use case, e.g. 'a chatbot for 1000 users'")
    return text


def _extract(text: str, already_asked: frozenset[str], examples: ExampleIndex) -> Understanding:
    started = time.perf_counter()
    intent, path, extraction = understand_text(text, examples=examples)
    warnings = list(extraction.warnings)
    if extraction.unused_numbers:
        shown = ", ".join(f"{n:g}" for n in extraction.unused_numbers[:8])
        warnings.append(f"numbers I did not use: {shown}; edit the specification if one of them matters")
    questions = clarifying_questions(intent, already_asked=already_asked, uncertain=extraction.uncertain)
    return Understanding(
        intent,
        questions,
        path,
        warnings,
        (time.perf_counter() - started) * 1000,
        unused_numbers=list(extraction.unused_numbers),
        uncertain={k: list(v) for k, v in extraction.uncertain.items()},
    )


async def examples(ctx: Context | None = None) -> ExampleIndex:
    """The labelled examples the classifier reads: Postgres (cached by version, so an example an admin
    loads is used by the next request), or the bundled ones when there is no database."""
    from app.intent.examples import bundled_index

    if ctx is not None:
        return await load_examples(ctx.session)
    from db.session import DatabaseUnavailableError, session_scope

    try:
        async with session_scope() as session:
            return await load_examples(session)
    except DatabaseUnavailableError as e:
        log.info("labelled examples from the bundled seed file (no database: %s)", e)
        return bundled_index()


async def understand(
    text: str,
    *,
    already_asked: frozenset[str] = frozenset(),
    ctx: Context | None = None,
    example_index: ExampleIndex | None = None,
) -> Understanding:
    """The intent in ``text`` and the questions still worth asking. ``example_index``: classify with these
    labelled examples instead of the database's (`preflight extract`, which works without a database)."""
    check_text(text)
    index = example_index if example_index is not None else await examples(ctx)
    return await llm_pool().run(_extract, text, already_asked, index)


async def specify(
    intent: DeploymentIntent, ctx: Context, *, unknown_fields: frozenset[str] = frozenset()
) -> Specification:
    """Intent -> Specification. A known task uses its template directly; otherwise the closest by meaning."""
    if intent.task_type is not None:
        return apply_template(intent, template_for_task(intent.task_type), unknown_fields=unknown_fields)
    from app.embeddings import EmbeddingError, embed_one

    try:
        # Computed on a worker (and kept by embed_one's cache), so the template search does not encode inline.
        description = search_text(intent)
        await cpu_pool().run(embed_one, description)
        template, similarity = await find_template(
            description, session=ctx.session, task_type=intent.task_type
        )
        return apply_template(intent, template, similarity=similarity, unknown_fields=unknown_fields)
    except (EmbeddingError, TemplateNotFound) as e:  # no embeddings or no templates: the generic template
        log.info("template search unavailable (%s); using the task template", e)
        return apply_template(intent, template_for_task(None), unknown_fields=unknown_fields)


async def specification_from_text(text: str, ctx: Context) -> Specification:
    understood = await understand(text, ctx=ctx)
    return await specify(understood.intent, ctx)


async def spec_from_text(text: str, *, session: AsyncSession) -> Specification:
    """:func:`specification_from_text` for callers that hold their own session (scripts, benchmarks, tests);
    the same path, acting as the local operator."""
    from app.auth import Principal
    from app.config import get_settings

    return await specification_from_text(text, Context(Principal.system(), session, get_settings()))

"""Labelled examples in Postgres: seeded, extended by an admin, kept across reloads, used next request."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.intent.examples import EXAMPLES_FILE, bundled_index
from app.intent.extractor import extract
from app.services.intent_data import load_examples as load_index
from db.models import IntentExample
from seed.loader import load_files

PHRASE = "Verify each claim in our articles against the cited sources"


async def test_seeded_examples_are_the_bundled_ones(session) -> None:  # type: ignore[no-untyped-def]
    index = await load_index(session)
    assert index.version.startswith("db:")
    assert index.size() == bundled_index().size()
    missing = await session.scalar(
        select(func.count()).select_from(IntentExample).where(IntentExample.embedding.is_(None))
    )
    assert missing == 0


async def test_an_admin_example_teaches_a_phrasing_and_survives_reloads(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = await load_index(session)
    assert extract(PHRASE, examples=before).intent.task_type is None

    admin_file = tmp_path / "my_examples.json"
    admin_file.write_text(
        json.dumps(
            {
                "kind": "examples",
                "rows": [
                    {"field": "task_type", "label": "batch_processing", "text": PHRASE, "source": "admin"}
                ],
            }
        ),
        encoding="utf-8",
    )
    conn = await session.connection()
    summary = await load_files(conn, [admin_file])
    assert summary.kinds["examples"].added == 1

    after = await load_index(session)
    assert after.version != before.version and after.size() == before.size() + 1
    assert extract(PHRASE, examples=after).intent.task_type == "batch_processing"

    # Reloading the bundled examples (or the use cases) does not delete what the admin added.
    reload = await load_files(conn, [EXAMPLES_FILE], replace=True)
    assert reload.kinds["examples"].deleted == 0
    assert (await load_index(session)).size() == after.size()


async def test_a_label_the_field_does_not_have_is_refused(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from seed.loader import SeedValidationError

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"kind": "examples", "rows": [{"field": "priority", "label": "speedy", "text": "go fast"}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(SeedValidationError, match="not a priority"):
        await load_files(await session.connection(), [bad])

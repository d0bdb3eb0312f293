"""The chat's pure parts: specification card, option cards, comparison table, plot, and edits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_recommend_bruteforce import small_catalog

from app.chat import editing, views
from app.chat.plots import cost_latency_figure, pareto_front
from app.chat.store import SavedScenario
from app.intent.rules import extract
from app.intent.schema import Specification
from app.intent.usecases import apply_template, template_for_task
from app.planning.plan import PlanSettings, plan
from app.planning.result import RecommendationResult

pytestmark = pytest.mark.unit


def planned(spec: Specification) -> RecommendationResult:
    """A real plan (the pure planner on a small catalog), so the views render what the recommender returns."""
    return plan(
        spec.edit(target_e2e_latency_p95_ms=60000, target_tpot_p90_ms=200, quality_threshold="standard"),
        small_catalog(),
        PlanSettings(),
    )


@pytest.fixture
def spec() -> Specification:
    intent = extract("I need a chatbot for 1000 users, low latency is critical").intent
    return apply_template(intent, template_for_task(intent.task_type))


def test_spec_card_tells_stated_defaults_and_edits_apart(spec: Specification) -> None:
    card = views.spec_card(spec.edit(target_ttft_p90_ms=150))
    users = next(line for line in card.splitlines() if "| Users (total) |" in line)
    ttft = next(line for line in card.splitlines() if "| TTFT p90 |" in line)
    tpot = next(line for line in card.splitlines() if "| TPOT p90 |" in line)
    assert "1,000" in users and "you said" in users
    assert "150 ms" in ttft and "edited" in ttft
    assert "default" in tpot
    assert "100 active users" in card  # the load derivation is shown


def test_option_cards_show_cost_verdicts_basis_and_rationale(spec: Specification) -> None:
    result = planned(spec)
    assert len(result.options) >= 3
    card = views.option_card(result.options[0])
    assert "/month" in card and "TTFT p90" in card and "TPOT p90" in card and "E2E p95" in card
    assert "target 210" in card and ("✓" in card or "≈" in card)
    assert "Basis: **estimated**" in card and "80%:" in card
    assert result.options[0].rationale in card


def test_edits_in_words(spec: Specification) -> None:
    assert editing.changes_from_text("what if we use L40S?", spec) == {"available_gpus": ["L40S-48GB"]}
    assert editing.changes_from_text("tighten TTFT to 150 ms", spec) == {"target_ttft_p90_ms": 150.0}
    assert editing.changes_from_text("double the users", spec) == {"total_users": 2000}
    assert editing.changes_from_text("tighten TTFT by 10%", spec) == {
        "target_ttft_p90_ms": pytest.approx(189.0)
    }
    assert editing.changes_from_text("optimize for cost", spec) == {"priority": "cost"}
    assert editing.changes_from_text("hello there", spec) == {}


def test_more_users_means_more_load(spec: Specification) -> None:
    edited = editing.apply_changes(spec, {"total_users": 2000})
    assert edited.origins["total_users"] == "edited"
    assert edited.expected_qps == pytest.approx(2 * spec.expected_qps, rel=1e-3)
    assert edited.peak_qps == pytest.approx(2 * spec.peak_qps, rel=1e-3)
    assert edited.qps_derivation is not None and "2,000 users" in edited.qps_derivation.explanation


def test_settings_panel_changes_only_what_moved(spec: Specification) -> None:
    values = editing.settings_values(spec)
    assert editing.changes_from_settings(spec, values) == {}
    values.update(target_ttft_p90_ms=150, cloud_provider="AWS", max_monthly_cost_usd=None)
    assert editing.changes_from_settings(spec, values) == {
        "target_ttft_p90_ms": 150.0,
        "cloud_provider": "AWS",
    }
    values["prompt_length_avg"] = "abc"
    with pytest.raises(ValueError, match="Average prompt"):
        editing.changes_from_settings(spec, values)


def test_out_of_range_edit_is_refused(spec: Specification) -> None:
    from pydantic import ValidationError

    from app.errors import chat_message

    with pytest.raises(ValidationError) as info:
        editing.apply_changes(spec, {"target_ttft_p90_ms": -5})
    message = chat_message(info.value)
    assert "out of range" in message and "target ttft p90 ms" in message and "Traceback" not in message


def _scenario(name: str, spec: Specification, rank: int) -> SavedScenario:
    result = planned(spec)
    return SavedScenario(
        id=rank,
        name=name,
        owner="alice",
        created_at=datetime.now(UTC),
        specification=spec.model_dump(mode="json"),
        recommendation_id=None,
        option_rank=rank,
        option=result.options[rank - 1],
    )


def test_comparison_table_has_deltas(spec: Specification) -> None:
    a = _scenario("Scenario A", spec, 1)
    b = _scenario("Scenario B", editing.apply_changes(spec, {"total_users": 2000}), 3)
    table = views.compare_table(a, b)
    assert "| Monthly cost |" in table and "Difference (B − A)" in table
    cost_row = next(line for line in table.splitlines() if line.startswith("| Monthly cost"))
    assert "/month |" in cost_row and ("+$" in cost_row or "−$" in cost_row or "same" in cost_row)
    assert "| Users | 1,000 | 2,000 | +1,000 |" in table


def test_plot_marks_the_pareto_front(spec: Specification) -> None:
    assert pareto_front([(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0)]) == [0, 1, 3]
    result = planned(spec)
    figure = cost_latency_figure(result, target_ms=spec.target_ttft_p90_ms)
    names = [trace.name for trace in figure.data]
    assert names == ["viable", "recommended", "Pareto front"]
    assert len(figure.data[1].x) == len(result.options)
    assert all("/month" in text for text in figure.data[1].hovertext)

"""The chat's pure parts: specification card, option cards, comparison table, plot, and edits."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from test_recommend_bruteforce import small_catalog

from app.chat import editing, labels, views
from app.chat.plots import cost_latency_figure, pareto_front
from app.intent.rules import extract
from app.intent.schema import Specification
from app.intent.usecases import apply_template, template_for_task
from app.planning.plan import PlanSettings, plan
from app.planning.result import RecommendationResult
from app.services.scenario_views import SavedScenario

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


def test_spec_card_is_compact_and_tells_stated_defaults_and_edits_apart(spec: Specification) -> None:
    card = views.spec_card(spec.edit(target_ttft_p90_ms=150))
    rows = [line for line in card.splitlines() if line.startswith("| ")]
    assert len(rows) <= 12, "two columns keep the card short"
    users = next(line for line in rows if "Users in total" in line)
    ttft = next(line for line in rows if "Time to first token" in line)
    tpot = next(line for line in rows if "Time per output token" in line)
    assert "1,000 ●" in users
    assert "150 ms ✎" in ttft
    assert "○" in tpot
    assert "Monthly budget | no limit" in card and "GPUs allowed | any" in card
    assert "100 active users" in card  # the traffic reading is shown
    assert "_" not in card, "no internal field names"
    assert "0.6666" not in card


def test_spec_card_lists_the_numbers_no_field_took(spec: Specification) -> None:
    card = views.spec_card(spec, unused_numbers=[30.0, 4096.0, 0.5])
    assert "**Numbers not used:** 30, 4,096, 0.5." in card
    assert "Numbers not used" not in views.spec_card(spec)


def test_spec_card_shows_owned_gpus_and_plain_words() -> None:
    intent = extract("Questions over our documents for 40 people on our own 8 H100s").intent
    spec = apply_template(intent, template_for_task(intent.task_type or "rag_qa"))
    card = views.spec_card(spec)
    assert "GPUs owned" in card and "8× H100" in card
    assert "rag_qa" not in card and "owned_hardware" not in card


def test_options_are_one_table_with_details_apart(spec: Specification) -> None:
    result = planned(spec)
    assert len(result.options) >= 3
    props = views.options_table_props(result)
    assert [r["rank"] for r in props["rows"]] == [o.rank for o in result.options]
    assert all(len(r["numbers"]) + 3 == len(props["columns"]) for r in props["rows"])
    summary = views.options_summary(result)
    assert "TTFT p90 ≤ 210 ms" in summary
    assert result.options[0].rationale not in summary, "the rationale is in the row's details only"
    details = props["rows"][0]["details"]
    assert details == views.option_details(result.options[0])
    assert "/month" in details and "TTFT p90" in details and "E2E p95" in details
    assert "target 210 ms" in details and "80% range" in details and "**estimated**" in details
    assert result.options[0].rationale in details
    assert views.options_table(result).count("| Option ") == len(result.options)


def test_one_e2e_value_per_option_everywhere(spec: Specification) -> None:
    result = planned(spec)
    o = result.options[0]
    shown = views.metric_value(o, "e2e_p95_ms")
    assert f"| {labels.ms(shown).removesuffix(' ms')} ✓ |" in views.options_table(result)
    assert labels.ms(shown) in views.option_details(o)
    a = _scenario("Scenario A", spec, 1)
    assert labels.ms(shown) in views.compare_table(a, a)


def test_whatif_answers_with_the_change(spec: Specification) -> None:
    before = planned(spec)
    tighter = editing.apply_changes(spec, {"target_ttft_p90_ms": 150})
    after = planned(tighter)
    summary = editing.describe_changes(spec, {"target_ttft_p90_ms": 150})
    assert summary == "Time to first token (p90) 210 ms → 150 ms"
    text = views.whatif_change(before, after, summary)
    a, b = before.options[0], after.options[0]
    assert f"{labels.usd(a.cost.monthly_usd)} → {labels.usd(b.cost.monthly_usd)}/month" in text
    assert "TTFT p90" in text and "→" in text
    assert ("same model" in text) == (a.model_id == b.model_id)


def test_nothing_fits_uses_plain_labels() -> None:
    from app.planning.result import Relaxation

    spec = apply_template(extract("a chatbot for 1000 users").intent, template_for_task("chatbot"))
    result = planned(spec.edit(target_ttft_p90_ms=1))
    assert not result.options
    result = result.model_copy(
        update={
            "relax": [
                Relaxation(
                    field="target_ttft_p90_ms", current=1.0, suggested=66.0, effect="3 pairs would qualify"
                )
            ],
            "message": "nothing meets these constraints: x. See `relax` for what to loosen.",
        }
    )
    text = views.nothing_fits(result)
    assert "Time to first token (p90)**: 1.0 ms → 66 ms" in text
    assert "target_ttft" not in text and "relax`" not in text


def test_implausible_values_are_flagged_with_what_they_imply(spec: Specification) -> None:
    assert views.plausibility_flags(spec) == []
    flags = views.plausibility_flags(spec.edit(target_ttft_p90_ms=1))
    assert len(flags) == 1 and "1.0 ms" in flags[0] and "miss" in flags[0]
    many = editing.apply_changes(spec, {"total_users": 50_000_000})
    flags = views.plausibility_flags(many)
    assert len(flags) == 1 and "50,000,000 users" in flags[0] and "req/s" in flags[0]


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
    assert values["expected_qps"] == float(labels.sig(spec.expected_qps)), "rounded for people"
    assert values["max_monthly_cost_usd"] == 0  # the label says 0 means no limit
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
    assert "| Monthly cost |" in table and "| Difference |" in table
    cost_row = next(line for line in table.splitlines() if line.startswith("| Monthly cost"))
    assert "/month |" in cost_row and ("+$" in cost_row or "−$" in cost_row or "same" in cost_row)
    assert "| Users in total | 1,000 | 2,000 | +1,000 |" in table
    assert "| | Scenario A | Scenario B | Difference |" in table


def test_plot_marks_the_pareto_front(spec: Specification) -> None:
    assert pareto_front([(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0)]) == [0, 1, 3]
    result = planned(spec)
    figure = cost_latency_figure(result, target_ms=spec.target_ttft_p90_ms)
    names = [trace.name for trace in figure.data]
    assert names == ["other viable", "recommended", "Pareto front"]
    assert len(figure.data[1].x) == len(result.options)
    assert all("/month" in text for text in figure.data[1].hovertext)
    positions = list(figure.data[1].textposition)
    assert all(a != b for a, b in itertools.pairwise(positions)), "neighbours' labels differ"


def test_plot_uses_a_log_axis_and_zooms_when_costs_span_far(spec: Specification) -> None:
    result = planned(spec)
    outlier = result.options[-1].model_copy(
        update={
            "rank": 99,
            "replicas": 40,
            "cost": result.options[-1].cost.model_copy(update={"monthly_usd": 55_000.0}),
        }
    )
    spread = result.model_copy(update={"viable": [*result.viable, outlier]})
    figure = cost_latency_figure(spread, target_ms=spec.target_ttft_p90_ms)
    assert figure.layout.yaxis.type == "log"
    _low, high = figure.layout.yaxis.range
    assert 10**high < 55_000, "the view opens on the recommended options"
    assert "outside this view" in figure.layout.title.text


def test_plot_axes_for_owned_hardware_and_batch_jobs(spec: Specification) -> None:
    result = planned(spec)
    owned = result.model_copy(
        update={"specification": {**result.specification, "deployment_model": "owned_hardware"}}
    )
    figure = cost_latency_figure(owned)
    assert figure.layout.yaxis.title.text == "GPUs used"
    # The plotted points are the options' GPU counts (as a multiset: several options may use as many GPUs).
    assert sorted(figure.data[1].y) == sorted(float(o.gpus_total) for o in result.options)
    batch = result.model_copy(update={"specification": {**result.specification, "batch_items": 20_000}})
    figure = cost_latency_figure(batch)
    assert figure.layout.xaxis.title.text == "Hours per run" and figure.layout.yaxis.title.text.startswith(
        "USD per run"
    )
    assert all(x > 0 for x in figure.data[1].x), "no batch point sits at zero"


def test_what_to_loosen_never_claims_the_budget_is_met(spec: Specification) -> None:
    """A relaxation names only what is known: with a budget set, it never says the rest is met."""
    strict = spec.edit(target_ttft_p90_ms=5, max_monthly_cost_usd=300, quality_threshold="standard")
    result = plan(strict, small_catalog(), PlanSettings())
    assert not result.options and result.relax
    text = views.nothing_fits(result)
    assert "every other constraint" not in text and "target_ttft" not in text and "relax`" not in text
    ttft = next(line for line in text.splitlines() if "Time to first token" in line)
    assert "$300/month budget" in ttft, ttft

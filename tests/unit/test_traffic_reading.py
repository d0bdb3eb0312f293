"""A user count is read as it was meant (concurrent, daily, total), a batch job becomes a batch window, and
each reading turns into load by its own rule with a range, editable afterwards."""

from __future__ import annotations

import pytest

from app.intent.rules import extract
from app.intent.usecases import apply_template, template_for_task
from app.planning.traffic import derive_traffic

pytestmark = pytest.mark.unit


def _spec(text: str):  # type: ignore[no-untyped-def]
    intent = extract(text).intent
    return apply_template(intent, template_for_task(intent.task_type))


def test_daily_users_are_not_all_active_at_once() -> None:
    spec = _spec("a customer-support chatbot with about 50,000 daily users")
    assert spec.daily_users == 50_000 and spec.concurrent_users is None
    derivation, _ = derive_traffic(spec)
    assert derivation.reading == "daily"
    # 50,000 × 10 requests/day ÷ 86,400 s ≈ 5.8 QPS average, × 3 at the busiest hour ≈ 17 QPS (not 333).
    assert 10 < derivation.peak_qps < 25
    assert derivation.peak_qps_low is not None and derivation.peak_qps_high is not None
    assert derivation.peak_qps_low < derivation.peak_qps < derivation.peak_qps_high < 100
    assert "daily users" in derivation.explanation[0] and "diurnal" in derivation.explanation[0]


def test_concurrent_users_are_the_peak() -> None:
    spec = _spec("an IT helpdesk chatbot, up to 200 concurrent users at the same time")
    assert spec.concurrent_users == 200
    derivation, _ = derive_traffic(spec)
    # Every concurrent user sends a turn about every 30 s: 200 × 2 / 60 ≈ 6.7 QPS at peak (not 1.3).
    assert derivation.reading == "concurrent" and derivation.peak_qps == pytest.approx(6.667, abs=0.01)


@pytest.mark.parametrize("text", ["a chatbot for 1000 users", "a chatbot for our 1,000 employees"])
def test_a_population_keeps_the_templates_active_share(text: str) -> None:
    spec = _spec(text)
    assert spec.total_users == 1000
    derivation, _ = derive_traffic(spec)
    assert derivation.reading == "total" and derivation.peak_qps == pytest.approx(6.667, abs=0.01)


def test_a_nightly_job_becomes_a_batch_window() -> None:
    spec = _spec(
        "Every night we need to summarise 20,000 support tickets. The run must finish within 6 hours."
    )
    assert (spec.batch_items, spec.batch_window_hours, spec.batch_runs_per_month) == (20_000, 6.0, 30.0)
    derivation, _ = derive_traffic(spec)
    # Sized to finish in 80% of the window: 20,000 / (6 h × 3,600 × 0.8) ≈ 1.16 requests/s during the run.
    assert derivation.reading == "batch" and derivation.peak_qps == pytest.approx(1.157, abs=0.01)
    overnight = _spec("translate 5,000 product pages overnight")
    assert overnight.batch_items == 5000 and overnight.batch_window_hours == 8.0


def test_the_reading_is_editable() -> None:
    spec = _spec("a chatbot for 1000 users")
    as_daily = spec.edit(total_users=None, daily_users=1000)
    assert as_daily.qps_derivation is not None and as_daily.qps_derivation.kind == "daily"
    assert as_daily.peak_qps < spec.peak_qps  # 1,000 a day is much less than 1,000 on the books at 10% active
    doubled = spec.edit(total_users=2000)
    assert doubled.peak_qps == pytest.approx(2 * spec.peak_qps, rel=1e-3)
    assert doubled.origins["peak_qps"] == "edited"


def test_price_class_only_when_stated() -> None:
    assert extract("spot or marketplace GPUs are fine").intent.price_class == "marketplace"
    assert extract("it must run on AWS").intent.price_class == "hyperscaler"
    assert extract("a chatbot for 1000 users").intent.price_class is None


@pytest.mark.parametrize(
    "text",
    [
        "legal summarisation of 8,500-token contracts, cheapest",
        "We own 8 H100s and want an internal assistant, best quality",
    ],
)
def test_a_load_nobody_stated_is_shown_as_assumed(text: str) -> None:
    """No user count or rate in the text: the template's load is labelled as an assumption in the derivation,
    the CLI/chat reading line and the specification card, and the chat asks for it."""
    from app.chat.views import spec_card
    from app.intent.clarify import clarifying_questions
    from app.planning.explain import traffic_reading_line
    from app.planning.result import RecommendationResult

    spec = _spec(text)
    derivation, _ = derive_traffic(spec)
    assert derivation.load_assumed
    assert derivation.explanation[0].startswith("Assumed (not stated)")
    result = RecommendationResult(specification=spec.model_dump(mode="json"), traffic=derivation, options=[])
    assert "assumed (not stated)" in (traffic_reading_line(result) or "")
    assert "Traffic reading, assumed (not stated):" in spec_card(spec)
    questions = clarifying_questions(extract(text).intent)
    assert "load" in [q.key for q in questions] and len(questions) <= 2


def test_a_stated_load_is_not_called_assumed() -> None:
    from app.chat.views import spec_card

    spec = _spec("a chatbot for 1000 users")
    derivation, _ = derive_traffic(spec)
    assert not derivation.load_assumed
    assert not any("ssumed" in line for line in derivation.explanation)
    assert "assumed (not stated)" not in spec_card(spec)

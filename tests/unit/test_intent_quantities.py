"""The quantity grammar: user counts by kind, batch runs, price classes, and numbers nothing used."""

from __future__ import annotations

from typing import Any

import pytest

from app.intent.rules import extract


def stated(text: str) -> dict[str, Any]:
    data = extract(text).intent.stated()
    data.pop("use_case_description", None)
    return data


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("Customer support chatbot for 200 concurrent users", "concurrent_users", 200),
        ("Up to 2,000 people at once during the launch", "concurrent_users", 2000),
        ("up to 250 simultaneous sessions on the support bot", "concurrent_users", 250),
        ("two hundred concurrent users, chatbot for the intranet", "concurrent_users", 200),
        ("Chatbot per il supporto clienti, 1.000 utenti contemporanei", "concurrent_users", 1000),
        ("around 50,000 daily active users on our assistant", "daily_users", 50_000),
        ("DAU ~30k, chat app", "daily_users", 30_000),
        ("The bot gets about 1,000 users a day.", "daily_users", 1000),
        ("Necesitamos un chatbot para 10.000 usuarios diarios", "daily_users", 10_000),
        ("internal code completion for 5k engineers", "total_users", 5000),
        ("1,200 seats for our legal research tool", "total_users", 1200),
        ("I need a summarization service for 1000 users.", "total_users", 1000),
        ("a content tool for our marketing team (about 60 people)", "total_users", 60),
        ("Codeaanvulling in de IDE voor ons team van 250 ontwikkelaars", "total_users", 250),
    ],
)
def test_user_counts_by_kind(text: str, field: str, value: int) -> None:
    got = stated(text)
    assert got.get(field) == value, got
    others = {"concurrent_users", "daily_users", "total_users"} - {field}
    assert not others & got.keys(), got


def test_a_population_and_its_share_at_once_are_both_kept() -> None:
    got = stated(
        "There are about 3,000 claims adjusters who'd use it, but realistically maybe 150 at the same time."
    )
    assert got["total_users"] == 3000 and got["concurrent_users"] == 150


@pytest.mark.parametrize(
    "text",
    [
        "Our team of 3 engineers is shipping version 2 of the support chatbot on March 15.",
        "We got 200 GitHub stars last week on the plugin, built by 6 contributors.",
        "We raised $5M last year and have 40 customers; we need a content generation service.",
        "Hi! We're a small startup (5 people) building a translation API.",
    ],
)
def test_builders_and_business_customers_are_not_users(text: str) -> None:
    got = stated(text)
    assert not {"concurrent_users", "daily_users", "total_users"} & got.keys(), got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Every night we need to summarize about 20,000 support tickets; the job must finish within 6 h.",
            {"batch_items": 20_000, "batch_window_hours": 6, "batch_runs_per_month": 30},
        ),
        (
            "Batch job: classify 1M product reviews once a week. Overnight is fine.",
            {"batch_items": 1_000_000, "batch_window_hours": 8, "batch_runs_per_month": 4.3},
        ),
        (
            "nightly ETL: 8,000 PDFs -> structured JSON, batch starts at 10pm and has to be done by 6am",
            {"batch_items": 8000, "batch_window_hours": 8, "batch_runs_per_month": 30},
        ),
        (
            "Once a month we run clause extraction over 100k contracts as a batch, with a 24 hour window.",
            {"batch_items": 100_000, "batch_window_hours": 24, "batch_runs_per_month": 1},
        ),
    ],
)
def test_batch_runs(text: str, expected: dict[str, float]) -> None:
    got = stated(text)
    for key, value in expected.items():
        assert got.get(key) == value, got
    assert "expected_qps" not in got  # the size of a run is not a request rate


def test_a_daily_volume_is_a_rate_not_a_run() -> None:
    got = stated("Batch classification of 20 million documents per day.")
    assert "batch_items" not in got and round(got["expected_qps"], 1) == 231.5


@pytest.mark.parametrize(
    ("text", "price_class"),
    [
        ("For compliance it must be on AWS/GCP/Azure.", "hyperscaler"),
        ("spot instances are totally fine for this, it's a batch thing", "marketplace"),
        ("Mainstream GPU clouds are fine, but no marketplace providers.", "mainstream"),
        ("needs to be in eu-west-1 on aws", None),
        ("no spot instances please", None),
    ],
)
def test_price_class_only_when_stated(text: str, price_class: str | None) -> None:
    assert stated(text).get("price_class") == price_class


def test_every_number_is_used_or_reported() -> None:
    result = extract("We own 8 H100s, chatbot for 300 users, version 2 ships on March 15, 20 rps")
    assert result.intent.gpu_inventory is not None and result.intent.total_users == 300
    assert result.unused_numbers == [2.0, 15.0]
    assert extract("chatbot for 300 users at 20 rps").unused_numbers == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Latency budget: 250 ms to first token at p90, 30 ms/token after that.", {"target_tpot_p90_ms": 30}),
        (
            "We'll send roughly 6k tokens of context and expect ~400 tokens back.",
            {"generation_length_avg": 400},
        ),
        ("Each night the pipeline ingests 1.2M rows of logs; window 02:00-06:00.", {"batch_window_hours": 4}),
        ("Serve Llama 3.1 70B, budget ~ 25 dollars per hour, 99.9 uptime", {"reliability_target": 99.9}),
        ("~800 clinicians will use a note summarizer, maybe 100 at a time", {"concurrent_users": 100}),
        ("Our budget is 40k a year. Summaries of reports.", {"budget": {"max_monthly_cost_usd": 3333.33}}),
    ],
)
def test_more_quantity_shapes(text: str, expected: dict[str, Any]) -> None:
    got = stated(text)
    for key, value in expected.items():
        assert got.get(key) == value, got


def test_a_clock_time_is_a_number_too() -> None:
    result = extract("the review is at 10:30 tomorrow, 300 users")
    assert result.unused_numbers == [10.5] and result.intent.total_users == 300


@pytest.mark.parametrize(
    ("text", "users"),
    [
        ("chatbot for 300 concurent usrs, ttft < 200ms", {"concurrent_users": 300}),
        ("Un chatbot per 500 utenti", {"total_users": 500}),
        ("our 2 engineers will maintain it; we want summarization for the 200 lawyers", {"total_users": 200}),
        ("pricing is $5 per 100 users", {}),
        ("10 requests per 1000 users", {}),
    ],
)
def test_people_after_per_and_builders_in_the_future(text: str, users: dict[str, int]) -> None:
    got = stated(text)
    assert {k: got[k] for k in ("concurrent_users", "daily_users", "total_users") if k in got} == users


def test_a_one_off_batch_within_a_day() -> None:
    got = stated("Sentiment tagging for 40 million tweets, finish within a day, once.")
    assert got["batch_items"] == 40_000_000 and got["batch_window_hours"] == 24


@pytest.mark.parametrize(
    "text",
    [
        "a chatbot for 1e309 users",
        "a chatbot for " + "9" * 400 + " users",
        "2^999 requests per second",
        "1.5e999k users, 10**999 tokens",
    ],
)
def test_numbers_beyond_a_float_are_left_unread_not_a_crash(text: str) -> None:
    """Attack pass on `preflight up` (issue 14 leftover 4): '1e309 users' in a request made the number
    normaliser raise OverflowError, so POST /api/recommendations answered 500."""
    import math

    result = extract(text)

    def finite(value: Any) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, dict):
            return all(finite(v) for v in value.values())
        if isinstance(value, list):
            return all(finite(v) for v in value)
        return True

    assert finite(result.intent.stated())

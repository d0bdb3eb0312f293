"""Hardware statements: owned GPUs, what may be used, what is ruled out, in several languages."""

from __future__ import annotations

from typing import Any

import pytest

from app.intent.rules import extract


def stated(text: str) -> dict[str, Any]:
    data = extract(text).intent.stated()
    data.pop("use_case_description", None)
    return data


@pytest.mark.parametrize(
    ("text", "gpu", "count"),
    [
        ("We already own 8 H100s", "H100-SXM-80GB", 8),
        ("Jede Nacht 50.000 Dokumente verarbeiten. Wir besitzen 4 A100 80GB.", "A100-SXM-80GB", 4),
        ("Nous possédons déjà 16 GPU H100. Chatbot RH.", "H100-SXM-80GB", 16),
        ("Tenemos 16 GPUs L40S propias en nuestro centro de datos y queremos usarlas", "L40S-48GB", 16),
    ],
)
def test_owned_gpus_become_the_inventory(text: str, gpu: str, count: int) -> None:
    got = stated(text)
    assert got["gpu_inventory"] == [{"gpu": gpu, "count": count}], got
    assert "available_gpus" not in got


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        ("Please don't use T4s or L4s - too slow for us.", ["T4", "L4"]),
        ("Keine AMD-GPUs. Übersetzung Deutsch-Englisch.", ["MI300X-192GB"]),
        ("Chatbot for our HR portal. No AMD GPUs please.", ["MI300X-192GB"]),
    ],
)
def test_ruled_out_gpus(text: str, excluded: list[str]) -> None:
    got = stated(text)
    assert got["excluded_gpus"] == excluded and "available_gpus" not in got


def test_only_and_at_most() -> None:
    got = stated(
        "We can only use A100 80GB cards (that's what the shared cluster has), and at most 16 of them."
    )
    assert got["available_gpus"] == ["A100-SXM-80GB"] and got["max_gpus"] == 16
    got = stated("We willen Llama 3.3 70B draaien, maximaal 8 GPU's, alleen H100 of H200.")
    assert got["available_gpus"] == ["H100-SXM-80GB", "H200-SXM-141GB"] and got["max_gpus"] == 8


def test_our_own_servers_are_owned_hardware_and_buying_is_a_purchase() -> None:
    assert stated("deploy on our own H200 servers")["deployment_model"] == "owned_hardware"
    assert stated("Assistente de código. Queremos comprar os servidores.")["deployment_model"] == "purchase"


def test_a_kind_of_card_is_not_the_whole_vendor() -> None:
    got = stated("Please, no Nvidia consumer cards and nothing from AMD. H100 or H200 is fine.")
    assert got["excluded_gpus"] == ["MI300X-192GB"]
    assert got["available_gpus"] == ["H100-SXM-80GB", "H200-SXM-141GB"]


def test_a_list_shares_its_verdict() -> None:
    got = stated("Don't want anything older than A100; L4 and T4 are out.")
    assert got["excluded_gpus"] == ["L4", "T4"] and got["available_gpus"] == ["A100-SXM-80GB"]

"""The seed loader: all-or-nothing loads, clear row-level errors, idempotent upserts, --replace, CSV."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from db.session import make_engine

PREFLIGHT = [sys.executable, "-m", "app.cli"]
TABLES = ("models", "gpus", "prices", "benchmarks", "usecase_templates")

GPU = {
    "id": "TEST-GPU-48GB",
    "vendor": "NVIDIA",
    "aliases": ["testgpu", "Test GPU 48"],
    "memory_gb": 48,
    "mem_bw_tb_s": 0.9,
    "bf16_tflops": 180,
    "interconnect": "pcie",
    "tdp_w": 300,
    "source": {"url": "https://example.invalid/datasheet"},
}
PRICE = {
    "gpu": "testgpu",
    "kind": "on_demand",
    "provider": "ExampleCloud",
    "region": "r1",
    "instance_type": "x1",
    "gpus_per_instance": 1,
    "usd_per_gpu_hour": 1.25,
    "date": "2026-10-01",
    "source": "example-prices",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PREFLIGHT, *args], env=env, capture_output=True, text=True, timeout=300)


async def snapshot(url: str) -> dict[str, str]:
    """A digest of every seeded table's full content."""
    engine = make_engine(url)
    out = {}
    async with engine.connect() as conn:
        for t in TABLES:
            rows = (await conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))).all()
            out[t] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    await engine.dispose()
    return out


def write(path: Path, kind: str, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"kind": kind, "rows": rows}))
    return path


async def test_one_malformed_row_changes_nothing_and_names_row_and_field(
    tmp_path: Path, cli_env: dict[str, str], fresh_db_url: str
) -> None:
    before = await snapshot(fresh_db_url)
    bad = dict(PRICE, instance_type="x2", usd_per_gpu_hour=-3)  # negative price
    f = write(tmp_path / "prices.json", "prices", [PRICE, bad])
    gpus = write(tmp_path / "gpus.json", "gpus", [GPU])

    result = run(["seed", "load", str(gpus), str(f)], cli_env)

    assert result.returncode != 0
    assert "rows[1]" in result.stderr and "usd_per_gpu_hour" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert await snapshot(fresh_db_url) == before


async def test_load_is_idempotent_and_reports_added_updated_unchanged(
    tmp_path: Path, cli_env: dict[str, str], fresh_db_url: str
) -> None:
    gpus = write(tmp_path / "gpus.json", "gpus", [GPU])
    prices = write(tmp_path / "prices.json", "prices", [PRICE])

    first = run(["seed", "load", "--json", str(gpus), str(prices)], cli_env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["kinds"]["prices"] == {
        "added": 1,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }

    after_first = await snapshot(fresh_db_url)
    second = run(["seed", "load", "--json", str(gpus), str(prices)], cli_env)
    assert json.loads(second.stdout)["kinds"]["prices"]["unchanged"] == 1
    assert await snapshot(fresh_db_url) == after_first

    write(prices, "prices", [dict(PRICE, usd_per_gpu_hour=1.5)])
    third = run(["seed", "load", "--json", str(prices)], cli_env)
    assert json.loads(third.stdout)["kinds"]["prices"]["updated"] == 1


async def test_dry_run_writes_nothing(tmp_path: Path, cli_env: dict[str, str], fresh_db_url: str) -> None:
    before = await snapshot(fresh_db_url)
    gpus = write(tmp_path / "gpus.json", "gpus", [GPU])
    result = run(["seed", "load", "--dry-run", str(gpus)], cli_env)
    assert result.returncode == 0, result.stderr
    assert "would load" in result.stdout and "1 added" in result.stdout
    assert await snapshot(fresh_db_url) == before


async def test_replace_removes_rows_of_the_same_source_only(
    tmp_path: Path, cli_env: dict[str, str], fresh_db_url: str
) -> None:
    gpus = write(tmp_path / "gpus.json", "gpus", [GPU])
    two = [PRICE, dict(PRICE, instance_type="x2", usd_per_gpu_hour=2.0)]
    assert (
        run(["seed", "load", str(gpus), str(write(tmp_path / "p.json", "prices", two))], cli_env).returncode
        == 0
    )

    engine = make_engine(fresh_db_url)
    async with engine.connect() as conn:
        others = (
            await conn.execute(text("SELECT count(*) FROM prices WHERE source <> 'example-prices'"))
        ).scalar()

    result = run(
        ["seed", "load", "--replace", "--json", str(write(tmp_path / "p.json", "prices", [PRICE]))], cli_env
    )
    assert json.loads(result.stdout)["kinds"]["prices"]["deleted"] == 1
    async with engine.connect() as conn:
        mine = (
            await conn.execute(text("SELECT count(*) FROM prices WHERE source = 'example-prices'"))
        ).scalar()
        still = (
            await conn.execute(text("SELECT count(*) FROM prices WHERE source <> 'example-prices'"))
        ).scalar()
    await engine.dispose()
    assert mine == 1 and still == others


async def test_csv_with_dotted_columns(tmp_path: Path, cli_env: dict[str, str], fresh_db_url: str) -> None:
    gpus = write(tmp_path / "gpus.json", "gpus", [GPU])
    csv_file = tmp_path / "my_gpus.csv"
    csv_file.write_text(
        "id,vendor,memory_gb,mem_bw_tb_s,interconnect,aliases,source.url,source.note\n"
        'CSV-GPU-24GB,NVIDIA,24,0.3,pcie,"[""csvgpu""]",https://example.invalid/x,from a csv\n'
    )
    result = run(["seed", "load", "--kind", "gpus", str(gpus), str(csv_file)], cli_env)
    assert result.returncode == 0, result.stderr
    engine = make_engine(fresh_db_url)
    async with engine.connect() as conn:
        src = (await conn.execute(text("SELECT source FROM gpus WHERE id = 'CSV-GPU-24GB'"))).scalar_one()
    await engine.dispose()
    assert src == {"url": "https://example.invalid/x", "note": "from a csv"}


def test_bad_csv_row_reports_line_and_field(tmp_path: Path, cli_env: dict[str, str]) -> None:
    csv_file = tmp_path / "gpus.csv"
    csv_file.write_text("id,vendor,memory_gb,mem_bw_tb_s\nOK-GPU,NVIDIA,24,0.3\nBAD-GPU,NVIDIA,lots,0.3\n")
    result = run(["seed", "load", str(csv_file)], cli_env)
    assert result.returncode == 2  # bad input (app.errors.EXIT_CODES)
    assert "line 3" in result.stderr and "memory_gb" in result.stderr


def test_unknown_gpu_in_price_is_refused(tmp_path: Path, cli_env: dict[str, str]) -> None:
    f = write(tmp_path / "prices.json", "prices", [dict(PRICE, gpu="NoSuchGPU-9000")])
    result = run(["seed", "load", str(f)], cli_env)
    assert result.returncode == 2
    assert "unknown gpu 'NoSuchGPU-9000'" in result.stderr


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]"])
def test_unreadable_file_is_a_clear_error(tmp_path: Path, cli_env: dict[str, str], content: str) -> None:
    f = tmp_path / "x.json"
    f.write_text(content)
    result = run(["seed", "load", str(f)], cli_env)
    assert result.returncode != 0
    assert "error:" in result.stderr and "Traceback" not in result.stderr


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not SHARED.exists(), reason="shared/data is not beside the repository")
@pytest.mark.parametrize(
    ("relpath", "kind", "rows"),
    [
        ("catalog/models.json", "models", 41),
        ("catalog/reference_models.json", "models", 10),
        ("catalog/reference_gpus.json", "gpus", 16),
        ("catalog/gpu_prices.json", "prices", 188),
        ("published/serving_measurements.json", "benchmarks", 3384),
    ],
)
def test_shared_files_load_directly_and_match_the_bundled_seed(
    cli_env: dict[str, str], relpath: str, kind: str, rows: int
) -> None:
    result = run(["seed", "load", "--dry-run", "--json", str(SHARED / relpath)], cli_env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["kinds"]
    assert summary == {kind: {"added": 0, "updated": 0, "unchanged": rows, "deleted": 0}}


def test_export_is_stable_and_reloads_unchanged(tmp_path: Path, cli_env: dict[str, str]) -> None:
    first = run(["seed", "export"], cli_env)
    second = run(["seed", "export"], cli_env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    out = tmp_path / "export"
    assert run(["seed", "export", str(out)], cli_env).returncode == 0
    files = sorted(out.glob("*.json"))
    assert [f.stem for f in files] == ["benchmarks", "gpus", "models", "prices", "usecases"]
    reload = run(["seed", "load", "--json", *map(str, files)], cli_env)
    assert reload.returncode == 0, reload.stderr
    for kind, s in json.loads(reload.stdout)["kinds"].items():
        assert s["added"] == 0 and s["updated"] == 0, (kind, s)


@pytest.mark.parametrize(("value", "field"), [("Infinity", "usd_per_gpu_hour"), ("NaN", "usd_per_gpu_hour")])
def test_non_finite_numbers_are_refused_with_file_row_and_field(
    tmp_path: Path, cli_env: dict[str, str], value: str, field: str
) -> None:
    f = tmp_path / "prices.json"
    text_ = json.dumps({"kind": "prices", "rows": [PRICE, dict(PRICE, region="r2", usd_per_gpu_hour=7.5)]})
    f.write_text(text_.replace("7.5", value))
    result = run(["seed", "load", str(f)], cli_env)
    assert result.returncode == 2
    assert "prices.json" in result.stderr and field in result.stderr and "finite" in result.stderr
    assert "Traceback" not in result.stderr


def test_nul_in_text_is_refused_without_traceback(tmp_path: Path, cli_env: dict[str, str]) -> None:
    f = write(tmp_path / "prices.json", "prices", [dict(PRICE, provider="Example\u0000Cloud")])
    result = run(["seed", "load", str(f)], cli_env)
    assert result.returncode == 2
    assert "provider" in result.stderr and "NUL" in result.stderr and "Traceback" not in result.stderr

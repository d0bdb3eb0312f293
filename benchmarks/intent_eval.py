"""Field-level evaluation of the offline intent extractor on a labelled set.

Usage: python benchmarks/intent_eval.py [tests/data/intent_labelled.jsonl] [--verbose]

Each line is {"text": ..., "expected": {field: value}} with dotted names for nested fields
("budget.max_monthly_cost_usd") and only the fields the text states. The extractor's
``use_case_description`` (the person's own words) is not scored.

- field accuracy: expected fields extracted with the right value / all expected fields;
- hallucinated fields: fields set that the label does not have (the text does not support them);
- time per message: mean and max of the extractor's wall time, after one warm-up pass.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.intent.rules import extract
from app.intent.vocabulary import default_vocabulary

DEFAULT_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "intent_labelled.jsonl"
UNSCORED = {"use_case_description"}


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def same(expected: Any, got: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(expected), float(got), rel_tol=0.01, abs_tol=1e-3)
    if isinstance(expected, list) and isinstance(got, list):

        def key(x: Any) -> str:
            return json.dumps(x, sort_keys=True)

        return sorted(map(key, expected)) == sorted(map(key, got))
    return bool(expected == got)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--verbose", "-v", action="store_true", help="print every miss")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.path.read_text(encoding="utf-8").splitlines() if line.strip()]
    vocab = default_vocabulary()
    for row in rows:  # warm-up: compile regexes, build the vocabulary
        extract(row["text"], vocab)

    total = correct = hallucinated = wrong = 0
    times: list[float] = []
    per_field: dict[str, list[int]] = {}
    for row in rows:
        start = time.perf_counter()
        result = extract(row["text"], vocab)
        times.append((time.perf_counter() - start) * 1000)
        got = {k: v for k, v in flatten(result.intent.stated()).items() if k not in UNSCORED}
        expected = flatten(row["expected"])
        for field, value in expected.items():
            total += 1
            stats = per_field.setdefault(field, [0, 0])
            stats[1] += 1
            if field in got and same(value, got[field]):
                correct += 1
                stats[0] += 1
            else:
                if field in got:
                    wrong += 1
                if args.verbose:
                    print(
                        f"MISS  {field}: expected {value!r}, got {got.get(field)!r}\n"
                        f"      {row['text'][:100]}"
                    )
        for field in got.keys() - expected.keys():
            hallucinated += 1
            if args.verbose:
                print(f"EXTRA {field}={got[field]!r}\n      {row['text'][:100]}")

    accuracy = correct / total if total else 1.0
    print(f"messages: {len(rows)}  labelled fields: {total}")
    print(
        f"field accuracy: {accuracy:.1%} ({correct}/{total}; {wrong} wrong values, "
        f"{total - correct - wrong} missed)"
    )
    print(f"hallucinated fields: {hallucinated}")
    print(
        f"time per message: mean {statistics.mean(times):.2f} ms, p95 "
        f"{sorted(times)[int(0.95 * (len(times) - 1))]:.2f} ms, max {max(times):.2f} ms"
    )
    if args.verbose:
        for field, (ok, n) in sorted(per_field.items()):
            print(f"  {field:45s} {ok}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

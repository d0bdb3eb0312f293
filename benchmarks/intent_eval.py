"""Field-level evaluation of the offline intent extractor on a labelled set.

Usage: python benchmarks/intent_eval.py [PATH.jsonl] [--verbose] [--no-speed] [--rules-only]
                                        [--split all|train|heldout]

PATH is any JSONL file whose lines are {"text": ..., "expected": {field: value}}, with dotted or nested
names for the budget and datacenter fields ("budget.max_monthly_cost_usd") and only the fields the text
states. The extractor's ``use_case_description`` (the person's own words) is not scored.

Printed:
- field accuracy: expected fields extracted with the right value / all expected fields;
- per field: precision (right values / values the extractor set) and recall (right values / labelled);
- hallucinated fields: fields set that the label does not have (the text does not support them);
- unused numbers: numbers in the text that no field took (as the extractor reports them when it does, and
  by value match, the same way for any extractor: a number is "used" when some extracted value equals it
  after a unit conversion);
- speed: rules and grammar only, per message; the whole extractor (one embedding and the k-NN query) per
  message, warm; and a 20 KB message through the whole extractor.

The categorical fields use the bundled labelled examples (``seed/data/examples.json``), as
``preflight extract`` does without a database; ``--rules-only`` scores the rules alone. ``--split`` keeps
only the train or held-out part of the set (the examples come only from train parts).
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

from app.intent.examples import bundled_index
from app.intent.extractor import extract
from app.intent.rules import extract as extract_rules
from app.intent.rules import is_typed_as
from app.intent.vocabulary import default_vocabulary, same_subject
from seed.intent_examples import split_of

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


def same(expected: Any, got: Any, field: str = "") -> bool:
    if field == "subject_matter" and isinstance(expected, str) and isinstance(got, str):
        return same_subject(expected, got)
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(float(expected), float(got), rel_tol=0.01, abs_tol=1e-3)
    if isinstance(expected, list) and isinstance(got, list):

        def key(x: Any) -> str:
            return json.dumps(x, sort_keys=True)

        return sorted(map(key, expected)) == sorted(map(key, got))
    return bool(expected == got)


def _values(got: dict[str, Any]) -> list[float]:
    out: list[float] = []
    for value in got.values():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out.append(float(value))
        elif isinstance(value, list):
            out += [float(v["count"]) for v in value if isinstance(v, dict) and "count" in v]
    return out


def unused_by_value(numbers: list[float], got: dict[str, Any]) -> list[float]:
    """Numbers no extracted value accounts for, after a unit conversion (or tokens/s -> ms per token)."""
    values = _values(got)

    def used(n: float) -> bool:
        for v in values:
            if is_typed_as(v, n):
                return True
            if n > 0 and math.isclose(v, 1000.0 / n, rel_tol=0.01):
                return True
        return False

    return [n for n in numbers if not used(n)]


def _schema_paths() -> set[str]:
    from app.intent.schema import DeploymentIntent

    paths: set[str] = set()
    for name, info in DeploymentIntent.model_fields.items():
        paths.add(name)
        sub = getattr(info.annotation, "model_fields", None)
        for arg in getattr(info.annotation, "__args__", ()):
            sub = sub or getattr(arg, "model_fields", None)
        paths.update(f"{name}.{s}" for s in (sub or {}))
    return paths


def load_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{n}: not JSON: {e}") from e
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("text"), str)
            or not isinstance(row.get("expected"), dict)
        ):
            raise SystemExit(f"{path}:{n}: expected {{'text': str, 'expected': {{...}}}}")
        rows.append(row)
    return rows


def _pct(num: int, den: int) -> str:
    return f"{num / den:6.1%}" if den else "     -"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--verbose", "-v", action="store_true", help="print every miss and extra field")
    parser.add_argument("--no-speed", action="store_true", help="skip the 20 KB timing")
    parser.add_argument("--rules-only", action="store_true", help="no classifier (no embedding)")
    parser.add_argument("--split", choices=("all", "train", "heldout"), default="all")
    args = parser.parse_args()
    if not args.path.is_file():
        print(f"error: no such file {args.path}", file=sys.stderr)
        return 2
    rows = load_rows(args.path)
    if args.split != "all":
        rows = [r for r in rows if split_of(r["text"]) == args.split]
    if not rows:
        print(f"error: no rows in {args.path} (split {args.split})", file=sys.stderr)
        return 2
    vocab = default_vocabulary()
    examples = None if args.rules_only else bundled_index()
    rule_times: list[float] = []
    for row in rows:  # warm-up: compile regexes, build the vocabulary, load the encoder
        extract(row["text"], vocab, examples=examples)
        start = time.perf_counter()
        extract_rules(row["text"], vocab)
        rule_times.append((time.perf_counter() - start) * 1000)

    total = correct = hallucinated = wrong = 0
    unused_reported = unused_value = numbers_total = 0
    times: list[float] = []
    # field -> [right, labelled, set by the extractor]
    per_field: dict[str, list[int]] = {}
    for row in rows:
        start = time.perf_counter()
        result = extract(row["text"], vocab, examples=examples)
        times.append((time.perf_counter() - start) * 1000)
        got = {k: v for k, v in flatten(result.intent.stated()).items() if k not in UNSCORED}
        expected = flatten(row["expected"])
        for field in got:
            per_field.setdefault(field, [0, 0, 0])[2] += 1
        for field, value in expected.items():
            total += 1
            stats = per_field.setdefault(field, [0, 0, 0])
            stats[1] += 1
            if field in got and same(value, got[field], field):
                correct += 1
                stats[0] += 1
            else:
                if field in got:
                    wrong += 1
                if args.verbose:
                    print(
                        f"MISS  {field}: expected {value!r}, got {got.get(field)!r}\n"
                        f"      {row['text'][:160]}"
                    )
        for field in got.keys() - expected.keys():
            hallucinated += 1
            if args.verbose:
                print(f"EXTRA {field}={got[field]!r}\n      {row['text'][:160]}")
        numbers_total += len(result.numbers)
        by_value = unused_by_value(result.numbers, got)
        unused_value += len(by_value)
        reported = getattr(result, "unused_numbers", None)
        if reported is not None:
            unused_reported += len(reported)
        if args.verbose and by_value:
            print(f"UNUSED {by_value}\n      {row['text'][:160]}")

    accuracy = correct / total if total else 1.0
    print(f"set: {args.path}")
    print(f"messages: {len(rows)}  labelled fields: {total}")
    print(
        f"field accuracy: {accuracy:.1%} ({correct}/{total}; {wrong} wrong values, "
        f"{total - correct - wrong} missed)"
    )
    known = _schema_paths()
    in_schema = [(ok, n) for f, (ok, n, _m) in per_field.items() if f in known]
    ok_s, n_s = sum(x for x, _ in in_schema), sum(n for _, n in in_schema)
    if n_s != total:
        print(
            f"  on the fields the intent schema has: {ok_s / n_s if n_s else 1:.1%} ({ok_s}/{n_s}); "
            f"{total - n_s} labelled fields the schema lacks"
        )
    print(f"hallucinated fields: {hallucinated}")
    print(
        f"numbers in the texts: {numbers_total}; unused by value match: {unused_value}"
        + (
            f"; reported unused by the extractor: {unused_reported}"
            if hasattr(result, "unused_numbers")
            else ""
        )
    )
    print(f"{'field':46s} {'precision':>9s} {'recall':>7s}  right/set/labelled")
    for field, (ok, labelled, made) in sorted(per_field.items()):
        print(f"  {field:44s} {_pct(ok, made):>9s} {_pct(ok, labelled):>7s}  {ok}/{made}/{labelled}")
    print(f"rules and grammar only, per message: {_timing(rule_times)}")
    if examples is not None:
        print(
            f"whole extractor (one embedding + k-NN, {examples.size()} examples), per message: "
            f"{_timing(times)}"
        )
    if not args.no_speed:
        big = ""
        while len(big.encode("utf-8")) < 20_000:
            big += " ".join(r["text"] for r in rows) + " "
        big = big.encode("utf-8")[:20_000].decode("utf-8", "ignore")
        start = time.perf_counter()
        extract(big, vocab, examples=examples)
        what = "rules and grammar" if examples is None else "whole extractor"
        print(f"20 KB message, {what}: {(time.perf_counter() - start) * 1000:.1f} ms")
    return 0


def _timing(times: list[float]) -> str:
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    return f"mean {statistics.mean(times):.2f} ms, p95 {p95:.2f} ms, max {max(times):.2f} ms"


if __name__ == "__main__":
    raise SystemExit(main())

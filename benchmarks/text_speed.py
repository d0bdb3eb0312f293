"""How fast the text paths are on this machine: extraction of long messages, the vocabulary matcher, and
`preflight --help` start-up. These used to be wall-clock assertions in tests; figures belong here.

Usage: python benchmarks/text_speed.py [--repeat N]
Prints the best and median of N runs of each (best: what the code costs; median: what a loaded machine gives).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up (compiled patterns, loaded catalog)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from app.intent.rules import extract
    from app.intent.vocabulary import default_vocabulary

    filler = "lorem ipsum dolor sit amet " * 700 + "Chatbot for 700 users."
    repeated = ("We need a chatbot for 1000 users with low latency on H100s. " * 400)[:20_000]
    vocab = default_vocabulary()
    long_text = "lorem ipsum dolor sit amet " * 700 + "we want Llama 3.1 8B on H100s"
    cases: list[tuple[str, Callable[[], object]]] = [
        ("extract, 19 KB filler + one request", lambda: extract(filler)),
        ("extract, 20 KB repeated request", lambda: extract(repeated)),
        ("vocabulary models+GPUs, 19 KB", lambda: (vocab.find_models(long_text), vocab.find_gpus(long_text))),
        (
            "`preflight --help` process",
            lambda: subprocess.run(
                [sys.executable, "-m", "app.cli", "--help"], capture_output=True, check=True
            ),
        ),
    ]
    print(f"{'case':<42} {'best ms':>9} {'median ms':>10}")
    for name, fn in cases:
        best, median = timed(fn, args.repeat)
        print(f"{name:<42} {best:>9.1f} {median:>10.1f}")


if __name__ == "__main__":
    main()

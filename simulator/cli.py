"""The `preflight-simulator` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from simulator.presets import DEFAULT_PRESET, preset_names
from simulator.profile import ProfileError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="preflight-simulator",
        description="An OpenAI-compatible vLLM stand-in whose latencies come from a performance profile. "
        f"With no options it serves the preset {DEFAULT_PRESET} as meta-llama/Llama-3.1-8B-Instruct. "
        "Every flag has an environment variable PREFLIGHT_SIM_<NAME>.",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default 8000)")
    p.add_argument("--profile", help="performance profile JSON file")
    p.add_argument("--preset", help=f"built-in profile: {', '.join(preset_names())}")
    p.add_argument("--model", help="served model name (and the model looked up in --benchmarks)")
    p.add_argument("--benchmarks", dest="benchmarks_path", help="benchmarks file to derive the profile from")
    p.add_argument("--gpu", help="GPU for the benchmarks lookup, e.g. H100")
    p.add_argument("--tp", type=int, help="tensor-parallel size for the benchmarks lookup")
    p.add_argument("--tokenizer", help="tokenizer.json used to count prompt tokens")
    p.add_argument("--max-waiting-requests", type=int, help="reject with 429/503 beyond this many waiting")
    p.add_argument("--jitter-cv", type=float, help="override the profile's step-time jitter")
    p.add_argument("--log-level", help="debug, info, warning, error")
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--print-profile", action="store_true", help="print the resolved profile JSON and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_presets:
        for name in preset_names():
            print(name)
        return 0
    from pydantic import ValidationError

    from simulator.resolve import resolve_profile
    from simulator.settings import Settings

    overrides: dict[str, Any] = {
        k: v for k, v in vars(args).items() if v is not None and k not in {"list_presets", "print_profile"}
    }
    try:
        settings = Settings(**overrides)
        profile = resolve_profile(settings)
    except (ProfileError, ValidationError, ValueError) as e:
        print(f"preflight-simulator: {e}", file=sys.stderr)
        return 2
    if args.print_profile:
        print(json.dumps(profile.model_dump(mode="json"), indent=2))
        return 0

    import uvicorn

    from simulator.api import create_app

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(settings, profile=profile)
    except ValueError as e:  # a tokenizer path that cannot be loaded
        print(f"preflight-simulator: {e}", file=sys.stderr)
        return 2
    print(
        f"preflight-simulator: serving {profile.model} on http://{settings.host}:{settings.port} "
        f"({profile.source.detail if profile.source else 'profile without source'})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)
    return 0

"""Preflight's vLLM simulator: an OpenAI-compatible stand-in for vLLM that behaves like a GPU under load.

It imports nothing from `app/` or `db/`; see simulator/README.md.
"""

__version__ = "0.1.0"

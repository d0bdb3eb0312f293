"""Preflight: a conversational pre-deployment assistant for LLM serving on Kubernetes."""

__version__ = "0.1.0"

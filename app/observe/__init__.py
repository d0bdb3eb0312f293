"""Observe and learn: metrics scraping, SLO compliance, load tests, outcomes, learning and advice.

Modules:
- ``metrics``: Prometheus text → snapshots; snapshot series → windowed percentiles and rates (pure).
- ``scrape``: the interval scraper (direct or through Prometheus), sample storage, retention, advisory locks.
- ``slo``: compliance, error-budget burn rate, time in violation, predicted vs observed, runtime health.
- ``loadtest``: a streaming load generator with constant, Poisson, concurrency and sweep profiles.
- ``outcomes``: store what a deployment did, find similar past outcomes by pgvector.
- ``learning``: per (model, GPU, engine) correction factors with shrinkage toward the global fit.
- ``advice``: right-sizing, SLOs at risk, traffic drift.
"""

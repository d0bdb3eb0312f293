"""Curated seed data with provenance, and the validating loader that puts it into Postgres."""

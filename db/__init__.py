"""Persistence: SQLAlchemy models, the (embedded) database, sessions and SQL-backed queries."""

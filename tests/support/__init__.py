"""Helpers shared by test files in several tiers.

Imported as `from support.<module> import ...`: pytest puts tests/ on sys.path because tests/conftest.py
lives there (`tests.support` does not work, a third-party package named `tests` shadows this folder).
"""

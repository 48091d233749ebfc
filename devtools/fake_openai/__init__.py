"""Loopback test doubles. Import the fake from `tests.fakes.openai_server`.

Kept import-free so `python -m tests.fakes.openai_server` runs without a runpy warning.
"""

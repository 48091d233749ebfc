"""Loopback test doubles. Import the fake from `devtools.fake_openai.openai_server`.

Kept import-free so `python -m devtools.fake_openai.openai_server` runs without a runpy warning.
"""

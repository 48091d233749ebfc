"""A loopback fake of the OpenAI API. Import it from ``devtools.fake_openai.openai_server``;
``python -m devtools.fake_openai`` serves it alone.
"""

"""Development-only tools: the fake OpenAI server (``devtools.fake_openai``), the audio tests
send (``devtools.audio_samples``) and real server processes for end-to-end runs
(``devtools.servers``).

Tests and ``bench/`` import it; the server never does. Nothing under ``voice/``, ``accounts/``
or ``voiceproject/`` imports it and it is no Django app, so a deployment may leave it out.
"""

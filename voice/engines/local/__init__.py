"""The offline engine's parts, all running on this machine from models inside PyPI wheels.

``audio`` resampling, ``vad`` turn detection (webrtcvad), ``stt`` recognition (pocketsphinx)
with ``lexicon``/``langmodel``/``phonetics`` biasing it toward the site, ``listener`` tying
those together, ``intents``/``setters``/``replies``/``responder`` deciding what to say, and
``tts`` speaking it (espeak-ng). ``voice.engines.local.engine`` drives them.
"""

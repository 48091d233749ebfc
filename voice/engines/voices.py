"""The voices a client may ask for: OpenAI's speech voices, the only list of them."""

from __future__ import annotations

DEFAULT_VOICE = "alloy"
# Voices of the Realtime API (SDK 3.52 literal list); the direct WebRTC mode offers only these.
REALTIME_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
# Text-to-speech knows these as well; a Realtime session would reject the whole update for one.
SPEECH_ONLY_VOICES = ("fable", "onyx", "nova")
VOICES = REALTIME_VOICES + SPEECH_ONLY_VOICES

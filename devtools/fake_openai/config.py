"""What the fake says and how fast it says it. Mutable from the test thread between requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# (keyword, tool_name, arguments): a user message containing the keyword makes the model call
# the tool (when it is offered) instead of answering.
ToolRule = tuple[str, str, dict[str, Any]]


@dataclass
class FakeConfig:
    """Scripted content and timing knobs (milliseconds) of the fake OpenAI server."""

    transcript: str = "hello there"
    reply: str = "Sure. Here is the answer. Anything else?"
    # Answer once a tool output is present; "{output}" and "{name}" are filled in. None = `reply`.
    tool_reply: str | None = None
    tool_rules: list[ToolRule] = field(default_factory=list)
    # One-shot values consumed first-in first-out before `transcript` / `reply` apply.
    transcript_queue: list[str] = field(default_factory=list)
    reply_queue: list[str] = field(default_factory=list)

    # STT / LLM / TTS REST timing. The first answer comes this long after the request arrived.
    stt_delay_ms: float = 10
    stt_delta_interval_ms: float = 2
    chat_first_token_ms: float = 10
    chat_token_interval_ms: float = 2
    tts_first_byte_ms: float = 10
    tts_chunk_interval_ms: float = 2
    tts_chunk_bytes: int = 4096
    tts_ms_per_char: float = 60  # spoken length of TTS and Realtime answers
    tts_max_seconds: float = 60

    # Realtime timing. Default pacing is faster than realtime; set rt_delta_interval_ms equal
    # to rt_audio_ms_per_delta for realtime pacing.
    session_created_delay_ms: float = 0
    response_delay_ms: float = 10  # commit / response.create -> response.created
    rt_first_audio_ms: float = 10
    rt_delta_interval_ms: float = 2
    rt_audio_ms_per_delta: int = 100
    rt_transcription_delay_ms: float = 20
    vad_silence_ms: int | None = None  # overrides the session's silence_duration_ms

    # The service caps sessions at 60 minutes; tests shorten this to exercise expiry.
    session_max_seconds: float = 3600
    session_expired_close_code: int = 1000

    def next_transcript(self) -> str:
        """The next scripted transcript: the queue first, then `transcript`."""
        return self.transcript_queue.pop(0) if self.transcript_queue else self.transcript

    def next_reply(self) -> str:
        """The next scripted assistant text: the queue first, then `reply`."""
        return self.reply_queue.pop(0) if self.reply_queue else self.reply

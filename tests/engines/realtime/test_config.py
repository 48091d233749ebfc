"""One builder of Realtime sessions: our socket's session.update and a WebRTC call's session."""

from __future__ import annotations

from typing import Any

from voice.engines import create_engine
from voice.engines.base import SessionConfig, ToolSpec, TurnDetection
from voice.engines.realtime.config import realtime_session

TOOL = ToolSpec("search_site", "Search", {"type": "object", "properties": {}})


def test_a_webrtc_call_session_names_its_model_and_leaves_the_codec_to_webrtc() -> None:
    config = SessionConfig(
        session_id="",
        instructions="Be brief.",
        voice="marin",
        speed=1.3,
        tools=(TOOL,),
        turn_detection=TurnDetection(),
    )

    session = realtime_session(config, transcribe_model="whisper-1", call_model="gpt-realtime")

    assert session == {
        "type": "realtime",
        "model": "gpt-realtime",
        "instructions": "Be brief.",
        "audio": {
            "input": {
                "transcription": {"model": "whisper-1"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                },
            },
            "output": {"voice": "marin"},
        },
        "tools": [TOOL.as_openai_function()],
    }


def test_without_a_transcription_model_nothing_is_transcribed() -> None:
    config = SessionConfig(session_id="", language="de")

    session = realtime_session(config, transcribe_model="", call_model="gpt-realtime")

    assert session["audio"]["input"] == {"turn_detection": None}


def test_a_speech_only_voice_becomes_the_default_realtime_voice() -> None:
    config = SessionConfig(session_id="", voice="onyx")

    for call_model in (None, "gpt-realtime"):
        session = realtime_session(config, transcribe_model="m", call_model=call_model)
        assert session["audio"]["output"]["voice"] == "alloy"


async def test_the_transcribe_model_setting_reaches_the_websocket_engine(
    fake_openai: Any, settings: Any
) -> None:
    settings.VOICE_TRANSCRIBE_MODEL = "gpt-4o-transcribe-latest"
    engine = create_engine("openai-realtime")
    try:
        await engine.start(SessionConfig(session_id="setting"))
        await fake_openai.wait_for(
            lambda: any(e.type == "session.update" for e in fake_openai.records.ws_events)
        )
    finally:
        await engine.close()

    [update] = [e.event for e in fake_openai.records.ws_events if e.type == "session.update"]
    assert update["session"]["audio"]["input"]["transcription"] == {
        "model": "gpt-4o-transcribe-latest"
    }

"""The ``openai-realtime`` engine, driven through the real SDK against the fake OpenAI server.

Turns and configuration here; tools and barge-in in ``test_engine_barge_in.py``; drops and
reconnects in ``test_engine_faults.py``; service errors and odd events in ``test_engine_errors.py``.
"""

from __future__ import annotations

import base64

import numpy as np

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.engines.realtime import (
    ORDER_TOOL,
    VAD,
    audio_of,
    running,
    sent,
    shape,
    speak,
)
from voice.engines.base import (
    AudioDelta,
    ResponseDone,
    ResponseStarted,
    SessionConfig,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    TextDone,
    TranscriptDelta,
    TranscriptFinal,
)
from voice.engines.realtime.engine import DEFAULT_APPEND_MS

# ---- spoken turns -----------------------------------------------------------------------------


async def test_a_spoken_turn_by_server_vad_yields_the_turn_in_order(fake: FakeOpenAI):
    config = SessionConfig(session_id="vad", turn_detection=VAD, language="en")
    async with running(fake, config) as (engine, inbox):
        await speak(engine, tone_pcm16(600) + silence_pcm16(1000))
        events = await inbox.until(ResponseDone)

    assert shape(events) == [
        "SpeechStarted",
        "SpeechStopped",
        "ResponseStarted",
        "Delta",
        "TextDone",
        "ResponseDone",
    ]
    started, stopped = events[0], events[1]
    assert isinstance(started, SpeechStarted) and isinstance(stopped, SpeechStopped)
    assert (started.audio_start_ms, stopped.audio_end_ms) == (0, 1100)  # 600 ms + 500 ms quiet
    response_id = next(e.response_id for e in events if isinstance(e, ResponseStarted))
    done = [e for e in events if isinstance(e, TextDone | ResponseDone)]
    assert {e.response_id for e in done} == {response_id}
    assert done[0].text == "".join(e.text for e in events if isinstance(e, TextDelta))
    assert done[0].text == fake.config.reply and done[1].status == "completed"
    assert done[1].usage["output_token_details"]["audio_tokens"] > 0
    pcm = audio_of(events)
    assert len(pcm) == len(fake.config.reply) * 60 * 48  # the fake speaks 60 ms per character
    assert np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(float) ** 2)) > 1000
    names = [type(e).__name__ for e in events]
    assert names.index("TranscriptFinal") < names.index("TextDone")
    final = next(e for e in events if isinstance(e, TranscriptFinal))
    assert final.text == "hello there" and final.usage and final.usage["total_tokens"] > 0
    deltas = [e.text for e in events if isinstance(e, TranscriptDelta)]
    assert deltas == ["hello", "hello there"]  # the whole text so far, each time


async def test_an_answer_waits_for_a_late_user_transcript(fake: FakeOpenAI):
    fake.config.rt_transcription_delay_ms = 300  # well after response.done
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(300))
        await engine.commit()
        events = await inbox.until(ResponseDone)

    kinds = [type(e).__name__ for e in events if not isinstance(e, TextDelta | AudioDelta)]
    assert kinds[-3:] == ["TranscriptFinal", "TextDone", "ResponseDone"]
    assert kinds.index("TranscriptFinal") > [type(e) for e in events].index(AudioDelta)
    completed = [s for s in fake.records.ws_sent if "transcription.completed" in s.type]
    done = [s for s in fake.records.ws_sent if s.type == "response.done"]
    assert done[0].received_at < completed[0].received_at  # the fake did answer first


async def test_an_answer_waits_for_a_transcript_only_so_long(fake: FakeOpenAI):
    fake.config.rt_transcription_delay_ms = 1500
    async with running(fake, transcript_wait_s=0.2) as (engine, inbox):
        await speak(engine, tone_pcm16(300))
        await engine.commit()
        answer = await inbox.until(ResponseDone)
        late = await inbox.until(TranscriptFinal)

    assert not [e for e in answer if isinstance(e, TranscriptFinal)]
    assert [type(e).__name__ for e in answer[-2:]] == ["TextDone", "ResponseDone"]
    assert late[-1].text == fake.config.transcript


async def test_audio_goes_up_in_appends_of_append_ms(fake: FakeOpenAI):
    async with running(fake, append_ms=100) as (engine, inbox):
        await speak(engine, tone_pcm16(250))
        await engine.commit()
        await inbox.until(ResponseDone)

    sizes = [len(base64.b64decode(e["audio"])) for e in sent(fake, "input_audio_buffer.append")]
    assert sizes == [4800, 4800, 2400]  # two full appends, then the rest on commit


async def test_default_appends_carry_40_ms(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(200))
        await engine.commit()
        await inbox.until(ResponseDone)

    sizes = {len(base64.b64decode(e["audio"])) for e in sent(fake, "input_audio_buffer.append")}
    assert sizes == {DEFAULT_APPEND_MS * 48}


async def test_a_tts_only_voice_and_a_fast_rate_still_make_a_valid_update(fake: FakeOpenAI):
    config = SessionConfig(session_id="tts-voice", voice="nova", speed=2.5)
    async with running(fake, config):
        await fake.wait_for(lambda: any(s.type == "session.updated" for s in fake.records.ws_sent))

    output = sent(fake, "session.update")[0]["session"]["audio"]["output"]
    assert (output["voice"], output["speed"]) == ("alloy", 1.5)
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_session_update_has_the_nested_ga_shape(fake: FakeOpenAI):
    config = SessionConfig(
        session_id="shape",
        instructions="Be brief.",
        voice="marin",
        language="de",
        speed=1.2,
        tools=(ORDER_TOOL,),
        turn_detection=VAD,
    )
    async with running(fake, config, transcribe_model="gpt-4o-transcribe"):
        await fake.wait_for(lambda: any(s.type == "session.updated" for s in fake.records.ws_sent))

    assert sent(fake, "session.update") == [
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "output_modalities": ["audio"],
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "transcription": {"model": "gpt-4o-transcribe", "language": "de"},
                        "turn_detection": {
                            "type": "server_vad",
                            "threshold": 0.5,
                            "prefix_padding_ms": 300,
                            "silence_duration_ms": 500,
                            "create_response": True,
                            "interrupt_response": True,
                        },
                    },
                    "output": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "voice": "marin",
                        "speed": 1.2,
                    },
                },
                "tools": [ORDER_TOOL.as_openai_function()],
                "tool_choice": "auto",
            },
        }
    ]
    upgrade = fake.records.requests_to("realtime")[0]
    assert upgrade.query == {"model": "gpt-realtime"} and "openai-beta" not in upgrade.headers
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_update_leaves_the_voice_out_once_audio_went_out(fake: FakeOpenAI):
    config = SessionConfig(session_id="voice", voice="coral")
    async with running(fake, config) as (engine, inbox):
        assert engine.detects_turns is False
        await engine.update(SessionConfig(session_id="voice", voice="ash", turn_detection=VAD))
        assert engine.detects_turns is True
        await engine.send_text("hi")
        await inbox.until(ResponseDone)
        await engine.update(SessionConfig(session_id="voice", voice="sage", instructions="x"))
        await fake.wait_for(
            lambda: len([s for s in fake.records.ws_sent if s.type.startswith("session.upd")]) == 3
        )

    updates = [e["session"] for e in sent(fake, "session.update")]
    assert [u["audio"]["output"].get("voice") for u in updates] == ["coral", "ash", None]
    assert (
        updates[2]["instructions"] == "x" and updates[2]["audio"]["input"]["turn_detection"] is None
    )
    assert not [s for s in fake.records.ws_sent if s.type == "error"]


async def test_push_to_talk_commit_sends_commit_then_response_create(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.clear_input()
        await speak(engine, tone_pcm16(500))
        await engine.commit()
        events = await inbox.until(ResponseDone)

    session = sent(fake, "session.update")[0]["session"]
    assert session["audio"]["input"]["turn_detection"] is None
    kinds = [e.type for e in fake.records.ws_events if e.type != "input_audio_buffer.append"]
    assert kinds == [
        "session.update",
        "input_audio_buffer.clear",
        "input_audio_buffer.commit",
        "response.create",
    ]
    assert shape(events) == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert [e.text for e in events if isinstance(e, TranscriptFinal)] == ["hello there"]


async def test_commit_of_under_100_ms_is_an_empty_utterance(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await speak(engine, tone_pcm16(60))
        await engine.commit()
        events = await inbox.until(TranscriptFinal)

    assert events == [TranscriptFinal("")]
    assert sent(fake, "input_audio_buffer.commit") == sent(fake, "response.create") == []


async def test_typed_text_is_answered_as_an_utterance(fake: FakeOpenAI):
    async with running(fake) as (engine, inbox):
        await engine.send_text("What is new?")
        events = await inbox.until(ResponseDone)

    assert sent(fake, "conversation.item.create") == [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What is new?"}],
            },
        }
    ]
    assert len(sent(fake, "response.create")) == 1
    assert shape(events) == ["ResponseStarted", "Delta", "TextDone", "ResponseDone"]
    assert events[-2].text == fake.config.reply and events[-1].status == "completed"

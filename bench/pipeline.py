"""Time to first audio on the openai-pipeline engine, against the fake with realistic delays.

    python bench/pipeline.py [--turns 15] [--hops]

Prints, over spoken turns sent at real-time pace through a real Daphne process:
- the median time to first audio after ``stop_listening``, and the server-added part of it
  (minus the fake's configured STT, first-token and speech first-byte delays);
- for a three-sentence reply, the same time the original design's way (transcribe the whole
  utterance, then the whole reply, then the whole speech) beside ours, and their ratio;
- upstream audio bytes per second of speech, uploaded for transcription;
- with ``--hops``, the server-added time hop by hop, between timestamps the fake records.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openai import AsyncOpenAI  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from bench.server import BenchServer, FakeProcess  # noqa: E402
from devtools.audio_samples import chunks, tone  # noqa: E402
from devtools.fake_openai.openai_server import FakeOpenAI  # noqa: E402

UTTERANCE_SECONDS = 3.0
CHUNK_SECONDS = 0.1
REPLY = "We open at nine every morning. We close at five in the evening. Is there anything else?"


TRANSCRIPT = "when do you open and close"
DELAYS = {"stt_delay_ms": 300, "chat_first_token_ms": 400, "tts_first_byte_ms": 250}
NO_PACING = {"stt_delta_interval_ms": 0, "chat_token_interval_ms": 0, "tts_chunk_interval_ms": 0}
# A service that streams: words every 10 ms, tokens every 25 ms, speech in 20 ms pieces.
PACING = {"stt_delta_interval_ms": 10, "chat_token_interval_ms": 25, "tts_chunk_interval_ms": 20}


def engine_env(fake: FakeProcess | FakeOpenAI) -> dict[str, str]:
    return {
        "VOICE_ENGINE": "openai-pipeline",
        "OPENAI_API_KEY": fake.api_key,
        "OPENAI_BASE_URL": fake.base_url,
    }


async def one_turn(ws: ClientConnection, audio: list[bytes]) -> tuple[float, float]:
    """Speak at real-time pace; the monotonic times of stop_listening and the first audio."""
    await ws.send(json.dumps({"type": "start_listening"}))
    for chunk in audio:
        await ws.send(json.dumps({"type": "audio_chunk", "data": base64.b64encode(chunk).decode()}))
        await asyncio.sleep(CHUNK_SECONDS)  # a microphone delivers audio in real time
    await ws.send(json.dumps({"type": "stop_listening"}))
    stopped = time.monotonic()
    first_audio = None
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "audio_chunk" and first_audio is None:
            first_audio = time.monotonic()
        if message["type"] == "error":
            raise RuntimeError(message)
        if message["type"] == "audio_complete":
            assert first_audio is not None
            return stopped, first_audio


async def ours(server: BenchServer, turns: int) -> list[tuple[float, float]]:
    audio = chunks(tone(UTTERANCE_SECONDS), int(24000 * 2 * CHUNK_SECONDS))
    settings = {"audioFormat": "pcm16", "sampleRate": 24000, "outputFormat": "pcm16"}
    async with connect(f"{server.ws_url}/api/voice/ws", max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"type": "config", "settings": settings}))
        await one_turn(ws, audio)  # warm-up: connections, codecs
        return [await one_turn(ws, audio) for _ in range(turns)]


async def original_design(fake: FakeProcess, turns: int) -> list[float]:
    """Whole utterance -> whole reply -> whole speech, then the first byte can be played."""
    client = AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url)
    wav = wav_file(tone(UTTERANCE_SECONDS))
    times = []
    for _ in range(turns):
        started = time.perf_counter()
        text = await client.audio.transcriptions.create(
            file=("speech.wav", wav, "audio/wav"), model="gpt-4o-transcribe"
        )
        reply = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text.text}]
        )
        speech = await client.audio.speech.create(
            model="gpt-4o-mini-tts",
            voice="alloy",
            input=reply.choices[0].message.content or "",
            response_format="pcm",
        )
        assert speech.content
        times.append(time.perf_counter() - started)
    await client.close()
    return times


def wav_file(pcm: bytes) -> bytes:
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24000)
        wav.writeframes(pcm)
    return out.getvalue()


def upstream_bytes_per_second(turns: int) -> tuple[float, float]:
    """Upload bytes and seconds of speech uploaded, per second spoken (the fake records them)."""
    with FakeOpenAI() as fake, BenchServer(**engine_env(fake)) as server:
        fake.config.transcript = TRANSCRIPT
        asyncio.run(ours(server, turns))
        uploads = fake.records.requests_to("audio/transcriptions")
    sent = sum(len(r.form["file"].data) for r in uploads)
    speech_seconds = sum(r.audio_seconds or 0 for r in uploads)
    spoken = (turns + 1) * UTTERANCE_SECONDS
    return sent / spoken, speech_seconds / spoken


def measure(turns: int, pacing: dict[str, int]) -> tuple[list[float], list[float]]:
    """Ours through Daphne, and the original design straight to the same fake."""
    flags = {**DELAYS, **pacing, "transcript": TRANSCRIPT, "reply": REPLY}
    with FakeProcess(**flags) as fake:
        with BenchServer(**engine_env(fake)) as server:
            ttfa = [first - stopped for stopped, first in asyncio.run(ours(server, turns))]
        baseline = asyncio.run(original_design(fake, turns))
    return ttfa, baseline


def hops(turns: int) -> dict[str, float]:
    """Median ms of each hop between the client's and the fake's timestamps, no pacing."""
    # The fake runs in this process here so that it records when each request arrived and when
    # its first byte left; all three processes read the same monotonic clock.
    with FakeOpenAI() as fake, BenchServer(**engine_env(fake)) as server:
        for name, value in {**DELAYS, **NO_PACING}.items():
            setattr(fake.config, name, value)
        fake.config.transcript, fake.config.reply = TRANSCRIPT, REPLY
        marks = asyncio.run(ours(server, turns))
        requests = fake.records.requests
    rows = [turn_hops(stopped, first, requests) for stopped, first in marks]
    return {name: statistics.median(row[name] for row in rows) * 1000 for name in rows[0]}


def turn_hops(stopped: float, first: float, requests: list[Any]) -> dict[str, float]:
    def arrived(endpoint: str) -> list[Any]:
        return [r for r in requests if r.endpoint == endpoint and stopped < r.received_at < first]

    chat, speech = arrived("chat/completions")[0], arrived("audio/speech")[0]
    stt = [r for r in arrived("audio/transcriptions") if r.received_at < chat.received_at][-1]
    configured = sum(DELAYS.values()) / 1000
    answered = [r.first_byte_at - r.received_at for r in (stt, chat, speech)]
    return {
        "stop_listening -> transcription request": stt.received_at - stopped,
        "transcript -> chat request": chat.received_at - stt.first_byte_at,
        "first token -> speech request": speech.received_at - chat.first_byte_at,
        "first speech byte -> audio at the client": first - speech.first_byte_at,
        "the fake, beyond its configured delays": sum(answered) - configured,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=15)
    parser.add_argument("--hops", action="store_true", help="also time each hop of the path")
    args = parser.parse_args()

    ttfa, _ = measure(args.turns, NO_PACING)
    paced, baseline = measure(args.turns, PACING)
    per_second, coverage = upstream_bytes_per_second(3)

    config_delay = sum(DELAYS.values())
    median_ms = statistics.median(ttfa) * 1000
    ours_ms, theirs_ms = statistics.median(paced) * 1000, statistics.median(baseline) * 1000
    print(f"openai-pipeline, {args.turns} turns of {UTTERANCE_SECONDS:.0f} s speech (medians)")
    print(f"  time to first audio (no pacing)         {median_ms:8.1f} ms")
    print(f"  configured STT + first token + TTS      {config_delay:8.1f} ms")
    print(f"  server-added time to first audio        {median_ms - config_delay:8.1f} ms")
    print(f"  3-sentence reply, first audio, ours     {ours_ms:8.1f} ms")
    print(f"  3-sentence reply, original design       {theirs_ms:8.1f} ms")
    print(f"  original / ours                         {theirs_ms / ours_ms:8.2f} x")
    print(f"  upstream audio for transcription        {per_second:8.0f} bytes/s of speech")
    print(f"  speech uploaded per second spoken       {coverage:8.2f} s")
    if args.hops:
        print("  server-added time by hop (no pacing; fake in the bench process)")
        for name, ms in hops(args.turns).items():
            print(f"    {name:<41} {ms:6.1f} ms")


if __name__ == "__main__":
    main()

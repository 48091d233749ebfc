"""How much audio each ``input_audio_buffer.append`` of the realtime engine should carry.

    .venv/bin/python bench/realtime_append.py [--sizes 20 40 100 200] [--runs 3]

Against the fake OpenAI server (devtools.fake_openai), 20 ms frames are fed to the engine in
real time, as the /voice-ws transport delivers them: 0.6 s of a 440 Hz tone, then 0.8 s of
silence. The fake's server VAD ends the turn after 500 ms of quiet. Per append size it reports:

- frame wait: how long a frame sits in the engine (and on loopback) before the server has it;
- VAD stop: from feeding the frame that completes the 500 ms of quiet to SpeechStopped
  (runs start with different lead-in silences, so the end of the turn falls at different
  places within an append);
- appends/s and upstream kB/s: WebSocket events and JSON bytes per second of audio;
- app CPU: CPU time of the event-loop thread (engine, SDK, websockets; the fake runs in its
  own thread) per second of audio while the turn is spoken, i.e. per live session.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openai import AsyncOpenAI  # noqa: E402

from devtools.fake_openai.audio import silence_pcm16, tone_pcm16  # noqa: E402
from devtools.fake_openai.openai_server import FakeOpenAI  # noqa: E402
from voice.engines.base import (  # noqa: E402
    BYTES_PER_MS,
    ResponseDone,
    SessionConfig,
    SpeechStopped,
    TurnDetection,
)
from voice.engines.realtime.engine import OpenAIRealtimeEngine  # noqa: E402

FRAME_MS = 20
TONE_MS, QUIET_MS, VAD_SILENCE_MS = 600, 800, 500


async def one_run(fake: FakeOpenAI, append_ms: int, lead_ms: int) -> dict[str, float]:
    """Speak one turn in real time; return the measurements of this run."""
    fake.clear()
    client = AsyncOpenAI(api_key=fake.api_key, base_url=fake.base_url, max_retries=0)
    engine = OpenAIRealtimeEngine(client, model="gpt-realtime", append_ms=append_ms)
    await engine.start(
        SessionConfig(session_id=f"bench-{append_ms}", turn_detection=TurnDetection())
    )
    stopped_at: list[float] = []

    async def watch() -> None:
        async for event in engine.events():
            if isinstance(event, SpeechStopped):
                stopped_at.append(time.monotonic())
            if isinstance(event, ResponseDone):
                return

    watcher = asyncio.create_task(watch(), name="bench-watch")
    pcm = silence_pcm16(lead_ms) + tone_pcm16(TONE_MS) + silence_pcm16(QUIET_MS)
    step = FRAME_MS * BYTES_PER_MS
    fed_at: list[float] = []
    cpu_start, start = time.thread_time(), time.monotonic()
    for k, offset in enumerate(range(0, len(pcm), step)):
        # A frame exists once it has been recorded: frame k at (k + 1) * 20 ms.
        await asyncio.sleep(max(0.0, start + (k + 1) * FRAME_MS / 1000 - time.monotonic()))
        fed_at.append(time.monotonic())
        await engine.send_audio(pcm[offset : offset + step])
    cpu = time.thread_time() - cpu_start
    await asyncio.wait_for(watcher, 10)
    await engine.close()

    appends = [e for e in fake.records.ws_events if e.type == "input_audio_buffer.append"]
    waits: list[float] = []
    received = 0
    for append in appends:
        received += len(base64.b64decode(append.event["audio"]))
        complete = received // step  # frames fully delivered so far
        waits += [append.received_at - fed_at[k] for k in range(len(waits), complete)]
    audio_s = len(pcm) / BYTES_PER_MS / 1000
    decisive = (lead_ms + TONE_MS + VAD_SILENCE_MS) // FRAME_MS - 1  # ends 500 ms of quiet
    return {
        "appends_per_s": len(appends) / audio_s,
        "kb_per_s": sum(len(json.dumps(a.event)) for a in appends) / audio_s / 1000,
        "wait_mean": statistics.mean(waits) * 1000,
        "wait_max": max(waits) * 1000,
        "vad_stop": (stopped_at[0] - fed_at[decisive]) * 1000,
        "cpu": cpu / audio_s * 1000,
    }


async def main(sizes: list[int], runs: int) -> None:
    with FakeOpenAI() as fake:
        rows = []
        # Lead-in silences spread the turn's end over the phases of an append.
        leads = [j * FRAME_MS for j in range(runs)]
        for size in sizes:
            results = [await one_run(fake, size, lead) for lead in leads]
            mean = {key: statistics.mean(r[key] for r in results) for key in results[0]}
            mean["wait_max"] = max(r["wait_max"] for r in results)
            mean["vad_stop_max"] = max(r["vad_stop"] for r in results)
            rows.append((size, mean))
    print(f"20 ms frames fed in real time; {runs} runs per size (lead-ins {leads} ms)\n")
    print(
        "| append_ms | appends/s | upstream kB/s | app CPU per s of audio "
        "| frame wait mean / max | VAD stop mean / max |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, r in rows:
        print(
            f"| {size} | {r['appends_per_s']:.1f} | {r['kb_per_s']:.1f} | {r['cpu']:.1f} ms "
            f"| {r['wait_mean']:.1f} / {r['wait_max']:.1f} ms "
            f"| {r['vad_stop']:.1f} / {r['vad_stop_max']:.1f} ms |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 100, 200])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.sizes, args.runs))

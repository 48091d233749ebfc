"""Benchmark of the offline engine: recognition accuracy, speed, and voice-to-voice latency.

    python bench/local_engine.py [--runs 5]

Test speech is made offline: espeak-ng voices at several speeds (the engine's own
synthesizer) and, when the Debian ``flite`` package is installed, flite's voices.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voice.audio.resample import (
    Resampler,  # noqa: E402
    resample_pcm16,  # noqa: E402
)
from voice.engines.base import (  # noqa: E402
    AudioDelta,
    ResponseDone,
    SessionConfig,
    TextDone,
    ToolCall,
    ToolSpec,
    TurnDetection,
)
from voice.engines.local.audio import RECOGNIZER_RATE, silence  # noqa: E402
from voice.engines.local.engine import LocalEngine  # noqa: E402
from voice.engines.local.intents import (  # noqa: E402
    INTENT_TOOL_NAMES,  # noqa: E402
    example_sentences,
    understand,
)
from voice.engines.local.stt import GENERAL, SITE, Recognizer  # noqa: E402
from voice.engines.local.text import normalize  # noqa: E402
from voice.engines.local.tts import get_synthesizer  # noqa: E402

HINTS = ("Pricing", "Documentation", "API reference", "Webhooks", "Integrations", "Careers",
         "Contact", "Blog", "Security", "Billing", "Enterprise plan", "Team plan", "Onboarding",
         "Changelog", "Status", "Vocalis", "Slack", "Password reset")  # fmt: skip
PAGES = {h.lower(): f"/{h.lower().replace(' ', '-')}" for h in HINTS}
SETTER = ToolSpec(
    "set_theme__setMode",
    "Switch the color theme between light and dark mode",
    {"type": "object", "properties": {"mode": {"enum": ["light", "dark"]}}},
)
TOOLS = (*(ToolSpec(n, "", {}) for n in INTENT_TOOL_NAMES), SETTER)
UTTERANCES = (
    "take me to the pricing page", "search for webhook documentation", "what can you do",
    "tell me about the enterprise plan", "how much does the team plan cost per month",
    "open the careers page", "do you have an integration with slack", "go to the contact page",
    "hello there", "thank you very much", "find articles about security", "show me the blog",
    "where is the api reference", "navigate to the billing page", "what is this website about",
    "search the site for onboarding", "switch to dark mode", "tell me about your company",
    "i would like to see the documentation", "can you help me reset my password",
    "what is vocalis", "is the status page showing any problems", "open the changelog",
    "what are your opening hours",
)  # fmt: skip
ESPEAK_VOICES = (("en-us", 1.0), ("en-us+f3", 0.9), ("en", 1.1), ("en-us+m3", 1.2),
                 ("en-gb-x-rp+f4", 0.8), ("en-us+klatt4", 1.3))  # fmt: skip
FLITE_VOICES = ("slt", "rms", "awb", "kal16")


@dataclass(frozen=True)
class HintedConfig(SessionConfig):
    """A session config with the site hints the local engine reads (``config.hints``)."""

    hints: tuple[str, ...] = ()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word-level edit distance and reference length."""
    ref, hyp = normalize(reference).split(), normalize(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1], len(ref)


def flite_speech(text: str, voice: str) -> bytes | None:
    """PCM16 at 24 kHz from the flite command line, or None without flite."""
    if not shutil.which("flite"):
        return None
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", out.name], check=True)
        with wave.open(out.name) as wav:
            return resample_pcm16(wav.readframes(wav.getnframes()), wav.getframerate())


def make_samples() -> tuple[list[tuple[str, str, bytes]], float, float]:
    """(source, text, 24 kHz audio) for every test utterance; plus synthesis time and audio s."""
    synthesizer = get_synthesizer()
    samples, synth_s, audio_s = [], 0.0, 0.0
    for i, text in enumerate(UTTERANCES):
        for voice, speed in (ESPEAK_VOICES[i % 6], ESPEAK_VOICES[(i + 3) % 6]):
            started = time.perf_counter()
            pcm = synthesizer.synthesize(text, voice, speed)
            synth_s += time.perf_counter() - started
            audio_s += len(pcm) / 48000
            samples.append(("espeak", text, silence(300) + pcm + silence(300)))
        if flite_pcm := flite_speech(text, FLITE_VOICES[i % len(FLITE_VOICES)]):
            samples.append(("flite", text, silence(300) + flite_pcm + silence(300)))
    return samples, synth_s, audio_s


def recognise(recognizer: Recognizer, pcm: bytes) -> tuple[str, float]:
    """Transcript and decoding seconds, fed in 100 ms pieces as the engine would."""
    resampler = Resampler(24000, RECOGNIZER_RATE)
    audio = resampler.feed(pcm) + resampler.flush()
    started = time.perf_counter()
    recognizer.start()
    for offset in range(0, len(audio), 3200):
        recognizer.feed(audio[offset : offset + 3200])
    return recognizer.finish(), time.perf_counter() - started


def accuracy(samples: list[tuple[str, str, bytes]]) -> list[tuple[str, dict[str, float], float]]:
    """WER per voice source for each recogniser setup, the share of recordings whose
    transcript gets the same intent (tool and arguments) as the true text, and the RTF."""
    setups = {
        "general LM (pocketsphinx default)": (GENERAL, None),
        "site LM, no hints": (SITE, example_sentences()),
        "site LM + hints": (SITE, example_sentences(HINTS, TOOLS)),
    }
    rows = []
    for label, (kind, sentences) in setups.items():
        recognizer = Recognizer(kind)
        if sentences is not None:
            recognizer.configure(sentences)
        errors: dict[str, list[int]] = {}
        decode_s = audio_s = 0.0
        same_intent = 0
        for source, text, pcm in samples:
            hypothesis, seconds = recognise(recognizer, pcm)
            same_intent += understand(hypothesis, HINTS, TOOLS) == understand(text, HINTS, TOOLS)
            e, n = word_errors(text, hypothesis)
            for key in (source, "all"):
                errors.setdefault(key, [0, 0])
                errors[key][0] += e
                errors[key][1] += n
            decode_s += seconds
            audio_s += len(pcm) / 48000
        rates = {k: e / n for k, (e, n) in errors.items()}
        rates["intent"] = same_intent / len(samples)
        rows.append((label, rates, decode_s / audio_s))
    return rows


def tool_output(call: ToolCall) -> str:
    """What the session's site tools would answer (same shapes), from a tiny page list."""
    args = json.loads(call.arguments)
    key = str(args.get("page") or args.get("query") or "").lower()
    found = [
        {"title": k.title(), "path": p, "summary": f"All about {k}."}
        for k, p in PAGES.items()
        if k in key or key in k
    ]
    if call.name == "navigate_to_page":
        if not found:
            return json.dumps({"ok": False, "error": f"no page called {key!r}"})
        return json.dumps({"ok": True, "page": found[0]["title"], "path": found[0]["path"]})
    return json.dumps({"results": found[:3]})


async def voice_to_voice(text: str, use_vad: bool, turns: int = 2) -> list[tuple[float, str]]:
    """Engine start seconds, then per turn: seconds from the end of the user's speech to the
    first audio of the answer (audio fed at real-time pace), and the answer's text."""
    turn = TurnDetection() if use_vad else None
    engine = LocalEngine()
    begun = time.perf_counter()
    await engine.start(HintedConfig(session_id="bench", turn_detection=turn, hints=HINTS))
    results = [(time.perf_counter() - begun, "")]
    audio = silence(300) + get_synthesizer().synthesize(text, "en-us", 1.0)
    tail = silence(turn.silence_duration_ms + 300) if turn else b""
    events = engine.events()
    for _ in range(turns):
        started = time.perf_counter()
        for n, offset in enumerate(range(0, len(audio + tail), 960)):  # 20 ms chunks
            await engine.send_audio((audio + tail)[offset : offset + 960])
            if offset + 960 >= len(audio) and n * 960 < len(audio):
                speech_end = time.perf_counter()
            await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.perf_counter()))
        if not use_vad:
            await engine.commit()
        first_audio, answer = 0.0, ""
        async for event in events:
            if isinstance(event, ToolCall):
                await engine.submit_tool_result(event.call_id, tool_output(event))
            elif isinstance(event, TextDone):
                answer = event.text
            elif isinstance(event, AudioDelta) and not first_audio:
                first_audio = time.perf_counter()
            elif isinstance(event, ResponseDone):
                break
        results.append((first_audio - speech_end, answer))
    await engine.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="voice-to-voice runs per mode")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    samples, synth_s, synth_audio_s = make_samples()
    sources = sorted({s for s, _, _ in samples})
    counts = ", ".join(f"{sum(1 for s, _, _ in samples if s == src)} {src}" for src in sources)
    print(f"{len(UTTERANCES)} sentences, {len(samples)} recordings ({counts})\n")
    columns = [f"WER {s}" for s in [*sources, "all"]] + ["same intent", "RTF"]
    print(f"{'recogniser':34}" + "".join(f"{c:>13}" for c in columns))
    for label, rates, rtf in accuracy(samples):
        cells = [f"{rates[s]:.1%}" for s in [*sources, "all", "intent"]] + [f"{rtf:.3f}"]
        print(f"{label:34}" + "".join(f"{c:>13}" for c in cells))
    print(f"\nsynthesis (espeak-ng, 24 kHz): RTF {synth_s / synth_audio_s:.4f}")
    text = "could you please take me to the pricing page for the team plan"
    seconds = len(get_synthesizer().synthesize(text)) / 48000
    print(f'\nvoice-to-voice: "{text}" ({seconds:.1f} s of speech, fed in real time),')
    print(f"end of speech -> first audio byte, median of {options.runs} new sessions x 2 turns")
    starts = []
    for label, use_vad in (("server VAD, 500 ms silence", True), ("client commit", False)):
        runs = [asyncio.run(voice_to_voice(text, use_vad)) for _ in range(options.runs)]
        starts += [r[0][0] for r in runs]
        first = statistics.median(r[1][0] for r in runs)
        later = statistics.median(r[2][0] for r in runs)
        window = 0.5 if use_vad else 0.0  # the turn cannot end before the silence window
        ended = f"{first - window:.3f} s / {later - window:.3f} s"
        print(f"  {label:27} first turn {first:.3f} s, next turn {later:.3f} s", end="")
        print(f"  (after the input ended: {ended})")
    print(f"  answer: {runs[-1][-1][1]!r}")
    print(f"engine start: {starts[0]:.3f} s first in the process, then median "
          f"{statistics.median(starts[1:]):.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()

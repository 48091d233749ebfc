"""POST /v1/audio/transcriptions and POST /v1/audio/speech (reference 7.1 and 7.3)."""

from __future__ import annotations

import asyncio
import base64
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .audio import (
    TTS_CONTENT_TYPES,
    UndecodableAudioError,
    decoded_seconds,
    encode_audio,
    speech_duration_s,
    synth_speech,
)
from .errors import json_error
from .records import FilePart, RecordedRequest
from .script import count_tokens, split_words
from .streaming import FaultyStream, StreamCutError, wait_from_arrival

if TYPE_CHECKING:
    from .openai_server import FakeOpenAI

SUPPORTED_UPLOADS = "['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']"
TEXT_FORMATS = {"json", "text", "srt", "verbose_json", "vtt", "diarized_json"}
TTS_VOICES = {
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
    "fable",
    "onyx",
    "nova",
}
MAX_TTS_INPUT = 4096
AUDIO_TOKENS_PER_SECOND = 10  # input audio; the real ratio is not published


class Transcriptions:
    """Speech to text: `config.transcript` for any decodable upload."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        form = record.form
        upload, model = form.get("file"), form.get("model")
        if not isinstance(upload, FilePart):
            return _missing("file")
        if not model:
            return _missing("model")
        response_format = form.get("response_format") or "json"
        problem = _format_problem(model, response_format)
        if problem:
            return json_error(400, problem, code="unsupported_value", param="response_format")
        try:
            record.audio_seconds = await asyncio.to_thread(decoded_seconds, upload.data)
        except UndecodableAudioError:
            message = f"Invalid file format. Supported formats: {SUPPORTED_UPLOADS}"
            return json_error(400, message, code=None)
        if record.audio_seconds < 0.1:
            message = "Audio file is too short. Minimum audio length is 0.1 seconds."
            return json_error(400, message, code="audio_too_short", param="file")

        text = self.fake.config.next_transcript()
        usage = _stt_usage(model, record.audio_seconds, text, str(form.get("prompt") or ""))
        logprobs = "logprobs" in _as_list(form.get("include[]"))
        await wait_from_arrival(request, self.fake.config.stt_delay_ms)
        if form.get("stream") == "true" and model != "whisper-1":  # whisper-1 ignores stream
            return await self._stream(request, text, usage, logprobs)
        return _transcript_response(text, response_format, usage, record.audio_seconds)

    async def _stream(
        self, request: web.Request, text: str, usage: dict[str, Any], logprobs: bool
    ) -> web.StreamResponse:
        stream = FaultyStream(request, self.fake.faults.take_stream_fault("transcriptions"))
        await stream.start("text/event-stream")
        try:
            for i, piece in enumerate(split_words(text)):
                if i:
                    await asyncio.sleep(self.fake.config.stt_delta_interval_ms / 1000)
                event: dict[str, Any] = {"type": "transcript.text.delta", "delta": piece}
                if logprobs:
                    event["logprobs"] = [_logprob(piece)]
                if not await stream.send_event(event):
                    return await stream.finish()
            done: dict[str, Any] = {"type": "transcript.text.done", "text": text, "usage": usage}
            if logprobs:
                done["logprobs"] = [_logprob(p) for p in split_words(text)]
            await stream.send_event(done)
            # Whether the service ends with `data: [DONE]` is unconfirmed; the SDK stops at EOF.
            return await stream.finish()
        except StreamCutError:
            return stream.response or web.Response(status=500)


class Speech:
    """Text to speech: a speech-like signal ~tts_ms_per_char long, encoded as requested."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        body = record.json if isinstance(record.json, dict) else {}
        problem = _speech_problem(body)
        if problem:
            message, code, param = problem
            return json_error(400, message, code=code, param=param)
        config = self.fake.config
        text, fmt = body["input"], body.get("response_format") or "mp3"
        seconds = speech_duration_s(
            text, config.tts_ms_per_char, config.tts_max_seconds, float(body.get("speed") or 1.0)
        )
        data = await asyncio.to_thread(encode_audio, synth_speech(text, seconds), fmt)
        fault = self.fake.faults.take_stream_fault("speech")
        if fault and fault.kind == "truncate":
            data = data[: int(len(data) * fault.fraction)]
        sse = body.get("stream_format") == "sse"
        usage = {
            "input_tokens": count_tokens(text),
            "output_tokens": math.ceil(seconds * 20),
            "total_tokens": count_tokens(text) + math.ceil(seconds * 20),
        }
        stream = FaultyStream(request, fault)
        await stream.start("text/event-stream" if sse else TTS_CONTENT_TYPES[fmt])
        try:
            await self._send(stream, data, sse, usage)
            return await stream.finish()
        except StreamCutError:
            return stream.response or web.Response(status=500)

    async def _send(
        self, stream: FaultyStream, data: bytes, sse: bool, usage: dict[str, Any]
    ) -> None:
        config = self.fake.config
        await wait_from_arrival(stream.request, config.tts_first_byte_ms)
        size = max(1, config.tts_chunk_bytes)
        for offset in range(0, len(data), size):
            if offset:
                await asyncio.sleep(config.tts_chunk_interval_ms / 1000)
            chunk = data[offset : offset + size]
            if sse:
                event = {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()}
                sent = await stream.send_event(event)
            else:
                sent = await stream.send_bytes(chunk)
            if not sent:
                return
        if sse:
            await stream.send_event({"type": "speech.audio.done", "usage": usage})


def _speech_problem(body: dict[str, Any]) -> tuple[str, str, str] | None:
    """(message, code, param) of the first invalid field, like the service's 400s."""
    for name in ("model", "input", "voice"):
        if not body.get(name):
            return f"Missing required parameter: '{name}'.", "missing_required_parameter", name
    text, voice = body["input"], body["voice"]
    if not isinstance(text, str):
        return "Invalid type for 'input': expected a string.", "invalid_type", "input"
    if len(text) > MAX_TTS_INPUT:
        return (
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{MAX_TTS_INPUT}, but got a string with length {len(text)} instead.",
            "string_above_max_length",
            "input",
        )
    if not (voice in TTS_VOICES or (isinstance(voice, dict) and voice.get("id"))):
        return (
            f"Invalid value: '{voice}'. Supported values are: {sorted(TTS_VOICES)}.",
            "invalid_value",
            "voice",
        )
    fmt = body.get("response_format") or "mp3"
    if fmt not in TTS_CONTENT_TYPES:
        return f"Invalid value: '{fmt}'.", "invalid_value", "response_format"
    speed = body.get("speed", 1.0)
    if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
        return "Invalid 'speed': expected a number between 0.25 and 4.0.", "invalid_value", "speed"
    if body.get("stream_format") == "sse" and str(body["model"]).startswith("tts-1"):
        return (
            "stream_format 'sse' is not supported for this model.",
            "unsupported_value",
            "stream_format",
        )
    return None


def _format_problem(model: str, response_format: str) -> str | None:
    if response_format not in TEXT_FORMATS:
        return f"Invalid value: '{response_format}'. Supported values are: {sorted(TEXT_FORMATS)}."
    if model != "whisper-1" and response_format not in ("json", "text", "diarized_json"):
        return f"response_format '{response_format}' is not compatible with model '{model}'."
    return None


def _stt_usage(model: str, seconds: float, text: str, prompt: str) -> dict[str, Any]:
    if model == "whisper-1":
        return {"type": "duration", "seconds": math.ceil(seconds)}
    audio_tokens = math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)
    text_tokens = count_tokens(prompt)
    output = count_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "output_tokens": output,
        "total_tokens": audio_tokens + text_tokens + output,
        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }


def _transcript_response(
    text: str, response_format: str, usage: dict[str, Any], seconds: float
) -> web.Response:
    if response_format == "text":
        return web.Response(text=text + "\n", content_type="text/plain")
    if response_format in ("srt", "vtt"):
        separator = "," if response_format == "srt" else "."
        header = "1\n" if response_format == "srt" else "WEBVTT\n\n"
        cue = f"{_clock(0, separator)} --> {_clock(seconds, separator)}"
        return web.Response(text=f"{header}{cue}\n{text}\n\n", content_type="text/plain")
    body: dict[str, Any] = {"text": text, "usage": usage}
    if response_format == "verbose_json":
        segment = {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": round(seconds, 2),
            "text": text,
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": -0.2,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.01,
        }
        body.update(task="transcribe", language="english", duration=seconds, segments=[segment])
    return web.json_response(body)


def _clock(seconds: float, separator: str) -> str:
    ms = int(seconds * 1000)
    return (
        f"{ms // 3_600_000:02}:{ms // 60_000 % 60:02}:{ms // 1000 % 60:02}{separator}{ms % 1000:03}"
    )


def _logprob(token: str) -> dict[str, Any]:
    return {"token": token, "logprob": -0.01, "bytes": list(token.encode())}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _missing(name: str) -> web.Response:
    return json_error(
        400, f"Missing required parameter: '{name}'.", code="missing_required_parameter", param=name
    )

"""The input audio buffer of one Realtime socket: VAD turns, commits, input transcription."""

from __future__ import annotations

import asyncio
import copy
import math
from typing import TYPE_CHECKING, Any

from .audio import bytes_per_ms
from .ids import new_id
from .rt_conversation import ItemAudio, decode_b64
from .rt_errors import EventError
from .rt_session import input_format, turn_detection
from .script import count_tokens, split_words
from .vad import EAGERNESS_SILENCE_MS, EnergyVad, VadEvent

if TYPE_CHECKING:
    from .rt_connection import RealtimeConnection

MIN_COMMIT_MS = 100


class InputAudio:
    """Buffers appended audio; with turn detection on, energy VAD decides the turns."""

    def __init__(self, conn: RealtimeConnection) -> None:
        self.conn = conn
        self.buffer = bytearray()  # uncommitted audio
        self.end = 0  # absolute byte offset of the end of everything appended this session
        self.vad: EnergyVad | None = None
        self.speech_item_id: str | None = None  # announced by speech_started, used on commit

    @property
    def bytes_per_ms(self) -> int:
        return bytes_per_ms(input_format(self.conn.session))

    def configure(self) -> None:
        """Follow the session's turn_detection (call after every session change)."""
        detection = turn_detection(self.conn.session)
        if detection is None:
            self.vad = None
            return
        fmt = input_format(self.conn.session)
        threshold = detection.get("threshold", 0.5)
        self.vad = EnergyVad(threshold, self._silence_ms(), bytes_per_ms(fmt), fmt, self.end)

    def _silence_ms(self) -> int:
        detection = turn_detection(self.conn.session) or {}
        if self.conn.fake.config.vad_silence_ms is not None:
            return self.conn.fake.config.vad_silence_ms
        if detection.get("type") == "semantic_vad":
            return EAGERNESS_SILENCE_MS.get(detection.get("eagerness") or "auto", 500)
        return int(detection.get("silence_duration_ms") or 200)

    async def append(self, event: dict[str, Any]) -> None:
        """input_audio_buffer.append: no ack; VAD edges fire at the exact window they end."""
        data = decode_b64(event.get("audio"), "audio")
        if self.vad is None:
            self._keep(data)
            return
        self.vad.silence_ms = self._silence_ms()  # the knob may change between turns
        start, taken = self.end, 0
        for edge in self.vad.feed(data):
            # Audio after a turn's end belongs to the next buffer, so split the chunk there.
            cut = max(taken, edge.position - start)
            self._keep(data[taken:cut])
            taken = cut
            await self._turn_edge(edge)
        self._keep(data[taken:])

    def _keep(self, data: bytes) -> None:
        self.buffer += data
        self.end += len(data)

    async def _turn_edge(self, edge: VadEvent) -> None:
        conn = self.conn
        detection = turn_detection(conn.session) or {}
        bpm = self.bytes_per_ms
        if edge.kind == "start":
            buffer_start_ms = (self.end - len(self.buffer)) / bpm
            padding = detection.get("prefix_padding_ms", 300)
            start_ms = max(buffer_start_ms, edge.onset / bpm - padding)
            self.speech_item_id = new_id("item")
            await conn.emit(
                {
                    "type": "input_audio_buffer.speech_started",
                    "audio_start_ms": int(start_ms),
                    "item_id": self.speech_item_id,
                }
            )
            # Only responses in the default conversation are interrupted by speech.
            response = conn.response
            if response and response.in_conversation and detection.get("interrupt_response", True):
                await response.cancel("turn_detected")
            return
        item_id = self.speech_item_id or new_id("item")
        self.speech_item_id = None
        await conn.emit(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": int(edge.position / bpm),
                "item_id": item_id,
            }
        )
        await self._commit_buffer(item_id)
        wants_response = detection.get("create_response", True)
        if wants_response and conn.session["type"] == "realtime" and conn.response is None:
            conn.start_response({})

    async def commit(self, event: dict[str, Any]) -> None:
        """input_audio_buffer.commit (manual mode, or forcing a turn end under VAD)."""
        ms = len(self.buffer) / self.bytes_per_ms
        if ms < MIN_COMMIT_MS:
            raise EventError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {ms:.2f}ms of audio.",
                "input_audio_buffer_commit_empty",
            )
        item_id = self.speech_item_id or new_id("item")
        self.speech_item_id = None
        if self.vad:
            self.vad.reset()
        await self._commit_buffer(item_id)

    async def clear(self, event: dict[str, Any]) -> None:
        self.buffer.clear()
        self.speech_item_id = None
        if self.vad:
            self.vad.reset()
        await self.conn.emit({"type": "input_audio_buffer.cleared"})

    async def _commit_buffer(self, item_id: str) -> None:
        """committed -> conversation.item.added/done for a user audio item; maybe transcribe."""
        conn = self.conn
        audio = ItemAudio(bytearray(self.buffer), self.bytes_per_ms)
        self.buffer.clear()
        previous = conn.conversation.last_id()
        await conn.emit(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        conn.conversation.add(item)
        conn.conversation.audio[item_id] = audio
        conn.conversation.heard[item_id] = conn.fake.config.next_transcript()
        for kind in ("conversation.item.added", "conversation.item.done"):
            await conn.emit(
                {"type": kind, "previous_item_id": previous, "item": copy.deepcopy(item)}
            )
        transcription = conn.session["audio"]["input"].get("transcription")
        if transcription:
            conn.spawn(self._transcribe(item_id, transcription, audio.ms), "transcription")

    async def _transcribe(
        self, item_id: str, transcription: dict[str, Any], audio_ms: float
    ) -> None:
        """Runs beside the response, so it may land before or after response.done."""
        conn = self.conn
        await asyncio.sleep(conn.fake.config.rt_transcription_delay_ms / 1000)
        ids = {"item_id": item_id, "content_index": 0}
        failure = conn.fake.faults.take_transcription_failure()
        if failure is not None:
            failed = "conversation.item.input_audio_transcription.failed"
            await conn.emit({"type": failed, **ids, "error": failure})
            return
        text = conn.conversation.heard.get(item_id, "")
        whisper = transcription.get("model") == "whisper-1"  # one delta with the whole text
        for piece in [text] if whisper else split_words(text):
            delta = "conversation.item.input_audio_transcription.delta"
            await conn.emit({"type": delta, **ids, "delta": piece})
        item = conn.conversation.get(item_id)
        if item:
            item["content"][0]["transcript"] = text
        audio_tokens = math.ceil(audio_ms / 100)  # ~10 audio tokens per second
        usage = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "output_tokens": count_tokens(text),
            "total_tokens": audio_tokens + count_tokens(text),
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
        }
        completed = "conversation.item.input_audio_transcription.completed"
        await conn.emit({"type": completed, **ids, "transcript": text, "usage": usage})

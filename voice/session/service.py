"""``SessionService``: one live conversation, between a transport and an engine.

It owns audio conversion, the turn clock, barge-in, tools and recording; transports only
translate wire messages into calls here and ``SessionEvent`` values back onto the wire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from voice.audio.codecs import BadAudioError, Encoder, make_encoder
from voice.audio.input import InputAudio
from voice.engines import base as eng
from voice.services import sessions as records
from voice.session import events as ev
from voice.session import live
from voice.session import site_tools as tools
from voice.session.clock import TurnClock, now_ms
from voice.session.engine_events import EngineEvents
from voice.session.flow import AudioBudget
from voice.session.limits import Admission
from voice.session.recorder import Recorder
from voice.session.relay import RelayStats
from voice.session.tools import ToolRunner
from voice.transports.json_socket.parse import (
    BAD_AUDIO,
    BUSY,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    RATE_LIMIT_MESSAGE,
    RATE_LIMITED,
    VoiceSettings,
)

logger = logging.getLogger(__name__)

Sink = Callable[[ev.SessionEvent], Awaitable[None]]


class SessionService(EngineEvents):
    """One conversation. Call ``open`` first and ``close`` last."""

    def __init__(
        self,
        *,
        engine: eng.Engine,
        sink: Sink,
        transport: str,
        user_id: int | None,
        client_ip: str | None,
        session_id: uuid.UUID,
        explicit_turns: bool = True,
    ) -> None:
        self.id = session_id
        # JSON clients mark utterances with start/stop_listening; streaming clients send audio
        # continuously and the engine (or voice_end) finds the turns.
        self.explicit_turns = explicit_turns
        self.engine = engine
        self.transport = transport
        self.user_id = user_id
        self.client_ip = client_ip
        self._sink = sink
        self._send_lock = asyncio.Lock()
        self.settings = VoiceSettings()
        self.context: dict[str, Any] = {}
        self.input = InputAudio(self.settings.audioFormat, self.settings.sampleRate)
        self.encoder: Encoder = make_encoder(self.settings.outputFormat)
        self.tools = ToolRunner()
        self.hints: tuple[str, ...] = ()
        self.history: tuple[tuple[str, str], ...] = ()  # replayed when a session resumes
        self.counters = dict.fromkeys(
            ("frames_in", "frames_out", "audio_in_ms", "bad_frames", "messages_in", "messages_out"),
            0,
        )
        self.turn: TurnClock | None = None
        self.turns = 0
        self.listening = False
        self.transcribing = False
        self.response_id: str | None = None
        self._response_audio_bytes = 0
        # The last finished response's audio: (first audio sent at, ms sent), for a barge-in
        # while the client is still playing it.
        self._last_audio: tuple[float, int] | None = None
        self._dropped: set[str] = set()
        self._pending_complete: ev.ResponseComplete | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.recorder: Recorder | None = None
        self.relay = RelayStats()
        self.admission = Admission(
            user_id, client_ip, lambda: self._error(RATE_LIMITED, RATE_LIMIT_MESSAGE)
        )
        self.audio_budget = AudioBudget(
            settings.VOICE_AUDIO_BURST_SECONDS, settings.VOICE_AUDIO_REFILL_RATIO
        )

    # ---- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        self.recorder = Recorder(str(self.id))
        opened = await self.recorder.call(
            partial(
                records.open_session,
                self.id,
                user_id=self.user_id,
                transport=self.transport,
                engine=self.engine.name,
                client_ip=self.client_ip,
            )
        )
        self.turns, self.history = opened.next_turn, opened.history
        self.recorder.notify(live.aannounce, self.id, "opened")
        self.hints = await database_sync_to_async(tools.site_vocabulary)()
        await self.engine.start(self._engine_config())
        self._spawn(self._pump(), "pump")
        self._spawn(self._heartbeat(), "heartbeat")

    async def close(self, reason: str = "client_closed") -> None:
        """End the session: engine, tasks, open turn and session row. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.input.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.engine.close()
        except Exception:
            logger.exception("engine close failed in session %s", self.id)
        if self.turn is not None:
            self._finish_turn("disconnected")
        if self.recorder is not None:
            self.recorder.write(
                records.close_session, self.id, reason, self._take_counters(), self.relay.summary()
            )
            self.recorder.notify(live.aannounce, self.id, "closed")
            await self.recorder.close()

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=f"session-{name}-{self.id}"))

    # ---- client actions -----------------------------------------------------------------------

    async def configure(self, settings_: VoiceSettings, context: dict[str, Any]) -> None:
        format_changed = (settings_.audioFormat, settings_.sampleRate) != (
            self.settings.audioFormat,
            self.settings.sampleRate,
        )
        if format_changed:
            self.input.close()
            self.input = InputAudio(settings_.audioFormat, settings_.sampleRate)
        if settings_.outputFormat != self.settings.outputFormat:
            self.encoder = make_encoder(settings_.outputFormat)
        self.settings, self.context = settings_, context
        self.tools.set_context(context)
        await self.engine.update(self._engine_config())
        if self.recorder is not None:
            self.recorder.write(records.update_config, self.id, settings_.model_dump())

    async def start_listening(self) -> None:
        if self.transcribing:
            await self._error(BUSY, "Still transcribing the previous utterance")
            return
        if not await self.admission.utterance():
            return
        if self.response_id is not None:
            await self.barge_in(now_ms())
        await self.engine.clear_input()
        self.input.restart()
        self.listening = True
        self._begin_turn("audio")

    async def audio(self, data: bytes) -> None:
        """A piece of client audio in the negotiated input format."""
        if self.admission.refusing():
            return  # a spent limit: audio is dropped until its window resets
        if self.explicit_turns:
            if self.transcribing:
                await self._error(BUSY, "Still transcribing the previous utterance")
                return
            if not self.listening:
                await self.start_listening()
        try:
            pcm = self.input.decode(data)
        except BadAudioError as exc:
            self.counters["bad_frames"] += 1
            await self._error(BAD_AUDIO, f"Undecodable audio: {exc}")
            return
        self.counters["frames_in"] += 1
        await self._forward(pcm)

    async def stop_listening(self) -> None:
        """End of the utterance (``stop_listening``, or ``voice_end`` of a streaming client)."""
        if self.explicit_turns and not self.listening:
            return
        if self.turn is None and not await self.admission.utterance():
            return
        self.listening = False
        self.transcribing = True
        if self.turn is None:
            self._begin_turn("audio")
        assert self.turn is not None
        self.turn.stamp("speech_end")
        pcm, error = await self.input.drain()
        await self._forward(pcm)
        if error:
            await self._error(BAD_AUDIO, error)
        await self.engine.commit()

    async def text(self, text: str) -> None:
        """Typed input, answered like an utterance."""
        if not await self.admission.utterance():
            return
        if self.response_id is not None:
            await self.barge_in(now_ms())
        self.listening = False
        self._begin_turn("text")
        assert self.turn is not None
        self.turn.user_text = text
        self.turn.stamp("transcript_final")
        await self.engine.send_text(text)

    async def barge_in(self, signalled_at: float) -> None:
        """Stop the current response at once; nothing more of it reaches the client."""
        response_id = self.response_id
        if response_id is None:
            await self._barge_in_playback(signalled_at)
            return
        self._dropped.add(response_id)
        self.response_id = None
        self._pending_complete = None
        played_ms = self._response_audio_bytes // eng.BYTES_PER_MS
        async with self._send_lock:  # waits for a frame already being written
            latency = now_ms() - signalled_at
            await self._sink(ev.BargeIn(response_id, latency))
            await self._sink(ev.AudioComplete(response_id))
        if self.turn is not None:
            self.turn.stamp("barge_in")
            self._finish_turn("barge_in")
        await self.engine.cancel(played_ms)

    async def _barge_in_playback(self, signalled_at: float) -> None:
        """Interrupted while the client still plays a finished response: cut what is unheard."""
        last, self._last_audio = self._last_audio, None
        if last is None:
            return
        first_sent, audio_ms = last
        heard_ms = int(signalled_at - first_sent)
        if heard_ms >= audio_ms:
            return  # it had all been played
        await self._send(ev.BargeIn("", now_ms() - signalled_at))
        await self.engine.cancel(max(0, heard_ms))

    async def end(self, close_code: int, reason: str) -> None:
        """The server ends the session; the transport closes with ``close_code``."""
        await self._send(ev.SessionEnded(close_code, reason))

    # ---- helpers ------------------------------------------------------------------------------

    async def _send(self, event: ev.SessionEvent) -> None:
        async with self._send_lock:
            response_id = getattr(event, "response_id", None)
            if response_id is not None and response_id in self._dropped:
                return
            await self._sink(event)

    async def _error(self, code: str, message: str) -> None:
        await self._send(ev.Error(code, message))

    async def _forward(self, pcm: bytes) -> None:
        if not pcm:
            return
        audio_ms = len(pcm) // eng.BYTES_PER_MS
        if not self.audio_budget.spend(audio_ms):
            await self.end(CLOSE_RATE_LIMITED, "audio_flood")
            return
        self.counters["audio_in_ms"] += audio_ms
        self.admission.audio_ms += audio_ms
        await self.engine.send_audio(pcm)

    def _begin_turn(self, input_kind: str) -> None:
        if self.turn is not None:
            self._finish_turn("cancelled")
        self.turn = TurnClock(index=self.turns, input_kind=input_kind)
        self.turns += 1
        if self.recorder is not None:
            self.recorder.write(self._record_start, self.turn)
            self.recorder.notify(live.aannounce, self.id, "turn_started")

    def _record_start(self, turn: TurnClock) -> None:
        turn.record_id = records.start_turn(self.id, turn.index, turn.input_kind, turn.wall)

    def _finish_turn(self, reason: str, error: str = "") -> None:
        turn, self.turn = self.turn, None
        if turn is None or self.recorder is None:
            return
        fields = turn.record(reason, error)
        self.recorder.write(lambda: records.finish_turn(turn.record_id, fields))
        self.recorder.notify(live.aannounce, self.id, "turn_finished")

    def _take_counters(self) -> dict[str, int]:
        taken = {k: v for k, v in self.counters.items() if v}
        for key in self.counters:
            self.counters[key] = 0
        return taken

    async def _heartbeat(self) -> None:
        # A random phase, so sessions opened together do not all write at the same instant.
        interval = settings.VOICE_HEARTBEAT_SECONDS
        await asyncio.sleep(random.uniform(0, interval))
        assert self.recorder is not None
        while True:
            counters = self._take_counters()
            try:
                await self.admission.charge_audio()
                alive = await self.recorder.call(records.beat, self.id, counters)
            except Exception:  # a database hiccup skips one beat; the next one carries its counts
                logger.warning("heartbeat failed in session %s", self.id, exc_info=True)
                for key, value in counters.items():
                    self.counters[key] += value
                alive = True
            if not alive:
                await self.end(CLOSE_NORMAL, "ended_by_staff")
                return
            self.recorder.write(records.reap_if_due)
            await asyncio.sleep(interval)

    def _engine_config(self) -> eng.SessionConfig:
        # JSON clients mark each utterance; streaming clients rely on the engine's detector.
        turns = None if self.explicit_turns else eng.TurnDetection()
        return eng.SessionConfig(
            session_id=str(self.id),
            instructions=self.tools.instructions(settings.VOICE_INSTRUCTIONS, self.context),
            voice=self.settings.voiceId,
            language=self.settings.language_code,
            speed=self.settings.rate,
            tools=self.tools.specs(),
            turn_detection=turns,
            hints=self.hints,
            history=self.history,
        )

"""``SessionService``: one live conversation, between a transport and an engine.

It owns audio conversion, the turn clock, barge-in, tools and recording; transports only
translate wire messages into calls here and ``SessionEvent`` values back onto the wire.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Coroutine
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
from voice.session.counters import Counters
from voice.session.engine_events import EngineEventHandler
from voice.session.limits import AudioBudget, UsageLimits
from voice.session.output import Output, Sink
from voice.session.recorder import Recorder
from voice.session.settings import SessionSettings
from voice.session.tools import ToolRunner

logger = logging.getLogger(__name__)


class SessionService:
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
        self.settings = SessionSettings()
        self.context: dict[str, Any] = {}
        self.input = InputAudio(self.settings.audio_format, self.settings.sample_rate)
        self.encoder: Encoder = make_encoder(self.settings.output_format)
        self.tools = ToolRunner()
        self.hints: tuple[str, ...] = ()
        self.history: tuple[tuple[str, str], ...] = ()  # replayed when a session resumes
        self.counters = Counters()
        self.turn: TurnClock | None = None
        self.turns = 0
        self.listening = False
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.recorder: Recorder | None = None
        self.output = Output(sink)
        self.engine_events = EngineEventHandler(self, engine, self.tools, self.output, session_id)
        self.limits = UsageLimits(
            user_id,
            client_ip,
            lambda: self._error(ev.ErrorKind.RATE_LIMITED, ev.RATE_LIMIT_MESSAGE),
        )
        self.audio_budget = AudioBudget(
            settings.VOICE_AUDIO_BURST_SECONDS, settings.VOICE_AUDIO_REFILL_RATIO
        )

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
        self.credentials = opened.credentials  # the heartbeat checks the user still has them
        self.recorder.notify(live.aannounce, self.id, "opened")
        self.hints = await database_sync_to_async(tools.site_vocabulary)()
        await self.engine.start(self._engine_config())
        self._spawn(self.engine_events.run(), "pump")
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
            self.finish_turn("disconnected")
        if self.recorder is not None:
            figures = self.engine_events.relay.summary()
            self.recorder.write(
                records.close_session, self.id, reason, self.counters.take(), figures
            )
            self.recorder.notify(live.aannounce, self.id, "closed")
            await self.recorder.close()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=f"session-{name}-{self.id}"))

    async def configure(self, settings_: SessionSettings, context: dict[str, Any]) -> None:
        format_changed = (settings_.audio_format, settings_.sample_rate) != (
            self.settings.audio_format,
            self.settings.sample_rate,
        )
        if format_changed:
            self.input.close()
            self.input = InputAudio(settings_.audio_format, settings_.sample_rate)
        if settings_.output_format != self.settings.output_format:
            self.encoder = make_encoder(settings_.output_format)
        self.settings, self.context = settings_, context
        self.tools.set_context(context)
        await self.engine.update(self._engine_config())
        if self.recorder is not None:
            self.recorder.write(records.update_config, self.id, settings_.record())

    async def start_listening(self) -> None:
        if await self._busy():
            return
        if not await self.limits.utterance():
            return
        if self.engine_events.response_id is not None:
            await self.barge_in(now_ms())
        await self.engine.clear_input()
        self.input.restart()
        self.listening = True
        self.begin_turn("audio")

    async def audio(self, data: bytes) -> None:
        """A piece of client audio in the negotiated input format."""
        if self.limits.refusing():
            return  # a spent limit: audio is dropped until its window resets
        if self.explicit_turns:
            if await self._busy():
                return
            if not self.listening:
                await self.start_listening()
        try:
            pcm = self.input.decode(data)
        except BadAudioError as exc:
            self.counters["bad_frames"] += 1
            await self._error(ev.ErrorKind.BAD_AUDIO, f"Undecodable audio: {exc}")
            return
        self.counters["frames_in"] += 1
        await self._forward(pcm)

    async def stop_listening(self) -> None:
        """End of the utterance (``stop_listening``, or ``voice_end`` of a streaming client)."""
        if self.explicit_turns and not self.listening:
            return
        if self.turn is None and not await self.limits.utterance():
            return
        self.listening = False
        self.engine_events.expect_transcript()
        turn = self.turn or self.begin_turn("audio")
        turn.stamp("speech_end")
        pcm, error = await self.input.drain()
        await self._forward(pcm)
        if error:
            await self._error(ev.ErrorKind.BAD_AUDIO, error)
        await self.engine.commit()

    async def text(self, text: str) -> None:
        """Typed input, answered like an utterance."""
        if not await self.limits.utterance():
            return
        if self.engine_events.response_id is not None:
            await self.barge_in(now_ms())
        self.listening = False
        turn = self.begin_turn("text")
        turn.user_text = text
        turn.stamp("transcript_final")
        await self.engine.send_text(text)

    async def barge_in(self, signalled_at: float) -> None:
        """The user interrupts: stop the response, or the playback of the last one."""
        await self.engine_events.barge_in(signalled_at)

    async def end(self, ending: ev.Ending, reason: str) -> None:
        """The server ends the session; the transport closes and ``reason`` is recorded."""
        await self.output.send(ev.SessionEnded(ending, reason))

    def begin_turn(self, input_kind: str) -> TurnClock:
        """Open the next turn (an open one ends as cancelled) and record its start."""
        if self.turn is not None:
            self.finish_turn("cancelled")
        turn = self.turn = TurnClock(index=self.turns, input_kind=input_kind)
        self.turns += 1
        if self.recorder is not None:
            self.recorder.write(self._record_start, turn)
            self.recorder.notify(live.aannounce, self.id, "turn_started")
        return turn

    def finish_turn(self, reason: str, error: str = "") -> None:
        """Close the open turn, if any, and record how it ended."""
        turn, self.turn = self.turn, None
        if turn is None or self.recorder is None:
            return
        fields = turn.record(reason, error)
        self.recorder.write(lambda: records.finish_turn(turn.record_id, fields))
        self.recorder.notify(live.aannounce, self.id, "turn_finished")

    async def admit_utterance(self) -> bool:
        """Whether the user may start another utterance (else the client is told)."""
        return await self.limits.utterance()

    def count(self, counter: str, amount: int = 1) -> None:
        """Add to one of the session row's traffic counters."""
        self.counters[counter] += amount

    async def _busy(self) -> bool:
        """Whether the previous utterance is still being transcribed (the client is told)."""
        busy = self.engine_events.transcribing
        if busy:
            await self._error(ev.ErrorKind.BUSY, "Still transcribing the previous utterance")
        return busy

    async def _error(self, kind: ev.ErrorKind, message: str) -> None:
        await self.output.send(ev.Error(kind, message))

    async def _forward(self, pcm: bytes) -> None:
        if not pcm:
            return
        audio_ms = len(pcm) // eng.BYTES_PER_MS
        if not self.audio_budget.spend(audio_ms):
            await self.end(ev.Ending.FLOODED, "audio_flood")
            return
        self.counters["audio_in_ms"] += audio_ms
        self.limits.audio_ms += audio_ms
        await self.engine.send_audio(pcm)

    def _record_start(self, turn: TurnClock) -> None:
        turn.record_id = records.start_turn(self.id, turn.index, turn.input_kind, turn.wall)

    async def _heartbeat(self) -> None:
        # A random phase, so sessions opened together do not all write at the same instant.
        interval = settings.VOICE_HEARTBEAT_SECONDS
        await asyncio.sleep(random.uniform(0, interval))
        assert self.recorder is not None
        while True:
            counters = self.counters.take()
            try:
                await self.limits.charge_audio()
                beat = await self.recorder.call(records.beat, self.id, counters, self.credentials)
            except Exception:  # a database hiccup skips one beat; the next one carries its counts
                logger.warning("heartbeat failed in session %s", self.id, exc_info=True)
                self.counters.give_back(counters)
                beat = records.Beat.LIVE
            if beat is not records.Beat.LIVE:
                revoked = beat is records.Beat.REVOKED
                await self.end(ev.Ending.REVOKED if revoked else ev.Ending.NORMAL, beat.value)
                return
            self.recorder.write(records.reap_if_due)
            await asyncio.sleep(interval)

    def _engine_config(self) -> eng.SessionConfig:
        # JSON clients mark each utterance; streaming clients rely on the engine's detector.
        turns = None if self.explicit_turns else eng.TurnDetection()
        return eng.SessionConfig(
            session_id=str(self.id),
            instructions=self.tools.instructions(settings.VOICE_INSTRUCTIONS, self.context),
            voice=self.settings.voice_id,
            language=self.settings.language_code,
            speed=self.settings.rate,
            tools=self.tools.specs(),
            turn_detection=turns,
            hints=self.hints,
            history=self.history,
        )

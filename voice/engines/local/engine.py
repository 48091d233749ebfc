"""The offline engine: webrtcvad, pocketsphinx, an intent responder and espeak-ng.

Everything runs on this machine from models inside PyPI wheels, so a conversation works with
no API key. Blocking work (decoding, synthesis) runs in worker threads; the event loop only
moves bytes and events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from voice.engines.base import (
    AudioDelta,
    EngineError,
    EngineEvent,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    SessionConfig,
    TextDelta,
    ToolCall,
    TranscriptFinal,
)
from voice.engines.local.intents import example_sentences
from voice.engines.local.listener import Listener, UtteranceEnd
from voice.engines.local.responder import Plan, Responder
from voice.engines.local.stt import SITE, Recognizer
from voice.engines.local.tts import EspeakSynthesizer, espeak_voice, get_synthesizer, spoken_reply

logger = logging.getLogger(__name__)

TOOL_TIMEOUT_S = 15.0  # how long a response waits for the session to run a tool


class LocalEngine:
    """One offline conversation; implements ``voice.engines.base.Engine``."""

    name = "local"

    def __init__(
        self,
        *,
        language_model: str = SITE,
        tool_timeout_s: float = TOOL_TIMEOUT_S,
        synthesizer: EspeakSynthesizer | None = None,
    ) -> None:
        self.detects_turns = False
        self.language_model = language_model
        self.tool_timeout_s = tool_timeout_s
        self._synthesizer = synthesizer
        self._config: SessionConfig | None = None
        self._responder = Responder()
        self._listener: Listener | None = None
        self._events: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._listen_task: asyncio.Task[None] | None = None
        self._response_task: asyncio.Task[None] | None = None
        self._response_id = ""
        self._cancelled: set[str] = set()
        self._tool_results: dict[str, asyncio.Future[str]] = {}
        self._closed = False

    async def start(self, config: SessionConfig) -> None:
        """Load the recogniser (biased toward the session's hints) and start listening."""
        if self._listen_task is not None:
            raise EngineError("engine already started")
        self._apply(config)
        recognizer = await asyncio.to_thread(self._load_recognizer, config)
        self._listener = Listener(recognizer, config.turn_detection)
        if self._synthesizer is None:
            self._synthesizer = await asyncio.to_thread(get_synthesizer)
        self._listen_task = asyncio.create_task(
            self._listen(), name=f"local-listen-{config.session_id}"
        )

    async def update(self, config: SessionConfig) -> None:
        """New voice, speed, tools, hints or turn settings, from the next turn on."""
        self._apply(config)
        sentences = example_sentences(self._responder.hints, config.tools)
        await self._inbox.put(("configure", (config.turn_detection, sentences)))

    async def send_audio(self, pcm: bytes) -> None:
        """Queue user audio; decoding happens in the listening task."""
        self._check_open()
        await self._inbox.put(("audio", pcm))

    async def clear_input(self) -> None:
        """Drop audio not yet decoded and the utterance in progress."""
        self._check_open()
        kept = []
        while not self._inbox.empty():  # audio still queued is part of what we drop
            item = self._inbox.get_nowait()
            if item[0] != "audio":
                kept.append(item)
        for item in [*kept, ("clear", None)]:
            self._inbox.put_nowait(item)

    async def commit(self) -> None:
        """End of the utterance: the final transcript and a response follow."""
        self._check_open()
        await self._inbox.put(("commit", None))

    async def send_text(self, text: str) -> None:
        """Typed input, answered like a spoken utterance."""
        self._check_open()
        self._start_response(text)

    async def cancel(self, played_ms: int | None = None) -> None:
        """Stop the current response now: no more of its text or audio, then ResponseDone."""
        if task := self._stop_response():
            logger.info("session %s: response cancelled, %s ms played", self._sid, played_ms)
            await asyncio.wait([task])  # let it unwind; a cancel of our own still propagates

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        """Hand a tool's output to the response waiting for it."""
        waiter = self._tool_results.get(call_id)
        if waiter is None or waiter.done():
            logger.warning("tool result for unknown or finished call %s", call_id)
            return
        waiter.set_result(output)

    async def events(self) -> AsyncIterator[EngineEvent]:
        """Events in order until ``close()``; pieces of cancelled responses are dropped."""
        while (event := await self._events.get()) is not None:
            if isinstance(event, TextDelta | AudioDelta) and event.response_id in self._cancelled:
                continue
            yield event

    async def close(self) -> None:
        """Stop listening and responding. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._listen_task, self._response_task) if t and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for waiter in self._tool_results.values():
            waiter.cancel()
        self._events.put_nowait(None)

    def _apply(self, config: SessionConfig) -> None:
        self._config = config
        self.detects_turns = config.turn_detection is not None
        self._responder.hints = config.hints
        self._responder.tools = config.tools
        if config.language and not config.language.lower().startswith("en"):
            logger.warning("session %s: English only, not %s", config.session_id, config.language)

    def _load_recognizer(self, config: SessionConfig) -> Recognizer:
        recognizer = Recognizer(self.language_model)
        recognizer.configure(example_sentences(self._responder.hints, config.tools))
        return recognizer

    async def _listen(self) -> None:
        """Decode queued input in a worker thread, batch by batch, and emit what it found."""
        listener = self._listener
        assert listener is not None
        while True:
            batch = [await self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            try:
                found = await asyncio.to_thread(listener.handle, batch)
            except Exception:
                logger.exception("local recogniser failed (session %s)", self._sid)
                self._emit(EngineFailure("speech recognition failed", code="upstream"))
                # Start afresh with the next audio (clear() does not raise).
                await asyncio.to_thread(listener.clear)
                continue
            for event in found:
                if isinstance(event, UtteranceEnd):
                    self._emit(TranscriptFinal(text=event.text))
                    if event.text or event.explicit:  # VAD noise with no words gets no answer
                        self._start_response(event.text)
                else:
                    self._emit(event)

    def _stop_response(self) -> asyncio.Task[None] | None:
        """Cancel the running response, if any, and say so; returns its task."""
        task, response_id = self._response_task, self._response_id
        if task is None or task.done() or response_id in self._cancelled:
            return None
        self._cancelled.add(response_id)
        task.cancel()  # it is suspended, so it can emit nothing more
        self._emit(ResponseDone(response_id=response_id, status="cancelled"))
        return task

    def _start_response(self, text: str) -> None:
        """Answer ``text``; a new turn supersedes a response still running."""
        self._stop_response()
        self._response_id = f"resp_{uuid.uuid4().hex[:20]}"
        self._emit(ResponseStarted(response_id=self._response_id))
        self._response_task = asyncio.create_task(
            self._respond(self._response_id, text), name=f"local-response-{self._response_id}"
        )

    async def _respond(self, response_id: str, text: str) -> None:
        config, synthesizer = self._config, self._synthesizer
        assert config is not None and synthesizer is not None
        try:
            plan = self._responder.plan(text)
            reply = plan.reply
            if plan.tool:
                reply = self._responder.answer(plan, await self._call_tool(response_id, plan))
            voice = espeak_voice(config.voice)  # read per turn: update() applies from the next
            async for event in spoken_reply(response_id, reply, synthesizer, voice, config.speed):
                self._emit(event)
        except Exception:
            logger.exception("local response %s failed (session %s)", response_id, self._sid)
            self._emit(EngineFailure("the local response failed", code="upstream"))
            self._emit(ResponseDone(response_id=response_id, status="failed"))
            return
        self._emit(ResponseDone(response_id=response_id, status="completed"))

    async def _call_tool(self, response_id: str, plan: Plan) -> str | None:
        call_id = f"call_{uuid.uuid4().hex[:20]}"
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tool_results[call_id] = waiter
        arguments = json.dumps(plan.arguments)
        self._emit(ToolCall(response_id, call_id=call_id, name=plan.tool, arguments=arguments))
        try:
            return await asyncio.wait_for(waiter, self.tool_timeout_s)
        except TimeoutError:
            logger.warning("session %s: tool %s got no result in time", self._sid, plan.tool)
            return None
        finally:
            self._tool_results.pop(call_id, None)

    @property
    def _sid(self) -> str:
        return self._config.session_id if self._config else "-"

    def _emit(self, event: EngineEvent) -> None:
        if not self._closed:
            self._events.put_nowait(event)

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("engine closed")
        if self._listen_task is None:
            raise EngineError("engine not started")

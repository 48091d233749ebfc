"""The ``openai-pipeline`` engine: speech-to-text, then streamed chat, then streamed speech."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from voice.engines.base import (
    AudioDelta,
    EngineEvent,
    EngineFailure,
    ResponseDone,
    ResponseStarted,
    SessionConfig,
    TextDelta,
    TextDone,
    ToolCall,
    TranscriptDelta,
    TranscriptFinal,
)
from voice.engines.pipeline.stt import SegmentedTranscriber
from voice.engines.pipeline.tts import SentenceSplitter, SpeechQueue
from voice.upstream.errors import UPSTREAM_ERRORS, describe

logger = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 4
TOOL_RESULT_TIMEOUT = 30.0
HISTORY_MESSAGES = 40  # earlier user/assistant messages kept for context


def describe_failure(exc: BaseException) -> str:
    """A message for the client that names the cause and never carries a secret."""
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return "The AI service could not be reached. Please try again."
    return f"The AI service failed ({describe(exc)}). Please try again."


class OpenAIPipelineEngine:
    """Transcribe each utterance, stream a chat completion, speak it sentence by sentence."""

    name = "openai-pipeline"
    detects_turns = False

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        transcribe_model: str,
        chat_model: str,
        tts_model: str,
        segment_ms: int = 1200,
        owns_client: bool = True,
    ) -> None:
        self.client = client
        self.owns_client = owns_client  # a client shared by the process is not ours to close
        self.transcribe_model = transcribe_model
        self.chat_model = chat_model
        self.tts_model = tts_model
        self.segment_ms = segment_ms
        self.config = SessionConfig(session_id="")
        self.history: list[dict[str, Any]] = []
        self.upstream_audio_bytes = 0  # bytes of audio uploaded for transcription
        self._events: asyncio.Queue[EngineEvent | None] = asyncio.Queue()
        self._stt: SegmentedTranscriber | None = None
        self._turn: asyncio.Task[None] | None = None
        self._tool_results: dict[str, asyncio.Future[str]] = {}

    # ---- Engine interface ---------------------------------------------------------------------

    async def start(self, config: SessionConfig) -> None:
        self.config = config
        self.history = [{"role": role, "content": text} for role, text in config.history]

    async def update(self, config: SessionConfig) -> None:
        self.config = config

    async def send_audio(self, pcm: bytes) -> None:
        if self._stt is None:
            self._stt = SegmentedTranscriber(
                client=self.client,
                model=self.transcribe_model,
                language=self.config.language,
                on_partial=lambda text: self._emit(TranscriptDelta(text)),
                segment_ms=self.segment_ms,
                streaming=self.transcribe_model != "whisper-1",
            )
        self._stt.append(pcm)

    async def clear_input(self) -> None:
        if self._stt is not None:
            self._stt.cancel()
        self._stt = None

    async def commit(self) -> None:
        stt, self._stt = self._stt, None
        self._start_turn(self._spoken_turn(stt))

    async def send_text(self, text: str) -> None:
        self._start_turn(self._respond(text))

    async def cancel(self, played_ms: int | None = None) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()

    async def submit_tool_result(self, call_id: str, output: str) -> None:
        future = self._tool_results.get(call_id)
        if future is not None and not future.done():
            future.set_result(output)

    async def events(self) -> AsyncIterator[EngineEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    async def close(self) -> None:
        await self.clear_input()
        if self._turn is not None:
            self._turn.cancel()
        self._events.put_nowait(None)
        if self.owns_client:
            await self.client.close()

    # ---- turns --------------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        self._events.put_nowait(event)

    def _start_turn(self, work: Any) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
        self._turn = asyncio.create_task(work, name=f"pipeline-turn-{self.config.session_id}")

    async def _spoken_turn(self, stt: SegmentedTranscriber | None) -> None:
        try:
            text = await stt.finish() if stt is not None else ""
        except asyncio.CancelledError:
            if stt is not None:
                stt.cancel()
            raise
        except UPSTREAM_ERRORS as exc:
            logger.warning("transcription failed in %s: %s", self.config.session_id, describe(exc))
            self._emit(EngineFailure(describe_failure(exc)))
            return
        finally:
            if stt is not None:
                self.upstream_audio_bytes += stt.uploaded_bytes
        self._emit(TranscriptFinal(text, usage=stt.usage if stt else None))
        if text.strip():
            await self._respond(text)

    async def _respond(self, user_text: str) -> None:
        response_id = f"resp_{uuid.uuid4().hex[:16]}"
        self._emit(ResponseStarted(response_id))
        speech = SpeechQueue(self.client, self.tts_model, self.config.voice, self.config.speed)
        delivery = asyncio.create_task(
            self._deliver(response_id, speech), name=f"pipeline-audio-{response_id}"
        )
        try:
            text, usage = await self._chat(response_id, user_text, speech)
            self._emit(TextDone(response_id, text, usage))
            speech.end()
            await delivery
        except asyncio.CancelledError:
            speech.cancel()
            delivery.cancel()
            self._emit(ResponseDone(response_id, status="cancelled"))
            raise
        except UPSTREAM_ERRORS as exc:
            logger.warning("response failed in %s: %s", self.config.session_id, describe(exc))
            speech.cancel()
            delivery.cancel()
            self._emit(EngineFailure(describe_failure(exc)))
            self._emit(ResponseDone(response_id, status="failed"))
            return
        self._emit(ResponseDone(response_id, usage=usage))

    async def _deliver(self, response_id: str, speech: SpeechQueue) -> None:
        async for pcm in speech.audio():
            self._emit(AudioDelta(response_id, pcm))

    async def _chat(
        self, response_id: str, user_text: str, speech: SpeechQueue
    ) -> tuple[str, dict[str, Any]]:
        """Stream the reply (running tools as the model asks); return its text and usage."""
        messages = [self._system_message(), *self.history, {"role": "user", "content": user_text}]
        splitter = SentenceSplitter()
        reply = ""
        usage: dict[str, Any] = {}
        for _ in range(MAX_TOOL_ROUNDS):
            text, calls, round_usage = await self._chat_round(
                response_id, messages, splitter, speech
            )
            reply += text
            for key, value in round_usage.items():
                usage[key] = usage.get(key, 0) + value
            if not calls:
                break
            messages.append({"role": "assistant", "content": text or None, "tool_calls": calls})
            for call in calls:
                output = await self._run_tool(response_id, call)
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": output})
        for sentence in splitter.flush():
            speech.say(sentence)
        self.history += [
            {"role": "user", "content": user_text},
            {"role": "assistant", "content": reply},
        ]
        self.history = self.history[-HISTORY_MESSAGES:]
        return reply, usage

    async def _chat_round(
        self,
        response_id: str,
        messages: list[dict[str, Any]],
        splitter: SentenceSplitter,
        speech: SpeechQueue,
    ) -> tuple[str, list[dict[str, Any]], dict[str, int]]:
        body: dict[str, Any] = {"messages": messages}
        if self.config.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in self.config.tools
            ]
        # create() walks every message and tool through the SDK's type transform on the event
        # loop (about 0.2 ms a message: several ms a turn once there is history). These are
        # plain JSON already, so they travel in extra_body, which the SDK sends as it is.
        stream = await self.client.chat.completions.create(
            model=self.chat_model,
            messages=[],
            stream=True,
            stream_options={"include_usage": True},
            extra_body=body,
        )
        text = ""
        calls: dict[int, dict[str, Any]] = {}
        usage: dict[str, Any] = {}
        async for chunk in stream:
            if chunk.usage is not None:
                usage = {
                    "input_tokens": chunk.usage.prompt_tokens,
                    "output_tokens": chunk.usage.completion_tokens,
                    "total_tokens": chunk.usage.total_tokens,
                }
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text += delta.content
                    self._emit(TextDelta(response_id, delta.content))
                    for sentence in splitter.feed(delta.content):
                        speech.say(sentence)
                for call in delta.tool_calls or []:
                    slot = calls.setdefault(
                        call.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["function"]["name"] += call.function.name or ""
                        slot["function"]["arguments"] += call.function.arguments or ""
            # Chunks that arrive together are parsed in one go unless we step aside: let a
            # sentence's speech request leave while the rest of the burst is parsed.
            await asyncio.sleep(0)
        return text, [calls[i] for i in sorted(calls)], usage

    async def _run_tool(self, response_id: str, call: dict[str, Any]) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._tool_results[call["id"]] = future
        function = call["function"]
        self._emit(ToolCall(response_id, call["id"], function["name"], function["arguments"]))
        try:
            return await asyncio.wait_for(future, TOOL_RESULT_TIMEOUT)
        except TimeoutError:
            return json.dumps({"error": "the tool did not answer in time"})
        finally:
            self._tool_results.pop(call["id"], None)

    def _system_message(self) -> dict[str, str]:
        return {"role": "system", "content": self.config.instructions}

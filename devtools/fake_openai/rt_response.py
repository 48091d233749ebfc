"""One Realtime response: the GA event sequence of reference 4.3 / 4.4, cancellable (4.5)."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from .audio import bytes_per_ms, synth_realtime_audio
from .ids import new_id
from .rt_conversation import ItemAudio, answered_tool, assistant_item, user_text
from .rt_errors import ConnectionGoneError
from .rt_usage import input_tokens, output_audio_tokens, rate_limits_updated, usage
from .script import TextPlan, ToolCallPlan, count_tokens, plan_turn, split_fixed, split_words

if TYPE_CHECKING:
    from .rt_connection import RealtimeConnection

logger = logging.getLogger(__name__)

CANCEL_WAIT_S = 10.0  # bound on waiting for a cancelled response to close out


class ResponseRun:
    """Generates a response in its own task; `cancel()` closes it out as `cancelled`."""

    def __init__(self, conn: RealtimeConnection, options: dict[str, Any]) -> None:
        self.conn = conn
        self.options = options
        self.id = new_id("resp")
        self.cancel_reason: str | None = None
        self._cancelled = asyncio.Event()
        self.finished = asyncio.Event()
        self.output: list[dict[str, Any]] = []
        self.in_conversation = options.get("conversation", "auto") != "none"
        session = conn.session
        audio_out = ((options.get("audio") or {}).get("output")) or {}
        session_out = session["audio"]["output"]
        self.format = audio_out.get("format") or session_out["format"]
        self.voice = audio_out.get("voice") or session_out["voice"]
        self.modalities = options.get("output_modalities") or session["output_modalities"]
        self.max_tokens = options.get("max_output_tokens", session["max_output_tokens"])
        self.truncated = False
        self.output_text_tokens = 0
        self.output_audio_ms = 0.0

    async def cancel(self, reason: str) -> None:
        """Stop generating and wait until `response.done` (status cancelled) went out."""
        if self.finished.is_set():
            return
        self.cancel_reason = self.cancel_reason or reason
        self._cancelled.set()
        try:
            await asyncio.wait_for(self.finished.wait(), CANCEL_WAIT_S)
        except TimeoutError:
            logger.warning("response %s did not close out after cancel", self.id)

    async def run(self) -> None:
        """The whole response; run it as a task owned by the connection."""
        config = self.conn.fake.config
        try:
            await self._pause(config.response_delay_ms)
            await self.conn.emit(
                {"type": "response.created", "response": self._object("in_progress")}
            )
            failure = self.conn.fake.faults.take_response_failure()
            if failure is not None:
                await self._done("failed", {"type": "failed", "error": failure})
                return
            if not self.cancel_reason:
                plan = self._plan()
                if isinstance(plan, ToolCallPlan):
                    await self._function_call(plan)
                else:
                    await self._message(plan.text)
            await self._done(*self._final_status())
        except ConnectionGoneError:
            pass
        finally:
            if self.conn.response is self:
                self.conn.response = None
            self.finished.set()

    def _final_status(self) -> tuple[str, dict[str, Any] | None]:
        if self.cancel_reason:
            return "cancelled", {"type": "cancelled", "reason": self.cancel_reason}
        if self.truncated:
            return "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        return "completed", None

    async def _pause(self, ms: float) -> bool:
        """Wait `ms` (at least one loop turn); True once the response is cancelled."""
        if ms <= 0:
            await asyncio.sleep(0)
        else:
            try:
                await asyncio.wait_for(self._cancelled.wait(), ms / 1000)
            except TimeoutError:
                pass
        return self._cancelled.is_set()

    async def _pace(self, k: int) -> bool:
        """Wait before the k-th delta (the first comes later); True once cancelled."""
        config = self.conn.fake.config
        return await self._pause(config.rt_delta_interval_ms if k else config.rt_first_audio_ms)

    def _plan(self) -> TextPlan | ToolCallPlan:
        items = self._context()
        offered: set[str] = set()
        tools = self.options.get("tools", self.conn.session.get("tools")) or []
        if self.options.get("tool_choice", self.conn.session.get("tool_choice")) != "none":
            offered = {t.get("name", "") for t in tools if t.get("type") == "function"}
        plan = plan_turn(
            self.conn.fake.config,
            user_text(items, self.conn.conversation.heard),
            answered_tool(items),
            offered,
        )
        if isinstance(plan, TextPlan) and isinstance(self.max_tokens, int):
            if count_tokens(plan.text) > self.max_tokens:
                self.truncated = True
                return TextPlan(plan.text[: self.max_tokens * 4])
        return plan

    def _context(self) -> list[dict[str, Any]]:
        return self.conn.conversation.model_input(self.options.get("input"))

    async def _add_item(self, item: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Announce a new output item; returns the ids its deltas carry, and its predecessor."""
        index = len(self.output)
        self.output.append(item)
        where = {"response_id": self.id, "output_index": index}
        await self._emit_item("response.output_item.added", item, where)
        previous = None
        if self.in_conversation:
            previous = self.conn.conversation.add(item)
            await self._emit_item("conversation.item.added", item, {"previous_item_id": previous})
        return {"response_id": self.id, "item_id": item["id"], "output_index": index}, previous

    async def _finish_item(
        self, item: dict[str, Any], ids: dict[str, Any], previous: str | None
    ) -> None:
        item["status"] = "incomplete" if self.cancel_reason else "completed"
        where = {"response_id": self.id, "output_index": ids["output_index"]}
        await self._emit_item("response.output_item.done", item, where)
        if self.in_conversation:
            await self._emit_item("conversation.item.done", item, {"previous_item_id": previous})

    async def _emit_item(self, kind: str, item: dict[str, Any], where: dict[str, Any]) -> None:
        await self.conn.emit({"type": kind, **where, "item": copy.deepcopy(item)})

    async def _message(self, text: str) -> None:
        item = assistant_item("message", role="assistant", content=[])
        added, previous = await self._add_item(item)
        ids = {**added, "content_index": 0}
        audio = "audio" in self.modalities
        part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        )
        await self.conn.emit({"type": "response.content_part.added", **ids, "part": part})
        if audio:
            spoken = await self._stream_audio(ids, text)
            await self.conn.emit({"type": "response.output_audio.done", **ids})
            await self.conn.emit(
                {"type": "response.output_audio_transcript.done", **ids, "transcript": spoken}
            )
            part, content = (
                {"type": "audio", "transcript": spoken},
                {"type": "output_audio", "transcript": spoken},
            )
        else:
            spoken = await self._stream_text(ids, text)
            await self.conn.emit({"type": "response.output_text.done", **ids, "text": spoken})
            part, content = (
                {"type": "text", "text": spoken},
                {"type": "output_text", "text": spoken},
            )
        await self.conn.emit({"type": "response.content_part.done", **ids, "part": part})
        self.output_text_tokens += count_tokens(spoken)
        item["content"] = [content]
        await self._finish_item(item, ids, previous)

    async def _stream_audio(self, ids: dict[str, Any], text: str) -> str:
        """Audio deltas with the transcript interleaved, a little ahead; returns what was said."""
        config = self.conn.fake.config
        fmt = self.format["type"]
        pcm = synth_realtime_audio(text, fmt, config.tts_ms_per_char, config.tts_max_seconds)
        step = bytes_per_ms(fmt) * max(1, config.rt_audio_ms_per_delta)
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        words, said, spoken = split_words(text), 0, ""
        produced = self.conn.conversation.audio.setdefault(
            ids["item_id"], ItemAudio(bytearray(), bytes_per_ms(fmt))
        )
        for k, chunk in enumerate(chunks):
            if await self._pace(k):
                break
            upto = math.ceil((k + 1) * len(words) / len(chunks))
            for word in words[said:upto]:
                await self.conn.emit(
                    {"type": "response.output_audio_transcript.delta", **ids, "delta": word}
                )
                spoken += word
            said = max(said, upto)
            await self.conn.emit(
                {
                    "type": "response.output_audio.delta",
                    **ids,
                    "delta": base64.b64encode(chunk).decode(),
                }
            )
            produced.data += chunk
            self.output_audio_ms += len(chunk) / bytes_per_ms(fmt)
            self.conn.voice_locked = True
        return spoken

    async def _stream_text(self, ids: dict[str, Any], text: str) -> str:
        spoken = ""
        for k, word in enumerate(split_words(text)):
            if await self._pace(k):
                break
            await self.conn.emit({"type": "response.output_text.delta", **ids, "delta": word})
            spoken += word
        return spoken

    async def _function_call(self, plan: ToolCallPlan) -> None:
        call_id = new_id("call", 16)
        item = assistant_item("function_call", name=plan.name, call_id=call_id, arguments="")
        added, previous = await self._add_item(item)
        ids = {**added, "call_id": call_id}
        arguments = ""
        for k, piece in enumerate(split_fixed(json.dumps(plan.arguments), 8)):
            if await self._pace(k):
                break
            await self.conn.emit(
                {"type": "response.function_call_arguments.delta", **ids, "delta": piece}
            )
            arguments += piece
        await self.conn.emit(
            {
                "type": "response.function_call_arguments.done",
                **ids,
                "name": plan.name,
                "arguments": arguments,
            }
        )
        self.output_text_tokens += count_tokens(arguments)
        item["arguments"] = arguments
        await self._finish_item(item, ids, previous)

    async def _done(self, status: str, details: dict[str, Any] | None) -> None:
        # Free the slot before response.done, so a response.create sent on receipt is accepted.
        if self.conn.response is self:
            self.conn.response = None
        spent = self._usage() if status != "failed" else usage(0, 0, 0, 0)
        await self.conn.emit(
            {"type": "response.done", "response": self._object(status, details, spent)}
        )
        await self.conn.emit(rate_limits_updated(spent["total_tokens"]))

    def _object(
        self,
        status: str,
        details: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": copy.deepcopy(self.output),
            "conversation_id": self.conn.conversation.id if self.in_conversation else None,
            "output_modalities": self.modalities,
            "max_output_tokens": self.max_tokens,
            "audio": {"output": {"format": self.format, "voice": self.voice}},
            "usage": usage,
            "metadata": self.options.get("metadata"),
        }

    def _usage(self) -> dict[str, Any]:
        text_in, audio_in = input_tokens(self._context(), self.conn.conversation.audio)
        audio_out = output_audio_tokens(self.output_audio_ms)
        return usage(text_in, audio_in, self.output_text_tokens, audio_out)

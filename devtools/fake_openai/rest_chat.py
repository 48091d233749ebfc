"""POST /v1/chat/completions: streamed (SSE chunks as in the reference 7.2) and plain."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import json_error
from .ids import new_id
from .records import RecordedRequest
from .script import TextPlan, ToolCallPlan, count_tokens, plan_turn, split_fixed, split_words
from .streaming import FaultyStream, StreamCutError, wait_from_arrival

if TYPE_CHECKING:
    from .openai_server import FakeOpenAI


class ChatCompletions:
    """The chat endpoint, scripted by `fake.config` (reply, tool_rules, chat_* timing)."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake

    async def handle(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        body = record.json
        if not isinstance(body, dict):
            return json_error(400, "We could not parse the JSON body of your request.")
        for name in ("model", "messages"):
            if not body.get(name):
                return json_error(
                    400,
                    f"Missing required parameter: '{name}'.",
                    code="missing_required_parameter",
                    param=name,
                )
        messages = body["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return json_error(400, "Invalid type for 'messages': expected an array of objects.")
        plan = plan_turn(
            self.fake.config, latest_user_text(messages), answered_tool(messages), offered(body)
        )
        text, finish = _limit(plan, body.get("max_completion_tokens") or body.get("max_tokens"))
        chunk = _Chunker(body["model"], plan, text, finish, prompt_tokens(messages))
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return await self._stream(request, chunk, include_usage)
        await wait_from_arrival(request, self.fake.config.chat_first_token_ms)
        return web.json_response(chunk.completion())

    async def _stream(
        self, request: web.Request, chunk: _Chunker, include_usage: bool
    ) -> web.StreamResponse:
        config = self.fake.config
        stream = FaultyStream(request, self.fake.faults.take_stream_fault("chat"))
        await stream.start("text/event-stream")
        try:
            await wait_from_arrival(request, config.chat_first_token_ms)
            for i, data in enumerate(chunk.stream_chunks(include_usage)):
                if i > 1:
                    await asyncio.sleep(config.chat_token_interval_ms / 1000)
                if not await stream.send_event(data):
                    break
            return await stream.finish(done_marker=True)
        except StreamCutError:
            return stream.response or web.Response(status=500)


class _Chunker:
    """Builds the completion object or its chunk sequence for one answer."""

    def __init__(
        self, model: str, plan: TextPlan | ToolCallPlan, text: str, finish: str, prompt: int
    ) -> None:
        self.model = model
        self.plan = plan
        self.text = text
        self.finish = finish
        self.id = "chatcmpl-" + new_id("x")[2:]
        self.created = int(time.time())
        self.call_id = new_id("call", 24)
        self.usage = _usage(prompt, count_tokens(text))

    def completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "refusal": None, "annotations": []}
        if isinstance(self.plan, ToolCallPlan):
            message["content"] = None
            message["tool_calls"] = [self._tool_call(self.text)]
        else:
            message["content"] = self.text
        return {
            **self._envelope("chat.completion"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish}
            ],
            "usage": self.usage,
        }

    def stream_chunks(self, include_usage: bool) -> list[dict[str, Any]]:
        usage: dict[str, Any] = {"usage": None} if include_usage else {}
        if isinstance(self.plan, ToolCallPlan):
            first: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [self._tool_call("")],
            }
            deltas: list[dict[str, Any]] = [
                {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                for piece in split_fixed(self.text, 8)
            ]
        else:
            first = {"role": "assistant", "content": ""}
            deltas = [{"content": piece} for piece in split_words(self.text)]
        chunks = [self._chunk(delta, None, usage) for delta in [first, *deltas]]
        chunks.append(self._chunk({}, self.finish, usage))
        if include_usage:
            chunks.append(
                {**self._envelope("chat.completion.chunk"), "choices": [], "usage": self.usage}
            )
        return chunks

    def _chunk(
        self, delta: dict[str, Any], finish: str | None, usage: dict[str, Any]
    ) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**self._envelope("chat.completion.chunk"), "choices": [choice], **usage}

    def _envelope(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "service_tier": "default",
        }

    def _tool_call(self, arguments: str) -> dict[str, Any]:
        assert isinstance(self.plan, ToolCallPlan)
        function = {"name": self.plan.name, "arguments": arguments}
        return {"index": 0, "id": self.call_id, "type": "function", "function": function}


def _limit(plan: TextPlan | ToolCallPlan, max_tokens: Any) -> tuple[str, str]:
    """The answer text (or tool arguments JSON) and its finish_reason."""
    if isinstance(plan, ToolCallPlan):
        return json.dumps(plan.arguments), "tool_calls"
    if isinstance(max_tokens, int) and count_tokens(plan.text) > max_tokens:
        return plan.text[: max_tokens * 4], "length"
    return plan.text, "stop"


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def message_text(message: dict[str, Any]) -> str:
    """Text of a chat message whose content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def latest_user_text(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    return message_text(users[-1]) if users else ""


def answered_tool(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(tool name, output) of the last tool message after the latest user message."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    names: dict[str, str] = {}
    answer: tuple[str, str] | None = None
    for message in messages[last_user + 1 :]:
        for call in message.get("tool_calls") or []:
            names[call.get("id", "")] = (call.get("function") or {}).get("name", "")
        if message.get("role") == "tool":
            call_id = message.get("tool_call_id", "")
            answer = (names.get(call_id, ""), message_text(message))
    return answer


def offered(body: dict[str, Any]) -> set[str]:
    """Names of the function tools the request lets the model call."""
    if body.get("tool_choice") == "none":
        return set()
    return {
        (tool.get("function") or {}).get("name", "")
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and tool.get("type") == "function"
    }


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(3 + count_tokens(message_text(m)) for m in messages) + 3

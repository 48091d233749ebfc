"""``/voice-ws``: binary audio frames and JSON control (PROTOCOL.md section 3)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings

from voice.session import events as ev
from voice.session.clock import now_ms
from voice.session.flow import MessageRate
from voice.session.service import SessionService
from voice.transports.base import (
    SessionControl,
    too_large,
)
from voice.transports.json_socket import parse as p
from voice.transports.stream_socket import parse as sp
from voice.transports.stream_socket.render import StreamWire, control, error

logger = logging.getLogger(__name__)

BAD_FRAME_NOTICE_SECONDS = 1.0


class StreamVoiceConsumer(SessionControl):
    """Thin glue between the binary wire and a ``SessionService``."""

    session: SessionService | None = None

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close()  # before accept: Daphne answers HTTP 403
            return
        auth = self.scope.get("auth", {})
        await self.accept("bearer" if auth.get("source") == "subprotocol" else None)
        self.format: sp.StreamFormat | None = None
        self.wire = StreamWire()
        self.rate = MessageRate(
            settings.VOICE_MESSAGE_RATE,
            settings.VOICE_MESSAGE_BURST,
            settings.VOICE_FLOOD_GRACE_SECONDS,
        )
        self.last_bad_frame_notice = -BAD_FRAME_NOTICE_SECONDS
        if await self.open_session("binary", explicit_turns=False):
            await self.send_ready(sp.StreamFormat())

    async def disconnect(self, code: int) -> None:
        await self.leave_session_group()
        if self.ending is not None:
            await self.ending
        elif self.session is not None:
            await self.session.close("client_closed")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return
        self.session.counters["messages_in"] += 1
        if too_large(text_data, bytes_data, settings.VOICE_MAX_MESSAGE_BYTES):
            await self.close(p.CLOSE_TOO_LARGE)
            return
        if bytes_data is not None:
            await self.on_frame(bytes_data)
            return
        assert text_data is not None
        verdict = self.rate.check()
        if verdict == "close":
            await self.close(p.CLOSE_RATE_LIMITED)
        elif verdict == "limited":
            await self.send_message(error(p.RATE_LIMITED, p.RATE_LIMIT_MESSAGE))
        elif verdict == "ok":
            try:
                await self.on_control(sp.parse_control(text_data))
            except p.ProtocolError as exc:
                await self.send_message(error(exc.code, exc.detail))

    async def on_control(self, message: sp.Control) -> None:
        session = self.session
        assert session is not None
        match message.type:
            case "voice_start":
                await self.start_streaming(sp.negotiate(message.metadata), implicit=False)
            case "voice_end":
                await session.stop_listening()
            case "barge_in":
                await session.barge_in(now_ms())
            case "ping":
                await self.send_message(control("pong", message.data))

    async def on_frame(self, frame: bytes) -> None:
        session = self.session
        assert session is not None
        if self.format is None:
            inferred = sp.infer_format(frame)
            if inferred is None:
                await self.send_message(error(sp.NOT_STREAMING, "Send voice_start first"))
                return
            await self.start_streaming(inferred, implicit=True)
        assert self.format is not None
        if not sp.frame_is_valid(frame, self.format):
            await self.on_bad_frame()
            return
        await session.audio(frame)

    async def on_bad_frame(self) -> None:
        assert self.session is not None
        self.session.counters["bad_frames"] += 1
        now = time.monotonic()
        if now - self.last_bad_frame_notice >= BAD_FRAME_NOTICE_SECONDS:
            self.last_bad_frame_notice = now
            await self.send_message(
                error(sp.BAD_FRAME, "Dropped a frame of the wrong size or shape")
            )

    async def start_streaming(self, fmt: sp.StreamFormat, *, implicit: bool) -> None:
        session = self.session
        assert session is not None
        self.format = fmt
        # Output stays PCM16 24 kHz on an implicit start; an explicit Opus start gets Opus.
        output = "opus" if fmt.codec == "opus" and not implicit else "pcm16"
        updated = session.settings.model_copy(
            update={"audioFormat": fmt.codec, "sampleRate": fmt.sample_rate, "outputFormat": output}
        )
        await session.configure(updated, session.context)
        await self.send_ready(fmt, implicit=implicit)

    async def send_ready(self, fmt: sp.StreamFormat, implicit: bool = False) -> None:
        assert self.session is not None
        metadata: dict[str, Any] = {
            "sessionId": str(self.session.id),
            "sampleRate": fmt.sample_rate,
            "channels": fmt.channels,
            "codec": fmt.codec,
        }
        if implicit:
            metadata["implicit"] = True
        await self.send_message({"type": "ready", "data": None, "metadata": metadata})

    async def deliver(self, event: ev.SessionEvent) -> None:
        if isinstance(event, ev.SessionEnded):
            await self.end_session(event.close_code, event.reason)
            return
        for message in self.wire.messages(event):
            await self.send_message(message)

    async def send_message(self, message: dict[str, Any] | bytes) -> None:
        if self.session is not None:
            self.session.counters["messages_out"] += 1
        if isinstance(message, bytes):
            await self.send(bytes_data=message)
        else:
            await self.send(text_data=p.dump(message))

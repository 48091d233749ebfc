"""``/voice-ws``: binary audio frames and JSON control (PROTOCOL.md section 3)."""

from __future__ import annotations

from typing import Any

from voice.session import events as ev
from voice.session.clock import now_ms
from voice.session.limits import Throttle
from voice.transports.base import Outgoing, VoiceConsumer
from voice.transports.stream_socket import parse as sp
from voice.transports.stream_socket.render import StreamWire, control, error

BAD_FRAME_NOTICE_SECONDS = 1.0  # at most one bad_frame error per second


class StreamVoiceConsumer(VoiceConsumer):
    """Negotiate the stream's format, pass its frames and control messages to the session."""

    transport = "binary"
    explicit_turns = False
    rates_frames = False  # frames are audio, held to the session's audio budget instead

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.format: sp.StreamFormat | None = None  # None until the stream starts
        self.wire = StreamWire()
        self.bad_frame_notice = Throttle(BAD_FRAME_NOTICE_SECONDS)

    async def connect(self) -> None:
        if not self.scope["user"].is_authenticated:
            await self.close()  # before accept: Daphne answers HTTP 403
            return
        await self.accept_client()
        if await self.open_session():
            await self.send_ready(sp.StreamFormat())

    async def on_text(self, text: str) -> None:
        message = sp.parse_control(text)
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
                if await self.within_rate():  # junk, so it counts against the message rate
                    await self.send_error(sp.NOT_STREAMING, "Send voice_start first")
                return
            await self.start_streaming(inferred, implicit=True)
        assert self.format is not None
        if not sp.frame_is_valid(frame, self.format):
            session.counters["bad_frames"] += 1
            await self.on_bad_frame()
            return
        await session.audio(frame)

    async def on_bad_frame(self) -> None:
        """A dropped frame counts against the message rate; the client hears of it once a second."""
        if await self.within_rate() and self.bad_frame_notice.due():
            await self.send_error(sp.BAD_FRAME, "Dropped a frame of the wrong size or shape")

    async def deliver(self, event: ev.SessionEvent) -> None:
        # A frame the session could not decode is junk like one of the wrong shape; the session
        # has counted it. (Streams are PCM16 or Opus, so this is never a WebM utterance's error.)
        if isinstance(event, ev.Error) and event.kind is ev.ErrorKind.BAD_AUDIO:
            await self.on_bad_frame()
            return
        await super().deliver(event)

    async def start_streaming(self, fmt: sp.StreamFormat, *, implicit: bool) -> None:
        session = self.session
        assert session is not None
        self.format = fmt
        updated = sp.streaming_settings(fmt, session.settings, implicit=implicit)
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

    def render(self, event: ev.SessionEvent) -> list[Outgoing]:
        return self.wire.messages(event)

    def render_error(self, code: str, message: str) -> dict[str, Any]:
        return error(code, message)

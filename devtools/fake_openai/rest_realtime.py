"""Realtime REST: client secrets (GA), WebRTC calls, and the retired beta endpoints."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import json_error
from .keys import AUTH_KEY
from .records import FilePart, RecordedRequest
from .rt_errors import EventError
from .rt_session import build_session, default_session

if TYPE_CHECKING:
    from .openai_server import FakeOpenAI

SECRET_TTL_DEFAULT = 600
SECRET_TTL_RANGE = (10, 7200)
BETA_MESSAGE = (
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
)
CALL_ACTIONS = {"accept", "reject", "refer", "hangup"}


class RealtimeRest:
    """POST /realtime/client_secrets, /realtime/calls (+ call control), beta leftovers."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self.calls: dict[str, dict[str, Any]] = {}  # call_id -> session of the call

    async def client_secrets(self, request: web.Request, record: RecordedRequest) -> web.Response:
        body = record.json if record.json is not None else {}
        if not isinstance(body, dict):
            return json_error(400, "We could not parse the JSON body of your request.")
        unknown = set(body) - {"expires_after", "session"}
        if unknown:
            name = sorted(unknown)[0]
            return json_error(
                400, f"Unknown parameter: '{name}'.", code="unknown_parameter", param=name
            )
        expires = body.get("expires_after") or {}
        if expires.get("anchor", "created_at") != "created_at":
            return json_error(
                400, "Invalid value for 'expires_after.anchor'.", param="expires_after.anchor"
            )
        ttl = expires.get("seconds", SECRET_TTL_DEFAULT)
        low, high = SECRET_TTL_RANGE
        if not isinstance(ttl, int) or not low <= ttl <= high:
            below = isinstance(ttl, int) and ttl < low
            return json_error(
                400,
                f"Invalid 'expires_after.seconds': expected {low} to {high}, got {ttl}.",
                code="integer_below_min_value" if below else "integer_above_max_value",
                param="expires_after.seconds",
            )
        try:
            session = build_session(body.get("session") or {"type": "realtime"})
        except EventError as error:
            return json_error(400, error.message, code=error.code, param=error.param)
        secret = self.fake.keys.mint(session, ttl)
        return web.json_response(
            {"value": secret.value, "expires_at": int(secret.expires_at), "session": session}
        )

    async def create_call(self, request: web.Request, record: RecordedRequest) -> web.Response:
        """Raw SDP (browser, ek_ key) or multipart sdp+session (server, standard key)."""
        auth = request[AUTH_KEY]
        if request.content_type == "application/sdp":
            sdp = record.body.decode(errors="replace")
            session = dict(auth.secret.session) if auth.secret else default_session()
        elif request.content_type == "multipart/form-data":
            sdp = _text(record.form.get("sdp"))
            raw_session = record.form.get("session")
            try:
                session = (
                    build_session(json.loads(_text(raw_session)))
                    if raw_session
                    else default_session()
                )
            except (EventError, ValueError) as error:
                message = (
                    error.message if isinstance(error, EventError) else "Invalid JSON in 'session'."
                )
                return json_error(400, message, param="session")
        else:
            return json_error(
                400, "Unsupported content type; send application/sdp or multipart/form-data."
            )
        if not sdp.startswith("v=0"):
            return json_error(400, "Invalid 'sdp': expected an SDP offer.", param="sdp")
        call_id = "rtc_" + secrets.token_hex(12)
        self.calls[call_id] = session
        return web.Response(
            status=201,
            text=answer_sdp(sdp),
            content_type="application/sdp",
            headers={"Location": f"/v1/realtime/calls/{call_id}"},
        )

    async def call_action(self, request: web.Request, record: RecordedRequest) -> web.Response:
        call_id, action = request.match_info["call_id"], request.match_info["action"]
        if call_id not in self.calls or action not in CALL_ACTIONS:
            return json_error(404, f"Call not found: {call_id}", code="not_found")
        if action == "hangup":
            self.calls.pop(call_id)
        return web.Response(status=200)

    async def beta(self, request: web.Request, record: RecordedRequest) -> web.Response:
        # The exact status for the retired beta endpoints is unconfirmed; 400 is the best guess.
        return json_error(400, BETA_MESSAGE, code="beta_api_shape_disabled")


def _text(value: Any) -> str:
    if isinstance(value, FilePart):
        return value.data.decode(errors="replace")
    return "" if value is None else str(value)


def answer_sdp(offer: str) -> str:
    """A plausible answer: one Opus audio section and the oai-events data channel."""
    mids = re.findall(r"^a=mid:(\S+)", offer, flags=re.MULTILINE) or ["0", "1"]
    audio_mid, data_mid = mids[0], mids[1] if len(mids) > 1 else "1"
    session_id = int(time.time() * 1000)
    ufrag, pwd = secrets.token_hex(4), secrets.token_hex(12)
    fingerprint = ":".join(f"{b:02X}" for b in secrets.token_bytes(32))
    transport = [
        "c=IN IP4 127.0.0.1",
        f"a=ice-ufrag:{ufrag}",
        f"a=ice-pwd:{pwd}",
        f"a=fingerprint:sha-256 {fingerprint}",
        "a=setup:active",
        "a=candidate:1 1 udp 2130706431 127.0.0.1 3478 typ host",
    ]
    lines = [
        "v=0",
        f"o=- {session_id} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        f"a=group:BUNDLE {audio_mid} {data_mid}",
        "a=msid-semantic: WMS *",
        "m=audio 3478 UDP/TLS/RTP/SAVPF 111",
        *transport,
        f"a=mid:{audio_mid}",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "m=application 3478 UDP/DTLS/SCTP webrtc-datachannel",
        *transport,
        f"a=mid:{data_mid}",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
    ]
    return "\r\n".join(lines) + "\r\n"

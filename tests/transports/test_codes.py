"""How the wires name the session's endings and errors (PROTOCOL.md sections 2, 3 and 6)."""

from __future__ import annotations

from voice.session.events import Ending, ErrorKind
from voice.transports import codes
from voice.transports.protocol import dump


def test_every_ending_closes_with_its_contract_code() -> None:
    assert codes.CLOSE_CODES == {
        Ending.NORMAL: 1000,
        Ending.FLOODED: 4429,
        Ending.UPSTREAM: 4502,
        Ending.INTERNAL: 4500,
        Ending.REVOKED: 4401,
    }


def test_every_error_kind_has_its_wire_code() -> None:
    assert codes.ERROR_CODES == {
        ErrorKind.BUSY: "busy",
        ErrorKind.BAD_AUDIO: "bad_audio",
        ErrorKind.RATE_LIMITED: "rate_limited",
        ErrorKind.UPSTREAM: "upstream",
    }


def test_server_messages_are_compact_utf8_json() -> None:
    assert dump({"type": "transcription_final", "text": "café"}) == (
        '{"type":"transcription_final","text":"café"}'
    )

"""Any text frame of ``/api/voice/ws`` parses into a message or raises a contract error."""

from __future__ import annotations

import json

from hypothesis import given

from tests.transports.strategies import JSON_TYPES, texts
from voice.transports import codes
from voice.transports.json_socket import parse as p
from voice.transports.protocol import ProtocolError

MESSAGE_CODES = {codes.BAD_MESSAGE, codes.UNKNOWN_TYPE, codes.TOO_LARGE}


@given(texts(JSON_TYPES))
def test_any_text_is_a_message_or_a_contract_error(text: str) -> None:
    try:
        message = p.parse_client_message(text)
        if isinstance(message, p.Config):
            p.parse_settings(message.settings)
        elif isinstance(message, p.AudioChunk):
            p.decode_audio(message)
    except ProtocolError as exc:
        assert exc.code in MESSAGE_CODES
        return
    # Whatever is accepted can be written back out (an echoed ping, a stored context).
    json.dumps(message.model_dump(), ensure_ascii=False, allow_nan=False).encode()

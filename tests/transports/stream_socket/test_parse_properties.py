"""Any text or binary message of ``/voice-ws`` is understood or refused with a contract code."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.transports.strategies import STREAM_TYPES, texts
from voice.transports import codes
from voice.transports.protocol import ProtocolError
from voice.transports.stream_socket import parse as sp

FORMATS = st.sampled_from(
    [sp.StreamFormat(), sp.StreamFormat("pcm16", 48000), sp.StreamFormat("pcm16", 16000)]
)


@given(texts(STREAM_TYPES))
def test_any_text_is_a_control_message_or_a_contract_error(text: str) -> None:
    try:
        control = sp.parse_control(text)
        if control.type == "voice_start":
            sp.negotiate(control.metadata)
    except ProtocolError as exc:
        assert exc.code in {codes.BAD_MESSAGE, codes.UNKNOWN_TYPE}
        return
    json.dumps(control.data, ensure_ascii=False, allow_nan=False).encode()  # an echoed ping


@given(st.binary(max_size=4000), FORMATS)
def test_any_frame_is_judged_without_an_error(frame: bytes, fmt: sp.StreamFormat) -> None:
    valid = sp.frame_is_valid(frame, fmt)
    inferred = sp.infer_format(frame)

    assert isinstance(valid, bool)
    assert inferred is None or sp.frame_is_valid(frame, inferred)

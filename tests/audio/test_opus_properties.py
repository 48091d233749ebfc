"""The Opus TOC parser reads any bytes without an error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voice.audio.opus import opus_packet_ms

FRAME_MS = {2.5, 5.0, 10.0, 20.0, 40.0, 60.0}


@given(st.binary(max_size=64))
def test_any_bytes_give_a_duration_or_none(packet: bytes) -> None:
    ms = opus_packet_ms(packet)

    if ms is not None:
        # A whole number of one configuration's frames: at most 63 (RFC 6716 section 3.2.5).
        assert any(ms == n * f for f in FRAME_MS for n in range(1, 64))
    else:
        assert len(packet) < 2 or packet[0] & 0x03 == 3

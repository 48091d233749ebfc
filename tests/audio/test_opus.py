"""Opus packet durations read from the TOC byte (RFC 6716 section 3.1)."""

from __future__ import annotations

import pytest

from devtools.audio_samples import opus_packets, tone
from voice.audio.opus import opus_packet_ms


def toc(config: int, code: int) -> int:
    return config << 3 | code


def test_packets_from_libopus_announce_their_20_ms() -> None:
    packets = opus_packets(tone(0.1))

    assert packets and {opus_packet_ms(p) for p in packets} == {20.0}


@pytest.mark.parametrize(
    ("config", "ms"),
    [(0, 10.0), (3, 60.0), (12, 10.0), (15, 20.0), (16, 2.5), (31, 20.0)],
)
def test_each_mode_has_its_frame_durations(config: int, ms: float) -> None:
    assert opus_packet_ms(bytes([toc(config, 0), 0])) == ms


@pytest.mark.parametrize(("code", "frames"), [(1, 2), (2, 2)])
def test_codes_1_and_2_carry_two_frames(code: int, frames: int) -> None:
    assert opus_packet_ms(bytes([toc(1, code), 0, 0])) == 20.0 * frames


def test_code_3_counts_its_frames_in_the_next_byte() -> None:
    assert opus_packet_ms(bytes([toc(16, 3), 0x80 | 6])) == 15.0  # 6 x 2.5 ms, padding flag set


@pytest.mark.parametrize("packet", [b"", bytes([toc(1, 3)]), bytes([toc(1, 3), 0])])
def test_a_malformed_packet_has_no_duration(packet: bytes) -> None:
    assert opus_packet_ms(packet) is None

"""The binary wire's parse: control messages, format negotiation and 20 ms frames."""

from __future__ import annotations

import json

import pytest

from voice.session.settings import SessionSettings
from voice.transports import codes
from voice.transports.protocol import ProtocolError
from voice.transports.stream_socket import parse as sp

# Opus TOC bytes (RFC 6716 section 3.1): configuration << 3 | frame-count code.
CELT_20_MS = 19 << 3
SILK_20_MS = 1 << 3
SILK_10_MS = 0 << 3
CELT_10_MS_X2 = (18 << 3) | 1


def code_of_control(text: str) -> str:
    with pytest.raises(ProtocolError) as caught:
        sp.parse_control(text)
    return caught.value.code


def code_of_start(metadata: dict) -> str:
    with pytest.raises(ProtocolError) as caught:
        sp.negotiate(metadata)
    return caught.value.code


@pytest.mark.parametrize("kind", ["voice_start", "voice_end", "barge_in", "ping"])
def test_every_control_type_parses(kind: str) -> None:
    message = sp.parse_control(json.dumps({"type": kind, "data": 7, "metadata": {"a": 1}}))

    assert message == sp.Control(kind, 7, {"a": 1})


def test_missing_or_null_metadata_is_empty() -> None:
    assert sp.parse_control('{"type": "ping"}').metadata == {}
    assert sp.parse_control('{"type": "ping", "metadata": null}').metadata == {}


def test_an_unknown_control_type_is_unknown_type() -> None:
    assert code_of_control('{"type": "audio_chunk"}') == codes.UNKNOWN_TYPE


@pytest.mark.parametrize("text", ["nope", "[]", '{"type": 1}', '{"type": "ping", "metadata": [1]}'])
def test_shapeless_control_messages_are_bad_message(text: str) -> None:
    assert code_of_control(text) == codes.BAD_MESSAGE


def test_a_bare_voice_start_asks_for_48_khz_opus() -> None:
    assert sp.negotiate({}) == sp.StreamFormat("opus", 48000, 1)


@pytest.mark.parametrize("rate", [48000, 24000, 16000])
def test_pcm16_may_stream_at_each_supported_rate(rate: int) -> None:
    assert sp.negotiate({"codec": "pcm16", "sampleRate": rate}) == sp.StreamFormat("pcm16", rate)


@pytest.mark.parametrize(
    "metadata",
    [
        {"codec": "mp3"},
        {"codec": "pcm16", "sampleRate": 44100},
        {"codec": "pcm16", "sampleRate": "16000"},
        {"codec": "pcm16", "sampleRate": 16000.0},
        {"codec": "pcm16", "sampleRate": True},
        {"codec": "opus", "sampleRate": 24000},
        {"channels": 2},
    ],
)
def test_formats_outside_the_contract_are_bad_message(metadata: dict) -> None:
    assert code_of_start(metadata) == codes.BAD_MESSAGE


@pytest.mark.parametrize(
    ("fmt", "implicit", "output"),
    [
        (sp.StreamFormat("opus", 48000), False, "opus"),
        (sp.StreamFormat("opus", 48000), True, "pcm16"),
        (sp.StreamFormat("pcm16", 16000), False, "pcm16"),
        (sp.StreamFormat("pcm16", 24000), True, "pcm16"),
    ],
)
def test_only_an_explicit_opus_start_gets_opus_back(
    fmt: sp.StreamFormat, implicit: bool, output: str
) -> None:
    current = SessionSettings(voice_id="verse", output_format="mp3")

    updated = sp.streaming_settings(fmt, current, implicit=implicit)

    assert updated == current.replace(
        audio_format=fmt.codec, sample_rate=fmt.sample_rate, output_format=output
    )


@pytest.mark.parametrize(("rate", "size"), [(48000, 1920), (24000, 960), (16000, 640)])
def test_a_pcm16_frame_is_exactly_20_ms(rate: int, size: int) -> None:
    fmt = sp.StreamFormat("pcm16", rate)

    assert sp.frame_is_valid(b"\0" * size, fmt)
    assert not sp.frame_is_valid(b"\0" * (size - 2), fmt)
    assert not sp.frame_is_valid(b"\0" * (size + 2), fmt)


@pytest.mark.parametrize(
    ("packet", "valid"),
    [
        (bytes([CELT_20_MS, 1, 2]), True),
        (bytes([SILK_20_MS, 1, 2]), True),
        (bytes([CELT_10_MS_X2, 1, 2]), True),  # two 10 ms frames
        (bytes([SILK_10_MS, 1, 2]), False),
        (bytes([CELT_20_MS]), False),  # a TOC byte and nothing else
        (bytes([CELT_20_MS | 3, 2, 9]), False),  # code 3: two 20 ms frames
        (bytes([CELT_20_MS | 3, 1, 9]), True),  # code 3: one 20 ms frame
        (bytes([CELT_20_MS | 3, 0, 9]), False),  # code 3 with no frames
    ],
)
def test_an_opus_frame_must_announce_20_ms(packet: bytes, valid: bool) -> None:
    assert sp.frame_is_valid(packet, sp.StreamFormat("opus", 48000)) is valid


def test_the_first_frame_starts_a_stream_in_the_format_it_shows() -> None:
    assert sp.infer_format(b"\0" * 640) == sp.StreamFormat("pcm16", 16000)
    assert sp.infer_format(b"\0" * 960) == sp.StreamFormat("pcm16", 24000)
    assert sp.infer_format(b"\0" * 1920) == sp.StreamFormat("pcm16", 48000)
    assert sp.infer_format(bytes([CELT_20_MS, 1, 2])) == sp.StreamFormat("opus", 48000)


def test_a_first_frame_of_no_known_shape_starts_nothing() -> None:
    assert sp.infer_format(bytes([SILK_10_MS, 1, 2])) is None
    assert sp.infer_format(b"") is None

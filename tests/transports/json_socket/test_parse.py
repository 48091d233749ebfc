"""The JSON protocol's parser: every bad input of PROTOCOL.md section 2 has its error code."""

from __future__ import annotations

import base64
import json

import pytest

from voice.session.settings import SessionSettings
from voice.transports import codes
from voice.transports.json_socket import parse as p
from voice.transports.protocol import ProtocolError


def parse(obj: object) -> p.ClientMessage:
    return p.parse_client_message(json.dumps(obj))


def code_of(text: str) -> str:
    with pytest.raises(ProtocolError) as caught:
        p.parse_client_message(text)
    return caught.value.code


@pytest.mark.parametrize(
    "text",
    ["not json", "[1, 2]", '"config"', "{}", '{"type": 7}', '{"type": null}', "{" * 5000],
)
def test_unparseable_or_shapeless_messages_are_bad_message(text: str) -> None:
    assert code_of(text) == codes.BAD_MESSAGE


def test_an_unknown_type_is_unknown_type() -> None:
    assert code_of('{"type": "teleport"}') == codes.UNKNOWN_TYPE


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "auth"},
        {"type": "auth", "token": ""},
        {"type": "auth", "token": 5},
        {"type": "audio_chunk"},
        {"type": "audio_chunk", "data": 12},
        {"type": "text"},
        {"type": "text", "text": ""},
        {"type": "text", "text": ["a"]},
        {"type": "config", "settings": "loud"},
        {"type": "config", "context": []},
    ],
)
def test_missing_or_mistyped_fields_are_bad_message(obj: dict) -> None:
    assert code_of(json.dumps(obj)) == codes.BAD_MESSAGE


def test_extra_fields_are_ignored_as_extensions() -> None:
    message = parse({"type": "ping", "payload": {"n": 1}, "sentAt": 5})

    assert isinstance(message, p.Ping)
    assert message.payload == {"n": 1}


def test_text_over_the_cap_is_too_large() -> None:
    assert code_of(json.dumps({"type": "text", "text": "é" * 4001})) == codes.TOO_LARGE
    assert isinstance(parse({"type": "text", "text": "é" * 4000}), p.Text)


def test_context_over_64_kib_is_too_large() -> None:
    big = {"type": "config", "settings": {}, "context": {"notes": "x" * (64 * 1024)}}

    assert code_of(json.dumps(big)) == codes.TOO_LARGE


def test_audio_is_decoded_from_base64() -> None:
    chunk = parse({"type": "audio_chunk", "data": base64.b64encode(b"\x01\x02").decode()})

    assert p.decode_audio(chunk) == b"\x01\x02"


@pytest.mark.parametrize("data", ["###", "abc", "YWJj\nZA==x"])
def test_invalid_base64_is_bad_message(data: str) -> None:
    chunk = parse({"type": "audio_chunk", "data": data})

    with pytest.raises(ProtocolError) as caught:
        p.decode_audio(chunk)
    assert caught.value.code == codes.BAD_MESSAGE


def test_audio_over_256_kib_decoded_is_too_large() -> None:
    over = parse(
        {"type": "audio_chunk", "data": base64.b64encode(b"\0" * (256 * 1024 + 3)).decode()}
    )
    at = parse({"type": "audio_chunk", "data": base64.b64encode(b"\0" * 256 * 1024).decode()})

    with pytest.raises(ProtocolError) as caught:
        p.decode_audio(over)
    assert caught.value.code == codes.TOO_LARGE
    assert len(p.decode_audio(at)) == 256 * 1024


def test_settings_are_validated_and_unknown_ones_kept() -> None:
    settings = p.parse_settings({"language": "en-US", "rate": 1.5, "theme": "dark"})

    assert settings.language_code == "en"
    assert settings.rate == 1.5
    assert settings.extra == {"theme": "dark"}


@pytest.mark.parametrize(
    "raw",
    [
        {"rate": 9},
        {"audioFormat": "wav"},
        {"outputFormat": "aac"},
        {"sampleRate": 4000},
        {"voiceId": "robot"},
    ],
)
def test_bad_settings_are_bad_message(raw: dict) -> None:
    with pytest.raises(ProtocolError) as caught:
        p.parse_settings(raw)
    assert caught.value.code == codes.BAD_MESSAGE
    assert "settings." in caught.value.detail


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        ({"type": "auth", "token": "abc"}, p.Auth),
        ({"type": "config"}, p.Config),
        ({"type": "start_listening"}, p.StartListening),
        ({"type": "stop_listening"}, p.StopListening),
        ({"type": "audio_chunk", "data": "AAA=", "timestamp": 12.5}, p.AudioChunk),
        ({"type": "text", "text": "hello"}, p.Text),
        ({"type": "ping"}, p.Ping),
    ],
)
def test_every_message_type_parses_into_its_kind(obj: dict, kind: type) -> None:
    assert type(parse(obj)) is kind


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "audio_chunk", "data": "AAA=", "timestamp": "noon"},
        {"type": "auth", "token": ["abc"]},
        {"type": "text", "text": 5},
        {"type": "config", "settings": [], "context": {}},
    ],
)
def test_values_of_the_wrong_type_are_not_coerced(obj: dict) -> None:
    assert code_of(json.dumps(obj)) == codes.BAD_MESSAGE


def test_the_context_cap_counts_utf8_bytes() -> None:
    # 33,000 two-byte characters: under 64 KiB in characters, over it in bytes.
    wide = {"type": "config", "context": {"notes": "é" * 33_000}}

    assert code_of(json.dumps(wide)) == codes.TOO_LARGE


def test_empty_audio_is_bad_message() -> None:
    with pytest.raises(ProtocolError) as caught:
        p.decode_audio(parse({"type": "audio_chunk", "data": ""}))

    assert caught.value.code == codes.BAD_MESSAGE


def test_oversize_audio_is_refused_before_it_is_decoded() -> None:
    not_even_base64 = "#" * (256 * 1024 * 2)

    with pytest.raises(ProtocolError) as caught:
        p.decode_audio(parse({"type": "audio_chunk", "data": not_even_base64}))

    assert caught.value.code == codes.TOO_LARGE


def test_settings_become_the_sessions_settings() -> None:
    settings = p.parse_settings(
        {
            "language": "pt-BR",
            "voiceId": "verse",
            "rate": 1.25,
            "audioFormat": "pcm16",
            "sampleRate": 16000,
            "outputFormat": "opus",
        }
    )

    assert settings == SessionSettings(
        language="pt-BR",
        voice_id="verse",
        rate=1.25,
        audio_format="pcm16",
        sample_rate=16000,
        output_format="opus",
    )


def test_settings_left_out_take_their_defaults() -> None:
    assert p.parse_settings({}) == SessionSettings()

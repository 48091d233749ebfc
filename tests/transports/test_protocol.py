"""What both wires' parsers share: a text frame must be a JSON object any encoder can write."""

from __future__ import annotations

import json

import pytest

from voice.transports import codes
from voice.transports.json_socket.parse import parse_client_message
from voice.transports.protocol import ProtocolError, load_object
from voice.transports.stream_socket.parse import parse_control


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "\\ud800"}',
        '{"type": "ping", "payload": "\\uDFFF"}',
        '{"type": "ping", "payload": {"\\udabc": 1}}',
        '{"type": "ping", "payload": [[[["\\ud83d"]]]]}',  # the first half of a pair, alone
        '{"type": "ping", "payload": "\\ude00\\ud83d"}',  # a pair in the wrong order
        '{"type": "ping", "payload": "\ud800"}',  # the character itself, not its escape
    ],
)
def test_a_lone_surrogate_anywhere_is_bad_message(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        load_object(text)

    assert caught.value.code == codes.BAD_MESSAGE


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"type": "ping", "payload": "\\ud83d\\ude00"}', "\U0001f600"),
        ('{"type": "ping", "payload": "\\\\ud800"}', "\\ud800"),  # an escaped backslash
    ],
)
def test_a_surrogate_pair_and_an_escaped_backslash_are_good(text: str, value: str) -> None:
    assert load_object(text)["payload"] == value


def test_deep_nesting_is_checked_without_recursion() -> None:
    text = '{"type": "ping", "payload": ' + "[" * 900 + '"\\ud800"' + "]" * 900 + "}"

    with pytest.raises(ProtocolError):
        load_object(text)


@pytest.mark.parametrize("parse", [parse_client_message, parse_control])
def test_both_wires_refuse_it(parse: object) -> None:
    text = json.dumps({"type": "ping", "data": "\ud800", "payload": "\ud800"})

    with pytest.raises(ProtocolError) as caught:
        parse(text)  # type: ignore[operator]

    assert caught.value.code == codes.BAD_MESSAGE


@pytest.mark.parametrize(
    "payload",
    ["NaN", "-Infinity", "1e400", "1" * 5000],
    ids=["NaN", "-Infinity", "a float past double", "an integer of 5,000 digits"],
)
def test_numbers_no_encoder_can_write_back_are_bad_message(payload: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        load_object('{"type": "ping", "payload": ' + payload + "}")

    assert caught.value.code == codes.BAD_MESSAGE

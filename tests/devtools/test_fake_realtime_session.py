"""The fake's Realtime sessions, driven by the real `openai` SDK: keys, configuration, items."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed

from devtools.fake_openai.audio import tone_pcm16
from devtools.fake_openai.openai_server import FakeOpenAI
from tests.devtools.conftest import events_until, speak


@pytest.mark.asyncio
async def test_client_secret_opens_a_realtime_socket_with_its_session(
    client: AsyncOpenAI, fake: FakeOpenAI
) -> None:
    secret = await client.realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 60},
        session={
            "type": "realtime",
            "instructions": "Be brief.",
            "audio": {"output": {"voice": "marin"}},
        },
    )

    async with AsyncOpenAI(api_key=secret.value, base_url=fake.base_url) as browser:
        async with browser.realtime.connect(model="gpt-realtime") as conn:
            created = await conn.recv()

    assert secret.value.startswith("ek_") and secret.session.audio.output.voice == "marin"
    assert created.session.instructions == "Be brief."
    assert created.session.audio.input.turn_detection.silence_duration_ms == 200
    with pytest.raises(openai.AuthenticationError):  # ephemeral keys are for Realtime only
        async with AsyncOpenAI(
            api_key=secret.value, base_url=fake.base_url, max_retries=0
        ) as other:
            await other.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )


@pytest.mark.asyncio
async def test_client_secret_ttl_outside_10_to_7200_is_rejected(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await client.realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": 5}
        )

    assert raised.value.param == "expires_after.seconds"


@pytest.mark.asyncio
async def test_session_update_merges_partially(client: AsyncOpenAI) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.session.update(
            session={
                "type": "realtime",
                "instructions": "Terse.",
                "audio": {
                    "input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}
                },
            }
        )
        updated = await conn.recv()

    assert updated.type == "session.updated"
    assert updated.session.instructions == "Terse."
    assert updated.session.audio.output.voice == "alloy"
    assert updated.session.audio.input.turn_detection.silence_duration_ms == 500
    assert updated.session.audio.input.turn_detection.threshold == 0.5


@pytest.mark.asyncio
async def test_unknown_session_field_is_rejected_with_param_and_event_id(
    client: AsyncOpenAI,
) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.send(
            {
                "type": "session.update",
                "event_id": "client-7",
                "session": {"type": "realtime", "temperature": 0.8},
            }
        )
        error = await conn.recv()
        await conn.send({"type": "session.update", "session": {"instructions": "x"}})
        missing = await conn.recv()

    assert error.type == "error" and error.error.code == "unknown_parameter"
    assert error.error.param == "session.temperature" and error.error.event_id == "client-7"
    assert (
        missing.error.code == "missing_required_parameter" and missing.error.param == "session.type"
    )


@pytest.mark.asyncio
async def test_manual_mode_commit_needs_100ms_and_one_response_at_a_time(
    client: AsyncOpenAI,
) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.session.update(
            session={"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        )
        await conn.recv()
        await speak(conn, tone_pcm16(60))
        await conn.input_audio_buffer.commit()
        too_short = await conn.recv()
        await speak(conn, tone_pcm16(60))
        await conn.input_audio_buffer.commit()
        committed = await events_until(conn, "conversation.item.done")
        await conn.response.create()
        await conn.response.create()
        events = await events_until(conn, "response.done")

    assert too_short.error.code == "input_audio_buffer_commit_empty"
    assert [e.type for e in committed][0] == "input_audio_buffer.committed"
    errors = [e for e in events if e.type == "error"]
    assert [e.error.code for e in errors] == ["conversation_already_has_active_response"]
    assert events[-1].response.status == "completed"


@pytest.mark.asyncio
async def test_items_are_inserted_retrieved_and_deleted_by_id(
    fake: FakeOpenAI, client: AsyncOpenAI
) -> None:
    def text_item(text: str) -> Any:
        return {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }

    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.conversation.item.create(item=text_item("first"))
        first = (await events_until(conn, "conversation.item.done"))[-1].item
        await conn.conversation.item.create(item=text_item("zeroth"), previous_item_id="root")
        zeroth = await events_until(conn, "conversation.item.done")
        await conn.conversation.item.retrieve(item_id=first.id)
        retrieved = await conn.recv()
        await conn.conversation.item.delete(item_id=first.id)
        deleted = await conn.recv()
        await conn.conversation.item.retrieve(item_id=first.id, event_id="client-9")
        unknown = await conn.recv()
        await conn.conversation.item.truncate(
            item_id=zeroth[-1].item.id, content_index=0, audio_end_ms=0
        )
        not_audio = await conn.recv()

    assert zeroth[0].previous_item_id is None
    assert retrieved.item.content[0].text == "first"
    assert (deleted.type, deleted.item_id) == ("conversation.item.deleted", first.id)
    assert unknown.error.param == "item_id" and unknown.error.event_id == "client-9"
    assert not_audio.error.message == "Only model output audio messages can be truncated"
    assert [item["content"][0]["text"] for item in fake.conversation()] == ["zeroth"]


@pytest.mark.asyncio
async def test_beta_header_gets_an_error_then_close_4000(client: AsyncOpenAI) -> None:
    async with client.realtime.connect(
        model="gpt-realtime", extra_headers={"OpenAI-Beta": "realtime=v1"}
    ) as conn:
        error = await conn.recv()
        with pytest.raises(ConnectionClosed) as closed:
            await conn.recv()

    assert error.error.code == "beta_api_shape_disabled"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000

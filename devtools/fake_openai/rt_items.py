"""conversation.item.create / retrieve / truncate / delete."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .rt_conversation import client_item
from .rt_errors import EventError

if TYPE_CHECKING:
    from .rt_connection import RealtimeConnection


async def create(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Insert a client item; answer added then done. Never starts a response by itself."""
    item, audio = client_item(event.get("item"), conn.input.bytes_per_ms)
    if conn.conversation.get(item["id"]):
        raise EventError(f"Item with id '{item['id']}' already exists.", param="item.id")
    previous = conn.conversation.add(item, event.get("previous_item_id"))
    if audio is not None:
        conn.conversation.audio[item["id"]] = audio
        conn.conversation.heard[item["id"]] = conn.fake.config.next_transcript()
    for kind in ("conversation.item.added", "conversation.item.done"):
        await conn.emit({"type": kind, "previous_item_id": previous, "item": copy.deepcopy(item)})


async def retrieve(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    item = _existing(conn, event, "retrieve")
    await conn.emit(
        {"type": "conversation.item.retrieved", "item": conn.conversation.with_audio(item)}
    )


async def delete(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    item = _existing(conn, event, "delete")
    conn.conversation.remove(item["id"])
    await conn.emit({"type": "conversation.item.deleted", "item_id": item["id"]})


async def truncate(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Cut assistant audio to what the client played; the unplayed transcript goes too."""
    item = _existing(conn, event, "truncate")
    audio = conn.conversation.audio.get(item["id"])
    is_audio_answer = item.get("role") == "assistant" and any(
        part.get("type") == "output_audio" for part in item.get("content", [])
    )
    if not is_audio_answer or audio is None or not audio.data:
        raise EventError("Only model output audio messages can be truncated", param="item_id")
    content_index = event.get("content_index", 0)
    if content_index != 0:
        raise EventError(f"Invalid content_index: {content_index}.", param="content_index")
    end_ms = event.get("audio_end_ms")
    if not isinstance(end_ms, int) or end_ms < 0:
        raise EventError(
            "Invalid 'audio_end_ms': expected a non-negative integer.", param="audio_end_ms"
        )
    if end_ms > audio.ms:
        raise EventError(
            f"Audio content of {audio.ms:.0f}ms is already shorter than {end_ms}ms",
            param="audio_end_ms",
        )
    part = item["content"][0]
    kept = len(part.get("transcript") or "") * end_ms / audio.ms if audio.ms else 0
    part["transcript"] = (part.get("transcript") or "")[: round(kept)]
    audio.data = audio.data[: end_ms * audio.bytes_per_ms]
    await conn.emit(
        {
            "type": "conversation.item.truncated",
            "item_id": item["id"],
            "content_index": 0,
            "audio_end_ms": end_ms,
        }
    )


def _existing(conn: RealtimeConnection, event: dict[str, Any], action: str) -> dict[str, Any]:
    item_id = event.get("item_id")
    item = conn.conversation.get(item_id) if isinstance(item_id, str) else None
    if item is None:
        # Code names as seen from the beta service; the GA wording is unconfirmed.
        raise EventError(
            f"Item with item_id not found: {item_id}", f"item_{action}_invalid_item_id", "item_id"
        )
    return item

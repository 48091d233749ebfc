"""Fan-out across OS processes over the Redis channel layer."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Any

from channels_redis.core import RedisChannelLayer

SENDER = """
import asyncio, sys
from channels_redis.core import RedisChannelLayer

async def main():
    layer = RedisChannelLayer(hosts=[sys.argv[1]])
    await layer.group_send(sys.argv[2], {"type": "voice.ping", "from": "other-process"})

asyncio.run(main())
"""


async def test_a_group_send_from_another_process_arrives(redis_url: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url])
    group = f"test.{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)

    sender = await asyncio.create_subprocess_exec(sys.executable, "-c", SENDER, redis_url, group)
    assert await sender.wait() == 0
    message = await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert message == {"type": "voice.ping", "from": "other-process"}
    await layer.group_discard(group, channel)
    await layer.flush()


async def test_the_configured_layer_waits_idle_past_every_redis_timeout(
    redis_url: str, settings: Any
) -> None:
    """A receive with nothing to read outlasts redis-py's read timeout and the layer's own wait."""
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    layer = RedisChannelLayer(**config)
    channel = await layer.new_channel()
    idle = 2 * RedisChannelLayer.brpop_timeout + 1  # two blocking waits, past redis-py's 5 s

    receiving = asyncio.ensure_future(layer.receive(channel))
    done, _ = await asyncio.wait([receiving], timeout=idle)
    assert not done, receiving.exception()
    await RedisChannelLayer(hosts=[redis_url]).send(channel, {"type": "voice.ping"})

    assert await asyncio.wait_for(receiving, timeout=5) == {"type": "voice.ping"}
    await layer.flush()

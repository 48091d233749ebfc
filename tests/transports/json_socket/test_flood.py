"""/api/voice/ws: a client flooding past its message rate is told once, then closed with 4429."""

from __future__ import annotations

import pytest

from tests.transports.flood import flood
from tests.transports.json_socket.client import JsonVoiceClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quiet_engine")]
flooding = pytest.mark.usefixtures("fast_flood")


@flooding
async def test_a_flood_is_told_once_and_closed_however_the_bucket_trickles(
    client: JsonVoiceClient,
) -> None:
    outcome = await flood(client.ws, lambda: client.send({"type": "ping", "payload": 1}))

    assert len(outcome.errors("rate_limited")) == 1
    assert outcome.errors("rate_limited")[0]["message"] == "Rate limit exceeded"
    assert outcome.close_code == 4429
    assert outcome.seconds < 3  # the grace (0.5 s), not the refills, decided when

"""WebSocket routes (PROTOCOL.md sections 2 and 3)."""

from django.urls import path

from voice.console.consumers import console_socket
from voice.transports.json_socket.consumer import JsonVoiceConsumer
from voice.transports.stream_socket.consumer import StreamVoiceConsumer

websocket_urlpatterns = [
    path("api/voice/ws", JsonVoiceConsumer.as_asgi()),
    path("ws/<str:session_id>", JsonVoiceConsumer.as_asgi()),
    path("voice-ws", StreamVoiceConsumer.as_asgi()),
    path("console/ws", console_socket),  # staff only: admin session cookie or staff JWT
]

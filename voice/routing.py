"""WebSocket routes (PROTOCOL.md sections 2 and 3)."""

websocket_urlpatterns: list = []

"""ASGI entry point: HTTP to Django; WebSockets through the origin rule, JWT auth, routes."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceproject.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.middleware import JwtAuthMiddleware, origin_validator  # noqa: E402
from voice.transports.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": origin_validator(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

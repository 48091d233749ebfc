from django.urls import path

from voice.api.health import HealthView
from voice.api.realtime import RealtimeSessionView
from voice.api.tools import SiteToolView

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("realtime/session", RealtimeSessionView.as_view(), name="realtime-session"),
    path("tools/<str:name>", SiteToolView.as_view(), name="site-tool"),
]

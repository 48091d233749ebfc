from django.urls import path

from voice import views
from voice.views_realtime import RealtimeSessionView

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
    path("realtime/session", RealtimeSessionView.as_view(), name="realtime-session"),
]

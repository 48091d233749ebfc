"""Routes under ``/console/``."""

from django.urls import path

from voice.console import views

app_name = "console"

urlpatterns = [
    path("", views.index, name="index"),
    path("latency/", views.latency_view, name="latency"),
    path("sessions/<uuid:session_id>/", views.session_detail, name="session"),
    path("sessions/<uuid:session_id>/end/", views.end_session, name="end-session"),
]

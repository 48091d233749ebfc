"""The site's routes: admin, the REST API and its schema, metrics, console and the voice page."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.views import admin_login
from voice.api.console import MetricsView, PrometheusView

urlpatterns = [
    # Before the admin's own routes: its login counts failed passwords (accounts/signin.py).
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/metrics", MetricsView.as_view(), name="metrics"),
    path("api/", include("voice.api.urls")),
    path("metrics", PrometheusView.as_view(), name="metrics-prometheus"),
    path("console/", include("voice.console.urls")),
    path("", include("voice.page.urls")),
]

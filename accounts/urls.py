"""JWT endpoints under ``/api/auth/``: obtain (failures throttled), refresh and verify."""

from django.urls import path

from accounts.views import (
    DocumentedTokenRefreshView,
    DocumentedTokenVerifyView,
    ThrottledTokenObtainPairView,
)

urlpatterns = [
    path("token/", ThrottledTokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", DocumentedTokenRefreshView.as_view(), name="token_refresh"),
    path("token/verify/", DocumentedTokenVerifyView.as_view(), name="token_verify"),
]

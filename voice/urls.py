from django.urls import path

from voice import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
]

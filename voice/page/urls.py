from django.urls import path

from voice.page.views import voice_page

urlpatterns = [
    path("", voice_page, name="voice-page"),
]

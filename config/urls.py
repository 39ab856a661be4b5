"""URL routes: the demo page, the REST API, its schema and docs, and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from audio_chat.views import DemoPageView, LocalRedocView, demo_session_create

urlpatterns = [
    path("", DemoPageView.as_view(), name="demo"),
    path("demo/sessions/", demo_session_create, name="demo-session-create"),
    path("api/", include("audio_chat.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", LocalRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
]

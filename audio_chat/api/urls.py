"""URL routes of the REST API."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from audio_chat.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sessions", views.ChatSessionViewSet, basename="session")
router.register("levels", views.LevelViewSet, basename="level")

urlpatterns = [
    path("health/", views.HealthApi.as_view(), name="health"),
    path("history/", views.HistoryApi.as_view(), name="history"),
    path("metrics/", views.MetricsApi.as_view(), name="metrics"),
    path("", include(router.urls)),
]

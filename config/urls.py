"""URL routes: the demo page, the REST API, its schema and docs, and the admin."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from audio_chat.views import DemoPageView, LocalRedocView, demo_session_create

# Redoc renders with an inline start script, styles it injects at run time and a web worker from a blob: URL;
# only its page gets a policy that allows them (still nothing from outside: its logo and fonts stay blocked).
# Swagger UI's split view loads its start script from a URL, and
# only needs the <style> element it injects.
REDOC_POLICY = {
    "script-src": ["'unsafe-inline'"],
    "style-src": ["'unsafe-inline'"],
    "worker-src": ["blob:"],
}
SWAGGER_POLICY = {"style-src": ["'unsafe-inline'"]}

urlpatterns = [
    path("", DemoPageView.as_view(), name="demo"),
    path("demo/sessions/", demo_session_create, name="demo-session-create"),
    path("api/", include("audio_chat.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        csp_update(SWAGGER_POLICY)(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("api/redoc/", csp_update(REDOC_POLICY)(LocalRedocView.as_view(url_name="schema")), name="redoc"),
    path("admin/", admin.site.urls),
]

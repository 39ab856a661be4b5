"""The demo page: a small client for trying the helper in a browser."""

from django.views.generic import TemplateView


class DemoPageView(TemplateView):
    template_name = "audio_chat/index.html"

"""App configuration for audio_chat."""

from django.apps import AppConfig


class AudioChatConfig(AppConfig):
    name = "audio_chat"
    verbose_name = "Audio chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audio_chat import checks  # noqa: F401 (registers the system checks)

"""Request and response shapes of the REST API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import serializers

from audio_chat.models import (
    MAX_CHILD_AGE,
    MAX_HINT_STEPS,
    MIN_CHILD_AGE,
    ChatMessage,
    ChatSession,
    Level,
    hint_steps,
)
from voice.context import Mode
from voice.game_state import GameStateRejected, as_json, validate_game_state
from voice.protocol import text_problem


class StrictCharField(serializers.CharField):
    """A CharField that refuses non-strings instead of converting them, and applies the WebSocket's text rule.

    The rule (:func:`voice.protocol.text_problem`: no lone surrogates, no control characters) runs before DRF's
    own checks, so REST and WebSocket clients get the same answer for the same text.
    """

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if (problem := text_problem(data)) is not None:
            raise serializers.ValidationError(f"'{self.field_name}' {problem}")
        return super().to_internal_value(data)


class HintSerializer(serializers.Serializer[dict[str, Any]]):
    """A hint ladder. Write ``steps`` (gentle to specific), or one ``text`` for a one-step ladder; both are read."""

    topic = StrictCharField(max_length=200)
    examples = serializers.ListField(child=StrictCharField(max_length=300), max_length=20, required=False, default=list)
    steps = serializers.ListField(
        child=StrictCharField(max_length=1000),
        min_length=1,
        max_length=MAX_HINT_STEPS,
        required=False,
        help_text="What the helper says, gentle to specific: the next step when the child asks about this again.",
    )
    text = StrictCharField(max_length=1000, required=False)  # the first step; older clients write and read it

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        steps = attrs.get("steps")
        text = attrs.pop("text", None)
        if steps is None and text is None:
            raise serializers.ValidationError({"steps": "Give the hint's steps (or one text)."})
        if steps is not None and text is not None and text != steps[0]:
            raise serializers.ValidationError({"text": "When both are given, text must be the first step."})
        return {"topic": attrs["topic"], "examples": attrs.get("examples", []), "steps": steps or [text]}

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        steps = hint_steps(instance)
        return {"topic": instance["topic"], "examples": instance.get("examples", []), "steps": steps, "text": steps[0]}


class LevelSerializer(serializers.ModelSerializer[Level]):
    hints = HintSerializer(many=True, required=False)
    answers = serializers.ListField(child=StrictCharField(max_length=200), max_length=20, required=False)
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    class Meta:
        model = Level
        fields = ["slug", "title", "description", "hints", "answers", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ChatSessionSerializer(serializers.ModelSerializer[ChatSession]):
    level: serializers.SlugRelatedField[Level] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "level",
            "level_description",
            "child_age",
            "initial_message",
            "is_active",
            "created_at",
            "updated_at",
            "ended_at",
            "game_state",
            "game_state_updated_at",
        ]
        read_only_fields = fields


class ChatSessionCreateSerializer(serializers.Serializer[dict[str, Any]]):
    level = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Level.objects.all(),
        required=False,
        allow_null=True,
        help_text="A level from the catalog, by slug.",
    )
    level_description = StrictCharField(
        max_length=5000, required=False, allow_blank=True, help_text="Free text; required when no level is given."
    )
    child_age = serializers.IntegerField(min_value=MIN_CHILD_AGE, max_value=MAX_CHILD_AGE)
    initial_message = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("level") and not attrs.get("level_description", "").strip():
            raise serializers.ValidationError({"level_description": "Give a level (slug) or a level_description."})
        return attrs


class ChatSessionCreatedSerializer(ChatSessionSerializer):
    client_token = serializers.CharField(read_only=True, help_text="For the game client's WebSocket (?token=).")
    client_token_expires_at = serializers.DateTimeField(read_only=True)
    websocket_path = serializers.CharField(read_only=True)

    class Meta(ChatSessionSerializer.Meta):
        fields = [*ChatSessionSerializer.Meta.fields, "client_token", "client_token_expires_at", "websocket_path"]
        read_only_fields = fields


class ClientTokenSerializer(serializers.Serializer[dict[str, Any]]):
    client_token = serializers.CharField(read_only=True)
    client_token_expires_at = serializers.DateTimeField(read_only=True)
    websocket_path = serializers.CharField(read_only=True)


class ChatMessageSerializer(serializers.ModelSerializer[ChatMessage]):
    class Meta:
        model = ChatMessage
        fields = [
            "id", "session", "sender", "message_type", "text", "interrupted", "mode", "model", "flags", "tool",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ScreenshotUploadSerializer(serializers.Serializer[dict[str, Any]]):
    image = serializers.FileField(
        help_text="A JPEG, PNG or WebP screenshot (multipart/form-data). It is checked, stripped of metadata and "
        "downscaled; it is not stored unless the service keeps pictures (IMAGE_ARCHIVE_DIR)."
    )


class ScreenshotAcceptedSerializer(serializers.Serializer[dict[str, Any]]):
    width = serializers.IntegerField(help_text="As shown to the model, after downscaling.")
    height = serializers.IntegerField()
    mime_type = serializers.CharField()
    bytes = serializers.IntegerField(help_text="The re-encoded picture's size.")


class GameStateSerializer(serializers.Serializer[dict[str, Any]]):
    state = serializers.JSONField(
        help_text="What the game knows: an object of at most 20 keys, each a string, number, boolean, null, or a list "
        "of at most 20 of those; at most 2 KiB as JSON. Example: "
        '{"step": "find the key", "items": ["lamp"], "attempts": 2, "seconds_on_step": 95}.'
    )

    def validate_state(self, value: Any) -> dict[str, Any]:
        try:
            return as_json(validate_game_state(value))
        except GameStateRejected as rejected:
            raise serializers.ValidationError(str(rejected)) from None


class GameStateStoredSerializer(serializers.Serializer[dict[str, Any]]):
    game_state = serializers.JSONField()
    game_state_updated_at = serializers.DateTimeField()


class MessageCreateSerializer(serializers.Serializer[dict[str, Any]]):
    content = StrictCharField(max_length=settings.MAX_TEXT_MESSAGE_CHARS, help_text="The child's typed message.")


class MessageExchangeSerializer(serializers.Serializer[dict[str, Any]]):
    message = ChatMessageSerializer(help_text="The child's message, as stored.")
    reply = ChatMessageSerializer(help_text="The helper's reply, as stored.")


class HistoryQuerySerializer(serializers.Serializer[dict[str, Any]]):
    session_id = serializers.UUIDField()
    limit = serializers.IntegerField(required=False, help_text="1-200 (clamped), default 50.")


class HistorySerializer(serializers.Serializer[dict[str, Any]]):
    session_id = serializers.UUIDField()
    count = serializers.IntegerField()
    messages = ChatMessageSerializer(many=True)


class WorkerLoadSerializer(serializers.Serializer[dict[str, Any]]):
    pid = serializers.IntegerField()
    overloaded = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=["event_loop_lag", "connection_cap"]))
    event_loop_lag_p95_ms = serializers.FloatField(
        allow_null=True, help_text="how late the worker's event loop ran (95th percentile over 2 s); null before any"
    )
    connections = serializers.IntegerField(help_text="WebSockets that showed a token, being opened or open")
    max_connections = serializers.IntegerField(help_text="MAX_CONNECTIONS_PER_WORKER; 0: no cap")


class WorkersLoadSerializer(serializers.Serializer[dict[str, Any]]):
    accepting = serializers.BooleanField(help_text="some worker on this machine takes a new child")
    overloaded_workers = serializers.IntegerField()
    workers = WorkerLoadSerializer(many=True, help_text="every worker on this machine that reported in the last 5 s")
    error = serializers.CharField(required=False, help_text="the shared cache could not be read: this worker only")


class HealthSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(
        choices=["ok", "degraded", "overloaded"],
        help_text="ok (200); degraded (503): a dependency failed; overloaded (503): no worker here takes a new child",
    )
    mode = serializers.ChoiceField(choices=[mode.value for mode in Mode])
    database = serializers.CharField(help_text="ok, or the error")
    channel_layer = serializers.CharField(help_text="ok, or the error")
    offline_engine = serializers.CharField(
        help_text="ok, or why the offline engine cannot answer in time (its workers are gone, a turn was late)"
    )
    load = WorkersLoadSerializer(help_text="the load of this machine's workers (docs/deployment.md, Back-pressure)")
    upstream = serializers.DictField(help_text="the configured upstream and the Live models found unavailable")
    text_models = serializers.ListField(child=serializers.CharField())
    live_models = serializers.ListField(child=serializers.CharField())

"""What audio-chat stores: the game's levels, chat sessions and every turn of their conversations."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from voice.context import Mode, Speaker

MIN_CHILD_AGE = 4
MAX_CHILD_AGE = 10


MAX_HINT_STEPS = 10


def validate_hints(value: Any) -> None:
    """A level's hints: a list of {topic, examples: [str, …], steps: [str, …]}, each with a topic and a step.

    ``steps`` is a hint ladder, gentle to specific. A hint written the older way, with one ``text``, is a
    one-step ladder and stays valid.
    """
    if not isinstance(value, list):
        raise ValidationError("Hints must be a list.")
    for number, hint in enumerate(value, start=1):
        if not isinstance(hint, dict):
            raise ValidationError(f"Hint {number} must be an object with topic, examples and steps.")
        unknown = set(hint) - {"topic", "examples", "steps", "text"}
        if unknown:
            raise ValidationError(f"Hint {number} has unknown fields: {', '.join(sorted(unknown))}.")
        if not isinstance(hint.get("topic"), str) or not hint["topic"].strip():
            raise ValidationError(f"Hint {number} needs a non-empty 'topic'.")
        if "steps" in hint:
            steps = hint["steps"]
            if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_HINT_STEPS:
                raise ValidationError(f"Hint {number}: 'steps' must be a list of 1 to {MAX_HINT_STEPS} texts.")
            if not all(isinstance(step, str) and step.strip() for step in steps):
                raise ValidationError(f"Hint {number}: every step must be a non-empty text.")
            if "text" in hint and hint["text"] != steps[0]:
                raise ValidationError(f"Hint {number}: 'text' must be the first step when both are given.")
        elif not isinstance(hint.get("text"), str) or not hint["text"].strip():
            raise ValidationError(f"Hint {number} needs 'steps' (or a non-empty 'text').")
        examples = hint.get("examples", [])
        if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
            raise ValidationError(f"Hint {number}: 'examples' must be a list of non-empty strings.")


def hint_steps(hint: dict[str, Any]) -> list[str]:
    """A stored hint's ladder, gentle to specific; a hint with one ``text`` is a one-step ladder."""
    steps = hint.get("steps")
    return list(steps) if steps else [hint["text"]]


def validate_answers(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        raise ValidationError("Answers must be a list of non-empty strings.")


class Level(models.Model):
    """A level of the game, with the hints its authors wrote for children who get stuck."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    hints = models.JSONField(default=list, blank=True, validators=[validate_hints])
    answers = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_answers],
        help_text="What solves the level; a helper reply that says one outright is flagged.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.title} ({self.slug})"


class ChatSession(models.Model):
    """One child's conversation with the helper about one level; later connections continue it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    level = models.ForeignKey(Level, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    level_description = models.TextField(blank=True)
    child_age = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_CHILD_AGE), MaxValueValidator(MAX_CHILD_AGE)]
    )
    initial_message = models.TextField(blank=True)
    voice_name = models.CharField(max_length=60, blank=True, help_text="Overrides the default voice when set.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Live API resumption state, kept here so that any worker can resume the upstream session.
    live_model = models.CharField(max_length=120, blank=True)
    live_resumption_handle = models.TextField(blank=True)
    live_resumption_updated_at = models.DateTimeField(null=True, blank=True)
    token_usage = models.JSONField(default=dict, blank=True, help_text="Token counts by modality.")
    # Raising this revokes every client token issued before (the refresh endpoint rotates tokens this way).
    client_token_version = models.PositiveIntegerField(default=0)
    game_state = models.JSONField(
        null=True, blank=True, help_text="The newest state the game reported (step, items, attempts…)."
    )
    game_state_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(child_age__gte=MIN_CHILD_AGE, child_age__lte=MAX_CHILD_AGE),
                name="chat_session_child_age_4_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.id} (age {self.child_age})"


# The realtime core's enums are the one definition; these are only their names in the admin.
SPEAKER_LABELS = {Speaker.CHILD: "Child", Speaker.ASSISTANT: "Helper", Speaker.TOOL: "Tool"}
MODE_LABELS = {Mode.LIVE: "Gemini Live", Mode.TEXT: "Gemini text", Mode.OFFLINE: "Offline"}


class ChatMessage(models.Model):
    """One turn: typed, or spoken and transcribed, by the child or the helper."""

    class MessageType(models.TextChoices):
        TEXT = "text", "Text"
        AUDIO = "audio", "Audio"
        TOOL_CALL = "tool_call", "Tool call"  # a function the model called; ``tool`` holds the call and answer

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=[(speaker.value, SPEAKER_LABELS[speaker]) for speaker in Speaker])
    message_type = models.CharField(max_length=12, choices=MessageType.choices, default=MessageType.TEXT)
    text = models.TextField(blank=True, help_text="For audio, the transcript (empty when cut off before a word).")
    interrupted = models.BooleanField(default=False)
    mode = models.CharField(max_length=10, choices=[(mode.value, MODE_LABELS[mode]) for mode in Mode], blank=True)
    model = models.CharField(max_length=120, blank=True)
    flags = models.JSONField(
        default=list, blank=True, help_text="Output checks that failed: gives_answer, asks_personal_data."
    )
    tool = models.JSONField(
        null=True, blank=True, help_text="For a tool call: {name, arguments, result}, as the model asked and was told."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "created_at"], name="message_session_time")]

    def __str__(self) -> str:
        return f"{self.get_sender_display()}: {self.text[:60]}"

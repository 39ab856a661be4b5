"""Django admin for levels, sessions (with their transcript in order) and messages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.services import session_end


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin[Level]):
    list_display = ["slug", "title", "hint_count", "updated_at"]
    search_fields = ["slug", "title", "description"]
    prepopulated_fields = {"slug": ["title"]}

    @admin.display(description="Hints")
    def hint_count(self, level: Level) -> int:
        return len(level.hints)


TRANSCRIPT_FIELDS: tuple[str, ...] = (
    "created_at", "sender", "message_type", "text", "interrupted", "flags", "mode", "model"
)  # fmt: skip


class TranscriptInline(admin.TabularInline[ChatMessage, ChatSession]):
    model = ChatMessage
    fields = TRANSCRIPT_FIELDS
    readonly_fields = TRANSCRIPT_FIELDS
    ordering = ["created_at", "id"]
    extra = 0
    can_delete = False
    verbose_name = "turn"
    verbose_name_plural = "Transcript"

    def has_add_permission(self, request: HttpRequest, obj: ChatSession | None = None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin[ChatSession]):
    list_display = ["id", "level", "child_age", "is_active", "created_at", "ended_at"]
    list_filter = ["is_active", "level"]
    search_fields = ["id", "level_description"]
    readonly_fields = ["id", "created_at", "updated_at", "ended_at", "live_resumption_updated_at", "token_usage"]
    inlines = [TranscriptInline]
    actions = ["end_sessions"]

    @admin.action(description="End the selected sessions (closes their open connections)")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[ChatSession]) -> None:
        for session in queryset:
            session_end(session)


class FlaggedFilter(admin.SimpleListFilter):
    """Replies the output check flagged (gave the answer away, asked for personal data)."""

    title = "output check"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(flags=[])
        if self.value() == "no":
            return queryset.filter(flags=[])
        return queryset


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin[ChatMessage]):
    list_display = ["created_at", "session", "sender", "message_type", "short_text", "flags", "interrupted", "mode"]
    list_filter = ["sender", "message_type", "mode", "interrupted", FlaggedFilter]
    search_fields = ["session__id"]
    readonly_fields = ["created_at"]

    @admin.display(description="Text")
    def short_text(self, message: ChatMessage) -> str:
        return message.text if len(message.text) <= 80 else message.text[:77] + "…"

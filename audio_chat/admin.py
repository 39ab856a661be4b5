"""Django admin: levels, sessions (level, age, start, size, mode; the transcript in order) and messages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from audio_chat.models import MODE_LABELS, ChatMessage, ChatSession, Level
from audio_chat.services import session_end
from voice.context import Mode, Speaker


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


class SessionModeFilter(admin.SimpleListFilter):
    """Sessions in which the helper answered in a given mode (Live, Gemini text, offline)."""

    title = "helper mode"
    parameter_name = "mode"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(mode.value, MODE_LABELS[mode]) for mode in Mode]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            answered = ChatMessage.objects.filter(sender=Speaker.ASSISTANT.value, mode=self.value())
            return queryset.filter(pk__in=answered.values("session_id"))
        return queryset


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin[ChatSession]):
    list_display = ["short_id", "level_title", "child_age", "created_at", "message_count", "helper_mode", "is_active"]
    list_display_links = ["short_id"]
    list_filter = ["is_active", SessionModeFilter, "level", "child_age", "created_at"]
    search_fields = ["id", "level__slug", "level__title", "level_description"]
    date_hierarchy = "created_at"
    list_select_related = ["level"]
    readonly_fields = ["id", "created_at", "updated_at", "ended_at", "live_resumption_updated_at", "token_usage"]
    inlines = [TranscriptInline]
    actions = ["end_sessions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatSession]:
        latest_reply = ChatMessage.objects.filter(session=OuterRef("pk"), sender=Speaker.ASSISTANT.value)
        return (
            super()
            .get_queryset(request)
            .annotate(
                message_total=Count("messages", distinct=True),
                latest_mode=Subquery(latest_reply.order_by("-created_at", "-id").values("mode")[:1]),
            )
        )

    @admin.display(description="Session", ordering="id")
    def short_id(self, session: ChatSession) -> str:
        return str(session.id)[:8]

    @admin.display(description="Level", ordering="level__title")
    def level_title(self, session: ChatSession) -> str:
        if session.level is not None:
            return session.level.title
        description = session.level_description
        return description if len(description) <= 40 else description[:37] + "…"

    @admin.display(description="Messages", ordering="message_total")
    def message_count(self, session: ChatSession) -> int:
        return int(getattr(session, "message_total", 0))

    @admin.display(description="Mode", ordering="latest_mode")
    def helper_mode(self, session: ChatSession) -> str:
        mode = getattr(session, "latest_mode", None)
        return MODE_LABELS[Mode(mode)] if mode in {m.value for m in Mode} else "-"

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

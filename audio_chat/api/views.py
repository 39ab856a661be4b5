"""REST endpoints: thin views that validate, call a service and serialize."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audio_chat import brains, health, realtime, services
from audio_chat.api import serializers as s
from audio_chat.api.pagination import ClampedLimitOffsetPagination
from audio_chat.api.permissions import GameBackendOrSessionClient
from audio_chat.models import ChatMessage, ChatSession, Level
from audio_chat.tokens import issue_client_token
from voice.brains.base import BrainError
from voice.game_state import validate_game_state
from voice.images import ImageRateLimited, ImageRejected

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class HealthApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: s.HealthSerializer, 503: s.HealthSerializer},
        summary="Liveness: the database, the channel layer, the upstream, and whether the machine takes new children",
    )
    def get(self, request: Request) -> Response:
        checks = {
            "database": health.database(),
            "channel_layer": health.channel_layer(),
            "offline_engine": health.offline_engine(),
        }
        load = health.load()
        healthy = all(value == "ok" for value in checks.values())
        state = "ok" if healthy and load["accepting"] else "degraded" if not healthy else "overloaded"
        return Response(
            {
                "status": state,
                "mode": brains.active_mode().value,
                **checks,
                "load": load,
                "upstream": health.upstream(),
                "text_models": settings.TEXT_MODELS,
                "live_models": settings.LIVE_MODELS,
            },
            status=status.HTTP_200_OK if state == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


class MetricsApi(APIView):
    """Prometheus metrics of this worker process (an API key is required, like the rest of the API)."""

    @extend_schema(responses={(200, "text/plain"): str}, summary="Prometheus metrics")
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)


@extend_schema_view(
    list=extend_schema(summary="List the level catalog"),
    create=extend_schema(summary="Add a level with its hints"),
    retrieve=extend_schema(summary="One level with its hints"),
    update=extend_schema(summary="Replace a level"),
    partial_update=extend_schema(summary="Change part of a level"),
    destroy=extend_schema(summary="Remove a level"),
)
class LevelViewSet(viewsets.ModelViewSet[Level]):
    """The game's level catalog with its authored hints."""

    queryset = Level.objects.all()
    serializer_class = s.LevelSerializer
    lookup_field = "slug"


def token_response(session: ChatSession) -> dict[str, Any]:
    token, expires_at = issue_client_token(str(session.id), session.client_token_version)
    return {
        "client_token": token,
        "client_token_expires_at": serializers.DateTimeField().to_representation(expires_at),
        "websocket_path": f"/ws/audio-chat/{session.id}/",
    }


@extend_schema_view(
    list=extend_schema(summary="List chat sessions, newest first"),
    retrieve=extend_schema(summary="One chat session"),
)
class ChatSessionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[ChatSession],
):
    """Chat sessions: one child's conversation about one level."""

    queryset = ChatSession.objects.select_related("level")
    serializer_class = s.ChatSessionSerializer
    lookup_value_regex = UUID_PATTERN
    permission_classes = [GameBackendOrSessionClient]
    CLIENT_ACTIONS = ("retrieve", "messages", "refresh_token", "screenshot", "game_state")

    def session_for_client_token(self, request: Request) -> str | None:
        """The game client may use its session's token for these actions on that session only."""
        return self.kwargs.get("pk") if self.action in self.CLIENT_ACTIONS else None

    @extend_schema(
        request=s.ChatSessionCreateSerializer,
        responses={201: s.ChatSessionCreatedSerializer},
        summary="Start a chat session; returns the game client's token",
    )
    def create(self, request: Request) -> Response:
        serializer = s.ChatSessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_create(**serializer.validated_data)
        body = {**s.ChatSessionSerializer(session).data, **token_response(session)}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: s.ClientTokenSerializer, 409: None},
        summary="Rotate the session's client token: the new one works, every earlier one stops working",
    )
    @action(detail=True, methods=["post"], url_path="token")
    def refresh_token(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        if not session.is_active:
            return Response({"detail": "This session has ended."}, status=status.HTTP_409_CONFLICT)
        return Response(token_response(services.session_rotate_token(session)))

    @extend_schema(summary="Erase the session and everything stored for it", responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.session_delete(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.ChatSessionSerializer, summary="End the session")
    @action(detail=True, methods=["post"])
    def end_session(self, request: Request, pk: str | None = None) -> Response:
        session = services.session_end(self.get_object())
        return Response(s.ChatSessionSerializer(session).data)

    @extend_schema(
        request={"multipart/form-data": s.ScreenshotUploadSerializer},
        responses={202: s.ScreenshotAcceptedSerializer, 400: None, 409: None, 413: None, 429: None},
        summary="Share a screenshot: the helper sees it with the child's next question (Live and text mode)",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def screenshot(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        # Refused before the body is read: a 30 MB upload costs no parsing and no temporary file.
        limit = settings.MAX_IMAGE_BYTES + UPLOAD_OVERHEAD_BYTES
        if _content_length(request) > limit:
            return _too_large(settings.MAX_IMAGE_BYTES)
        serializer = s.ScreenshotUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not session.is_active:
            return Response({"detail": "This session has ended."}, status=status.HTTP_409_CONFLICT)
        upload = serializer.validated_data["image"]
        if upload.size > settings.MAX_IMAGE_BYTES:
            return _too_large(settings.MAX_IMAGE_BYTES)
        try:
            picture = async_to_sync(realtime.picture_desk(str(session.pk)).accept)(upload.read())
        except ImageRejected as rejected:
            if rejected.too_large:
                return _too_large(settings.MAX_IMAGE_BYTES, rejected.message)
            return Response({"image": [rejected.message]}, status=status.HTTP_400_BAD_REQUEST)
        except ImageRateLimited as limited:
            return Response({"detail": str(limited)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        services.session_share_picture(session, picture)
        body = {
            "width": picture.width,
            "height": picture.height,
            "mime_type": picture.mime_type,
            "bytes": len(picture.data),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=s.GameStateSerializer,
        responses={200: s.GameStateStoredSerializer, 400: None, 409: None},
        summary="Report the game's state: kept with the session, and context for the helper's next answers",
    )
    @action(detail=True, methods=["post"], url_path="game_state")
    def game_state(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        serializer = s.GameStateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not session.is_active:
            return Response({"detail": "This session has ended."}, status=status.HTTP_409_CONFLICT)
        state = validate_game_state(serializer.validated_data["state"])
        session = services.session_report_game_state(session, state)
        stored = {"game_state": session.game_state, "game_state_updated_at": session.game_state_updated_at}
        return Response(s.GameStateStoredSerializer(stored).data)

    @extend_schema(methods=["GET"], responses=s.ChatMessageSerializer(many=True), summary="The session's messages")
    @extend_schema(
        methods=["POST"],
        request=s.MessageCreateSerializer,
        responses={201: s.MessageExchangeSerializer, 503: None},
        summary="Send the child's typed message; the helper answers",
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        if request.method == "GET":
            paginator = ClampedLimitOffsetPagination()
            page = paginator.paginate_queryset(ChatMessage.objects.filter(session=session), request, view=self)
            return paginator.get_paginated_response(s.ChatMessageSerializer(page, many=True).data)
        serializer = s.MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not session.is_active:
            return Response({"detail": "This session has ended."}, status=status.HTTP_409_CONFLICT)
        conversation, _ = realtime.open_conversation(session)
        try:
            exchange = async_to_sync(conversation.answer)(serializer.validated_data["content"])
        except BrainError:
            return Response(
                {"detail": "The helper cannot answer right now. Please try again."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        stored = ChatMessage.objects.in_bulk([exchange.child_turn, exchange.reply_turn])
        child_message, reply = stored[exchange.child_turn], stored[exchange.reply_turn]
        body = {"message": s.ChatMessageSerializer(child_message).data, "reply": s.ChatMessageSerializer(reply).data}
        return Response(body, status=status.HTTP_201_CREATED)


UPLOAD_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and headers around the file


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(limit: int, detail: str = "") -> Response:
    return Response(
        {"detail": detail or f"The image is too large; the limit is {limit} bytes."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class HistoryApi(APIView):
    permission_classes = [GameBackendOrSessionClient]

    def session_for_client_token(self, request: Request) -> str | None:
        query = s.HistoryQuerySerializer(data=request.query_params)
        return str(query.validated_data["session_id"]) if query.is_valid() else None

    @extend_schema(
        parameters=[
            OpenApiParameter("session_id", str, required=True, description="The session's UUID."),
            OpenApiParameter("limit", int, description="How many of the newest messages: 1-200 (clamped), default 50."),
        ],
        responses=s.HistorySerializer,
        summary="A session's newest messages, oldest first",
    )
    def get(self, request: Request) -> Response:
        query = s.HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        session = get_object_or_404(ChatSession, pk=query.validated_data["session_id"])
        limit = services.clamp_history_limit(query.validated_data.get("limit", services.HISTORY_LIMIT_DEFAULT))
        messages = services.recent_messages(session, limit)
        return Response(
            {
                "session_id": session.id,
                "count": len(messages),
                "messages": s.ChatMessageSerializer(messages, many=True).data,
            }
        )

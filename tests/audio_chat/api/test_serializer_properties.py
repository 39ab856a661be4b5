"""Property tests: REST input is either valid (and sensible) or refused with field errors, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio_chat.api.serializers import ChatSessionCreateSerializer, LevelSerializer, MessageCreateSerializer

VALUES = st.none() | st.booleans() | st.integers(-5, 20) | st.floats(allow_nan=False) | st.text(max_size=40)
ANY = st.recursive(
    VALUES, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8
)
SLUGS = st.sampled_from(["castle-red-door", "no-such-level", "", "cloud-jump"])
NO_DB_CHECKS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=1200, deadline=None, suppress_health_check=NO_DB_CHECKS)
@given(
    st.fixed_dictionaries(
        {}, optional={"level": SLUGS | ANY, "level_description": ANY, "child_age": ANY, "initial_message": ANY}
    )
)
def test_session_creation_input_is_valid_or_refused(demo_levels, payload: dict[str, object]) -> None:
    serializer = ChatSessionCreateSerializer(data=payload)
    if serializer.is_valid():
        data = serializer.validated_data
        assert 4 <= data["child_age"] <= 10
        assert data.get("level") is not None or data.get("level_description", "").strip()
    else:
        assert serializer.errors


@settings(max_examples=1000, deadline=None, suppress_health_check=NO_DB_CHECKS)
@given(st.fixed_dictionaries({}, optional={"content": ANY}))
def test_message_input_is_valid_or_refused(payload: dict[str, object]) -> None:
    serializer = MessageCreateSerializer(data=payload)
    if serializer.is_valid():
        assert isinstance(serializer.validated_data["content"], str) and serializer.validated_data["content"].strip()
    else:
        assert "content" in serializer.errors


@settings(max_examples=800, deadline=None, suppress_health_check=NO_DB_CHECKS)
@given(
    st.fixed_dictionaries(
        {"slug": st.from_regex(r"[a-z]{1,10}", fullmatch=True), "title": ANY, "description": ANY},
        optional={"hints": ANY, "answers": ANY},
    )
)
def test_level_input_is_valid_or_refused(db, payload: dict[str, object]) -> None:
    serializer = LevelSerializer(data=payload)
    if serializer.is_valid():
        assert isinstance(serializer.validated_data.get("hints", []), list)
        assert isinstance(serializer.validated_data["title"], str) and isinstance(payload["title"], str)
    else:
        assert serializer.errors

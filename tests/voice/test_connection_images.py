"""The connection's image and game_state messages: checked like every other frame, limited, then given to the
engine."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.images import screenshot
from tests.voice.fakes import RecordingEngine
from voice.connection import ChatConnection
from voice.context import Picture
from voice.images import ImageRules, PictureDesk
from voice.limits import ConnectionLimits


class Allowance:
    def __init__(self, left: int) -> None:
        self.left = left

    async def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def image_frame(data: bytes) -> str:
    return json.dumps({"type": "image", "content": base64.b64encode(data).decode()})


@pytest.fixture
def sent() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def engine() -> RecordingEngine:
    return RecordingEngine()


def connect(engine: RecordingEngine, sent: list[dict[str, Any]], *, pictures: int = 5) -> ChatConnection:
    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def close(code: int) -> None:
        sent.append({"closed": code})

    desk = PictureDesk("s1", allowance=Allowance(pictures), rules=ImageRules(max_bytes=1_000_000))
    limits = ConnectionLimits(max_image_frame_bytes=2_000_000)
    return ChatConnection(engine=engine, send_json=send, close=close, pictures=desk, limits=limits)


async def test_an_image_message_reaches_the_engine_checked_and_reencoded(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text(image_frame(screenshot((2000, 1000))))
    ((kind, picture),) = engine.calls
    assert kind == "image" and isinstance(picture, Picture)
    assert (picture.width, picture.height) == (1024, 512)
    assert sent == []


async def test_an_image_over_the_byte_limit_is_an_error_not_a_close(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text(image_frame(b"\xff\xd8" + bytes(1_200_000)))
    assert sent == [{"type": "error", "code": "image_too_large", "message": sent[0]["message"]}]
    assert engine.calls == []


async def test_a_frame_over_the_image_frame_limit_closes_1009(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text(image_frame(bytes(3_000_000)))
    assert sent == [{"closed": 1009}]
    assert engine.calls == []


async def test_a_large_frame_of_another_type_still_closes_1009(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text(json.dumps({"type": "text", "content": "a" * 300_000}))
    assert sent == [{"closed": 1009}]


async def test_a_large_frame_that_only_claims_to_be_an_image_closes_1009(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text('{"type":"image","type":"text","content":"' + "a" * 300_000 + '"}')
    assert sent == [{"closed": 1009}]
    assert engine.calls == []


async def test_pictures_over_the_session_limit_get_rate_limited(engine, sent) -> None:
    connection = connect(engine, sent, pictures=1)
    await connection.receive_text(image_frame(screenshot((100, 100))))
    await connection.receive_text(image_frame(screenshot((100, 100))))
    assert [kind for kind, _ in engine.calls] == ["image"]
    assert sent[0]["code"] == "rate_limited"


async def test_game_state_reaches_the_engine_and_bad_state_gets_an_error(engine, sent) -> None:
    connection = connect(engine, sent)
    await connection.receive_text(json.dumps({"type": "game_state", "state": {"step": "door", "items": ["key"]}}))
    await connection.receive_text(json.dumps({"type": "game_state", "state": {"step": {"x": 1}}}))
    assert engine.calls == [("game_state", {"step": "door", "items": ("key",)})]
    assert sent[0]["code"] == "invalid_game_state"


async def test_a_picture_from_rest_reaches_the_engine_and_a_failure_there_closes_1011(sent) -> None:
    picture = Picture(data=b"jpeg", mime_type="image/jpeg", width=1, height=1)
    engine = RecordingEngine()
    await connect(engine, sent).share(picture)
    assert engine.calls == [("image", picture)]

    class Failing(RecordingEngine):
        async def game_state(self, state: Any) -> None:
            raise RuntimeError("broken engine")

    connection = connect(Failing(), sent)
    await connection.report({"step": "door"})
    assert connection.closed_with == 1011
    assert sent[-2]["code"] == "internal" and sent[-1] == {"closed": 1011}

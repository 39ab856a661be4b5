"""Each injected fault, surfacing through the real SDK the way real failures do."""

from __future__ import annotations

import asyncio
import time

import pytest
from google.genai import errors, types
from websockets.exceptions import InvalidStatus

from gemini_emulator import FaultPlan, FaultSchedule, GeminiLiveEmulator
from gemini_emulator.faults import NO_FAULTS
from tests.gemini_emulator.conftest import MODEL, live_config, one_turn, sdk_client


async def ask(session, text: str = "key please") -> None:
    await session.send_client_content(
        turns=types.Content(role="user", parts=[types.Part(text=text)]), turn_complete=True
    )


async def test_429_at_the_upgrade_surfaces_as_invalid_status(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(reject_status=429))
    with pytest.raises(InvalidStatus) as raised:
        async with client.aio.live.connect(model=MODEL, config=live_config()):
            pass
    assert raised.value.response.status_code == 429


async def test_close_1011_in_the_middle_of_a_reply_surfaces_as_api_error(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(close_1011_at_turn=1, close_1011_after_chunks=1))
    audio = 0
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await ask(session)
            async for message in session.receive():
                audio += len(message.data or b"")
    assert raised.value.code == 1011
    assert "Internal error encountered" in str(raised.value)
    assert 0 < audio <= emulator.chunk_bytes
    assert emulator.records[0].closed_with == (1011, "Internal error encountered.")


async def test_go_away_announces_time_left_then_the_connection_closes(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(go_away_after=0.2, go_away_time_left=0.5))
    started = time.monotonic()
    with pytest.raises(errors.APIError) as raised:
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            message = await asyncio.wait_for(session._receive(), 5)
            while message.go_away is None:
                message = await asyncio.wait_for(session._receive(), 5)
            assert message.go_away.time_left == "0.5s"
            noticed = time.monotonic()
            await asyncio.wait_for(session._receive(), 5)
    assert raised.value.code == 1011
    assert "Deadline expired" in str(raised.value)
    assert time.monotonic() - noticed >= 0.45
    assert noticed - started >= 0.2


async def test_a_connection_ends_after_its_lifetime(responder) -> None:
    async with GeminiLiveEmulator(responder=responder, lifetime=0.6, go_away_notice=0.2) as emulator:
        with pytest.raises(errors.APIError) as raised:
            async with sdk_client(emulator).aio.live.connect(model=MODEL, config=live_config()) as session:
                while True:
                    await asyncio.wait_for(session._receive(), 5)
    assert raised.value.code == 1011


async def test_a_stalled_connection_stays_open_and_sends_nothing(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(stall_at_turn=1))
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        await asyncio.wait_for(session._receive(), 5)  # the first resumption handle
        await ask(session)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(session._receive(), 0.8)
        await ask(session, "still there?")  # the socket is open: sending works
    assert [r["user"] for r in emulator.records[0].turns] == []


async def test_a_slow_setup_delays_connect(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(setup_delay=0.4))
    started = time.monotonic()
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        assert session.setup_complete is not None
    assert time.monotonic() - started >= 0.4


async def test_a_malformed_frame_makes_the_sdk_fail_to_parse(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(malformed_frame_at_turn=1))
    with pytest.raises(ValueError, match="Failed to parse response"):
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await ask(session)
            await one_turn(session)


async def test_faults_apply_to_one_connection_each_in_order(emulator, client) -> None:
    emulator.queue_faults(FaultPlan(reject_status=429), FaultPlan(reject_status=503))
    for status in (429, 503):
        with pytest.raises(InvalidStatus) as raised:
            async with client.aio.live.connect(model=MODEL, config=live_config()):
                pass
        assert raised.value.response.status_code == status
    async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
        assert session.setup_complete is not None


async def test_a_fault_can_be_chosen_with_a_header(emulator) -> None:
    client = sdk_client(emulator)
    config = live_config(
        http_options=types.HttpOptions(headers={"x-emulator-faults": FaultPlan(reject_status=429).to_json()})
    )
    with pytest.raises(InvalidStatus):
        async with client.aio.live.connect(model=MODEL, config=config):
            pass


async def test_a_reply_pace_applies_to_one_connection(emulator, client) -> None:
    async def reply_seconds() -> float:
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await ask(session, "tell me about the door and the garden and the rug and the bunny and the castle")
            await one_turn(session)
        chunks = emulator.records[-1].sent_chunks
        return float(chunks[-1][0] - chunks[0][0])

    emulator.queue_faults(FaultPlan(realtime_factor=1.0))
    real_time = await reply_seconds()
    default_pace = await reply_seconds()  # the emulator's own: 8x in these tests
    assert real_time >= 1.9, "a reply of about 2.7 s, in bursts of 1 s, takes at least 2 s at real time"
    assert default_pace < real_time / 3


def test_a_seeded_schedule_draws_the_same_faults_again() -> None:
    first = FaultSchedule(seed=7, close_1011=0.3, go_away=0.3, stall=0.2)
    second = FaultSchedule(seed=7, close_1011=0.3, go_away=0.3, stall=0.2)
    plans = [first.next_plan() for _ in range(50)]
    assert plans == [second.next_plan() for _ in range(50)]
    assert len({type(p) for p in plans}) == 1
    assert any(p.close_1011_at_turn for p in plans) and any(p.go_away_after for p in plans) and NO_FAULTS in plans


def test_a_plan_round_trips_through_json_and_rejects_unknown_fields() -> None:
    plan = FaultPlan(close_1011_at_turn=2, go_away_after=1.5)
    assert FaultPlan.from_json(plan.to_json()) == plan
    with pytest.raises(ValueError, match="fault plan"):
        FaultPlan.from_json('{"explode": true}')

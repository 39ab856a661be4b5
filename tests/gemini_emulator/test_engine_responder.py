"""The engine responder: the emulator really hears what was said and answers from the level's hints."""

from __future__ import annotations

from gemini_emulator import GeminiLiveEmulator
from gemini_emulator.responders import EngineResponder, ScriptedResponder
from tests.gemini_emulator.conftest import MODEL, input_text, live_config, one_turn, output_text, sdk_client, stream
from tests.speech import rms, spoken_question, word_similarity
from voice.context import ConversationContext, Hint, LevelContext
from voice.instructions import build_system_instruction

LEVEL = LevelContext(
    "The Castle",
    "The red door is locked.",
    (
        Hint("opening the red door", "The red door needs a key.", ("how do I open the red door",)),
        Hint("jumping", "Tap the green button to jump.", ("how do I jump",)),
    ),
)


async def test_a_spoken_question_is_transcribed_and_answered_with_the_matching_hint() -> None:
    instruction = build_system_instruction(ConversationContext("s", 6, LEVEL))
    async with (
        GeminiLiveEmulator(responder=EngineResponder(), realtime_factor=8, wait_for_playback=False) as emulator,
        sdk_client(emulator).aio.live.connect(
            model=MODEL, config=live_config(system_instruction=instruction)
        ) as session,
    ):
        await stream(session, await spoken_question("How do I open the red door?"), pace=0.005)
        messages = await one_turn(session, 30)
    assert word_similarity("how do I open the red door", input_text(messages)) >= 0.5
    assert output_text(messages).strip() == "The red door needs a key."
    audio = b"".join(m.data or b"" for m in messages)
    assert len(audio) > 24_000 and rms(audio) > 0.02


async def test_the_scripted_responder_can_speak_with_the_offline_voice() -> None:
    responder = ScriptedResponder(rules=[("key", "Look under the rug.")], voice="joe")
    async with (
        GeminiLiveEmulator(responder=responder, realtime_factor=8, wait_for_playback=False) as emulator,
        sdk_client(emulator).aio.live.connect(model=MODEL, config=live_config()) as session,
    ):
        await session.send_realtime_input(text="where is the key")
        messages = await one_turn(session, 30)
    assert output_text(messages).strip() == "Look under the rug."
    assert rms(b"".join(m.data or b"" for m in messages)) > 0.02

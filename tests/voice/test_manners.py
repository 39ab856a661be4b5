"""The helper's manners: the rules reach every mode, and an output check flags replies that break them."""

from __future__ import annotations

from tests.voice.fakes import MemoryStore, ScriptedBrain
from voice.context import ConversationContext, LevelContext, Mode, Reply
from voice.conversation import Conversation
from voice.gemini.sdk import GeminiSettings, LiveSettings, live_config
from voice.instructions import BEHAVIOUR_RULES
from voice.manners import ASKS_PERSONAL_DATA, GIVES_ANSWER, check_reply

LEVEL = LevelContext("Garden", "Add 3 and 4.", answers=("7", "seven"))
CONTEXT = ConversationContext("s", 6, LEVEL)


def test_every_rule_is_in_the_live_setup_too() -> None:
    settings = LiveSettings(gemini=GeminiSettings(api_key="k"), models=("m",))
    config = live_config(settings, CONTEXT, model="gemini-2.5-flash-native-audio-latest", handle="")
    instruction = str(config.system_instruction)
    assert all(rule in instruction for rule in BEHAVIOUR_RULES)


def test_a_reply_that_says_the_answer_is_flagged() -> None:
    assert check_reply("The answer is seven! Type it in.", LEVEL.answers) == [GIVES_ANSWER]
    assert check_reply("It's 7.", LEVEL.answers) == [GIVES_ANSWER]


def test_a_hint_is_not_flagged() -> None:
    assert check_reply("Count the red flowers first, then keep counting on. 17 is too many!", LEVEL.answers) == []


def test_a_reply_that_asks_for_personal_data_is_flagged() -> None:
    assert check_reply("Great! What's your name? Where do you live?", ()) == [ASKS_PERSONAL_DATA]
    assert check_reply("How old are you?", ()) == [ASKS_PERSONAL_DATA]


async def test_flags_are_stored_with_the_reply_and_the_text_is_redacted() -> None:
    store = MemoryStore()
    conversation = Conversation(context=CONTEXT, store=store, brain=ScriptedBrain())
    reply = Reply(text="It is seven. What's your name?", mode=Mode.TEXT, model="m")
    await conversation.record_reply(reply.text, reply, spoken=True)
    await conversation.hear("my name is Lily", spoken=True)
    assert store.flags[-1] == [] and store.flags[0] == [GIVES_ANSWER, ASKS_PERSONAL_DATA]
    assert store.turns[1][1] == "my name is [name]"


async def test_the_brain_sees_the_child_redacted() -> None:
    brain = ScriptedBrain()
    conversation = Conversation(context=CONTEXT, store=MemoryStore(), brain=brain)
    reply = (await conversation.answer("I'm called Tom, help")).reply
    assert reply.text == "echo: I'm called [name], help"
